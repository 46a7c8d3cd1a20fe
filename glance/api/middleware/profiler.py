"""Stand-in for osprofiler's WSGI middleware when osprofiler is not
installed.

Upstream's paste files put ``osprofiler.web:WsgiMiddleware.factory`` in
every pipeline. Without the osprofiler package that filter becomes this
pass-through (``glance.api.pipeline`` substitutes it), and the first load
logs a warning: requests are served, none is traced.
"""

import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_warned = threading.Event()


class ProfilerStandIn:
    """Passes every request on."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    if not _warned.is_set():
        _warned.set()
        LOG.warning('The paste pipeline names the osprofiler filter, but '
                    'osprofiler is not installed: requests are served '
                    'without tracing.')
    return ProfilerStandIn
