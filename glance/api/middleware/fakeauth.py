"""Test-only authentication: X-Auth-Token "user:project:role1,role2".

It turns the token into the identity headers the context filter trusts,
so tests can act as many users without Keystone. Never deploy it.
"""

import webob.dec

from glance.common import wsgi


class FakeAuthMiddleware:

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token', '')
        parts = token.split(':')
        if len(parts) != 3:
            req.headers['X-Identity-Status'] = 'Invalid'
        else:
            user, project, roles = parts
            req.headers['X-Identity-Status'] = 'Confirmed'
            req.headers['X-User-Id'] = user
            if project and project != 'none':
                req.headers['X-Project-Id'] = project
            else:
                req.headers.pop('X-Project-Id', None)
                req.headers.pop('X-Tenant-Id', None)
            req.headers['X-Roles'] = roles
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return FakeAuthMiddleware
