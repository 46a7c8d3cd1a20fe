"""The base of periodic processes: a pass of work, once or every interval.

A periodic process (glance-scrubber today; cache jobs, an auditor or a
replicator later) subclasses ``Daemon``, sets ``interval`` and writes
``run_pass``. The base does the rest the same way for all of them:

``run_once()``
    One pass and nothing else, for a shell or cron: no signal handling,
    no notifications, and what the pass raises comes out.

``run_forever()``
    ``prepare()`` first (start-up checks: what it raises comes out
    unchanged, before anything is announced, for the caller to turn into
    an exit status). Then ``READY=1`` (with ``status()``) and passes
    separated by ``interval`` seconds, counted from the end of one pass
    to the start of the next. With a ``jitter`` fraction the first pass
    waits a random part of ``jitter * interval`` and later waits are
    ``interval`` times a random factor in ``[1 - jitter, 1 + jitter]``,
    so that the processes of many nodes do not all run at the same
    moment. A pass that raises is logged and the next one runs as
    planned. Returns 0 once stopped.

Signals (``run_forever`` only)
    SIGTERM and SIGINT send ``STOPPING=1``: a wait ends at once, a pass
    runs to its end (a long one may look at ``stopping`` and end early).
    SIGHUP, unless ``reload_on_sighup`` is false, sends ``RELOADING=1``,
    reads the configuration files again, calls ``reload()`` and sends
    ``READY=1``; it happens between passes, and a failed reload is logged
    and leaves the daemon running as it was.

Watchdog
    Under a unit with ``WatchdogSec``, a thread sends ``WATCHDOG=1`` every
    half timeout, during waits and passes alike: a long pass is not a
    hang. With ``pass_timeout`` set, a pass running longer than that
    many seconds stops the pings, so that systemd restarts a process
    stuck in one.

Signals are delivered to the main thread, which is where ``run_forever``
must run; the process must not be monkey-patched by eventlet (the wait
and the watchdog use real threads and a real ``select``).
"""

import abc
import os
import random
import select
import signal
import threading
import time
from typing import Any, Optional

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import systemd

