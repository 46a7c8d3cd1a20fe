"""Repository functions of the ``image_leases`` table.

One row per image whose data is being written by an upload or a stage:
the holder (which process), a token (which piece of work of it) and the
time the lease expires unless renewed, by the database's clock
(``db_now``): nodes whose clocks differ judge an expiry alike. The work
removes its row in the transaction that ends it; a row left behind names
a writer that died.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from glance.common import timeutils
from glance.db import models
from glance.db import remote

leases = models.image_leases


def take(conn, image_id, kind, holder, token, now, expires_at):
    """Record the lease of ``token`` on ``image_id``, replacing a row a
    dead writer left (the caller holds the image row and has just moved
    the image to the status only one writer may set)."""
    # Delete only a row that is there: on InnoDB a DELETE that finds no
    # row takes a gap lock, and parallel takes of other images would
    # then deadlock on their inserts.
    if conn.execute(sa.select(leases.c.image_id).where(
            leases.c.image_id == image_id)).first() is not None:
        conn.execute(leases.delete().where(leases.c.image_id == image_id))
    conn.execute(leases.insert().values(
        image_id=image_id, kind=kind, holder=holder, token=token,
        created_at=now, expires_at=expires_at))


def renew(conn, image_id, token, expires_at):
    """Push the expiry of a lease on; False once it is no longer held."""
    return conn.execute(leases.update().where(
        leases.c.image_id == image_id, leases.c.token == token).values(
        expires_at=expires_at)).rowcount == 1


def end(conn, image_id, token):
    """Remove a lease; True for the one caller that removed it (its
    holder ending its work, or whoever recovers it once dead)."""
    return conn.execute(leases.delete().where(
        leases.c.image_id == image_id,
        leases.c.token == token)).rowcount == 1


def all_leases(conn):
    rows = conn.execute(sa.select(leases).order_by(leases.c.created_at))
    return [dict(r._mapping) for r in rows]


def get(conn, image_id):
    row = conn.execute(sa.select(leases).where(
        leases.c.image_id == image_id)).first()
    return dict(row._mapping) if row is not None else None


def expiry(now, seconds):
    return now + datetime.timedelta(seconds=seconds)


def db_now(conn: Connection) -> datetime.datetime:
    """The current UTC time by the database server's clock, as a naive
    datetime (what the columns hold). SQLite is a file of this host: its
    clock is this host's."""
    name = conn.dialect.name
    if name == 'mysql':
        query = 'SELECT UTC_TIMESTAMP(6)'
    elif name == 'postgresql':
        query = "SELECT timezone('UTC', clock_timestamp())"
    else:
        return timeutils.utcnow()
    value = conn.exec_driver_sql(query).scalar()
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


# Each public function above also runs through glance-registry.
remote.export(globals())
