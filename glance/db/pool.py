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
"""

import collections
import time

from sqlalchemy import pool as sa_pool
from sqlalchemy.util import queue as sqla_queue

# Seconds an overflow connection is kept unused before it is closed.
OVERFLOW_LINGER = 60.0


class LingeringPool(sa_pool.QueuePool):
    """A ``QueuePool`` whose overflow connections outlive their use by
    ``OVERFLOW_LINGER`` seconds (see the module's docstring)."""

    def _lingering(self) -> collections.deque:
        # (given back at, record), oldest first. Created on first use:
        # recreate() builds the pool with QueuePool's own arguments.
        try:
            return self.__lingering
        except AttributeError:
            self.__lingering = collections.deque()
            return self.__lingering

    def _do_return_conn(self, record) -> None:
        self._close_stale()
        try:
            self._pool.put(record, False)
        except sqla_queue.Full:
            self._lingering().append((time.monotonic(), record))

    def _do_get(self):
        self._close_stale()
        lingering = self._lingering()
        if lingering:
            return lingering.pop()[1]
        return super()._do_get()

    def _close_stale(self) -> None:
        lingering = self._lingering()
        if not lingering:
            return
        limit = time.monotonic() - OVERFLOW_LINGER
        while lingering and lingering[0][0] < limit:
            self._close_overflow(lingering.popleft()[1])

    def _close_overflow(self, record) -> None:
        try:
            record.close()
        finally:
            self._dec_overflow()

    def dispose(self) -> None:
        lingering = self._lingering()
        while lingering:
            lingering.popleft()[1].close()
        super().dispose()

    def checkedin(self) -> int:
        return super().checkedin() + len(self._lingering())
