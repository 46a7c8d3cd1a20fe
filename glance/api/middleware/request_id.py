"""Request ids: x-openstack-request-id on every response.

A client may send its own X-Openstack-Request-ID (kept, prefixed with
"req-" when needed) as long as it is not longer than
``max_request_id_length``; a longer one is answered with 431.
"""

import uuid

import webob.dec
from oslo_config import cfg

from glance.common import wsgi

CONF = cfg.CONF
HEADER = 'x-openstack-request-id'
ENV_KEY = 'openstack.request_id'


class RequestIdMiddleware:

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        given = req.headers.get(HEADER)
        if given and len(given) > CONF.max_request_id_length:
            resp = wsgi.error_response(
                req, 431, 'Request ID is longer than %d characters.'
                % CONF.max_request_id_length)
            given = None
        else:
            resp = None
        if given:
            request_id = given if given.startswith('req-') else 'req-' + given
        else:
            request_id = 'req-' + str(uuid.uuid4())
        req.environ[ENV_KEY] = request_id
        if resp is None:
            resp = req.get_response(self.app)
        resp.headers[HEADER] = request_id
        return resp


def filter_factory(global_conf, **local_conf):
    return RequestIdMiddleware
