"""Controller of /v2/images/{image_id}/actions/{deactivate,reactivate}."""

from glance.common import wsgi
from glance.domain.images import images as service


class ActionsController:

    def deactivate(self, req, image_id):
        req.reject_body()
        service.deactivate(req.context, image_id)
        return wsgi.empty_response()

    def reactivate(self, req, image_id):
        req.reject_body()
        service.reactivate(req.context, image_id)
        return wsgi.empty_response()
