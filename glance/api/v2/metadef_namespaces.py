"""Controller of /v2/metadefs/namespaces: parses HTTP, calls
glance.domain.metadefs.namespaces."""

import urllib.parse

from glance.api.v2 import metadef_views as views
from glance.common import exception
from glance.common import wsgi
from glance.domain.metadefs import namespaces as service
from glance.domain.metadefs import schemas


def _page_link(req, marker=None):
    items = [(k, v) for k, v in req.GET.items() if k != 'marker']
    if marker is not None:
        items.append(('marker', marker))
    query = urllib.parse.urlencode(items)
    return views.NS_PATH + ('?' + query if query else '')


def _body(req):
    body = req.json()
    schemas.reject_read_only(body)
    schemas.validate('namespace', body)
    return body


class NamespacesController:

    def index(self, req):
        query = req.GET
        sort_key, sort_dir = views.sort_params(
            query, service.SORT_KEYS, 'created_at', 'desc')
        visibility = query.get('visibility')
        if visibility is not None and visibility not in ('public',
                                                         'private'):
            raise exception.BadRequest("Invalid visibility value: %s. It "
                                       "should be 'public' or 'private'."
                                       % visibility)
        types = [t.strip() for t in query.get('resource_types', '').split(
            ',') if t.strip()]
        limit = views.limit_param(query)
        rows, page_full = service.list_namespaces(
            req.context, limit, marker=query.get('marker'),
            sort_key=sort_key, sort_dir=sort_dir, visibility=visibility,
            protected=views.bool_param(query, 'protected'),
            resource_types=types)
        body = {'namespaces': [views.namespace_view(r) for r in rows],
                'first': _page_link(req),
                'schema': '/v2/schemas/metadefs/namespaces'}
        if page_full and rows:
            body['next'] = _page_link(req, rows[-1]['namespace'])
        return wsgi.json_response(body)

    def show(self, req, namespace):
        req.reject_body()
        found = service.get_namespace(req.context, namespace,
                                      req.GET.get('resource_type'))
        return wsgi.json_response(views.namespace_view(found))

    def create(self, req):
        created = service.create_namespace(req.context, _body(req))
        body = views.namespace_view(created)
        return wsgi.json_response(body, 201, {'Location': body['self']})

    def update(self, req, namespace):
        updated = service.update_namespace(req.context, namespace,
                                           _body(req))
        return wsgi.json_response(views.namespace_view(updated))

    def delete(self, req, namespace):
        req.reject_body()
        service.delete_namespace(req.context, namespace)
        return wsgi.empty_response()

    def delete_objects(self, req, namespace):
        service.delete_content(req.context, namespace, 'object')
        return wsgi.empty_response()

    def delete_properties(self, req, namespace):
        service.delete_content(req.context, namespace, 'property')
        return wsgi.empty_response()

    def delete_tags(self, req, namespace):
        service.delete_content(req.context, namespace, 'tag')
        return wsgi.empty_response()
