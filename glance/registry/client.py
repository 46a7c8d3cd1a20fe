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
import select
import socket
import ssl
import threading
import uuid
from typing import Any, Dict, Iterator, List, Optional

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import remote
from glance.registry import auth
from glance.registry import codec
from glance.registry import rpc
from glance.registry import transactions

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Idle connections kept per process.
POOL_SIZE = 16
RETRY_AFTER = {'Retry-After': '1'}
MAX_HEADER_LINES = 100
MAX_LINE = 65536


class RegistryUnavailable(exception.ServiceUnavailable):
    message = 'glance-registry is unavailable; retry the request later.'


class _Stale(OSError):
    """A reused keep-alive connection that ended without an answer: the
    registry closed it as the request went (a read is sent again once,
    on a new connection; a write is not, since it may have run)."""


class _Connection:
    """One keep-alive HTTP/1.1 connection to the registry.

    Written for this one peer rather than with ``http.client``: a request
    is one ``sendall`` of prepared bytes and an answer is read by its
    Content-Length, which costs glance-api a fraction of the CPU of the
    standard library's header parsing on every repository call.
    """

    def __init__(self, settings):
        (host, port, protocol, timeout, ca_file, cert_file, key_file,
         insecure) = settings
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if protocol == 'https':
                context = ssl.create_default_context(cafile=ca_file)
                if insecure:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                if cert_file:
                    context.load_cert_chain(cert_file, key_file)
                sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.file = sock.makefile('rb')
        self.host = ('%s:%s' % (host, port)).encode('ascii')
        self.used = False

    def exchange(self, headers: Dict[str, str], body: bytes) -> tuple:
        """(status, body, whether the connection may be used again)."""
        reused, self.used = self.used, True
        head = [b'POST ', rpc.PATH.encode(), b' HTTP/1.1\r\nHost: ',
                self.host, b'\r\nContent-Length: ',
                str(len(body)).encode(), b'\r\n']
        for name, value in headers.items():
            head.append(('%s: %s\r\n' % (name, value)).encode('latin-1'))
        head.append(b'\r\n')
        try:
            self.sock.sendall(b''.join(head) + body)
            line = self.file.readline(MAX_LINE)
        except (BrokenPipeError, ConnectionResetError) as e:
            if reused:
                raise _Stale(str(e))
            raise
        if not line:
            if reused:
                raise _Stale('connection closed by glance-registry')
            raise ConnectionError('connection closed by glance-registry')
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b'HTTP/1.'):
            raise http.client.BadStatusLine(line[:80])
        status = int(parts[1])
        length, keep = None, parts[0] == b'HTTP/1.1'
        for _ in range(MAX_HEADER_LINES):
            line = self.file.readline(MAX_LINE)
            if line in (b'\r\n', b'\n', b''):
                break
            name, _, value = line.partition(b':')
            name = name.strip().lower()
            if name == b'content-length':
                length = int(value.strip())
            elif name == b'connection':
                keep = value.strip().lower() != b'close'
            elif name == b'transfer-encoding':
                raise http.client.HTTPException('unexpected %s' % line[:80])
        else:
            raise http.client.HTTPException('too many header lines')
        if length is None:
            data, keep = self.file.read(), False
        else:
            data = self.file.read(length)
            if len(data) != length:
                raise ConnectionError('answer cut short')
        return status, data, keep

    def closed_by_peer(self) -> bool:
        """Whether the idle connection has something to read: only the
        end of the connection (or garbage) can be there."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        for closable in (self.file, self.sock):
            try:
                closable.close()
            except OSError:
                pass


class _Pool:
    """Idle keep-alive connections to the registry of this process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle: List[_Connection] = []
        self.pid = os.getpid()
        self.settings = None

    def take(self) -> _Connection:
        settings = (CONF.registry_host, CONF.registry_port,
                    CONF.registry_client_protocol,
                    CONF.registry_client_timeout,
                    CONF.registry_client_ca_file,
                    CONF.registry_client_cert_file,
                    CONF.registry_client_key_file,
                    CONF.registry_client_insecure)
        with self.lock:
            if self.pid != os.getpid() or settings != self.settings:
                # Forked (the parent's sockets are not ours) or
                # reconfigured.
                self.idle = []
                self.pid = os.getpid()
                self.settings = settings
            while self.idle:
                conn = self.idle.pop()
                if not conn.closed_by_peer():
                    return conn
                conn.close()
        return _Connection(settings)

    def give_back(self, conn: _Connection) -> None:
        with self.lock:
            if self.pid == os.getpid() and len(self.idle) < POOL_SIZE:
                self.idle.append(conn)
                return
        conn.close()


_POOL = _Pool()


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


