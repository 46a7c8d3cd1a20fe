"""What a project uses, for the unified limits (sizes in bytes)."""

import contextlib
from typing import Iterator
from typing import Optional
from typing import Set
from typing import Tuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from glance.common import exception
from glance.db import models
from glance.db import remote
from glance.db import session

images = models.images
props = models.image_properties

GONE = ('killed', 'pending_delete', 'deleted')
IN_FLIGHT = ('saving', 'uploading', 'importing')
# The stores an import or copy is still writing to (comma-separated).
IMPORTING = 'os_glance_importing_to_stores'


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


# Owners known to have their row in ``image_quota_locks`` (rows are never
# removed): the row is made once, in a transaction of its own.
_LOCK_ROWS: Set[str] = set()
locks = models.image_quota_locks


def _insert_ignoring_duplicate(dialect: str, owner: str):
    if dialect == 'postgresql':
        return postgresql.insert(locks).values(
            owner=owner, uses=0).on_conflict_do_nothing()
    return locks.insert().values(owner=owner, uses=0).prefix_with('IGNORE')


def _ensure_lock_row(owner: str) -> None:
    """Make the quota lock row of ``owner`` if there is none, committed
    on its own: taking a row that may not exist in the charging
    transaction itself would lock a gap of the index on InnoDB, and the
    first charges of new owners would deadlock one another. A request
    meeting a row being made waits for it, then has nothing to do."""
    if owner in _LOCK_ROWS:
        return
    with session.writer() as conn:
        found = conn.execute(sa.select(locks.c.owner).where(
            locks.c.owner == owner)).first()
        if found is None:
            conn.execute(_insert_ignoring_duplicate(conn.dialect.name,
                                                    owner))
    _LOCK_ROWS.add(owner)


@contextlib.contextmanager
def owner_locked(owner: str) -> Iterator[Connection]:
    """A write transaction that holds the quota lock of ``owner``: one
    such transaction at a time per owner, on every node. Taken first, so
    what the block reads was committed before it started.

    SQLite writers are serialised anyway. On MySQL/MariaDB and PostgreSQL
    the transaction first updates the owner's row of ``image_quota_locks``:
    a second one waits for the row, and on a Galera cluster written
    through several nodes the two writes of the row conflict at commit.
    Either way a transaction that loses is aborted as a deadlock, which
    ``session.replayable`` callers run again."""
    if (session.remote_factory() is not None
            or session.get_engine().dialect.name == 'sqlite'):
        # Through glance-registry the block is one write transaction of
        # the registry; the lock row is not taken there (a statement of
        # this module, not a repository function).
        with session.writer() as conn:
            yield conn
        return
    for _attempt in range(2):
        _ensure_lock_row(owner)
        with session.writer() as conn:
            if conn.execute(locks.update().where(
                    locks.c.owner == owner).values(
                    uses=locks.c.uses + 1)).rowcount == 1:
                yield conn
                return
        # Its row went since it was made (the table was emptied).
        _LOCK_ROWS.discard(owner)
    raise exception.ServiceUnavailable(
        'The storage quota lock of the owner could not be taken, retry the '
        'request.', headers={'Retry-After': '1'})


# Each public function above also runs through glance-registry.
remote.export(globals())
