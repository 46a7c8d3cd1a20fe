"""Request contexts: ``environ['glance.context']`` of every request.

``ContextMiddleware`` serves the keystone flavors: keystonemiddleware's
authtoken (with delay_auth_decision) runs first and sets X-Identity-Status
and the identity headers, which it turns into the context.

``UnauthenticatedContextMiddleware`` serves the flavors without Keystone:
identity comes from the X-Project-Id (or X-Tenant-Id), X-User-Id and
X-Roles headers, and from the scope, domain and service token headers
keystonemiddleware sets when a request carries them (see
``identity_of``); X-Auth-Token is ignored, so any token (openstacksdk sends
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
    """The roles of an X-Roles header, lower-cased: role checks ignore
    case."""
    return [r.strip().lower() for r in (header or '').split(',')
            if r.strip()]


def service_roles_of(header):
    """The roles of an X-Service-Roles header, as sent: oslo.context keeps
    their case, so ``service_roles:`` checks match it exactly."""
    return [r.strip() for r in (header or '').split(',') if r.strip()]


# What the identity headers say beyond user, project and roles: context
# argument and WSGI environ key, the first one present wins (the names
# oslo.context's from_environ reads, as keystonemiddleware sets them).
_IDENTITY_HEADERS = (
    ('system_scope', 'HTTP_OPENSTACK_SYSTEM_SCOPE'),
    ('domain_id', 'HTTP_X_DOMAIN_ID'),
    ('domain_name', 'HTTP_X_DOMAIN_NAME'),
    ('user_domain_id', 'HTTP_X_USER_DOMAIN_ID'),
    ('user_domain_name', 'HTTP_X_USER_DOMAIN_NAME'),
    ('project_domain_id', 'HTTP_X_PROJECT_DOMAIN_ID'),
    ('project_domain_name', 'HTTP_X_PROJECT_DOMAIN_NAME'),
    ('user_name', 'HTTP_X_USER_NAME'),
    ('project_name', 'HTTP_X_PROJECT_NAME'),
    ('project_name', 'HTTP_X_TENANT_NAME'),
    ('service_token', 'HTTP_X_SERVICE_TOKEN'),
    ('service_user_id', 'HTTP_X_SERVICE_USER_ID'),
    ('service_user_name', 'HTTP_X_SERVICE_USER_NAME'),
    ('service_user_domain_id', 'HTTP_X_SERVICE_USER_DOMAIN_ID'),
    ('service_user_domain_name', 'HTTP_X_SERVICE_USER_DOMAIN_NAME'),
    ('service_project_id', 'HTTP_X_SERVICE_PROJECT_ID'),
    ('service_project_name', 'HTTP_X_SERVICE_PROJECT_NAME'),
    ('service_project_domain_id', 'HTTP_X_SERVICE_PROJECT_DOMAIN_ID'),
    ('service_project_domain_name', 'HTTP_X_SERVICE_PROJECT_DOMAIN_NAME'),
)


def identity_of(environ) -> dict:
    """The context arguments of the scope, domain and service token
    headers present in ``environ`` (none when they are absent):
    system scope, domains, names, the service token's user, project and
    roles, and ``is_admin_project`` (X-Is-Admin-Project, true unless it
    says otherwise in any case)."""
    found = {}
    for key, header in _IDENTITY_HEADERS:
        if key not in found:
            value = environ.get(header)
            if value is not None:
                found[key] = value
    service_roles = environ.get('HTTP_X_SERVICE_ROLES')
    if service_roles:
        found['service_roles'] = service_roles_of(service_roles)
    admin_project = environ.get('HTTP_X_IS_ADMIN_PROJECT')
    if admin_project is not None:
        found['is_admin_project'] = admin_project.lower() == 'true'
    return found


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
    admin check of every context the identity filters build. The target
    is the context's own dict, so ``%(project_domain)s`` and the like in
    that rule read the caller's values."""
    return policy.check(ctx, 'context_is_admin', ctx.to_dict())


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
                request_id=request_id_of(req),
                admin_check=policy_admin_check,
                **identity_of(req.environ))
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
            admin_check=policy_admin_check, **identity_of(environ))
        catalog = get('HTTP_X_SERVICE_CATALOG')
        if catalog:
            ctx.service_catalog = parse_catalog(catalog)
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return ContextMiddleware
