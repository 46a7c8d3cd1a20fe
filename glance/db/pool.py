"""The connection pool of MariaDB/MySQL and PostgreSQL engines.

SQLAlchemy's ``QueuePool`` keeps ``max_pool_size`` connections and opens
up to ``max_overflow`` more while requests wait; it closes an overflow
connection the moment it is given back to a full pool. A worker serving
more concurrent requests than ``max_pool_size`` (eight of sixteen clients
on two workers) then opened and closed connections all the time: a new
connection costs a handshake, authentication and session settings, and
creates on MariaDB ran at half the rate they reach with a warm pool.

``LingeringPool`` keeps such a connection for ``OVERFLOW_LINGER`` seconds
after it is given back, and hands it out again before opening another.
The limits stay those of the options: at most ``max_pool_size +
max_overflow`` connections, back to ``max_pool_size`` once the load has
gone (checked each time the pool is used).

Where threads are green (glance-api's workers), requests that find every
connection in use wait first come, first served: a connection given back
goes straight to the longest waiting one. ``QueuePool``'s own wait let a
request arriving meanwhile take it before the woken waiter ran, which sent
that one back to wait again: with a thousand clients some waited past
``pool_timeout`` while others passed. A server that refuses another
connection (``max_connections`` reached) makes the request wait for one
of the pool's instead of failing.
"""

import collections
import time

import eventlet
from oslo_log import log as logging
from sqlalchemy import exc as sa_exc
from sqlalchemy import pool as sa_pool
from sqlalchemy.util import queue as sqla_queue

from glance.common import blocking

LOG = logging.getLogger(__name__)

# Seconds an overflow connection is kept unused before it is closed.
OVERFLOW_LINGER = 60.0
# What a waiter is sent when a connection was closed rather than given
# back: room to open another.
_RETRY = object()


def server_full(error: BaseException) -> bool:
    """Whether ``error``, raised while connecting, is the server saying
    it holds as many connections as it may (MySQL 1040 and 1203,
    PostgreSQL 53300)."""
    args = getattr(error, 'args', ())
    if args and args[0] in (1040, 1203):
        return True
    if getattr(error, 'sqlstate', None) == '53300':
        return True
    text = str(error)
    return ('too many clients already' in text
            or 'connection slots are reserved' in text)


class LingeringPool(sa_pool.QueuePool):
    """A ``QueuePool`` whose overflow connections outlive their use by
    ``OVERFLOW_LINGER`` seconds, and whose waiters are served in order
    under eventlet (see the module's docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        # recreate() passes QueuePool's own arguments.
        super().__init__(*args, **kwargs)
        # (given back at, record), oldest first.
        self._lingering: collections.deque = collections.deque()
        # Events of the green threads waiting, oldest first.
        self._waiters: collections.deque = collections.deque()

    def _do_return_conn(self, record) -> None:
        lingering, waiters = self._lingering, self._waiters
        if waiters:
            waiters.popleft().send(record)
            return
        self._close_stale()
        try:
            self._pool.put(record, False)
        except sqla_queue.Full:
            lingering.append((time.monotonic(), record))

    def _do_get(self):
        self._close_stale()
        lingering, waiters = self._lingering, self._waiters
        if not blocking.green():
            if lingering:
                return lingering.pop()[1]
            return super()._do_get()
        deadline = time.monotonic() + self._timeout
        granted = False
        while True:
            if granted or not waiters:
                record = self._take()
                if record is not None:
                    return record
            record = self._wait(deadline)
            if record is not _RETRY:
                return record
            granted = True

    def _take(self):
        """An idle connection, or a new one within the limits, or None."""
        lingering = self._lingering
        if lingering:
            return lingering.pop()[1]
        try:
            return self._pool.get(False)
        except sqla_queue.Empty:
            pass
        if self._inc_overflow():
            try:
                return self._create_connection()
            except Exception as e:
                if not (server_full(e) and self.checkedout() > 1):
                    self._dec_overflow()
                    raise
                # The server holds no more connections: wait for one of
                # this pool's to be given back rather than fail.
                LOG.warning('The database server refused another '
                            'connection (%s); waiting for one in use',
                            str(e).splitlines()[0] if str(e) else e)
                super()._dec_overflow()
            except BaseException:
                self._dec_overflow()
                raise
        return None

    def _wait(self, deadline):
        """What the pool sends this green thread: a connection, or _RETRY.
        TimeoutError after ``deadline``."""
        waiters = self._waiters
        waiter = eventlet.event.Event()
        waiters.append(waiter)
        try:
            with eventlet.Timeout(max(0.0, deadline - time.monotonic()),
                                  False):
                waiter.wait()
        except BaseException:
            # Killed while waiting: what was sent meanwhile goes on.
            if waiter.ready():
                self._pass_on(waiter.wait())
            else:
                waiters.remove(waiter)
            raise
        if waiter.ready():
            return waiter.wait()
        waiters.remove(waiter)
        raise sa_exc.TimeoutError(
            'QueuePool limit of size %d overflow %d reached, connection '
            'timed out, timeout %0.2f'
            % (self.size(), self._max_overflow, self._timeout))

    def _pass_on(self, sent):
        if sent is not _RETRY:
            self._do_return_conn(sent)
            return
        waiters = self._waiters
        if waiters:
            waiters.popleft().send(_RETRY)

    def _dec_overflow(self):
        result = super()._dec_overflow()
        waiters = self._waiters
        if waiters:
            # A connection was closed: the longest waiting may open one.
            waiters.popleft().send(_RETRY)
        return result

    def _close_stale(self) -> None:
        lingering = self._lingering
        if not lingering:
            return
        limit = time.monotonic() - OVERFLOW_LINGER
        while lingering and lingering[0][0] < limit:
            record = lingering.popleft()[1]
            try:
                record.close()
            finally:
                self._dec_overflow()

    def dispose(self) -> None:
        lingering = self._lingering
        while lingering:
            lingering.popleft()[1].close()
        super().dispose()

    def checkedin(self) -> int:
        return super().checkedin() + len(self._lingering)
