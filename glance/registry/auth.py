"""Who may call glance-registry, by paste flavor.

* default and trusted-auth: ``registry_secret`` lets a request through
  only with ``X-Registry-Secret`` equal to ``registry_shared_secret``
  (when one is set; without, glance-registry serves loopback only, and
  trusted-auth does not start).
* keystone: keystonemiddleware validates the token (and drops identity
  headers that came from the network), then ``registry_admin`` lets
  through only a confirmed token with the admin role.

``exposure_problem`` is the check at start.
"""

import hmac
import http.client
import json
from typing import Optional, Tuple

from oslo_config import cfg

from glance.api import pipeline

CONF = cfg.CONF
SECRET_HEADER = 'X-Registry-Secret'
ADMIN_ROLE = 'admin'


def _refuse(status, message, environ, start_response):
    body = json.dumps({'error': {'code': status, 'message': message}})
    start_response('%d %s' % (status, http.client.responses[status]),
                   [('Content-Type', 'application/json'),
                    ('Content-Length', str(len(body)))])
    return [body.encode('utf-8')]


def secret_refusal(environ) -> Optional[Tuple[int, str]]:
    """(status, message) when the request lacks the configured secret."""
    secret = CONF.registry_shared_secret
    if secret:
        given = environ.get('HTTP_X_REGISTRY_SECRET', '')
        if not hmac.compare_digest(given.encode('utf-8', 'replace'),
                                   secret.encode('utf-8')):
            return 401, ('glance-registry needs the shared secret '
                         '(X-Registry-Secret).')
    return None


def admin_refusal(environ) -> Optional[Tuple[int, str]]:
    """(status, message) unless keystonemiddleware, in this process,
    validated the request's token and it has the admin role (headers
    alone, which a caller can send, do not count)."""
    if (environ.get('keystone.token_info') is None
            or environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed'):
        return 401, 'glance-registry needs a valid Keystone token.'
    roles = [r.strip().lower()
             for r in environ.get('HTTP_X_ROLES', '').split(',')]
    if ADMIN_ROLE not in roles:
        return 403, 'glance-registry serves administrators only.'
    return None


def refusal(environ) -> Optional[Tuple[int, str]]:
    """The check of the configured flavor, which the /rpc application
    runs too: a pipeline rewritten without its filter stays closed."""
    if (CONF.paste_deploy.flavor or '').startswith('keystone'):
        return admin_refusal(environ)
    return secret_refusal(environ)


def refuse(problem, environ, start_response):
    return _refuse(problem[0], problem[1], environ, start_response)


class _Check:
    check = staticmethod(lambda environ: None)

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        problem = self.check(environ)
        if problem is not None:
            return refuse(problem, environ, start_response)
        return self.app(environ, start_response)


class SecretCheck(_Check):
    check = staticmethod(secret_refusal)


class AdminCheck(_Check):
    check = staticmethod(admin_refusal)


def secret_filter_factory(global_conf, **local_conf):
    return SecretCheck


def admin_filter_factory(global_conf, **local_conf):
    return AdminCheck


def exposure_problem(conf=CONF):
    """Why glance-registry must not start as configured, or None."""
    flavor = conf.paste_deploy.flavor or ''
    if flavor.startswith('keystone') or conf.registry_shared_secret:
        return None
    if flavor == 'trusted-auth':
        return ('The trusted-auth flavor of glance-registry takes the '
                'identity its callers send: set registry_shared_secret (in '
                'glance-registry.conf and glance-api.conf alike).')
    if pipeline.is_loopback(conf.bind_host):
        return None
    return ('Refusing to serve glance-registry without authentication on '
            '%s, which is not a loopback address: set registry_shared_'
            'secret (in glance-registry.conf and glance-api.conf alike), '
            'or [paste_deploy] flavor = keystone with '
            '[keystone_authtoken], or bind_host = 127.0.0.1.'
            % conf.bind_host)
