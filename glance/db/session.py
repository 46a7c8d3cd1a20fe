"""Database engine and transactions.

SQLite runs in WAL mode: readers never wait for writers, and a write
transaction starts with ``BEGIN IMMEDIATE`` so it takes the write lock up
front instead of failing to upgrade a read lock ("database is locked").
Writers in other processes wait up to ``sqlite_busy_timeout``; writers in
the same process queue on a green lock so one green thread never blocks
the hub waiting for a lock that another green thread of the process holds.

MariaDB/MySQL and PostgreSQL: a request costs as few round trips to the
server as it can. Connections run in autocommit mode: reads (``reader()``)
send their statements alone, each seeing what was committed before it (on
any node), and nothing ends them; every other transaction starts with an
explicit ``BEGIN``. A connection is given back to the pool without a
``ROLLBACK`` when no transaction is open. A pooled connection left unused
for more than ``PING_AFTER_IDLE`` seconds is pinged when taken, so one that
the server closed meanwhile (``wait_timeout``, a restart) is replaced
before use; the first error on a lost connection drops the whole pool.
A database error is turned into a domain error
(503) here: ``DatabaseUnavailable`` when the server cannot be reached or
the connection is lost, ``DatabaseDeadlock`` when the server aborted the
transaction because of a concurrent one. Functions decorated with
``replayable`` (whole transactions, nothing done outside the database
before a failure could happen) are run again on those errors, the way
oslo.db's ``wrap_db_retry`` does, with its ``[database] db_*`` options.
"""

import contextlib
import fcntl
import functools
import importlib
import os
import threading
import time
from typing import Callable, ContextManager, Iterator, TypeVar

import eventlet

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from glance.common import blocking
from glance.common import exception
from glance.common import systemd
from glance.db import mysqldb_green
from glance.db import pool
from glance.db import remote

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
T = TypeVar('T')

_ENGINE = None
_ENGINE_URL = None
_NO_LOCK = contextlib.nullcontext()
_WRITE_LOCK = threading.Lock()
SQLITE_LOCK_WAIT_MS = 50
# Seconds a pooled MariaDB/MySQL or PostgreSQL connection may stay unused
# before it is pinged when taken again (well under any wait_timeout).
PING_AFTER_IDLE = 1.0
# Seconds a PostgreSQL connection attempt may take (unless the URL says).
CONNECT_TIMEOUT = 10
RETRY_AFTER = {'Retry-After': '1'}

# MySQL/MariaDB error codes: the transaction was rolled back because of a
# concurrent one (deadlock; lock wait timeout), so it may run again.
MYSQL_DEADLOCK = {1213, 1205}
# The server is gone, going, not ready (a Galera node out of the cluster:
# 1047 "WSREP has not yet prepared node for application use") or refuses
# more connections.
MYSQL_UNAVAILABLE = {1040, 1047, 1053, 1927, 2002, 2003, 2005, 2006, 2013,
                     2014, 2045, 2055, 4031}
# Never going to work by waiting: bad credentials, unknown database.
MYSQL_PERMANENT = {1044, 1045, 1049, 1698}
# PostgreSQL SQLSTATEs: serialization failure, deadlock.
PG_DEADLOCK = {'40001', '40P01'}
# Shut down (admin, crash), starting up, too many connections; class 08 is
# a connection exception.
PG_UNAVAILABLE = {'57P01', '57P02', '57P03', '53300'}
PG_PERMANENT = {'28000', '28P01', '3D000'}


