"""Request contexts without Keystone (the default flavor).

Identity comes from the X-Project-Id (or X-Tenant-Id), X-User-Id and
X-Roles headers; X-Auth-Token is ignored, so any token (openstacksdk sends
"notused") works. A request naming no project acts as the configured
``[noauth]`` project and user with the ``[noauth] roles``: an administrator
by default, and images it creates still get an owner.
"""

from oslo_config import cfg

from glance import context
from glance.api.middleware import context as context_mw

CONF = cfg.CONF


class UnauthenticatedContextMiddleware:

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        get = environ.get
        project = get('HTTP_X_PROJECT_ID') or get('HTTP_X_TENANT_ID')
        roles = context_mw.roles_of(get('HTTP_X_ROLES'))
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
            request_id=get(context_mw.request_id.ENV_KEY),
            admin_check=context_mw.policy_admin_check)
        catalog = get('HTTP_X_SERVICE_CATALOG')
        if catalog:
            ctx.service_catalog = context_mw.parse_catalog(catalog)
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return UnauthenticatedContextMiddleware
