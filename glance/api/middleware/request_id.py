"""Request ids: x-openstack-request-id on every response.

A client may send its own X-Openstack-Request-ID (kept, prefixed with
"req-" when needed) as long as it is not longer than
``max_request_id_length``; a longer one is answered with 431.
"""

import uuid

import webob
from oslo_config import cfg

from glance.common import wsgi

CONF = cfg.CONF
HEADER = 'x-openstack-request-id'
ENV_KEY = 'openstack.request_id'


class RequestIdMiddleware:

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        given = environ.get('HTTP_X_OPENSTACK_REQUEST_ID')
        too_long = bool(given) and len(given) > CONF.max_request_id_length
        if given and not too_long:
            request_id = given if given.startswith('req-') else 'req-' + given
        else:
            request_id = 'req-' + str(uuid.uuid4())
        environ[ENV_KEY] = request_id

        def start_with_id(status, headers, exc_info=None):
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        if too_long:
            resp = wsgi.error_response(
                webob.Request(environ), 431,
                'Request ID is longer than %d characters.'
                % CONF.max_request_id_length)
            return resp(environ, start_with_id)
        return self.app(environ, start_with_id)


def filter_factory(global_conf, **local_conf):
    return RequestIdMiddleware
