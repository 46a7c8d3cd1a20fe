"""POST /v2/tasks with type ``import``: the legacy way to import an image
from a URL. The task creates the image from ``image_properties`` and then
imports ``import_from`` into it as web-download does."""

from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.common import url_filter
from glance.db import session
from glance.db import tasks as db_tasks
from glance.domain import policy
from glance.domain import tasks
from glance.domain.images import images
from glance.domain.images import locations
from glance.domain.images import records
from glance.imports import flow

LOG = logging.getLogger(__name__)


def _check(body):
    for key in ('type', 'input'):
        if key not in body:
            raise exception.BadRequest("Task '%s' is required" % key)
    if body['type'] != 'import':
        raise exception.BadRequest('Only tasks of type import can be '
                                   'created.')
    task_input = body['input']
    if not isinstance(task_input, dict):
        raise exception.BadRequest('Task input must be an object.')
    url = task_input.get('import_from')
    if not isinstance(url, str) or not url:
        raise exception.BadRequest('Task input needs import_from.')
    if url.lower().startswith('file:'):
        raise exception.BadRequest('File based imports are not allowed. '
                                   'Please use a non-local source of image '
                                   'data.')
    props = task_input.get('image_properties', {})
    if not isinstance(props, dict):
        raise exception.BadRequest('image_properties must be an object.')
    return task_input


def create_task(ctx, body):
    """Record the task and start it; returns the task as stored."""
    target = {'project_id': ctx.project_id}
    policy.enforce(ctx, 'tasks_api_access', target)
    policy.enforce(ctx, 'add_task', target)
    task_input = _check(body)
    url_filter.check_url(task_input['import_from'])
    with session.writer() as conn:
        task_id = tasks.create(conn, ctx, 'import', None, task_input,
                               timeutils.now())
    tasks.notify('task.create', task_id)
    locations.spawn(_run, ctx, task_id, task_input)
    return tasks.get_task(ctx, task_id)


def _run(ctx, task_id, task_input):
    props = dict(task_input.get('image_properties') or {})
    props.setdefault('disk_format',
                     task_input.get('import_from_format') or 'qcow2')
    props.setdefault('container_format', 'bare')
    try:
        tasks.progress(task_id)
        image = images.create(ctx, props)
        with session.writer() as conn:
            locked = records.load(conn, ctx, image['id'], for_update=True)
            tasks.take_lock(conn, locked, task_id, timeutils.now())
            db_tasks.update(conn, task_id, {'image_id': image['id']},
                            timeutils.now())
    except Exception as e:
        LOG.warning('Task %s could not create its image: %s', task_id, e)
        tasks.finish(task_id, 'failure', message=str(e))
        return
    flow.run(task_id, image['id'],
                    {'name': 'web-download',
                     'uri': task_input['import_from']},
                    [None], True, list(ctx.roles or ()))
