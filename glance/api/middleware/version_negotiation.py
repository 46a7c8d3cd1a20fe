"""Version negotiation: /v2.x/... is served by the v2 router as /v2/...

Anything that names no known version (/, /v1, /v3, ...) gets the versions
document with 300 Multiple Choices; /versions gets it with 200.
"""

import webob.dec

from glance.api import versions

ACCEPT_PREFIX = 'application/vnd.openstack.images-'


class VersionNegotiationFilter:

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info
        first = path.lstrip('/').split('/', 1)[0]
        if first == 'versions':
            return versions.versions_response(req, status=200)
        accept = req.headers.get('Accept', '')
        if accept.startswith(ACCEPT_PREFIX):
            token = accept[len(ACCEPT_PREFIX):]
            rest = path
        else:
            token = first
            rest = path.lstrip('/')[len(first):]
        if token not in versions.allowed_tokens():
            return versions.versions_response(req, status=300)
        req.environ['api.version'] = 2
        req.path_info = '/v2' + (rest if rest.startswith('/') or not rest
                                 else '/' + rest)
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return VersionNegotiationFilter
