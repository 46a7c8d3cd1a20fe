"""Repository functions over ``image_members``.

A membership is soft-deleted when removed; adding the same project again
brings the old row back as ``pending``.
"""

import sqlalchemy as sa

from glance.db import models
from glance.db import remote

members = models.image_members

COLUMNS = (members.c.id, members.c.image_id, members.c.member,
           members.c.status, members.c.created_at, members.c.updated_at)


def _live(image_id):
    return sa.select(*COLUMNS).where(members.c.image_id == image_id,
                                     members.c.deleted == sa.false())


def member_list(conn, image_id, member=None):
    """Live memberships of an image, oldest first; one project's only when
    ``member`` is given."""
    query = _live(image_id)
    if member is not None:
        query = query.where(members.c.member == member)
    rows = conn.execute(query.order_by(members.c.created_at, members.c.id))
    return [dict(row._mapping) for row in rows]


def member_get(conn, image_id, member):
    found = member_list(conn, image_id, member)
    return found[0] if found else None


def member_count(conn, image_id):
    return conn.execute(sa.select(sa.func.count()).select_from(
        _live(image_id).subquery())).scalar()


def member_create(conn, image_id, member, now):
    """A new pending membership, reviving a removed one when there is."""
    old = conn.execute(
        sa.select(members.c.id).where(members.c.image_id == image_id,
                                      members.c.member == member,
                                      members.c.deleted == sa.true())
        .order_by(members.c.deleted_at.desc()).limit(1)).first()
    values = {'status': 'pending', 'created_at': now, 'updated_at': now,
              'deleted': False, 'deleted_at': None}
    if old is not None:
        conn.execute(members.update().where(members.c.id == old.id)
                     .values(values))
    else:
        conn.execute(members.insert().values(
            dict(values, image_id=image_id, member=member, can_share=False)))
    return member_get(conn, image_id, member)


def member_update(conn, member_row_id, status, now):
    conn.execute(members.update().where(members.c.id == member_row_id)
                 .values(status=status, updated_at=now))


def member_delete(conn, member_row_id, now):
    conn.execute(members.update().where(members.c.id == member_row_id)
                 .values(deleted=True, deleted_at=now, updated_at=now))


# Each public function above also runs through glance-registry.
remote.export(globals())
