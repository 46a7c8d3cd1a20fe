"""Request contexts for the keystone flavor.

keystonemiddleware's authtoken (with delay_auth_decision) runs first and
sets X-Identity-Status and the identity headers; this filter turns them
into ``environ['glance.context']``.
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


def filter_factory(global_conf, **local_conf):
    return ContextMiddleware
