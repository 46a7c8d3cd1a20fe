"""Database engine and transactions.

SQLite runs in WAL mode: readers never wait for writers, and a write
transaction starts with ``BEGIN IMMEDIATE`` so it takes the write lock up
front instead of failing to upgrade a read lock ("database is locked").
Writers in other processes wait up to ``sqlite_busy_timeout``; writers in
the same process queue on a green lock so one green thread never blocks
the hub waiting for a lock that another green thread of the process holds.
"""

import contextlib
import fcntl
import os
import threading
import time

from eventlet import tpool

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_ENGINE = None
_ENGINE_URL = None
_WRITE_LOCK = threading.Lock()
SQLITE_LOCK_WAIT_MS = 50


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
        kwargs.update(pool_size=CONF.database.max_pool_size,
                      max_overflow=CONF.database.max_overflow,
                      pool_timeout=CONF.database.pool_timeout,
                      pool_recycle=CONF.database.connection_recycle_time,
                      pool_pre_ping=True)
    if url.startswith('mysql://'):
        url = 'mysql+pymysql://' + url[len('mysql://'):]
    elif url.startswith(('postgresql://', 'postgres://')):
        url = 'postgresql+psycopg://' + url.split('://', 1)[1]
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == 'sqlite':
        _sqlite_setup(engine)
    return engine


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


@contextlib.contextmanager
def reader():
    """A connection for reads (on SQLite each statement sees the latest
    committed data; elsewhere the block is one transaction)."""
    engine = get_engine()
    try:
        with engine.connect() as conn:
            with conn.begin():
                yield conn
    except sa_exc.OperationalError as e:
        if _is_locked(e):
            raise exception.ServiceUnavailable(
                'The database is busy, retry the request.',
                headers={'Retry-After': '1'})
        raise


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
            tpool.execute(fcntl.flock, fd, fcntl.LOCK_EX)

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


@contextlib.contextmanager
def writer():
    """A write transaction holding the write lock from its first statement.

    Nothing inside may wait on network I/O: the lock is held until the
    block ends.
    """
    engine = get_engine()
    lock = _sqlite_write_lock(engine) if engine.dialect.name == 'sqlite' else (
        contextlib.nullcontext())
    try:
        with lock, engine.connect() as conn:
            conn = conn.execution_options(glance_write=True)
            with conn.begin():
                yield conn
    except sa_exc.OperationalError as e:
        if _is_locked(e):
            LOG.warning('Database busy: %s', e)
            raise exception.ServiceUnavailable(
                'The database is busy, retry the request.',
                headers={'Retry-After': '1'})
        raise
