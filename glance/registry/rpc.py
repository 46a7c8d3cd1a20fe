"""``POST /rpc``: run repository functions for glance-api.

The body is a list of commands (see ``codec``); each names a function of
``glance.db.remote.COMMANDS`` and gives its arguments but the connection.
Each runs in a transaction of its own, a write transaction when the
caller says it writes (``X-Registry-Write: 1``), or, with
``X-Registry-Transaction``, in the write transaction of a glance-api
writer block that spans several requests (``transactions``). The answer
lists their results in order; a command that fails answers its error in
its place and the others still run. A body that is not such a list, an
unknown command or arguments the function does not take refuse the whole
request (400, 404) before anything runs.

On SQLite, the answer to a request of image shows and listings only is
kept as the direct driver keeps those rows (``glance.db.read_cache``):
until anybody commits, the same request is answered from memory.
"""

import functools
import inspect
from typing import Any, Callable, Dict, List, Tuple

import webob
from oslo_log import log as logging

from glance.common import exception
from glance.common import wsgi
from glance.db import api as db_api
from glance.db import leases
from glance.db import members
from glance.db import metadefs
from glance.db import read_cache
from glance.db import remote
from glance.db import session
from glance.db import tasks
from glance.db import usage
from glance.registry import auth
from glance.registry import codec
from glance.registry import transactions

LOG = logging.getLogger(__name__)

PATH = '/rpc'
WRITE_HEADER = 'X-Registry-Write'
# A call in a transaction of several (see ``transactions``): its id, and
# begin, continue, commit or rollback.
TX_HEADER = 'X-Registry-Transaction'
TX_ACTION_HEADER = 'X-Registry-Transaction-Action'
# A page of images with their properties stays far below this.
MAX_BODY = 16 * 1024 * 1024
MAX_COMMANDS = 1000

# Reads whose whole answer (its JSON) is kept like the rows the direct
# driver keeps, and the longest request kept.
CACHED = (remote.COMMANDS['image_get'], remote.COMMANDS['image_list'])
MAX_CACHED_REQUEST = 4096

# The modules of ``remote.MODULES``: imported, they list their functions
# in ``remote.COMMANDS``.
REPOSITORIES = (db_api, leases, members, metadefs, tasks, usage)

Call = Tuple[Callable[..., Any], Dict[str, Any]]


@functools.lru_cache(maxsize=None)
def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


def _parse(body: bytes) -> List[Call]:
    """The calls of a request body; BadRequest or NotFound."""
    try:
        commands = codec.loads(body)
    except RecursionError:
        raise exception.BadRequest('Malformed JSON: nested too deeply.')
    except (UnicodeDecodeError, ValueError) as e:
        raise exception.BadRequest('Malformed request body: %s' % e)
    if not isinstance(commands, list) or not commands:
        raise exception.BadRequest('The body must be a non-empty JSON list '
                                   'of {"command": ..., "kwargs": {...}}.')
    if len(commands) > MAX_COMMANDS:
        raise exception.BadRequest('At most %d commands per request.'
                                   % MAX_COMMANDS)
    calls = []
    for n, item in enumerate(commands):
        if (not isinstance(item, dict)
                or not isinstance(item.get('command'), str)
                or not isinstance(item.get('kwargs', {}), dict)
                or set(item) - {'command', 'kwargs'}):
            raise exception.BadRequest(
                'Command %d is not {"command": name, "kwargs": {...}}.' % n)
        name = item['command']
        func = remote.COMMANDS.get(name)
        if func is None:
            raise exception.NotFound('Unknown command %r.' % name[:100])
        kwargs = item.get('kwargs', {})
        try:
            _signature(func).bind(None, **kwargs)
        except TypeError as e:
            raise exception.BadRequest('Command %s: %s' % (name, e))
        calls.append((func, kwargs))
    return calls


@session.replayable
def _transaction(func: Callable[..., Any], kwargs: Dict[str, Any],
                 write: bool) -> Any:
    # One repository call is a whole transaction: run again, as the
    # direct driver's callers are, when the database aborts it for a
    # concurrent one.
    with session.writer() if write else session.reader() as conn:
        return func(conn, **kwargs)


def _run(func: Callable[..., Any], kwargs: Dict[str, Any],
         write: bool) -> Any:
    try:
        return codec.result(_transaction(func, kwargs, write))
    except exception.GlanceError as e:
        return codec.error(e)
    except Exception as e:
        # Arguments of the right names but wrong values, most likely; the
        # caller gets the error, the registry goes on.
        LOG.warning('Command %s failed: %s: %s', func.__name__,
                    type(e).__name__, e)
        return codec.error(e)


