"""A per-process cache of image rows, for SQLite.

SQLite tells a connection whether anybody else committed since it last
asked (``PRAGMA data_version``). One connection of each process is kept
only to ask that; while the answer stays the same, no process (this one
included: its writes go through other connections) changed the database,
so images read before are still current and a show, or a listing asked
the same way, needs no query. Any commit anywhere empties the cache.
Entries are copied in and out (with ``copier``): callers may change what
they get.
"""

import os
import sqlite3
import threading

MAX_ITEMS = 2048

_lock = threading.Lock()
_state = {'owner': None, 'conn': None, 'version': None, 'items': {}}


def _version(conn):
    """The data_version of the watching connection, or None when the
    database is not a SQLite file."""
    if conn.dialect.name != 'sqlite':
        return None
    path = conn.engine.url.database
    if not path or path == ':memory:':
        return None
    owner = (os.getpid(), path)
    if _state['owner'] != owner:
        # A new process (after fork: the parent's connection is left
        # alone) or another database file.
        if _state['conn'] is not None and _state['owner'][0] == owner[0]:
            _state['conn'].close()
        _state.update(owner=owner, version=None, items={},
                      conn=sqlite3.connect(path, check_same_thread=False,
                                           isolation_level=None))
    return _state['conn'].execute('PRAGMA data_version').fetchone()[0]


def lookup(conn, key, copier):
    """(cached copy or None, version to store a fresh read under)."""
    version = _version(conn)
    if version is None:
        return None, None
    with _lock:
        if version != _state['version']:
            _state['items'] = {}
            _state['version'] = version
            return None, version
        found = _state['items'].get(key)
    return (copier(found) if found is not None else None), version


def store(key, value, version, copier):
    """Keep ``value``, read after ``version`` was seen."""
    if version is None:
        return
    with _lock:
        if version != _state['version']:
            return
        items = _state['items']
        if len(items) >= MAX_ITEMS:
            items.clear()
        items[key] = copier(value)


def reset():
    with _lock:
        _state['version'] = None
        _state['items'] = {}
