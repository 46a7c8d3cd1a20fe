"""The quotas of ``glance-api.conf`` that are not unified limits: counts
per image (``image_*_quota``) and the bytes an owner may store
(``user_storage_quota``)."""

from typing import Optional
from typing import Sequence

from oslo_config import cfg
from sqlalchemy.engine import Connection

from glance.common import exception
from glance.db import api as db
from glance.db import session
from glance.db import usage
from glance.domain.images import limits

CONF = cfg.CONF


def check_quota(option, count, what):
    """LimitExceeded when ``count`` passes the quota option ``option``."""
    limit = getattr(CONF, option)
    if limit >= 0 and count > limit:
        raise exception.LimitExceeded(
            'Maximum number of %s exceeded: %d of %d allowed'
            % (what, count, limit))


def parse_quota(text):
    """``user_storage_quota`` in bytes (0 means no quota)."""
    units = {'B': 1, 'KB': 1024, 'MB': 1024 ** 2, 'GB': 1024 ** 3,
             'TB': 1024 ** 4}
    text = (text or '0').strip().upper()
    for suffix in ('KB', 'MB', 'GB', 'TB', 'B'):
        if text.endswith(suffix):
            number, factor = text[:-len(suffix)].strip(), units[suffix]
            break
    else:
        number, factor = text, 1
    try:
        value = int(number)
    except ValueError:
        raise exception.Invalid('Invalid user_storage_quota %r' % text)
    return value * factor


def storage_room(conn, image):
    """Bytes the owner may still store, or None without a quota (a first
    answer, before any byte is charged: ``reserve`` decides)."""
    quota = parse_quota(CONF.user_storage_quota)
    if not quota or CONF.use_keystone_limits:
        return None
    used = usage.bytes_held(conn, image['owner'], exclude=image['id'])
    return max(0, quota - used)


# -- charging bytes as they are written --------------------------------------
#
# An image whose data is arriving holds, in its ``size`` column, the bytes
# written so far or declared up front, and counts in the owner's usage
# like stored data (``usage.held_by``). Growing that figure happens in a
# transaction holding the owner's quota lock that first sums what the
# owner's other images hold, so the images of an owner, finished or in
# flight, never hold more than the quota, however many requests and nodes
# write at once.

# A reader charges ahead of the bytes read by this much, or by an eighth
# of what it has read when that is more: few transactions for large
# data, little charged in advance for small data.
STEP = 64 * 1024


class Limits:
    """The byte limits that apply to one owner: ``user_storage_quota``,
    or the unified limits ``image_size_total`` (all data held) and
    ``image_stage_total`` (data on staging) read once from Keystone."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.total: Optional[int] = None
        self.staged: Optional[int] = None
        if CONF.use_keystone_limits:
            found = dict(limits.project_limits(
                owner, (limits.SIZE_TOTAL, limits.STAGE_TOTAL)))
            self.total = _mib(found.get(limits.SIZE_TOTAL))
            self.staged = _mib(found.get(limits.STAGE_TOTAL))
        else:
            self.total = parse_quota(CONF.user_storage_quota) or None

    def room(self, conn: Connection, image_id: str, status: str,
             copies: int) -> Optional[int]:
        """Most bytes the image may hold (its size), or None: what the
        limits leave once the owner's other images are counted."""
        found = []
        if self.total is not None:
            others = usage.bytes_held(conn, self.owner, exclude=image_id)
            per_byte = usage.held_by(1, status, copies, 0)
            found.append((self.total - others) // per_byte if per_byte
                         else None)
        if self.staged is not None and status in STAGED:
            others = usage.image_stage_total(conn, self.owner,
                                             exclude=image_id)
            found.append(self.staged - others)
        found = [f for f in found if f is not None]
        return max(0, min(found)) if found else None

    def describe(self) -> str:
        if CONF.use_keystone_limits:
            return ('the unified limits of project %s (image_size_total %s, '
                    'image_stage_total %s)' % (
                        self.owner, _text(self.total), _text(self.staged)))
        return 'the storage quota of %d bytes' % self.total


STAGED = ('uploading', 'importing')


def _mib(value):
    return None if value is None or value < 0 else value * limits.MIB


def _text(value):
    return 'unlimited' if value is None else '%d bytes' % value


