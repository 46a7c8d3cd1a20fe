"""The data API that reaches the database through glance-registry.

With ``data_api = glance.registry.client`` in glance-api.conf,
``session.reader()`` and ``session.writer()`` yield a ``Connection`` of
this module, and each repository function called with it is one
``POST /rpc`` to registry_host:registry_port (see ``glance.db.remote``).

Connections to the registry are kept alive and reused, a few per
process: the registry is a fixed peer the operator configured, so the
service's general outbound client (which vets each URL and opens a
connection per request) is not used. A registry that cannot be reached,
or answers 5xx, makes the request 503 with Retry-After; the next call
tries again, so glance-api recovers by itself when the registry is back.
An error the registry answers for a command is raised again here when
its module is one of ``allowed_rpc_exception_modules``.
"""

import contextlib
import http.client
import importlib
import os
import socket
import ssl
import threading
from typing import Any, Dict, Iterator, List, Optional

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import remote
from glance.registry import auth
from glance.registry import codec
from glance.registry import rpc

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Idle connections kept per process.
POOL_SIZE = 16
RETRY_AFTER = {'Retry-After': '1'}
# Failures of a reused keep-alive connection that the registry closed
# before reading the request: sent again once, on a new connection.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError,
          ConnectionResetError)


class RegistryUnavailable(exception.ServiceUnavailable):
    message = 'glance-registry is unavailable; retry the request later.'


