"""The ``gzip`` filter of upstream's paste file (defined there, used by
no shipped pipeline): responses are gzip-compressed for clients whose
Accept-Encoding allows it.

Image data (``application/octet-stream``) is sent as it is: it is
usually compressed already, its Content-Length and checksum headers
describe the stored bytes, and the daemon hands it to sendfile.
"""

import webob.dec

from glance.common import wsgi

PASSED_AS_IS = ('application/octet-stream',)


class GzipMiddleware:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        resp = req.get_response(self.app)
        if (req.method == 'HEAD'
                or not req.accept_encoding.acceptable_offers(['gzip'])
                or resp.content_type in PASSED_AS_IS
                or resp.content_encoding or resp.status_int in (204, 304)
                or resp.content_length == 0):
            return resp
        resp.encode_content('gzip')
        resp.vary = tuple(set(resp.vary or ()) | {'Accept-Encoding'})
        return resp


def filter_factory(global_conf, **local_conf):
    return GzipMiddleware