class RPC:
    """The WSGI application of glance-registry's /rpc endpoint."""

    def __call__(self, environ, start_response):
        problem = auth.refusal(environ)
        if problem is not None:
            return auth.refuse(problem, environ, start_response)
        req = wsgi.Request(environ)
        try:
            resp = self.handle(req)
        except exception.GlanceError as e:
            # Its callers are programs: the error in JSON, whatever they
            # accept.
            resp = wsgi.json_response(
                {'error': {'code': e.code, 'message': e.msg}},
                status=e.code, headers=e.headers)
        return resp(environ, start_response)

    def handle(self, req: wsgi.Request) -> webob.Response:
        if req.path_info.rstrip('/') != PATH:
            raise exception.NotFound('glance-registry serves POST /rpc '
                                     'only.')
        if req.method != 'POST':
            raise exception.MethodNotAllowed('Only POST is allowed on '
                                             '/rpc.')
        if transactions.OPEN:
            transactions.reap()
        tx_id = req.headers.get(TX_HEADER)
        if tx_id is not None:
            return self.in_transaction(req, tx_id)
        if not req.has_body():
            raise exception.BadRequest('Body expected in request.')
        data = req.read_body(MAX_BODY)
        calls = _parse(data)
        write = req.headers.get(WRITE_HEADER) == '1'
        key = version = None
        if not write and _cacheable(data, calls):
            key = ('rpc', data)
            with session.reader() as conn:
                body, version = read_cache.lookup(conn, key, _same)
            if body is not None:
                return _answer(body)
        results = [_run(func, kwargs, write) for func, kwargs in calls]
        body = _encode(results, calls)
        if key is not None and not any(
                isinstance(r, dict) and '_error' in r for r in results):
            read_cache.store(key, body, version, _same)
        return _answer(body)

    def in_transaction(self, req: wsgi.Request,
                       tx_id: str) -> webob.Response:
        transactions.check_id(tx_id)
        action = req.headers.get(TX_ACTION_HEADER)
        if action not in transactions.ACTIONS:
            raise exception.BadRequest('%s must be one of %s.' % (
                TX_ACTION_HEADER, ', '.join(transactions.ACTIONS)))
        if action in (transactions.COMMIT, transactions.ROLLBACK):
            transactions.end(tx_id, action == transactions.COMMIT)
            return _answer(b'[]')
        if not req.has_body():
            raise exception.BadRequest('Body expected in request.')
        calls = _parse(req.read_body(MAX_BODY))
        with transactions.use(tx_id, action) as conn:
            results = [_run_in(conn, func, kwargs) for func, kwargs in calls]
        return _answer(_encode(results, calls))


def _run_in(conn, func: Callable[..., Any], kwargs: Dict[str, Any]) -> Any:
    try:
        return codec.result(func(conn, **kwargs))
    except exception.GlanceError as e:
        return codec.error(e)
    except Exception as e:
        LOG.warning('Command %s failed: %s: %s', func.__name__,
                    type(e).__name__, e)
        return codec.error(e)


def _encode(results: list, calls: List[Call]) -> bytes:
    try:
        return codec.dumps(results)
    except (TypeError, ValueError) as e:
        LOG.error('Cannot encode the results of %s: %s',
                  [f.__name__ for f, _k in calls], e)
        raise exception.GlanceError('A result cannot be encoded.')


def _answer(body: bytes) -> webob.Response:
    resp = webob.Response(status=200, content_type=wsgi.JSON,
                          charset='UTF-8')
    resp.body = body
    return resp


def _same(value):
    return value


def _cacheable(data: bytes, calls: List[Call]) -> bool:
    """Whether the answer to this request may be kept in the read cache
    of the process (``glance.db.read_cache``: SQLite, until anybody
    commits), as the direct driver keeps what these reads return: image
    shows and listings, not locked nor of deleted images."""
    if len(data) > MAX_CACHED_REQUEST:
        return False
    for func, kwargs in calls:
        if func not in CACHED or kwargs.get('for_update') or kwargs.get(
                'include_deleted'):
            return False
    return True


def app_factory(global_conf, **local_conf):
    if session.remote_factory() is not None:
        raise RuntimeError('glance-registry cannot itself use data_api '
                           'glance.registry.client: set data_api = '
                           'glance.db.api (the default) in its '
                           'configuration.')
    return RPC()
