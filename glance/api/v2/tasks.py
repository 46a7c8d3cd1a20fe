"""Controllers of /v2/tasks and /v2/images/{image_id}/tasks."""

import urllib.parse
import uuid

from oslo_config import cfg

from glance.common import exception
from glance.common import timeutils
from glance.common import wsgi
from glance.domain import tasks as service
from glance.imports import legacy

SORT_KEYS = ('id', 'type', 'status', 'created_at', 'updated_at')
FILTERS = {'status': service.STATUSES, 'type': ('import',
                                                'api_image_import',
                                                'location_import')}
DETAIL_KEYS = ('input', 'result', 'message')
CONF = cfg.CONF


def task_view(task, detail=True):
    body = {'id': task['id'], 'type': task['type'], 'status': task['status'],
            'owner': task['owner'],
            'created_at': timeutils.isotime(task['created_at']),
            'updated_at': timeutils.isotime(task['updated_at']),
            'self': '/v2/tasks/%s' % task['id'],
            'schema': '/v2/schemas/task'}
    if detail:
        body.update(input=task['input'] or {}, result=task['result'],
                    message=task['message'] or '')
    for key in ('image_id', 'request_id', 'user_id'):
        if task.get(key):
            body[key] = task[key]
    if task.get('expires_at'):
        body['expires_at'] = timeutils.isotime(task['expires_at'])
    return body


def image_task_view(task):
    body = task_view(task)
    body.update(deleted=bool(task['deleted']),
                deleted_at=timeutils.isotime(task['deleted_at']),
                expires_at=timeutils.isotime(task['expires_at']),
                image_id=task['image_id'], request_id=task['request_id'],
                user_id=task['user_id'])
    return body


def _list_params(query):
    # A page is never larger than api_limit_max, as for images.
    params = {'filters': {},
              'limit': min(CONF.limit_param_default, CONF.api_limit_max)}
    for key, value in query.items():
        if key == 'limit':
            try:
                limit = int(value)
            except ValueError:
                raise exception.BadRequest('limit param must be an integer')
            if limit < 0:
                raise exception.BadRequest('limit param must be positive')
            params['limit'] = min(CONF.api_limit_max, limit)
        elif key == 'marker':
            try:
                uuid.UUID(value)
            except ValueError:
                raise exception.BadRequest('Invalid marker format')
            # Task ids are stored in lower case.
            params['marker'] = value.lower()
        elif key == 'sort_key':
            if value not in SORT_KEYS:
                raise exception.BadRequest('Invalid sort key: %s. It must be '
                                           'one of: %s' % (value,
                                                           ', '.join(
                                                               SORT_KEYS)))
            params['sort_key'] = value
        elif key == 'sort_dir':
            if value not in ('asc', 'desc'):
                raise exception.BadRequest('Invalid sort direction: %s'
                                           % value)
            params['sort_dir'] = value
        elif key in FILTERS:
            if value not in FILTERS[key]:
                raise exception.BadRequest('Invalid %s value: %s'
                                           % (key, value))
            params['filters'][key] = value
        else:
            raise exception.BadRequest('Unknown parameter: %s' % key)
    return params


class TasksController:

    def index(self, req):
        req.reject_body()
        params = _list_params(req.GET)
        found = service.list_tasks(req.context, **params)
        query = urllib.parse.urlencode(
            [(k, v) for k, v in req.GET.items() if k != 'marker'])
        body = {'tasks': [task_view(t, detail=False) for t in found],
                'first': '/v2/tasks' + ('?' + query if query else ''),
                'schema': '/v2/schemas/tasks'}
        limit = params.get('limit')
        if limit and len(found) == limit:
            body['next'] = '/v2/tasks?' + urllib.parse.urlencode(
                [(k, v) for k, v in req.GET.items() if k != 'marker']
                + [('marker', found[-1]['id'])])
        return wsgi.json_response(body)

    def show(self, req, task_id):
        req.reject_body()
        return wsgi.json_response(task_view(service.get_task(req.context,
                                                             task_id)))

    def create(self, req):
        task = legacy.create_task(req.context, req.json())
        return wsgi.json_response(task_view(task), status=201, headers={
            'Location': '/v2/tasks/%s' % task['id']})

    def delete(self, req, task_id):
        raise exception.MethodNotAllowed(
            'This operation is currently not permitted on Glance Tasks. '
            'They are auto deleted after reaching the time based on their '
            'expires_at property.', headers={'Allow': 'GET'})

    def image_tasks(self, req, image_id):
        req.reject_body()
        found = service.image_tasks(req.context, image_id)
        return wsgi.json_response(
            {'tasks': [image_task_view(t) for t in found]})
