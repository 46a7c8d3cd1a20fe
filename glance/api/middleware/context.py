"""Request contexts: ``environ['glance.context']`` of every request.

``ContextMiddleware`` serves the keystone flavors: keystonemiddleware's
authtoken (with delay_auth_decision) runs first and sets X-Identity-Status
and the identity headers, which it turns into the context.

``UnauthenticatedContextMiddleware`` serves the flavors without Keystone:
identity comes from the X-Project-Id (or X-Tenant-Id), X-User-Id and
X-Roles headers; X-Auth-Token is ignored, so any token (openstacksdk sends
"notused") works. A request naming no project acts as the configured
``[noauth]`` project and user with the ``[noauth] roles``: an administrator
by default, and images it creates still get an owner.

Both classes offer ``factory``, the paste factory upstream's paste files
name (``glance.api.middleware.context:ContextMiddleware.factory``).
"""

import json

import webob.dec
from oslo_config import cfg

from glance import context
from glance.api.middleware import request_id
from glance.common import wsgi
from glance.domain import policy

CONF = cfg.CONF


def roles_of(header):
    return [r.strip().lower() for r in (header or '').split(',')
            if r.strip()]


def parse_catalog(text):
    """The service catalog of an X-Service-Catalog header ([] if bad)."""
    try:
        catalog = json.loads(text)
    except ValueError:
        return []
    return catalog if isinstance(catalog, list) else []


def request_id_of(req):
    return req.environ.get(request_id.ENV_KEY)


def policy_admin_check(ctx):
    """Whether the ``context_is_admin`` rule in force accepts ``ctx``: the
    admin check of every context the identity filters build."""
    return policy.check(ctx, 'context_is_admin', {})


class ContextMiddleware:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        status = req.headers.get('X-Identity-Status')
        if status == 'Confirmed':
            catalog = req.headers.get('X-Service-Catalog')
            if catalog is not None:
                try:
                    catalog = json.loads(catalog)
                except ValueError:
                    return wsgi.error_response(
                        req, 400, 'Invalid service catalog json.')
            ctx = context.RequestContext(
                auth_token=req.headers.get('X-Auth-Token'),
                user_id=req.headers.get('X-User-Id'),
                project_id=(req.headers.get('X-Project-Id')
                            or req.headers.get('X-Tenant-Id')),
                roles=roles_of(req.headers.get('X-Roles')),
                service_roles=roles_of(req.headers.get('X-Service-Roles')),
                request_id=request_id_of(req),
                admin_check=policy_admin_check)
            ctx.service_catalog = catalog if isinstance(catalog, list) \
                else []
        elif CONF.allow_anonymous_access:
            ctx = context.RequestContext(read_only=True, is_admin=False,
                                         request_id=request_id_of(req),
                                         admin_check=policy_admin_check)
        else:
            return wsgi.error_response(req, 401, 'The request you have made '
                                       'requires authentication.')
        req.environ['glance.context'] = ctx
        return req.get_response(self.app)


class UnauthenticatedContextMiddleware:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        get = environ.get
        project = get('HTTP_X_PROJECT_ID') or get('HTTP_X_TENANT_ID')
        roles = roles_of(get('HTTP_X_ROLES'))
        if project:
            user = get('HTTP_X_USER_ID')
            roles = roles or list(CONF.noauth.header_roles)
        else:
            project = CONF.noauth.project_id
            user = get('HTTP_X_USER_ID') or CONF.noauth.user_id
            roles = roles or list(CONF.noauth.roles)
        ctx = environ['glance.context'] = context.RequestContext(
            user_id=user, project_id=project, roles=roles,
            auth_token=get('HTTP_X_AUTH_TOKEN'),
            request_id=get(request_id.ENV_KEY),
            admin_check=policy_admin_check)
        catalog = get('HTTP_X_SERVICE_CATALOG')
        if catalog:
            ctx.service_catalog = parse_catalog(catalog)
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return ContextMiddleware
