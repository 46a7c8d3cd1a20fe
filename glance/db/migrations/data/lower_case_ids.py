"""Image ids are stored in lower case, and requests name an image in any
case. An image an older release or upstream Glance stored under an id in
upper or mixed case (one its client gave) is moved to the lower-case id,
with every row that names it; where both ids exist (possible only on a
case-sensitive collation) the image is left as it is and logged."""

import logging

import sqlalchemy as sa

from glance.db import models

LOG = logging.getLogger(__name__)
images = models.images
# Rows naming an image by its id.
NAMING = ((models.image_properties, 'image_id'),
          (models.image_tags, 'image_id'),
          (models.image_locations, 'image_id'),
          (models.image_members, 'image_id'),
          (models.tasks, 'image_id'),
          (models.image_leases, 'image_id'))


def _ids(conn):
    """(ids not in lower case, all ids), compared exactly in Python: a
    case-insensitive collation would find no difference."""
    ids = [row[0] for row in conn.execute(sa.select(images.c.id))]
    return [i for i in ids if i != i.lower()], set(ids)


def has_migrations(conn):
    return bool(_ids(conn)[0])


def _move_rows(conn, old, new):
    for table, column in NAMING:
        conn.execute(table.update().where(table.c[column] == old)
                     .values({column: new}))


def migrate(conn):
    mixed, ids = _ids(conn)
    if not mixed:
        return 0
    mysql = conn.dialect.name == 'mysql'
    if mysql:
        # A case-insensitive collation takes both ids for one key: the
        # id changes in place, its rows after it.
        conn.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 0')
    count = 0
    try:
        for old in mixed:
            new = old.lower()
            if new in ids:
                LOG.warning('Image %s kept its id: an image %s exists too',
                            old, new)
                continue
            if mysql:
                conn.execute(images.update().where(images.c.id == old)
                             .values(id=new))
                _move_rows(conn, old, new)
            else:
                # Foreign keys hold throughout: a copy under the new id,
                # the rows moved to it, the old row removed.
                others = [c for c in images.c if c.name != 'id']
                conn.execute(images.insert().from_select(
                    ['id'] + [c.name for c in others],
                    sa.select(sa.literal(new, images.c.id.type), *others)
                    .where(images.c.id == old)))
                _move_rows(conn, old, new)
                conn.execute(images.delete().where(images.c.id == old))
            count += 1
    finally:
        if mysql:
            conn.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 1')
    return count
