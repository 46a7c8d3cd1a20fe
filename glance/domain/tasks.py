"""Tasks: background work done for a request, and the image import lock.

A task goes pending -> processing -> success or failure and expires
``[task] task_time_to_live`` hours after it ended. The import lock is the
``os_glance_import_task`` property of an image: the id of the one task
allowed to change it (an import or a location_import).
"""

import datetime
import re
import uuid

from oslo_config import cfg
from oslo_log import log as logging

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.db import tasks as db_tasks
from glance.domain import policy
from glance.domain.images import records

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

LOCK_PROPERTY = 'os_glance_import_task'
STATUSES = ('pending', 'processing', 'success', 'failure')
# The user name and password of a URL (``scheme://user:password@host``).
_USERINFO = re.compile(r'\b([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@')


def expiry(when):
    return when + datetime.timedelta(hours=CONF.task.task_time_to_live)


def create(conn, ctx, task_type, image_id, task_input, when):
    """Record a pending task of the caller; returns its id."""
    task_id = str(uuid.uuid4())
    db_tasks.create(conn, {
        'id': task_id, 'type': task_type, 'status': 'pending',
        'owner': ctx.project_id or '', 'image_id': image_id,
        'user_id': (ctx.user_id or '')[:64] or None,
        'request_id': (ctx.request_id or '')[:64] or None},
        task_input, when)
    return task_id


def take_lock(conn, image, task_id, when):
    """Make ``task_id`` the holder of the image's import lock (409 while
    another live task holds it; a stale holder is failed)."""
    holder = image['properties'].get(LOCK_PROPERTY)
    if holder and not db_tasks.fail_if_stale(
            conn, holder, when, 'Expired lock preempted', expiry(when)):
        raise exception.Conflict('Image %s has active task %s.'
                                 % (image['id'], holder))
    records.set_properties(conn, image, {LOCK_PROPERTY: task_id}, when)


def release(image_id, task_id):
    """Drop the import lock if ``task_id`` still holds it."""
    try:
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is not None and image['properties'].get(
                    LOCK_PROPERTY) == task_id:
                records.set_properties(conn, image, {LOCK_PROPERTY: None},
                                       timeutils.now())
    except Exception:
        LOG.exception('Could not release the lock of image %s', image_id)


def progress(task_id, status='processing', message=None):
    """Mark a task processing (also a sign of life) with a message."""
    with session.writer(one_call=True) as conn:
        db_tasks.update(conn, task_id, {'status': status}, timeutils.now(),
                        message=message)


def finish(task_id, status, result=None, message=None):
    when = timeutils.now()
    try:
        with session.writer(one_call=True) as conn:
            db_tasks.update(conn, task_id, {'status': status,
                                            'expires_at': expiry(when)},
                            when, result=result, message=message)
        notify('task.' + status, task_id)
    except Exception:
        LOG.exception('Could not record the end of task %s', task_id)


def notify(event_type, task_id):
    """Send ``event_type`` about a task (the row is read only when that
    event is sent at all)."""
    if not notifier.enabled(event_type):
        return
    with session.reader() as conn:
        task = db_tasks.get(conn, task_id)
    if task is not None:
        notifier.task_event(event_type, task)


def notify_started(task_id):
    """task.run then task.processing, when a task's work begins."""
    notify('task.run', task_id)
    notify('task.processing', task_id)


# -- reading tasks --------------------------------------------------------

def redacted(value: object) -> object:
    """``value`` (text, or lists and objects of it) with the credentials
    of the URLs it holds replaced by ``***``: the workers read a task's
    input from the database, callers never see those."""
    if isinstance(value, str):
        return _USERINFO.sub(r'\1***@', value)
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def shown(task: dict) -> dict:
    """A task as it is shown: its input, result and message redacted."""
    return dict(task, **{k: redacted(task.get(k))
                         for k in ('input', 'result', 'message')})


def image_tasks(ctx, image_id):
    """The live tasks of an image, for its owner and administrators
    (403 to others who may see the image, 404 to the rest)."""
    with session.writer(one_call=True) as conn:
        db_tasks.expire(conn, timeutils.now())
    with session.reader() as conn:
        try:
            image = records.load(conn, ctx, image_id)
        except exception.Forbidden:
            raise exception.ImageNotFound('No image found with ID %s'
                                          % image_id)
        if not ctx.is_admin and (ctx.project_id is None
                                 or image['owner'] != ctx.project_id):
            raise exception.Forbidden('Only the owner of image %s and '
                                      'administrators may list its tasks.'
                                      % image_id)
        return [shown(t) for t in db_tasks.for_image(conn, image['id'])]


def _gate(ctx, rule, target=None):
    target = target or {'project_id': ctx.project_id}
    policy.enforce(ctx, 'tasks_api_access', target)
    policy.enforce(ctx, rule, target)


def get_task(ctx, task_id):
    _gate(ctx, 'get_task')
    with session.reader() as conn:
        task = db_tasks.get(conn, task_id)
    if task is None:
        raise exception.NotFound('Task with the given ID %s not found.'
                                 % task_id)
    if not ctx.is_admin and task['owner'] != ctx.project_id:
        raise exception.Forbidden('Task %s belongs to another project.'
                                  % task_id)
    return shown(task)


def list_tasks(ctx, filters, marker=None, limit=None, sort_key='created_at',
               sort_dir='desc'):
    _gate(ctx, 'get_tasks')
    with session.writer(one_call=True) as conn:
        db_tasks.expire(conn, timeutils.now())
    owner = None if ctx.is_admin else ctx.project_id
    with session.reader() as conn:
        marker_task = None
        if marker is not None:
            marker_task = db_tasks.get(conn, marker)
            if marker_task is None or (owner is not None
                                       and marker_task['owner'] != owner):
                raise exception.BadRequest('Invalid marker. Task %s could '
                                           'not be found.' % marker)
        return [shown(t) for t in db_tasks.list_tasks(
            conn, owner, filters, marker_task, limit, sort_key, sort_dir)]