def _sqlite_setup(engine):
    @event.listens_for(engine, 'connect')
    def on_connect(dbapi_conn, record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute('PRAGMA journal_mode=WAL')
        # Short, because SQLite's own wait blocks the process (and every
        # green thread in it); writers wait longer in begin_immediate().
        cur.execute('PRAGMA busy_timeout=%d'
                    % min(SQLITE_LOCK_WAIT_MS,
                          CONF.database.sqlite_busy_timeout))
        cur.execute('PRAGMA synchronous=NORMAL')
        cur.execute('PRAGMA foreign_keys=ON')
        cur.close()

    @event.listens_for(engine, 'begin')
    def on_begin(conn):
        # Reads run each statement in its own snapshot (no BEGIN round
        # trip); writes take the write lock up front.
        if conn.get_execution_options().get('glance_write'):
            begin_immediate(conn)


def begin_immediate(conn):
    """Take the SQLite write lock, waiting for other processes to release
    it with sleeps that let this process's other green threads run."""
    deadline = time.monotonic() + CONF.database.sqlite_busy_timeout / 1000.0
    pause = 0.002
    while True:
        try:
            conn.exec_driver_sql('BEGIN IMMEDIATE')
            return
        except sa_exc.OperationalError as e:
            if not _is_locked(e) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _server_setup(engine):
    """MariaDB/MySQL and PostgreSQL (see the module's docstring)."""
    if engine.dialect.driver in ('pymysql', 'mysqldb'):
        def send_begin(dbapi_conn):
            dbapi_conn.begin()
    else:
        def send_begin(dbapi_conn):
            dbapi_conn.execute('BEGIN')

    def do_begin(proxied):
        # Straight to the driver (a statement through the engine cost a
        # tenth of a create's time), inside the engine's error handling.
        if not proxied.info.pop('glance_read', False):
            send_begin(proxied.dbapi_connection)

    engine.dialect.do_begin = do_begin

    @event.listens_for(engine, 'checkin')
    def on_checkin(dbapi_conn, record):
        record.info['idle_since'] = time.monotonic()

    @event.listens_for(engine, 'checkout')
    def on_checkout(dbapi_conn, record, proxy):
        since = record.info.get('idle_since')
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            # The pool replaces the connection and tries again.
            raise sa_exc.DisconnectionError(_first_line(e)) from e


def _pymysql_connect(dialect, record, cargs, cparams):
    from pymysql import connections
    from pymysql.constants import SERVER_STATUS

    class Connection(connections.Connection):
        """COMMIT and ROLLBACK only inside a transaction (the server says
        so in every answer): in autocommit mode a read has none to end."""

        def commit(self):
            if self.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
                super().commit()

        def rollback(self):
            if self.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
                super().rollback()

    global _PYMYSQL_CONNECTION
    if _PYMYSQL_CONNECTION is None:
        _PYMYSQL_CONNECTION = Connection
    return _PYMYSQL_CONNECTION(*cargs, **cparams)


_PYMYSQL_CONNECTION = None


MYSQL_SCHEMES = ('mysql://', 'mysql+pymysql://', 'mysql+mysqldb://')


def mysql_driver() -> str:
    """The SQLAlchemy scheme of [database] mysql_driver: mysqlclient
    (``mysql+mysqldb``) when it can be imported, else PyMySQL."""
    if CONF.database.mysql_driver == 'mysqlclient':
        try:
            importlib.import_module('MySQLdb')
        except ImportError as e:
            LOG.warning('mysqlclient cannot be imported (%s): MariaDB/MySQL '
                        'through PyMySQL, slower.', e)
        else:
            return 'mysql+mysqldb'
    return 'mysql+pymysql'


def create_engine(url):
    kwargs = {'future': True, 'pool_pre_ping': False,
              'echo': CONF.database.connection_debug >= 50}
    if url.startswith('sqlite'):
        kwargs['connect_args'] = {
            'check_same_thread': False,
            'timeout': CONF.database.sqlite_busy_timeout / 1000.0}
        # Transactions are always ended explicitly (reads run in autocommit
        # mode), so a connection going back to the pool needs no rollback.
        kwargs['pool_reset_on_return'] = None
    else:
        kwargs.update(poolclass=pool.LingeringPool,
                      pool_size=CONF.database.max_pool_size,
                      max_overflow=CONF.database.max_overflow,
                      pool_timeout=CONF.database.pool_timeout,
                      pool_recycle=CONF.database.connection_recycle_time)
    if url.startswith(MYSQL_SCHEMES):
        url = mysql_driver() + '://' + url.split('://', 1)[1]
    elif url.startswith(('postgresql://', 'postgres://')):
        url = 'postgresql+psycopg://' + url.split('://', 1)[1]
    if (url.startswith('postgresql') and 'connect_timeout'
            not in sa.engine.make_url(url).query):
        # libpq waits for ever on a server that does not answer.
        kwargs['connect_args'] = {'connect_timeout': CONNECT_TIMEOUT}
    if url.startswith(('mysql+pymysql:', 'postgresql+psycopg:')):
        # Autocommit mode, set when connecting (no round trip; mysqlclient
        # in mysqldb_green.connect).
        kwargs.setdefault('connect_args', {})['autocommit'] = True
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == 'sqlite':
        _sqlite_setup(engine)
        return engine
    if engine.dialect.driver in ('pymysql', 'mysqldb', 'psycopg'):
        if engine.dialect.driver == 'pymysql':
            event.listen(engine, 'do_connect', _pymysql_connect)
        elif engine.dialect.driver == 'mysqldb':
            event.listen(engine, 'do_connect', mysqldb_green.connect)
        _server_setup(engine)
    if engine.dialect.driver == 'psycopg':
        _psycopg_green()
    return engine


def _psycopg_green():
    """psycopg waits for the server's answers in C unless it sees gevent,
    which stalls every green thread of an eventlet process while one
    query runs: under eventlet, make it wait with select(), which eventlet
    makes cooperative."""
    if not eventlet.patcher.is_monkey_patched('select'):
        return
    from psycopg import waiting
    waiting.wait = waiting.wait_select


def get_engine():
    global _ENGINE, _ENGINE_URL
    url = CONF.database.connection
    if _ENGINE is None or _ENGINE_URL != url:
        if _ENGINE is not None:
            _ENGINE.dispose()
        _ENGINE = create_engine(url)
        _ENGINE_URL = url
    return _ENGINE


def dispose():
    """Drop pooled connections (after fork, before serving)."""
    global _ENGINE
    if _ENGINE is not None:
        _ENGINE.dispose(close=False)
        _ENGINE = None


def _is_locked(error):
    text = str(getattr(error, 'orig', error)).lower()
    return 'database is locked' in text or 'deadlock' in text


def describe(url: str | sa.engine.URL) -> str:
    """The database of ``url`` for messages: kind, name, host and port,
    never the password."""
    url = sa.engine.make_url(url)
    kind = url.get_backend_name()
    if kind == 'sqlite':
        return 'sqlite database %s' % (url.database or ':memory:')
    where = url.host or 'localhost'
    if url.port:
        where = '%s:%s' % (where, url.port)
    user = '%s@' % url.username if url.username else ''
    return '%s database %s on %s%s' % (kind, url.database, user, where)


def _mysql_code(orig):
    args = getattr(orig, 'args', ())
    return args[0] if args and isinstance(args[0], int) else None


def classify(error: BaseException) -> str | None:
    """'deadlock', 'unavailable', 'permanent' (a connection refused for
    good) or None for a database error ``error`` (SQLAlchemy's or the
    driver's)."""
    orig = getattr(error, 'orig', None) or error
    text = str(orig).lower()
    code = _mysql_code(orig)
    state = getattr(orig, 'sqlstate', None)
    if code in MYSQL_DEADLOCK or state in PG_DEADLOCK:
        return 'deadlock'
    if ('wsrep' in text and ('deadlock' in text or 'conflict' in text
                             or 'certification' in text)
            or 'lock deadlock' in text):
        # Galera certification failures: "WSREP detected deadlock/conflict
        # and aborted the transaction", or "Got error 149 'Lock deadlock;
        # Retry transaction' during COMMIT".
        return 'deadlock'
    if code in MYSQL_PERMANENT or state in PG_PERMANENT:
        return 'permanent'
    if (code in MYSQL_UNAVAILABLE or state in PG_UNAVAILABLE
            or (state or '').startswith('08')
            or getattr(error, 'connection_invalidated', False)):
        return 'unavailable'
    return None


class _Attempt:
    """Where a transaction is, for the error translation."""

    __slots__ = ('step',)

    def __init__(self):
        self.step = 'connect'


def _translate(error, engine, attempt, write):
    """The domain error for ``error``, or None to let it through."""
    if engine.dialect.name == 'sqlite':
        if isinstance(error, sa_exc.OperationalError) and _is_locked(error):
            LOG.warning('Database busy: %s', error)
            return exception.ServiceUnavailable(
                'The database is busy, retry the request.',
                headers=dict(RETRY_AFTER))
        return None
    kind = classify(error)
    if kind is None and attempt.step == 'connect':
        kind = 'unavailable'
    if kind == 'deadlock':
        LOG.warning('Transaction aborted by %s: %s', describe(engine.url),
                    _first_line(error))
        found = exception.DatabaseDeadlock(headers=dict(RETRY_AFTER))
        found.replayable = True
        return found
    if kind in ('unavailable', 'permanent'):
        LOG.warning('%s unavailable (%s): %s', describe(engine.url),
                    attempt.step, _first_line(error))
        found = exception.DatabaseUnavailable(headers=dict(RETRY_AFTER))
        # A write whose COMMIT lost its connection may have committed:
        # running it again could do it twice.
        found.replayable = kind == 'unavailable' and not (
            write and attempt.step == 'commit')
        found.reconnect = True
        return found
    return None


def _first_line(error):
    text = str(getattr(error, 'orig', None) or error)
    return text.splitlines()[0] if text else type(error).__name__


@contextlib.contextmanager
def _transaction(write):
    engine = get_engine()
    lock = _sqlite_write_lock(engine) if write and (
        engine.dialect.name == 'sqlite') else _NO_LOCK
    attempt = _Attempt()
    try:
        with lock, _connect(engine) as conn:
            if write:
                conn = conn.execution_options(glance_write=True)
            attempt.step = 'begin'
            if write or engine.dialect.name == 'sqlite':
                trans = conn.begin()
            else:
                # No BEGIN (do_begin in _server_setup): the statements
                # run in autocommit mode. The mark never outlives begin().
                info = conn.connection.info
                info['glance_read'] = True
                try:
                    trans = conn.begin()
                finally:
                    info.pop('glance_read', None)
            attempt.step = 'body'
            try:
                yield conn
            except BaseException:
                _rollback(trans)
                raise
            attempt.step = 'commit'
            trans.commit()
    except sa_exc.DBAPIError as e:
        found = _translate(e, engine, attempt, write)
        if found is None:
            raise
        raise found from e
    except sa_exc.TimeoutError as e:
        # Every pooled connection of this worker is in use.
        LOG.warning('No free connection to %s: %s', describe(engine.url), e)
        raise exception.ServiceUnavailable(
            'The database is busy, retry the request.',
            headers=dict(RETRY_AFTER)) from e


@contextlib.contextmanager
def errors_translated(write: bool = True) -> Iterator[None]:
    """Database errors raised in the block become the domain errors
    reader() and writer() raise (503), for code that holds a connection
    of its own (``get_engine().connect()``)."""
    engine = get_engine()
    attempt = _Attempt()
    # Where in the block it failed is not known: as if committing, so a
    # write whose connection was lost is never run again.
    attempt.step = 'commit'
    try:
        yield
    except sa_exc.DBAPIError as e:
        found = _translate(e, engine, attempt, write)
        if found is None:
            raise
        raise found from e


def _connect(engine):
    """A pooled connection; with use_db_reconnect and outside a
    ``replayable`` function (which retries as a whole), connecting is
    tried again while the server cannot be reached: nothing was done
    yet."""
    if (engine.dialect.name == 'sqlite' or not CONF.database.use_db_reconnect
            or getattr(_replaying, 'depth', 0)):
        return engine.connect()
    for wait in _waits():
        try:
            return engine.connect()
        except sa_exc.DBAPIError as e:
            if wait is None or classify(e) not in (None, 'unavailable'):
                raise
            LOG.warning('Cannot connect to %s, retrying in %.1f s: %s',
                        describe(engine.url), wait, _first_line(e))
            _sleep(wait)


def _rollback(trans):
    if not trans.is_active:
        return
    try:
        trans.rollback()
    except sa_exc.DBAPIError as e:
        # The connection is gone; the server rolls back on its own.
        LOG.debug('Rollback failed: %s', _first_line(e))


def reader() -> ContextManager[sa.Connection]:
    """A connection for reads: each statement sees the latest committed
    data (SQLite, and MariaDB/MySQL and PostgreSQL in autocommit mode)."""
    factory = remote_factory()
    if factory is not None:
        return factory(False)
    return _transaction(write=False)


def writer(one_call: bool = False) -> ContextManager[sa.Connection]:
    """A write transaction holding the write lock from its first statement.

    Nothing inside may wait on network I/O: the lock is held until the
    block ends. ``one_call`` says the block makes a single repository
    call, whose function is then the whole transaction: through
    glance-registry that is one request instead of three (begin with the
    call, then commit); a second call in such a block is an error.
    """
    factory = remote_factory()
    if factory is not None:
        return factory(True, one_call)
    return _transaction(write=True)


_REMOTE = (None, None)   # (data_api, its connection factory)


def remote_factory():
    """The connection factory of ``data_api`` when it names another
    module than the direct driver (glance-registry's client), else None
    (see ``glance.db.remote``)."""
    global _REMOTE
    name = CONF.data_api
    if name != _REMOTE[0]:
        _REMOTE = (name, remote.load(name))
    return _REMOTE[1]


def _waits():
    """The pauses between attempts of a retried transaction, then None
    (no more retries), from the [database] db_* options."""
    opts = CONF.database
    wait = float(opts.db_retry_interval)
    n = 0
    while opts.db_max_retries < 0 or n < opts.db_max_retries:
        yield wait
        n += 1
        if opts.db_inc_retry_interval:
            wait = min(wait * 2, float(opts.db_max_retry_interval))
    yield None


_replaying = threading.local()


def _sleep(seconds):
    time.sleep(seconds)   # green under eventlet's monkey patching


def replayable(func: Callable[..., T]) -> Callable[..., T]:
    """Run ``func`` again when its transaction is aborted by a deadlock
    (or a lost connection, with use_db_reconnect), up to db_max_retries.

    ``func`` must be a whole transaction: whatever it does before the
    failure (reads, checks) may be done again, and nothing outside the
    database is changed before its transaction commits. Calls nested in
    another replayable function leave the retrying to the outer one.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        depth = getattr(_replaying, 'depth', 0)
        if depth:
            return func(*args, **kwargs)
        waits = _waits()
        while True:
            _replaying.depth = 1
            try:
                return func(*args, **kwargs)
            except (exception.DatabaseDeadlock,
                    exception.DatabaseUnavailable) as e:
                if not _may_replay(e):
                    raise
                wait = next(waits)
                if wait is None:
                    raise
                LOG.warning('Running %s again in %.1f s: %s',
                            func.__qualname__, wait, e.msg)
            finally:
                _replaying.depth = 0
            _sleep(wait)
    return wrapper


def _may_replay(error):
    if not getattr(error, 'replayable', False):
        return False
    if getattr(error, 'reconnect', False):
        return CONF.database.use_db_reconnect
    return True


def wait_for_database(url: str | None = None,
                      max_retries: int | None = None,
                      retry_interval: int | None = None) -> None:
    """Connect once to ``url`` (``[database] connection``), trying again
    every ``retry_interval`` seconds, ``max_retries`` times (-1: for
    ever), while the server cannot be reached. RuntimeError naming the
    database (never its password) when it does not answer in time or
    refuses the connection for good."""
    opts = CONF.database
    url = url or opts.connection
    max_retries = opts.max_retries if max_retries is None else max_retries
    interval = opts.retry_interval if retry_interval is None else (
        retry_interval)
    engine = create_engine(url)
    tries = 0
    try:
        while True:
            tries += 1
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text('SELECT 1'))
                return
            except sa_exc.SQLAlchemyError as e:
                transient = (engine.dialect.name != 'sqlite'
                             and classify(e) != 'permanent')
                if not transient or 0 <= max_retries < tries:
                    raise RuntimeError(
                        'Cannot connect to the %s%s: %s' % (
                            describe(url),
                            ' after %d attempts over %d s'
                            % (tries, (tries - 1) * interval)
                            if tries > 1 else '', _first_line(e)))
                LOG.warning('Cannot connect to the %s (attempt %d of %s), '
                            'trying again in %d s: %s', describe(url), tries,
                            max_retries + 1 if max_retries >= 0 else 'many',
                            interval, _first_line(e))
                # Under systemd, the start is not timed out meanwhile.
                systemd.notify(
                    'EXTEND_TIMEOUT_USEC=%d'
                    % ((interval + CONNECT_TIMEOUT + 30) * 1000000),
                    STATUS='Waiting for the %s' % describe(url))
                engine.dispose()
                _sleep(interval)
    finally:
        engine.dispose()


class _ProcessFileLock:
    """An exclusive flock() on a file next to the database, taken in a real
    thread when another process holds it, so waiting never blocks the
    green threads of this process and ends as soon as the lock is free
    (SQLite's own busy handler sleeps in coarse steps and blocks them)."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.pid = None

    def _fd(self):
        # flock() locks belong to an open file: one per process, after fork.
        if self.pid != os.getpid():
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
            self.pid = os.getpid()
        return self.fd

    def __enter__(self):
        fd = self._fd()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            blocking.call(fcntl.flock, fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)


_FILE_LOCKS = {}


@contextlib.contextmanager
def _sqlite_write_lock(engine):
    """Writers of this process queue on a green lock, then processes on a
    file lock; BEGIN IMMEDIATE then rarely has to wait."""
    database = engine.url.database
    with _WRITE_LOCK:
        if not database or database == ':memory:':
            yield
            return
        lock = _FILE_LOCKS.get(database)
        if lock is None:
            lock = _FILE_LOCKS[database] = _ProcessFileLock(
                database + '.writelock')
        with lock:
            yield
