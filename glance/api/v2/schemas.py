"""Controller of /v2/schemas/*."""

from glance.common import wsgi
from glance.domain import schema


class SchemasController:

    def image(self, req):
        req.reject_body()
        return wsgi.json_response(schema.image_schema().raw())

    def images(self, req):
        req.reject_body()
        return wsgi.json_response(schema.images_schema())

    def member(self, req):
        req.reject_body()
        return wsgi.json_response(schema.member_schema())

    def members(self, req):
        req.reject_body()
        return wsgi.json_response(schema.members_schema())

    def task(self, req):
        return wsgi.json_response(schema.task_schema())

    def tasks(self, req):
        return wsgi.json_response(schema.tasks_schema())
