"""Repository functions writing the ``tasks`` and ``task_info`` tables.

A task row records background work done for a request (status pending,
processing, then success or failure); its ``task_info`` row holds the
input, the result and a message, as JSON text where structured.
"""

import datetime
import json

import sqlalchemy as sa

from glance.db import models

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
