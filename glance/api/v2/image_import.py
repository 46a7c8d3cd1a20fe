"""Controller of /v2/images/{image_id}/stage and /import."""

import webob

from glance.api.v2 import image_data
from glance.common import wsgi
from glance.domain.images import staging
from glance.imports import methods
from glance.imports import proxy


class ImportController:

    def stage(self, req, image_id):
        image_data.require_octet_stream(req)
        staging.stage(req.context, image_id, req.environ['wsgi.input'],
                      image_data.request_size(req))
        return wsgi.empty_response()

    def import_image(self, req, image_id):
        body = req.json()
        result = methods.start_import(
            req.context, image_id, body,
            req.headers.get('X-Image-Meta-Store'),
            proxied=bool(req.headers.get(proxy.PROXIED_HEADER)))
        if isinstance(result, proxy.Answer):
            resp = webob.Response(status=result.status, body=result.body)
            resp.content_type = result.content_type
            return resp
        return wsgi.empty_response(202)
