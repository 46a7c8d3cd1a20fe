"""Controller of /v2/cache: the image cache of the node answering."""

from glance.cache import service
from glance.common import wsgi

CLEAR_TARGET = 'x-image-cache-clear-target'


class CacheController:

    def get_cache_state(self, req):
        return wsgi.json_response(service.state(req.context))

    def queue_image(self, req, image_id):
        req.reject_body()
        service.queue(req.context, image_id)
        return wsgi.empty_response(202)

    def delete_cache_entry(self, req, image_id):
        service.delete(req.context, image_id)
        return wsgi.empty_response()

    def clear_cache(self, req):
        service.clear(req.context, req.headers.get(CLEAR_TARGET, ''))
        return wsgi.empty_response()

    def get_cached_nodes(self, req, image_id):
        return wsgi.json_response(service.nodes(req.context, image_id))

    def clean_cache(self, req):
        req.reject_body()
        service.clean(req.context)
        resp = wsgi.empty_response(200)
        return resp

    def prune_cache(self, req):
        req.reject_body()
        return wsgi.json_response(service.prune(req.context))
