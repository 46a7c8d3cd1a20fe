"""Version negotiation: /v2.x/... is served by the v2 router as /v2/...

Anything that names no known version (/, /v1, /v3, ...) gets the versions
document with 300 Multiple Choices; /versions gets it with 200.
"""

import webob

from glance.api import versions

ACCEPT_PREFIX = 'application/vnd.openstack.images-'


class VersionNegotiationFilter:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """The paste factory upstream's paste files name."""
        return cls

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        first = path.lstrip('/').split('/', 1)[0]
        if first == 'versions':
            return self._versions(environ, start_response, 200)
        accept = environ.get('HTTP_ACCEPT', '')
        if accept.startswith(ACCEPT_PREFIX):
            token = accept[len(ACCEPT_PREFIX):]
            rest = path
        else:
            token = first
            rest = path.lstrip('/')[len(first):]
        if token not in versions.allowed_tokens():
            return self._versions(environ, start_response, 300)
        environ['api.version'] = 2
        if rest and not rest.startswith('/'):
            rest = '/' + rest
        environ['PATH_INFO'] = '/v2' + rest
        return self.app(environ, start_response)

    @staticmethod
    def _versions(environ, start_response, status):
        resp = versions.versions_response(webob.Request(environ), status)
        return resp(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return VersionNegotiationFilter
