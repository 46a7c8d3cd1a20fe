"""Controller of /v2/metadefs/resource_types and of the resource type
associations of a namespace."""

from glance.api.v2 import metadef_views as views
from glance.common import wsgi
from glance.domain.metadefs import resource_types as service
from glance.domain.metadefs import schemas


class ResourceTypesController:

    def index(self, req):
        req.reject_body()
        rows = service.list_resource_types(req.context)
        return wsgi.json_response(
            {'resource_types': [views.resource_type_view(r) for r in rows]})

    def show(self, req, namespace):
        req.reject_body()
        rows = service.list_associations(req.context, namespace)
        return wsgi.json_response({'resource_type_associations': [
            views.association_view(r) for r in rows]})

    def create(self, req, namespace):
        body = req.json()
        schemas.reject_read_only(body, ('created_at', 'updated_at'))
        schemas.validate('resource_type', body)
        row = service.create_association(req.context, namespace, body)
        return wsgi.json_response(views.association_view(row), 201)

    def delete(self, req, namespace, resource_type):
        req.reject_body()
        service.delete_association(req.context, namespace, resource_type)
        return wsgi.empty_response()
