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


class SecretCheck:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        secret = CONF.registry_shared_secret
        if secret:
            given = environ.get('HTTP_X_REGISTRY_SECRET', '')
            if not hmac.compare_digest(given.encode('utf-8', 'replace'),
                                       secret.encode('utf-8')):
                return _refuse(401,
                               'glance-registry needs the shared secret '
                               '(X-Registry-Secret).', environ,
                               start_response)
        return self.app(environ, start_response)


class AdminCheck:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
            return _refuse(401,
                           'glance-registry needs a valid Keystone token.',
                           environ, start_response)
        roles = [r.strip().lower()
                 for r in environ.get('HTTP_X_ROLES', '').split(',')]
        if ADMIN_ROLE not in roles:
            return _refuse(403,
                           'glance-registry serves administrators only.',
                           environ, start_response)
        return self.app(environ, start_response)


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
