"""Controller of /v2/images/{image_id}/tags/{tag_value}."""

from glance.common import wsgi
from glance.domain import schema
from glance.domain.images import tags as service


class TagsController:

    def update(self, req, image_id, tag_value):
        req.reject_body()
        schema.image_schema().validate({'tags': [tag_value]})
        service.add_tag(req.context, image_id, tag_value)
        return wsgi.empty_response()

    def delete(self, req, image_id, tag_value):
        req.reject_body()
        service.delete_tag(req.context, image_id, tag_value)
        return wsgi.empty_response()
