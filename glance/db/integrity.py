"""Repository functions of glance-auditor and glance-updater.

Both walk the active images in id order from a marker, read each one's
data and record what they found: the auditor the status of a location,
the updater the derived values an image lacks (each written only where
the column is still empty, so a value recorded meanwhile is never
overwritten), under a lease of kind ``update`` in ``image_leases`` that
keeps two updaters off the same image.
"""

from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from glance.db import models

images = models.images
locations = models.image_locations
leases = models.image_leases

# The derived values of an image the updater fills in.
DERIVED = ('checksum', 'os_hash_algo', 'os_hash_value', 'virtual_size')


# (container formats, disk formats) of the images that have a virtual
# size: the updater's ``lacking`` argument.
Sized = tuple[tuple[str, ...], tuple[str, ...]]


def _lacking(sized: Sized):
    containers, disks = sized
    return sa.or_(images.c.checksum.is_(None),
                  images.c.os_hash_value.is_(None),
                  sa.and_(images.c.virtual_size.is_(None),
                          images.c.container_format.in_(containers),
                          images.c.disk_format.in_(disks)))


def active_image_ids(conn: Connection, after: Optional[str], limit: int,
                     lacking: Optional[Sized] = None) -> list[str]:
    """Ids of active images after ``after`` (None: from the start), in id
    order; with ``lacking``, only those missing a derived value (the
    virtual size only for the formats ``lacking`` names)."""
    query = sa.select(images.c.id).where(
        images.c.status == 'active', images.c.deleted == sa.false())
    if after is not None:
        query = query.where(images.c.id > after)
    if lacking:
        query = query.where(_lacking(lacking))
    query = query.order_by(images.c.id).limit(limit)
    return [row.id for row in conn.execute(query)]


def count_active(conn: Connection, lacking: Optional[Sized] = None
                 ) -> tuple[int, int]:
    """(number of active images, their bytes), optionally only those
    missing a derived value."""
    query = sa.select(sa.func.count(),
                      sa.func.coalesce(sa.func.sum(images.c.size), 0)).where(
        images.c.status == 'active', images.c.deleted == sa.false())
    if lacking:
        query = query.where(_lacking(lacking))
    count, size = conn.execute(query).first()
    return int(count), int(size or 0)


def location_set_status(conn: Connection, location_id: int,
                        status: str, from_status: str, now) -> bool:
    """Move a live location from ``from_status`` to ``status``; False
    when it is no longer there in that status (removed, or changed)."""
    return conn.execute(locations.update().where(
        locations.c.id == location_id, locations.c.deleted == sa.false(),
        locations.c.status == from_status).values(
        status=status, updated_at=now)).rowcount == 1


def fill_derived(conn: Connection, image_id: str,
                 values: dict[str, Any], now) -> list[str]:
    """Record each of ``values`` (names of ``DERIVED``) on the active
    image where its column is still empty; ``os_hash_algo`` and
    ``os_hash_value`` go together. Returns the names written."""
    written = []
    groups = []
    if 'os_hash_value' in values:
        groups.append(('os_hash_value', {
            'os_hash_value': values['os_hash_value'],
            'os_hash_algo': values['os_hash_algo']}))
    for name in ('checksum', 'virtual_size'):
        if name in values:
            groups.append((name, {name: values[name]}))
    for column, update in groups:
        done = conn.execute(images.update().where(
            images.c.id == image_id, images.c.status == 'active',
            images.c.deleted == sa.false(),
            images.c[column].is_(None)).values(
            updated_at=now, **update)).rowcount == 1
        if done:
            written.extend(sorted(update))
    return written


def lease_get(conn: Connection, image_id: str) -> Optional[dict]:
    row = conn.execute(sa.select(leases).where(
        leases.c.image_id == image_id)).first()
    return dict(row._mapping) if row is not None else None


def lease_insert(conn: Connection, image_id: str, kind: str, holder: str,
                 token: str, now, expires_at) -> None:
    """Insert a lease row; IntegrityError when the image has one."""
    conn.execute(leases.insert().values(
        image_id=image_id, kind=kind, holder=holder, token=token,
        created_at=now, expires_at=expires_at))


def lease_drop(conn: Connection, image_id: str, token: str) -> bool:
    return conn.execute(leases.delete().where(
        leases.c.image_id == image_id,
        leases.c.token == token)).rowcount == 1
