"""The ``cachemanage`` filter of upstream's cachemanagement flavors.

The image cache is not available yet, so neither is its legacy
management API: ``/v2/cached_images`` and ``/v2/queued_images`` (and
everything under them) are answered with 501 Not Implemented; every other
request is passed on. The first load logs a warning (the same one as the
``cache`` filter, once per process).
"""

import re

import webob
import webob.exc

from glance.api.middleware import cache

LEGACY_PATHS = re.compile(r'^/v2(\.\d+)?/(cached_images|queued_images)'
                          r'(/|$)')


class CacheManageFilter:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        cache.warn_once()
        return cls

    def __call__(self, environ, start_response):
        if not LEGACY_PATHS.match(environ.get('PATH_INFO', '')):
            return self.app(environ, start_response)
        error = webob.exc.HTTPNotImplemented(
            explanation='The image cache is not available, and neither is '
                        'its management API (cached_images, '
                        'queued_images).',
            body_template='${explanation}')
        resp = webob.Request(environ).get_response(error)
        return resp(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return CacheManageFilter.factory(global_conf, **local_conf)
