"""What a project uses, for the unified limits (sizes in bytes)."""

import sqlalchemy as sa

from glance.db import api
from glance.db import models

images = models.images
props = models.image_properties

GONE = ('killed', 'pending_delete', 'deleted')
IN_FLIGHT = ('saving', 'uploading', 'importing')


def _copying():
    """Images some of whose data is being copied to more stores."""
    return sa.exists(sa.select(props.c.id).where(
        props.c.image_id == images.c.id,
        props.c.name == 'os_glance_importing_to_stores',
        props.c.value != '', props.c.deleted == sa.false()))


def _owned(owner):
    return [images.c.owner == owner, images.c.deleted == sa.false()]


def image_size_total(conn, owner):
    return api.storage_usage(conn, owner)


def image_stage_total(conn, owner):
    query = sa.select(sa.func.coalesce(sa.func.sum(images.c.size), 0)).where(
        *_owned(owner), sa.or_(images.c.status.in_(('uploading',
                                                    'importing')),
                               sa.and_(images.c.status.notin_(GONE),
                                       _copying())))
    return int(conn.execute(query).scalar() or 0)


def image_count_total(conn, owner):
    return conn.execute(sa.select(sa.func.count()).where(
        *_owned(owner), images.c.status.notin_(GONE))).scalar()


def image_count_uploading(conn, owner):
    return conn.execute(sa.select(sa.func.count()).where(
        *_owned(owner), sa.or_(images.c.status.in_(IN_FLIGHT),
                               sa.and_(images.c.status.notin_(GONE),
                                       _copying())))).scalar()
