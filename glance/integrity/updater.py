"""glance-updater: fills in the derived values older images lack.

Images uploaded before the multihash existed, added by location without
hashing, or taken over from an older deployment may have no
``os_hash_value``, no ``checksum`` or no ``virtual_size``. For each active
image lacking one, the updater reads the data once through its store,
computes the hashes (``hashing_algorithm``, or the ``os_hash_algo``
already recorded) and the virtual size (format inspectors; only for
whole-disk formats, which have one), and records each value whose column
is still empty. A value already recorded is never overwritten: when the
data disagrees with one (size, checksum, hash, virtual size), that is
reported (log, report file, ``image.update.mismatch``) and nothing is
written for the image; telling which is right is the auditor's job.

Each image is read under a lease of kind ``update`` in ``image_leases``:
a second updater (another node) skips an image leased by a live one. A
lease whose holder died is taken over: at once when it was this node's
(``holder_gone``), after a full lease timeout past its expiry otherwise;
glance-api's recovery also removes such leases, writing nothing.
"""

import datetime
from typing import Optional

import sqlalchemy as sa
from oslo_config import cfg

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import integrity as integrity_db
from glance.db import leases as db_leases
from glance.db import session
from glance.domain.images import format_check
from glance.domain.images import leases
from glance.integrity import options
from glance.integrity import walk
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
options.register_opts(CONF)


def has_virtual_size(image: dict) -> bool:
    """Whether the formats of ``image`` give a virtual size."""
    return (image['container_format'] in format_check.WHOLE_DISK_CONTAINERS
            and image['disk_format'] in format_check.INSPECTED)


def missing(image: dict) -> list[str]:
    """The derived values ``image`` lacks."""
    lacking = []
    if not image['checksum']:
        lacking.append('checksum')
    if not image['os_hash_value']:
        lacking.append('os_hash_value')
    if image['virtual_size'] is None and has_virtual_size(image):
        lacking.append('virtual_size')
    return lacking


class Updater(walk.Walker):
    """One pass fills in what the active images lack."""

    name = 'glance-updater'
    lacking = (tuple(format_check.WHOLE_DISK_CONTAINERS),
               tuple(format_check.INSPECTED))

    def __init__(self, *args, dry_run: bool = False, **kwargs) -> None:
        self.dry_run = dry_run
        super().__init__(*args, **kwargs)

    @property
    def interval(self) -> float:
        return self.conf.updater_interval

    @property
    def rate(self) -> int:
        return self.conf.updater_bytes_per_second

    @property
    def report_path(self) -> Optional[str]:
        return self.conf.updater_report_file

    @property
    def state_path(self) -> Optional[str]:
        # A dry run lists; it does not move the next pass on.
        return None if self.dry_run else self.conf.updater_state_file

    def status(self) -> str:
        return 'Updating every %ss at %s B/s' % (self.interval, self.rate)

    def check_image(self, image_id: str) -> None:
        image = self.load_active(image_id)
        if image is None:
            return
        lacking = missing(image)
        if not lacking:
            self.summary.count('complete')
            return
        if self.dry_run:
            self.summary.count('would_fill')
            self.summary.listed.append({'image_id': image_id,
                                        'lacking': lacking})
            return
        lease = leases.Lease(image_id, leases.UPDATE)
        if not take(lease):
            self.summary.count('leased_elsewhere')
            return
        lease.start()
        try:
            # Read again under the lease: another updater may have filled
            # it in between.
            with session.reader() as conn:
                image = db.image_get(conn, image_id)
            lacking = missing(image) if image is not None and (
                image['status'] == 'active') else []
            if lacking:
                self._update(image, lacking, lease)
            else:
                self.summary.count('complete')
        finally:
            lease.stop()
            try:
                with session.writer() as conn:
                    lease.end(conn)
            except Exception as e:
                self.log.warning('Could not end the lease on image %s: %s',
                                 image_id, e)

    def _update(self, image: dict, lacking: list[str],
                lease: leases.Lease) -> None:
        image_id = image['id']
        algo = image['os_hash_algo'] or CONF.hashing_algorithm
        result = store_name = None
        for loc in image['locations']:
            if loc['status'] != 'active':
                continue
            try:
                store = registry.store_for_location(
                    loc['url'], loc['metadata'].get('store'))
                self.log.info('Image %s: reading its data in store %s to '
                              'fill in %s', image_id, store.name,
                              ', '.join(lacking))
                result = self.read(store, loc['url'], algo,
                                   inspect='virtual_size' in lacking)
            except store_exc.NotFound:
                self.log.warning('Image %s: no data at a location in store '
                                 '%s', image_id, loc['metadata'].get('store'))
                continue
            except Exception as e:
                self.log.warning('Image %s: data not read: %s', image_id, e)
                continue
            store_name = store.name
            break
        if self.halted():
            return
        if result is None:
            self.finding(image_id, 'data_missing',
                         'no location of the image could be read',
                         action='none')
            return
        found = {'checksum': result.checksum,
                 'os_hash_algo': result.hash_algo,
                 'os_hash_value': result.hash_value}
        if result.checker is not None:
            try:
                found['virtual_size'] = result.checker.verdict(
                    image['disk_format'], image['container_format'])
            except exception.Invalid as e:
                self.finding(image_id, 'format_refused', e.msg,
                             store=store_name, action='virtual_size_left')
        mismatches = _mismatches(image, result.size, found)
        if mismatches:
            for field, recorded, value in mismatches:
                detail = '%s: %s recorded, %s in the data' % (
                    field, recorded, value)
                self.log.error('Image %s: %s; nothing written',
                               image_id, detail)
                self.finding(image_id, 'mismatch', detail, field=field,
                             store=store_name, action='none')
                notifier.update_mismatch(image, field, recorded, value)
            return
        values = {k: found[k] for k in lacking
                  if found.get(k) is not None}
        if 'os_hash_value' in values:
            values['os_hash_algo'] = found['os_hash_algo']
        if not values:
            self.summary.count('nothing_to_fill')
            return
        lease.check()
        with session.writer() as conn:
            written = integrity_db.fill_derived(conn, image_id, values,
                                                timeutils.now())
        if written:
            self.log.info('Image %s: recorded %s', image_id,
                          ', '.join(written))
            self.report.write(image_id=image_id, problem='none',
                              detail='recorded ' + ', '.join(written),
                              store=store_name, action='filled',
                              values={k: values[k] for k in written})
            self.summary.count('images_filled')
            for name in written:
                self.summary.count('filled_' + name)


