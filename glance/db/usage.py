"""What a project uses, for the unified limits (sizes in bytes)."""

import contextlib
import hashlib
from typing import Iterator
from typing import Optional
from typing import Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from glance.common import exception
from glance.db import models
from glance.db import session

images = models.images
props = models.image_properties

GONE = ('killed', 'pending_delete', 'deleted')
IN_FLIGHT = ('saving', 'uploading', 'importing')
# The stores an import or copy is still writing to (comma-separated).
IMPORTING = 'os_glance_importing_to_stores'
# Seconds a request waits for the quota lock of an owner (MySQL/MariaDB).
LOCK_WAIT = 60


def _copying():
    """Images some of whose data is being copied to more stores."""
    return sa.exists(sa.select(props.c.id).where(
        props.c.image_id == images.c.id,
        props.c.name == 'os_glance_importing_to_stores',
        props.c.value != '', props.c.deleted == sa.false()))


def _owned(owner):
    return [images.c.owner == owner, images.c.deleted == sa.false()]


def image_size_total(conn, owner):
    return bytes_held(conn, owner)


def image_stage_total(conn: Connection, owner: str,
                      exclude: Optional[str] = None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(images.c.size), 0)).where(
        *_owned(owner), sa.or_(images.c.status.in_(('uploading',
                                                    'importing')),
                               sa.and_(images.c.status.notin_(GONE),
                                       _copying())))
    if exclude is not None:
        query = query.where(images.c.id != exclude)
    return int(conn.execute(query).scalar() or 0)


def image_count_total(conn, owner):
    return conn.execute(sa.select(sa.func.count()).where(
        *_owned(owner), images.c.status.notin_(GONE))).scalar()


def image_count_uploading(conn, owner):
    return conn.execute(sa.select(sa.func.count()).where(
        *_owned(owner), sa.or_(images.c.status.in_(IN_FLIGHT),
                               sa.and_(images.c.status.notin_(GONE),
                                       _copying())))).scalar()


# -- bytes held, and the per-owner lock that serialises charging them ------

_COPIES = sa.select(sa.func.count()).select_from(models.image_locations).where(
    models.image_locations.c.image_id == images.c.id,
    models.image_locations.c.deleted == sa.false(),
    models.image_locations.c.status == 'active').scalar_subquery()


def _pending():
    """The stores an image is being copied to, as the property reads."""
    return sa.select(props.c.value).where(
        props.c.image_id == images.c.id, props.c.name == IMPORTING,
        props.c.deleted == sa.false()).limit(1).scalar_subquery()


def _targets(value):
    return len([s for s in (value or '').split(',') if s])


def held_by(size: Optional[int], status: str, copies: int,
            targets: int) -> int:
    """Bytes one image holds: its size once per store it is in or being
    copied to; an image whose data is arriving (saving, uploading,
    importing) holds its size (the bytes written or reserved so far) at
    least once, staged data included."""
    count = copies + targets
    if status in IN_FLIGHT:
        count = max(1, count)
    return (size or 0) * count


def bytes_held(conn: Connection, owner: str,
               exclude: Optional[str] = None) -> int:
    """Bytes held by the images of ``owner`` (see ``held_by``), all but
    ``exclude``; the ``IMPORTING`` property names the stores being copied
    to."""
    query = sa.select(
        images.c.size, images.c.status, _COPIES, _pending()).where(
        *_owned(owner), images.c.status.notin_(GONE),
        images.c.size.isnot(None))
    if exclude is not None:
        query = query.where(images.c.id != exclude)
    return sum(held_by(size, status, copies, _targets(targets))
               for size, status, copies, targets in conn.execute(query))


# (owner, status, size, stores the image is in or going to)
Held = Tuple[str, str, Optional[int], int]


def image_held(conn: Connection, image_id: str) -> Optional[Held]:
    """What one image holds, or None once it is deleted."""
    row = conn.execute(sa.select(
        images.c.owner, images.c.status, images.c.size, _COPIES,
        _pending()).where(images.c.id == image_id,
                          images.c.deleted == sa.false())).first()
    if row is None:
        return None
    owner, status, size, copies, targets = row
    return owner, status, size, copies + _targets(targets)


def _lock_key(owner: str) -> int:
    digest = hashlib.sha1(('glance-quota:%s' % owner).encode()).digest()
    return int.from_bytes(digest[:8], 'big', signed=True)


@contextlib.contextmanager
def owner_locked(owner: str) -> Iterator[Connection]:
    """A write transaction that holds the quota lock of ``owner``: one
    such transaction at a time per owner, on every node. Taken first, so
    what the block reads was committed before it started. SQLite writers
    are serialised anyway; PostgreSQL takes a transaction advisory lock;
    MySQL/MariaDB a named lock, released once the transaction is over."""
    engine = session.get_engine()
    name = engine.dialect.name
    if name != 'mysql':
        with session.writer() as conn:
            if name == 'postgresql':
                conn.execute(sa.text('SELECT pg_advisory_xact_lock(:k)'),
                             {'k': _lock_key(owner)})
            yield conn
        return
    # Named locks are the server's: the database is part of the name.
    lock = 'glance-quota-%x' % (_lock_key('%s/%s' % (
        engine.url.database, owner)) & (2 ** 64 - 1))
    with session.errors_translated(), engine.connect() as raw:
        got = raw.execute(sa.text('SELECT GET_LOCK(:n, :t)'), {
            'n': lock, 't': LOCK_WAIT}).scalar()
        raw.commit()
        if got != 1:
            raise exception.ServiceUnavailable(
                'The storage quota of the owner is busy, retry the request.',
                headers={'Retry-After': '1'})
        try:
            with raw.begin():
                yield raw
        except sa.exc.OperationalError as e:
            raise exception.ServiceUnavailable(
                'The database is busy, retry the request (%s).'
                % str(getattr(e, 'orig', e))[:200],
                headers={'Retry-After': '1'})
        finally:
            raw.execute(sa.text('SELECT RELEASE_LOCK(:n)'), {'n': lock})
            raw.commit()
