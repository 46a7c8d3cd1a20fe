"""Blocking calls that must not stall the eventlet hub.

Under glance-api the process is monkey-patched: its "threads" are green
threads of one hub, and a call that blocks in C (fsync, flock, hashing,
getaddrinfo, an import plugin) runs in eventlet's pool of real threads.
Under uWSGI, gunicorn or mod_wsgi nothing is patched: requests, lease
renewals and the recovery run in real threads, which may block; and
eventlet's pool, which answers through the hub of the thread that first
used it, must not be shared by several of them. So the pool is used only
where eventlet has patched threading.
"""

from typing import Callable, TypeVar

import eventlet.patcher
from eventlet import tpool

T = TypeVar('T')


def green() -> bool:
    """Whether threads are eventlet's green threads in this process."""
    return eventlet.patcher.is_monkey_patched('thread')


def call(function: Callable[..., T], *args, **kwargs) -> T:
    """``function(*args, **kwargs)``, in eventlet's pool of real threads
    where threads are green, directly elsewhere."""
    if green():
        return tpool.execute(function, *args, **kwargs)
    return function(*args, **kwargs)
