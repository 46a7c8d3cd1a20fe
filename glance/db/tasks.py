"""Repository functions writing the ``tasks`` and ``task_info`` tables.

A task row records background work done for a request (status pending,
processing, then success or failure); its ``task_info`` row holds the
input, the result and a message, as JSON text where structured.
"""

import datetime
import json

import sqlalchemy as sa

from glance.db import models
from glance.db import remote

tasks = models.tasks
task_info = models.task_info

# Minutes after which a task still holding an image lock is presumed dead.
STALE_MINUTES = {'pending': 120, 'processing': 60, 'success': 60,
                 'failure': 60}


def create(conn, values, task_input, now):
    """Insert a task (``values``: id, type, status, owner, image_id,
    user_id, request_id) and its input."""
    conn.execute(tasks.insert().values(
        created_at=now, updated_at=now, deleted=False, **values))
    conn.execute(task_info.insert().values(
        task_id=values['id'], input=json.dumps(task_input)))


def update(conn, task_id, values, now, result=None, message=None):
    """Change the columns of a task, and its result or message when given.
    False when the task does not exist."""
    done = conn.execute(tasks.update().where(tasks.c.id == task_id).values(
        updated_at=now, **values)).rowcount == 1
    info = {}
    if result is not None:
        info['result'] = json.dumps(result)
    if message is not None:
        info['message'] = message
    if done and info:
        conn.execute(task_info.update().where(
            task_info.c.task_id == task_id).values(**info))
    return done


def fail_if_stale(conn, task_id, now, message, expires_at):
    """Fail the task when it has not moved for longer than its status
    allows; True when it is now failed this way or does not exist (what
    it held can be taken), False while it is alive."""
    stale = sa.or_(*[
        sa.and_(tasks.c.status == status,
                tasks.c.updated_at <= now - datetime.timedelta(
                    minutes=minutes))
        for status, minutes in STALE_MINUTES.items()])
    failed = conn.execute(tasks.update().where(
        tasks.c.id == task_id, tasks.c.deleted == sa.false(), stale).values(
        status='failure', updated_at=now, expires_at=expires_at)).rowcount
    if failed:
        conn.execute(task_info.update().where(
            task_info.c.task_id == task_id).values(message=message))
        return True
    alive = conn.execute(sa.select(tasks.c.id).where(
        tasks.c.id == task_id, tasks.c.deleted == sa.false())).first()
    return alive is None


COLUMNS = [c for c in tasks.columns] + [task_info.c.input, task_info.c.result,
                                        task_info.c.message]
_SELECT = sa.select(*COLUMNS).select_from(
    tasks.outerjoin(task_info, task_info.c.task_id == tasks.c.id))


def _row(row):
    task = dict(row._mapping)
    for key in ('input', 'result'):
        task[key] = json.loads(task[key]) if task[key] else None
    return task


def get(conn, task_id):
    row = conn.execute(_SELECT.where(tasks.c.id == task_id,
                                     tasks.c.deleted == sa.false())).first()
    return _row(row) if row is not None else None


def expire(conn, now):
    """Soft-delete the tasks past their expiry."""
    conn.execute(tasks.update().where(
        tasks.c.deleted == sa.false(), tasks.c.expires_at.is_not(None),
        tasks.c.expires_at <= now).values(deleted=True, deleted_at=now))


def for_image(conn, image_id):
    rows = conn.execute(_SELECT.where(
        tasks.c.image_id == image_id, tasks.c.deleted == sa.false())
        .order_by(tasks.c.created_at.desc(), tasks.c.id))
    return [_row(r) for r in rows]


def list_tasks(conn, owner=None, filters=None, marker=None, limit=None,
               sort_key='created_at', sort_dir='desc'):
    """A page of tasks; ``marker`` is the task the page starts after."""
    query = _SELECT.where(tasks.c.deleted == sa.false())
    if owner is not None:
        query = query.where(tasks.c.owner == owner)
    for key, value in (filters or {}).items():
        query = query.where(tasks.c[key] == value)
    column = tasks.c[sort_key]
    order = sa.desc if sort_dir == 'desc' else sa.asc
    if marker is not None:
        before = column < marker[sort_key] if sort_dir == 'desc' else (
            column > marker[sort_key])
        query = query.where(sa.or_(before, sa.and_(
            column == marker[sort_key], tasks.c.id > marker['id'])))
    query = query.order_by(order(column), tasks.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_row(r) for r in conn.execute(query)]


def claim_stale(conn, task, now):
    """Take over a stale task as it was read: True for the one caller
    whose update still found it unchanged since (its ``updated_at``)."""
    return conn.execute(tasks.update().where(
        tasks.c.id == task['id'],
        tasks.c.updated_at == task['updated_at']).values(
        updated_at=now)).rowcount == 1


def stale(conn, before, types):
    """Tasks of ``types`` still pending or processing whose last sign of
    life is older than ``before``: their worker is gone."""
    rows = conn.execute(_SELECT.where(
        tasks.c.deleted == sa.false(), tasks.c.type.in_(types),
        tasks.c.status.in_(('pending', 'processing')),
        tasks.c.updated_at < before))
    return [_row(r) for r in rows]


# Each public function above also runs through glance-registry.
remote.export(globals())
