"""The ``cachemanage`` filter: the older cache management paths of
upstream's cachemanagement flavors, answered here; every other request
goes on.

    GET    /v2/cached_images            {"cached_images": [records]}
    DELETE /v2/cached_images            {"num_deleted": n}
    DELETE /v2/cached_images/{id}       null
    GET    /v2/queued_images            {"queued_images": [ids]}
    DELETE /v2/queued_images            {"num_deleted": n}
    PUT    /v2/queued_images/{id}       null (queued unchecked)
    DELETE /v2/queued_images/{id}       null

All under the policy rule ``manage_image_cache``; 404 without
``image_cache_dir``. Upstream's path
``glance.api.middleware.cache_manage:CacheManageFilter.factory`` loads it.
"""

import re

from glance.api.middleware import cache
from glance.cache import service
from glance.common import exception
from glance.common import wsgi

LEGACY = re.compile(r'^/v2/(?P<kind>cached_images|queued_images)'
                    r'(?:/(?P<image_id>[^/]+))?/?$')

# (kind, with an id, method) -> what answers, as (service function, key
# of the JSON answer or None for "null").
ACTIONS = {
    ('cached_images', False, 'GET'):
        (service.legacy_cached, 'cached_images'),
    ('cached_images', False, 'DELETE'):
        (service.legacy_delete_all_cached, 'num_deleted'),
    ('cached_images', True, 'DELETE'):
        (service.legacy_delete_cached, None),
    ('queued_images', False, 'GET'):
        (service.legacy_queued, 'queued_images'),
    ('queued_images', False, 'DELETE'):
        (service.legacy_dequeue_all, 'num_deleted'),
    ('queued_images', True, 'PUT'):
        (service.legacy_queue, None),
    ('queued_images', True, 'DELETE'):
        (service.legacy_dequeue, None),
}


class CacheManageFilter:

    def __init__(self, app):
        self.app = app
        if not cache.cache.enabled():
            cache.warn_once()

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        match = LEGACY.match(environ.get('PATH_INFO', ''))
        if not match:
            return self.app(environ, start_response)
        req = wsgi.Request(environ)
        resp = self._answer(req, match.group('kind'),
                            match.group('image_id'))
        return resp(environ, start_response)

    def _answer(self, req, kind, image_id):
        action = ACTIONS.get((kind, image_id is not None, req.method))
        if action is None:
            allowed = sorted(m for (k, with_id, m) in ACTIONS
                             if k == kind and with_id == (image_id
                                                          is not None))
            return wsgi.error_response(req, 405, 'The method is not allowed '
                                       'for this resource.',
                                       {'Allow': ', '.join(allowed)})
        function, key = action
        ctx = req.environ.get('glance.context')
        if ctx is None:
            return wsgi.error_response(req, 401, 'Authentication required.')
        try:
            args = (ctx, image_id.lower()) if image_id else (ctx,)
            result = function(*args)
        except exception.GlanceError as e:
            return wsgi.domain_error_response(req, e)
        return wsgi.json_response(None if key is None else {key: result})


def filter_factory(global_conf, **local_conf):
    return CacheManageFilter.factory(global_conf, **local_conf)