def _headers(write: bool, tx: Optional[tuple] = None) -> Dict[str, str]:
    headers = {'Content-Type': 'application/json',
               'Accept': 'application/json'}
    if tx is not None:
        headers[rpc.TX_HEADER], headers[rpc.TX_ACTION_HEADER] = tx
    elif write:
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
        conn = None
        try:
            conn = _POOL.take()
            status, data, keep = conn.exchange(_headers(write), body)
        except _Stale as e:
            conn.close()
            if write:
                # It may have run before the connection went: not twice.
                raise _unreachable(e)
            continue
        except (OSError, ValueError, http.client.HTTPException) as e:
            if conn is not None:
                conn.close()
            raise _unreachable(e)
        if keep:
            _POOL.give_back(conn)
        else:
            conn.close()
        if status == 401 and attempt == 0 and _TOKEN.auth:
            _TOKEN.invalidate()
            continue
        return status, data
    raise _unreachable(ConnectionError('connection closed twice'))


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
    return _results(status, data, len(commands))


def _results(status: int, data: bytes, count: int) -> list:
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
    if not isinstance(results, list) or len(results) != count:
        raise RegistryUnavailable('glance-registry answered %d results '
                                  'for %d commands.' % (
                                      len(results) if isinstance(
                                          results, list) else 0, count))
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


def _raise_failed(result: Any) -> Any:
    if isinstance(result, dict) and '_error' in result and len(
            result) == 1 and isinstance(result['_error'], dict):
        raise_error(result['_error'])
    return result


class Connection(remote.Connection):
    """What the repository functions of a ``session.reader()`` block
    run through, in glance-api: each call a transaction of its own. With
    ``write``, what a ``session.writer(one_call=True)`` block runs
    through: its one call is a write transaction in the registry (run
    again there when the database aborts it for a concurrent one)."""

    def __init__(self, write: bool = False):
        self.write = write
        self.calls = 0

    def call(self, command: str, kwargs: Dict[str, Any]) -> Any:
        self.calls += 1
        if self.write and self.calls > 1:
            raise RuntimeError('A writer(one_call=True) block called %s '
                               'after its one call.' % command)
        return _raise_failed(call_many(
            [{'command': command, 'kwargs': kwargs}], self.write)[0])


class Transaction(remote.Connection):
    """What a ``session.writer()`` block runs through: one write
    transaction in the registry, begun by the first call and ended with
    the block, over one connection kept for the block (the worker that
    holds the transaction answers it)."""

    def __init__(self):
        self.id = uuid.uuid4().hex
        self.conn: Optional[_Connection] = None

    def _send(self, action: str, body: bytes) -> tuple:
        first = self.conn is None
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = _POOL.take()
                status, data, keep = self.conn.exchange(
                    _headers(True, (self.id, action)), body)
            except _Stale as e:
                self._drop()
                if first and attempt == 0:
                    # Nothing was begun on a connection that was gone.
                    continue
                raise _unreachable(e)
            except (OSError, ValueError, http.client.HTTPException) as e:
                self._drop()
                raise _unreachable(e)
            if not keep:
                # The next call of the block could not reach this worker.
                self._drop()
            if status == 401 and first and attempt == 0 and _TOKEN.auth:
                # Refused before anything began: with a fresh token.
                _TOKEN.invalidate()
                self._drop()
                continue
            return status, data
        raise _unreachable(ConnectionError('connection closed twice'))

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, command: str, kwargs: Dict[str, Any]) -> Any:
        action = (transactions.BEGIN if self.conn is None
                  else transactions.CONTINUE)
        status, data = self._send(action, codec.dumps(
            [{'command': command, 'kwargs': kwargs}]))
        if status == 409 and action == transactions.CONTINUE:
            raise RegistryUnavailable(
                'glance-registry lost the transaction of this request '
                '(restarted or reloaded); retry the request.',
                headers=dict(RETRY_AFTER))
        return _raise_failed(_results(status, data, 1)[0])

    def finish(self, commit: bool) -> None:
        """Commit (errors raised) or roll back (errors logged)."""
        if self.conn is None:
            return
        action = transactions.COMMIT if commit else transactions.ROLLBACK
        try:
            status, data = self._send(action, b'')
            if status == 409 and commit:
                raise RegistryUnavailable(
                    'glance-registry lost the transaction of this request '
                    'before its commit (restarted or reloaded); nothing '
                    'was changed, retry the request.',
                    headers=dict(RETRY_AFTER))
            _results(status, data, 0)
        except exception.GlanceError as e:
            if commit:
                raise
            LOG.warning('Rollback of glance-registry transaction %s: %s',
                        self.id, e)
        finally:
            if self.conn is not None:
                conn, self.conn = self.conn, None
                _POOL.give_back(conn)


@contextlib.contextmanager
def connection(write: bool,
               one_call: bool = False) -> Iterator[remote.Connection]:
    """What ``session.reader()`` (``write`` False) and ``writer()`` yield
    with this data API."""
    if not write or one_call:
        yield Connection(write)
        return
    tx = Transaction()
    try:
        yield tx
    except BaseException:
        tx.finish(commit=False)
        raise
    tx.finish(commit=True)