class _Pool:
    """Idle keep-alive connections to the registry of this process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle: List[http.client.HTTPConnection] = []
        self.pid = os.getpid()
        self.key = None

    def _settings(self):
        return (CONF.registry_host, CONF.registry_port,
                CONF.registry_client_protocol, CONF.registry_client_timeout,
                CONF.registry_client_ca_file, CONF.registry_client_cert_file,
                CONF.registry_client_key_file, CONF.registry_client_insecure)

    def take(self) -> tuple:
        """(connection, whether it was used before)."""
        key = self._settings()
        with self.lock:
            if self.pid != os.getpid() or key != self.key:
                # Forked (the parent's sockets are not ours) or
                # reconfigured.
                self.idle = []
                self.pid = os.getpid()
                self.key = key
            if self.idle:
                return self.idle.pop(), True
        return _new_connection(key), False

    def give_back(self, conn: http.client.HTTPConnection) -> None:
        with self.lock:
            if self.pid == os.getpid() and len(self.idle) < POOL_SIZE:
                self.idle.append(conn)
                return
        conn.close()


_POOL = _Pool()


def _new_connection(key) -> http.client.HTTPConnection:
    host, port, protocol, timeout, ca_file, cert_file, key_file, insecure \
        = key
    if protocol == 'https':
        context = ssl.create_default_context(cafile=ca_file)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert_file:
            context.load_cert_chain(cert_file, key_file)
        return http.client.HTTPSConnection(host, port, timeout=timeout,
                                           context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


class _Token:
    """The Keystone token sent to a registry of the keystone flavor."""

    def __init__(self):
        self.auth = None

    def get(self) -> Optional[str]:
        if CONF.registry_auth_token:
            return CONF.registry_auth_token
        if not (CONF.auth_url and CONF.admin_user):
            return None
        if self.auth is None:
            from keystoneauth1 import session as ks_session
            from keystoneauth1.identity import v3
            plugin = v3.Password(
                auth_url=CONF.auth_url, username=CONF.admin_user,
                password=CONF.admin_password,
                project_name=CONF.admin_tenant_name,
                user_domain_id='default', project_domain_id='default')
            self.auth = ks_session.Session(auth=plugin)
        try:
            return self.auth.get_token()
        except Exception as e:
            raise RegistryUnavailable('No Keystone token for glance-registry '
                                      'from %s: %s' % (CONF.auth_url, e),
                                      headers=dict(RETRY_AFTER))

    def invalidate(self) -> None:
        if self.auth is not None:
            self.auth.invalidate()


_TOKEN = _Token()


def _headers(write: bool) -> Dict[str, str]:
    headers = {'Content-Type': 'application/json',
               'Accept': 'application/json'}
    if write:
        headers[rpc.WRITE_HEADER] = '1'
    if CONF.registry_shared_secret:
        headers[auth.SECRET_HEADER] = CONF.registry_shared_secret
    token = _TOKEN.get()
    if token:
        headers['X-Auth-Token'] = token
    return headers


def _where() -> str:
    return '%s://%s:%s' % (CONF.registry_client_protocol,
                           CONF.registry_host, CONF.registry_port)


def _exchange(body: bytes, write: bool) -> tuple:
    """(status, answer body) of one POST /rpc."""
    for attempt in (0, 1):
        conn, reused = _POOL.take()
        try:
            conn.request('POST', rpc.PATH, body=body,
                         headers=_headers(write))
            response = conn.getresponse()
            data = response.read()
        except _STALE as e:
            conn.close()
            if reused and attempt == 0:
                continue
            raise _unreachable(e)
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _unreachable(e)
        if response.will_close:
            conn.close()
        else:
            _POOL.give_back(conn)
        if response.status == 401 and attempt == 0 and _TOKEN.auth:
            _TOKEN.invalidate()
            continue
        return response.status, data
    raise AssertionError('unreachable')


def _unreachable(error: BaseException) -> RegistryUnavailable:
    if isinstance(error, socket.timeout):
        what = 'did not answer within %ss' % CONF.registry_client_timeout
    else:
        what = 'cannot be reached (%s)' % (error or type(error).__name__)
    LOG.warning('glance-registry at %s %s', _where(), what)
    return RegistryUnavailable('glance-registry at %s %s; retry the '
                               'request later.' % (_where(), what),
                               headers=dict(RETRY_AFTER))


def call_many(commands: List[Dict[str, Any]], write: bool = False) -> list:
    """The results of ``commands`` (see ``codec``), errors unraised."""
    status, data = _exchange(codec.dumps(commands), write)
    if status != 200:
        text = data.decode('utf-8', 'replace')[:500]
        LOG.warning('glance-registry at %s answered %s: %s', _where(),
                    status, text)
        if status >= 500:
            raise RegistryUnavailable(
                'glance-registry answered %s; retry the request later.'
                % status, headers=dict(RETRY_AFTER))
        raise exception.GlanceError('glance-registry refused a call (%s): '
                                    '%s' % (status, text))
    try:
        results = codec.loads(data)
    except ValueError as e:
        raise RegistryUnavailable('glance-registry answered something '
                                  'that is not its format: %s' % e)
    if not isinstance(results, list) or len(results) != len(commands):
        raise RegistryUnavailable('glance-registry answered %d results '
                                  'for %d commands.' % (
                                      len(results) if isinstance(
                                          results, list) else 0,
                                      len(commands)))
    return results


def error_class(name: str) -> Optional[type]:
    """The exception class ``module.Class`` when its module is allowed
    and it is an exception, else None."""
    module, _, cls_name = name.rpartition('.')
    if module not in CONF.allowed_rpc_exception_modules:
        return None
    if module == 'exceptions':
        module = 'builtins'
    try:
        found = getattr(importlib.import_module(module), cls_name, None)
    except ImportError:
        return None
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    return None


def raise_error(error: Dict[str, Any]) -> None:
    name = str(error.get('cls', ''))
    message = str(error.get('val', ''))
    cls = error_class(name)
    if cls is not None:
        try:
            raised = cls(message)
        except Exception:
            raised = None
        if raised is not None:
            raise raised
    raise exception.GlanceError('glance-registry failed: %s: %s'
                                % (name, message))


class Connection(remote.Connection):
    """What the repository functions run through, in glance-api."""

    def __init__(self, write: bool):
        self.write = write

    def call(self, command: str, kwargs: Dict[str, Any]) -> Any:
        result = call_many([{'command': command, 'kwargs': kwargs}],
                           self.write)[0]
        if isinstance(result, dict) and '_error' in result and len(
                result) == 1 and isinstance(result['_error'], dict):
            raise_error(result['_error'])
        return result


@contextlib.contextmanager
def connection(write: bool) -> Iterator[Connection]:
    """What ``session.reader()`` (``write`` False) and ``writer()`` yield
    with this data API."""
    yield Connection(write)
