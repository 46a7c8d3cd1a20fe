"""Request contexts without Keystone (the default flavor).

Identity comes from the X-Project-Id (or X-Tenant-Id), X-User-Id and
X-Roles headers; X-Auth-Token is ignored, so any token (openstacksdk sends
"notused") works. A request naming no project acts as the configured
``[noauth]`` project and user with the ``[noauth] roles``: an administrator
by default, and images it creates still get an owner.
"""

import webob.dec
from oslo_config import cfg

from glance.api.middleware import context as context_mw
from glance.common import wsgi
from glance import context

CONF = cfg.CONF


class UnauthenticatedContextMiddleware:

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        headers = req.headers
        project = headers.get('X-Project-Id') or headers.get('X-Tenant-Id')
        roles = context_mw._roles(headers.get('X-Roles'))
        if project:
            user = headers.get('X-User-Id')
            roles = roles or list(CONF.noauth.header_roles)
        else:
            project = CONF.noauth.project_id
            user = headers.get('X-User-Id') or CONF.noauth.user_id
            roles = roles or list(CONF.noauth.roles)
        req.environ['glance.context'] = context.RequestContext(
            user_id=user, project_id=project, roles=roles,
            auth_token=headers.get('X-Auth-Token'),
            request_id=context_mw.request_id_of(req))
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return UnauthenticatedContextMiddleware