CONF = cfg.CONF

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Daemon(abc.ABC):
    """A process that runs ``run_pass`` once or every ``interval``."""

    #: Names the process in log lines, e.g. "glance-scrubber".
    name: str = 'daemon'
    #: Seconds from the end of a pass to the start of the next one. A
    #: subclass sets it, as a class or instance attribute or a property
    #: (a property reading the configuration follows a reload).
    interval: float
    #: Fraction of ``interval`` the waits vary by at random, 0 to 1.
    jitter: float = 0.0
    #: Seconds after which a running pass stops the watchdog pings;
    #: None: a pass may run as long as it needs.
    pass_timeout: Optional[float] = None
    #: False leaves SIGHUP its default action (the process ends).
    reload_on_sighup: bool = True

    def __init__(self, conf: cfg.ConfigOpts = CONF,
                 rng: Optional[random.Random] = None) -> None:
        self.conf = conf
        self.log = logging.getLogger(type(self).__module__)
        self._random = rng or random.Random()
        self._stop_requested = False
        self._reload_requested = False
        self._pass_started: Optional[float] = None

    # -- what a subclass provides ---------------------------------------------

    @abc.abstractmethod
    def run_pass(self) -> Any:
        """Do one pass of work; its result is what ``run_once`` returns."""

    def prepare(self) -> None:
        """Check that the process can work, before READY; raise if not."""

    def reload(self) -> None:
        """Take up the configuration just read again (SIGHUP)."""

    def status(self) -> str:
        """The STATUS systemd shows while the daemon runs."""
        return 'Running every %ss' % self.interval

    # -- what the base provides -----------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once SIGTERM or SIGINT asked the daemon to stop."""
        return self._stop_requested

    def run_once(self) -> Any:
        """One pass, returning what it returns."""
        return self.run_pass()

    def first_wait(self) -> float:
        """Seconds before the first pass."""
        return self.interval * self._jitter() * self._random.random()

    def next_wait(self) -> float:
        """Seconds from the end of a pass to the start of the next."""
        jitter = self._jitter()
        if not jitter:
            return self.interval
        return self.interval * self._random.uniform(1 - jitter, 1 + jitter)

    def run_forever(self) -> int:
        """Passes until SIGTERM or SIGINT; returns the exit status, 0."""
        self._jitter()
        self.prepare()
        with _Signals(self) as signals:
            self.log.info('%s running every %ss', self.name, self.interval)
            systemd.ready(self.status())
            watchdog = _Watchdog(self)
            watchdog.start()
            try:
                wait = self.first_wait()
                while self._pause(signals, wait):
                    self._run_pass_logged()
                    wait = self.next_wait()
            finally:
                watchdog.stop()
        return 0

    # -- inside ---------------------------------------------------------------

    def _jitter(self) -> float:
        if not 0 <= self.jitter <= 1:
            raise ValueError('jitter must be between 0 and 1, not %r'
                             % self.jitter)
        return self.jitter

    def _pause(self, signals: '_Signals', seconds: float) -> bool:
        """Wait ``seconds``, reloading when asked; False when stopping."""
        deadline = time.monotonic() + seconds
        while not self._stop_requested:
            if self._reload_requested:
                self._reload_requested = False
                self._do_reload()
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            signals.wait(left)
        return False

    def _run_pass_logged(self) -> None:
        self._pass_started = time.monotonic()
        try:
            self.run_pass()
        except Exception:
            self.log.exception('%s pass failed', self.name)
        finally:
            self._pass_started = None

    def _do_reload(self) -> None:
        self.log.info('SIGHUP: reloading configuration')
        systemd.reloading()
        try:
            if not self.conf.reload_config_files():
                raise RuntimeError('the configuration files could not be '
                                   'read again')
            self.reload()
        except Exception as e:
            self.log.error('Reload failed, going on as before: %s', e)
        systemd.ready(self.status())

    def _request_stop(self, signum: int, frame: Any) -> None:
        if not self._stop_requested:
            self._stop_requested = True
            systemd.stopping('Stopping')

    def _request_reload(self, signum: int, frame: Any) -> None:
        self._reload_requested = True

    def _pass_overdue(self) -> bool:
        started = self._pass_started
        return (self.pass_timeout is not None and started is not None
                and time.monotonic() - started > self.pass_timeout)


class _Signals:
    """Signal handlers of a running daemon, and a wait they end.

    A handler only sets a flag; the C-level handler also writes a byte to
    a pipe (``signal.set_wakeup_fd``) that the wait selects on, so a
    signal arriving just before the wait still ends it. The previous
    handlers are put back on exit.
    """

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.handlers = {sig: daemon._request_stop for sig in _STOP_SIGNALS}
        if daemon.reload_on_sighup:
            self.handlers[signal.SIGHUP] = daemon._request_reload
        self.previous = {}
        self.previous_fd = -1
        self.read_fd = self.write_fd = -1

    def __enter__(self) -> '_Signals':
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self.previous_fd = signal.set_wakeup_fd(self.write_fd,
                                                warn_on_full_buffer=False)
        for sig, handler in self.handlers.items():
            self.previous[sig] = signal.signal(sig, handler)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self.previous_fd)
        os.close(self.read_fd)
        os.close(self.write_fd)

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds`` or until a signal arrives."""
        readable, _, _ = select.select([self.read_fd], [], [], seconds)
        if readable:
            try:
                while os.read(self.read_fd, 512):
                    pass
            except BlockingIOError:
                pass


class _Watchdog:
    """Pings systemd's watchdog from a thread while the daemon runs."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.interval = systemd.watchdog_interval()
        self.done = threading.Event()
        self.thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if not self.interval:
            return
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name='%s-watchdog' % self.daemon.name)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.done.set()
            self.thread.join()

    def _run(self) -> None:
        while True:
            if not self.daemon._pass_overdue():
                systemd.ping()
            if self.done.wait(self.interval):
                return
