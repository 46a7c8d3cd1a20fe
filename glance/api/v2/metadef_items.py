"""Controllers of the objects, properties and tags of a namespace:
parse HTTP, call glance.domain.metadefs.items."""

from glance.api.v2 import metadef_views as views
from glance.common import exception
from glance.common import wsgi
from glance.domain.metadefs import items as service
from glance.domain.metadefs import records as md
from glance.domain.metadefs import schemas


class ObjectsController:

    def index(self, req, namespace):
        # Accepted for compatibility; the whole list is always returned.
        if views.limit_param(req.GET, default=False) == 0:
            raise exception.BadRequest('limit must be positive.')
        rows = service.list_items(req.context, namespace, 'object')
        return wsgi.json_response({
            'objects': [views.object_view(namespace, md.object_view(r))
                        for r in rows],
            'schema': '/v2/schemas/metadefs/objects'})

    def show(self, req, namespace, object_name):
        req.reject_body()
        row = service.get_item(req.context, namespace, 'object', object_name)
        return wsgi.json_response(views.object_view(namespace,
                                                    md.object_view(row)))

    def _values(self, req):
        body = req.json()
        schemas.reject_read_only(body)
        schemas.validate('object', body)
        md.check_object(body)
        return md.object_values(body)

    def create(self, req, namespace):
        row = service.create_item(req.context, namespace, 'object',
                                  self._values(req))
        body = views.object_view(namespace, md.object_view(row))
        return wsgi.json_response(body, 201)

    def update(self, req, namespace, object_name):
        row = service.update_item(req.context, namespace, 'object',
                                  object_name, self._values(req))
        return wsgi.json_response(views.object_view(namespace,
                                                     md.object_view(row)))

    def delete(self, req, namespace, object_name):
        req.reject_body()
        service.delete_item(req.context, namespace, 'object', object_name)
        return wsgi.empty_response()


class PropertiesController:

    def index(self, req, namespace):
        req.reject_body()
        rows = service.list_items(req.context, namespace, 'property')
        found = {}
        for row in rows:
            definition = md.property_view(row)
            found[definition.pop('name')] = definition
        return wsgi.json_response({'properties': found})

    def show(self, req, namespace, property_name):
        row = service.get_property(req.context, namespace, property_name,
                                   req.GET.get('resource_type'))
        return wsgi.json_response(md.property_view(row))

    def _values(self, req):
        body = req.json()
        schemas.reject_read_only(body, ('created_at', 'updated_at'))
        schemas.validate('property', body)
        md.check_name('property', body['name'])
        md.check_text(body)
        schemas.check_property(body['name'], body)
        return md.property_values(body['name'], body)

    def create(self, req, namespace):
        row = service.create_item(req.context, namespace, 'property',
                                  self._values(req))
        return wsgi.json_response(md.property_view(row), 201)

    def update(self, req, namespace, property_name):
        row = service.update_item(req.context, namespace, 'property',
                                  property_name, self._values(req))
        return wsgi.json_response(md.property_view(row))

    def delete(self, req, namespace, property_name):
        service.delete_item(req.context, namespace, 'property',
                            property_name)
        return wsgi.empty_response()


class TagsController:

    def index(self, req, namespace):
        query = req.GET
        sort_key, sort_dir = views.sort_params(query, service.TAG_SORT_KEYS,
                                               'created_at', 'asc')
        rows = service.list_items(
            req.context, namespace, 'tag', sort_key=sort_key,
            sort_dir=sort_dir, limit=views.limit_param(query, default=False),
            marker=query.get('marker'))
        return wsgi.json_response({'tags': [views.tag_view(r)
                                            for r in rows]})

    def show(self, req, namespace, tag_name):
        req.reject_body()
        return wsgi.json_response(views.tag_view(
            service.get_item(req.context, namespace, 'tag', tag_name)))

    def create(self, req, namespace, tag_name):
        req.reject_body()
        md.check_name('tag', tag_name)
        row = service.create_item(req.context, namespace, 'tag',
                                  {'name': tag_name})
        return wsgi.json_response(views.tag_view(row), 201)

    def create_tags(self, req, namespace):
        body = req.json()
        if set(body) != {'tags'} or not isinstance(body['tags'], list):
            raise exception.BadRequest('The body must be {"tags": [{"name": '
                                       '...}, ...]} and nothing else.')
        names = []
        for item in body['tags']:
            if not isinstance(item, dict):
                raise exception.BadRequest('Each tag must be an object.')
            schemas.reject_read_only(item, ('created_at', 'updated_at'))
            schemas.validate('tag', item)
            md.check_name('tag', item['name'])
            names.append(item['name'])
        append = req.headers.get('X-Openstack-Append', '').lower() == 'true'
        rows = service.create_tags(req.context, namespace, names, append)
        return wsgi.json_response({'tags': [{'name': r['name']}
                                            for r in rows]}, 201)

    def update(self, req, namespace, tag_name):
        body = req.json()
        schemas.reject_read_only(body, ('created_at', 'updated_at'))
        schemas.validate('tag', body)
        md.check_name('tag', body['name'])
        row = service.update_item(req.context, namespace, 'tag', tag_name,
                                  {'name': body['name']})
        return wsgi.json_response(views.tag_view(row))

    def delete(self, req, namespace, tag_name):
        req.reject_body()
        service.delete_item(req.context, namespace, 'tag', tag_name)
        return wsgi.empty_response()
