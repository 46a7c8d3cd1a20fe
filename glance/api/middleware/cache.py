"""The ``cache`` filter of upstream's caching flavors, as a pass-through.

The image cache is not available yet: a pipeline naming this filter
(``glance.api.middleware.cache:CacheFilter.factory``) loads and serves
every request from the stores, and the first load logs a warning saying
so.
"""

import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_warned = threading.Event()


def warn_once() -> None:
    """Log, once per process, that the cache filters do nothing yet."""
    if _warned.is_set():
        return
    _warned.set()
    LOG.warning('The paste pipeline names the image cache filters (cache, '
                'cachemanage), but the image cache is not available yet: '
                'image data is always read from the stores, and the cache '
                'management API answers 501.')


class CacheFilter:
    """Passes every request on."""

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        warn_once()
        return cls

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return CacheFilter.factory(global_conf, **local_conf)
