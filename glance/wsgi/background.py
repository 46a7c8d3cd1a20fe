"""The periodic work of glance-api's daemon, under other WSGI servers.

glance-api runs, beside its workers, the recovery of uploads and stages
whose process died (``glance.domain.images.leases``) and of imports whose
worker died (``glance.imports.flow.reap``), and lease renewals run in
threads while data is written. Under uWSGI, gunicorn or mod_wsgi none of
the daemon runs: each process of the application runs the recovery in a
thread of its own, started after uWSGI forks its workers. uWSGI runs no
thread of the application unless told to (``--enable-threads`` or
``--threads``): without threads a lease could not be renewed, and a live
upload would be taken for dead, so the application refuses to load.
"""

import threading
import time
from typing import Mapping, Optional

from oslo_log import log as logging

from glance.domain.images import leases
from glance.imports import flow

LOG = logging.getLogger(__name__)


def threads_problem(options: Optional[Mapping]) -> Optional[str]:
    """Why threads cannot run under uWSGI's ``options``, or None."""
    if options is None:
        return None
    if options.get('enable-threads') or options.get('threads'):
        return None
    return ('uWSGI runs no threads of the application without '
            '--enable-threads (or --threads): the leases of uploads could '
            'not be renewed and the recovery of interrupted ones could '
            'not run. Start uWSGI with --enable-threads.')


def run_once(state: dict) -> None:
    """One round: recovery always; partial files and imports when their
    intervals have passed (``state`` keeps when they are next due)."""
    now = time.monotonic()
    try:
        leases.recover(sweep_files=False)
    except Exception:
        LOG.exception('Recovery of interrupted uploads failed')
    if now >= state.get('files', 0.0):
        try:
            leases.sweep_partial_files()
        except Exception:
            LOG.exception('Sweep of partial files failed')
        state['files'] = now + leases.file_sweep_interval()
    if now >= state.get('imports', 0.0):
        try:
            flow.reap()
        except Exception:
            LOG.exception('Import recovery failed')
        state['imports'] = now + flow.stale_after()


def _loop(stop: threading.Event) -> None:
    state: dict = {}
    while not stop.is_set():
        run_once(state)
        stop.wait(leases.sweep_interval())


def start() -> threading.Event:
    """Start the recovery thread of this process; set the returned event
    to stop it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop,), daemon=True,
                     name='glance-recovery').start()
    return stop


def start_in_workers(uwsgi) -> None:
    """Start the thread in every process that serves: under uWSGI in each
    worker once forked (or now, in a worker that loaded the application
    itself); under other servers now."""
    if uwsgi is None or uwsgi.worker_id() > 0:
        start()
        return
    previous = getattr(uwsgi, 'post_fork_hook', None)

    def after_fork():
        if previous is not None:
            previous()
        if uwsgi.worker_id() > 0:
            start()
    uwsgi.post_fork_hook = after_fork
