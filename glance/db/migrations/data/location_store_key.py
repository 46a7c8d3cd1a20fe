"""Location metadata names its store under "store"; rows written by older
releases used "backend". Rewrite them."""

import json

import sqlalchemy as sa

from glance.db import models

locations = models.image_locations


def _old_rows(conn):
    return conn.execute(sa.select(locations.c.id, locations.c.meta_data)
                        .where(locations.c.meta_data.like('%"backend"%')))


def has_migrations(conn):
    return any('backend' in json.loads(row.meta_data or '{}')
               for row in _old_rows(conn))


def migrate(conn):
    count = 0
    for row in list(_old_rows(conn)):
        meta = json.loads(row.meta_data or '{}')
        if 'backend' not in meta:
            continue
        meta['store'] = meta.pop('backend')
        conn.execute(locations.update().where(locations.c.id == row.id)
                     .values(meta_data=json.dumps(meta)))
        count += 1
    return count