def _mismatches(image: dict, size: int, found: dict) -> list[tuple]:
    """(field, recorded, found) for each recorded value the data
    contradicts."""
    wrong = []
    if image['size'] is not None and image['size'] != size:
        wrong.append(('size', image['size'], size))
    if image['checksum'] and image['checksum'] != found['checksum']:
        wrong.append(('checksum', image['checksum'], found['checksum']))
    if (image['os_hash_value'] and image['os_hash_algo'] == found[
            'os_hash_algo'] and image['os_hash_value'] != found[
            'os_hash_value']):
        wrong.append(('os_hash_value', image['os_hash_value'],
                      found['os_hash_value']))
    if (image['virtual_size'] is not None and found.get('virtual_size')
            is not None and image['virtual_size'] != found['virtual_size']):
        wrong.append(('virtual_size', image['virtual_size'],
                      found['virtual_size']))
    return wrong


def take(lease: leases.Lease) -> bool:
    """Record ``lease`` on its image unless another live holder has one
    there; True once taken."""
    image_id = lease.image_id
    try:
        with session.writer() as conn:
            now = db_leases.db_now(conn)
            found = integrity_db.lease_get(conn, image_id)
            if found is not None:
                if not _dead(found, now):
                    return False
                integrity_db.lease_drop(conn, image_id, found['token'])
            integrity_db.lease_insert(
                conn, image_id, leases.UPDATE, leases.holder(), lease.token,
                timeutils.now(), db_leases.expiry(now, leases.timeout()))
        return True
    except (sa.exc.IntegrityError, exception.DatabaseDeadlock):
        # Another updater inserted it first (InnoDB may report the race
        # as a deadlock).
        return False


def _dead(found: dict, now: datetime.datetime) -> bool:
    """Whether an update lease found on the image may be taken over."""
    if found['kind'] != leases.UPDATE:
        return False    # an upload or stage: never ours to take
    if leases.holder_gone(found['holder']):
        return True
    grace = datetime.timedelta(seconds=leases.timeout())
    return leases.lapsed(found, now - grace)
