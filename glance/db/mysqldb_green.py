"""mysqlclient (``MySQLdb``, the C driver) for MariaDB/MySQL under eventlet.

The C driver parses rows several times faster than PyMySQL, but waits for
the server inside C, which would stall every green thread of the process
while one query runs (or waits on a row lock). Here a statement is sent
with ``send_query``, the green thread waits on the hub until the server's
answer starts to arrive, and only then does ``read_query_result`` read
it: the hub is held while C reads an answer already on its way, never
while the server works. Connecting, which may wait on the network for
long, runs in a real thread (eventlet's ``tpool``).

Transactions end only when one was begun (as the PyMySQL connection of
``session`` does): reads run in autocommit mode and have none to end, so
a COMMIT or ROLLBACK round trip is saved on each. COMMIT and ROLLBACK go
through the same green wait, since a commit waits for the server's
durable write.

Without eventlet's patched sockets (glance-manage, tools) the driver
runs as it is.
"""

from typing import Any, Callable

import eventlet.patcher

CONNECTION = None


def _green() -> bool:
    return eventlet.patcher.is_monkey_patched('socket')


def _connection_class() -> type:
    global CONNECTION
    if CONNECTION is not None:
        return CONNECTION
    from eventlet.hubs import trampoline
    from MySQLdb import connections

    class Connection(connections.Connection):
        """A MySQLdb connection whose statements wait on the hub."""

        in_transaction = False

        def query(self, query: bytes) -> None:
            if isinstance(query, bytearray):
                query = bytes(query)
            if not _green():
                super().query(query)
                return
            self.send_query(query)
            trampoline(self.fileno(), read=True)
            self.read_query_result()

        def begin(self) -> None:
            self.query(b'BEGIN')
            self.in_transaction = True

        def commit(self) -> None:
            if self.in_transaction:
                self.in_transaction = False
                self.query(b'COMMIT')

        def rollback(self) -> None:
            if self.in_transaction:
                self.in_transaction = False
                self.query(b'ROLLBACK')

        def ping(self, *args: Any) -> None:
            if not _green():
                super().ping(*args)
                return
            self.query(b'SELECT 1')
            self.store_result()

    CONNECTION = Connection
    return Connection


def connect(dialect: Any, record: Any, cargs: tuple,
            cparams: dict) -> Any:
    """SQLAlchemy's ``do_connect`` for the mysqldb dialect: a connection
    of this module, in autocommit mode, one statement per query."""
    cls: Callable[..., Any] = _connection_class()
    cparams = dict(cparams, autocommit=True, multi_statements=False)
    if not _green():
        return cls(*cargs, **cparams)
    from eventlet import tpool
    return tpool.execute(cls, *cargs, **cparams)
