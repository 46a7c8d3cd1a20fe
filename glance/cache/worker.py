"""The cache work inside each glance-api process: a thread that runs the
periodic pass (``jobs.periodic_pass``) every ``cache_prefetcher_interval``
and at once when an image is queued through the API (``wake``).

It starts with the first request the cache filter or the cache API sees
in a process (so in each forked worker, and under uWSGI in each of its
workers), never in a parent that only forks.
"""

import os
import threading

from oslo_config import cfg
from oslo_log import log as logging

from glance.cache import jobs

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_pid = None
_wake = threading.Event()


def ensure_started() -> None:
    global _pid
    if _pid == os.getpid():
        return
    with _lock:
        if _pid == os.getpid():
            return
        _pid = os.getpid()
        threading.Thread(target=_loop, daemon=True,
                         name='glance-cache-worker').start()


def wake() -> None:
    """Run a pass now (an image was queued)."""
    ensure_started()
    _wake.set()


def _loop() -> None:
    while True:
        _wake.wait(CONF.cache_prefetcher_interval)
        _wake.clear()
        if not CONF.image_cache_dir:
            continue
        try:
            jobs.periodic_pass()
        except Exception:
            LOG.exception('Periodic cache work failed')