@session.replayable
def reserve(image_id: str, status: str, at_least: int,
            wanted: Optional[int] = None,
            owner_limits: Optional[Limits] = None) -> int:
    """Charge the image (in ``status``) ``wanted`` bytes, or as many as
    the owner's limits leave but no fewer than ``at_least``; returns the
    bytes charged. 413 when even ``at_least`` does not fit, 409 when the
    image left ``status``."""
    wanted = max(at_least, wanted or 0)
    with session.reader() as conn:
        found = usage.image_held(conn, image_id)
    if found is None:
        raise exception.Conflict('Image %s was deleted while its data '
                                 'arrived.' % image_id)
    owner = found[0]
    owner_limits = owner_limits or Limits(owner)
    with usage.owner_locked(owner) as conn:
        found = usage.image_held(conn, image_id)
        if found is None or found[1] != status:
            raise exception.Conflict('Image %s was deleted or changed while '
                                     'its data arrived.' % image_id)
        room = owner_limits.room(conn, image_id, status, found[3])
        if room is not None:
            if at_least > room:
                raise exception.RequestEntityTooLarge(
                    'Denying the image data: %d bytes of image %s would '
                    'pass %s (%d bytes left for it).'
                    % (at_least, image_id, owner_limits.describe(), room))
            wanted = min(wanted, room)
        db.image_update(conn, image_id, {'size': wanted},
                        from_status=status)
    return wanted


def check_held(image_id: str, status: str) -> None:
    """413 unless what the image holds now (in ``status``) fits the
    owner's limits; after its size or stores changed."""
    with session.reader() as conn:
        found = usage.image_held(conn, image_id)
    if found is None or not found[2]:
        return
    reserve(image_id, status, found[2], found[2])


class Meter:
    """A reader that charges the bytes it passes on to the image before
    it passes them (``reserve``): 413 as soon as the owner's limits would
    be passed, whatever size was announced."""

    def __init__(self, source, image_id: str, status: str,
                 charged: float = 0) -> None:
        self.source = source
        self.image_id = image_id
        self.status = status
        self.charged = charged
        self.count = 0
        self._limits = None

    def _limited(self) -> Optional[Limits]:
        """The owner's limits; None (and nothing to charge) without any."""
        if self._limits is None:
            self._limits = Limits(self._owner())
        if self._limits.total is None and self._limits.staged is None:
            self.charged = float('inf')
            return None
        return self._limits

    def charge(self, size: int) -> None:
        """Charge a size known up front (an upload's declared size)."""
        found = self._limited()
        if found is not None:
            self.charged = reserve(self.image_id, self.status, size, size,
                                   found)

    def _owner(self) -> str:
        with session.reader() as conn:
            found = usage.image_held(conn, self.image_id)
        if found is None:
            raise exception.Conflict('Image %s was deleted while its data '
                                     'arrived.' % self.image_id)
        return found[0]

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        if data:
            self.count += len(data)
            if self.count > self.charged and self._limited() is not None:
                self.charged = reserve(
                    self.image_id, self.status, self.count,
                    self.count + max(STEP, self.count // 8), self._limits)
        return data


def check_import(conn: Connection, image: dict, method: str,
                 targets: Sequence[Optional[str]]) -> None:
    """413 at once for a glance-direct or copy-image import whose data,
    in every target store, cannot fit ``user_storage_quota`` (the import
    itself checks all the byte limits again, unified limits included)."""
    allowed = parse_quota(CONF.user_storage_quota)
    if (not allowed or CONF.use_keystone_limits or not image['size']
            or method not in ('glance-direct', 'copy-image')):
        return
    stores = len([t for t in targets if t])
    if method == 'copy-image':
        held = usage.held_by(image['size'], 'active',
                             usage.image_held(conn, image['id'])[3], stores)
    else:
        held = usage.held_by(image['size'], 'importing', stores, 0)
    others = usage.bytes_held(conn, image['owner'], exclude=image['id'])
    if others + held > allowed:
        raise exception.RequestEntityTooLarge(
            'Denying the import of image %s: its data in %d store(s) '
            '(%d bytes) would pass the storage quota of %d bytes (%d used '
            'by other images).' % (image['id'], max(1, stores), held,
                                   allowed, others))
