"""The pass both glance-auditor and glance-updater make: the active
images in id order, one at a time, from where an unfinished pass
stopped (a state file), paced by one byte-rate limiter, on the periodic
daemon base (once, or every interval).
"""

import abc
import hashlib
import time
from typing import Callable, Optional

from oslo_config import cfg

from glance.common import daemon
from glance.common import exception
from glance.db import api as db
from glance.db import integrity as integrity_db
from glance.db import session
from glance.integrity import options
from glance.integrity import reading
from glance.integrity import report
from glance.store import registry

CONF = cfg.CONF
BATCH = 100
# Seconds between two looks at SIGTERM while the rate limiter waits.
STOP_CHECK = 0.2


class Walker(daemon.Daemon, abc.ABC):
    """A pass over the active images; subclasses check one image."""

    #: Walk only the images lacking a derived value (the updater): the
    #: formats that have a virtual size (see glance.db.integrity).
    lacking = None

    def __init__(self, conf: cfg.ConfigOpts = CONF,
                 image_id: Optional[str] = None,
                 progress: Optional[bool] = None,
                 checks: Optional[Callable[[bool], None]] = None) -> None:
        super().__init__(conf)
        self._checks = checks
        self.image_id = image_id
        self.progress_enabled = progress
        self.report = report.Report(self.report_path)
        self.state = report.StateFile(self.state_path)
        self.summary = report.Summary()
        self.progress = report.Progress(enabled=False)

    # -- what a subclass provides ---------------------------------------------

    @property
    @abc.abstractmethod
    def rate(self) -> int:
        """Bytes per second the pass may read (0: no limit)."""

    @property
    @abc.abstractmethod
    def report_path(self) -> Optional[str]:
        """The JSON Lines report file."""

    @property
    @abc.abstractmethod
    def state_path(self) -> Optional[str]:
        """The file remembering where an unfinished pass stopped."""

    @abc.abstractmethod
    def check_image(self, image_id: str) -> None:
        """Read and judge one image, counting into ``self.summary``."""

    def prepare(self, wait: bool = True) -> None:
        """What must work before a pass: every option readable, then the
        ``checks`` the command gave (the database reachable; with
        ``wait``, given the time glance-api gives it), the stores
        configured."""
        for opt in options.auditor_opts + options.updater_opts:
            getattr(self.conf, opt.dest)
        try:
            hashlib.new(self.conf.hashing_algorithm)
        except ValueError:
            raise ValueError('hashing_algorithm = %s: hashlib has no such '
                             'algorithm' % self.conf.hashing_algorithm)
        if self._checks is not None:
            self._checks(wait)
        registry.configure(self.conf)

    # -- the pass -------------------------------------------------------------

    def halted(self) -> bool:
        return self.stopping

    def sleep(self, seconds: float) -> None:
        """Waits of the rate limiter: cut short when stopping (SIGTERM),
        however low the rate."""
        end = time.monotonic() + seconds
        while not self.halted():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, STOP_CHECK))

    def finding(self, image_id: str, problem: str, detail: str,
                **extra) -> None:
        """A problem worth a line in the report and the summary."""
        entry = dict(image_id=image_id, problem=problem, detail=detail,
                     **extra)
        self.report.write(**entry)
        self.summary.findings.append(entry)
        self.summary.count(problem)

    def load_active(self, image_id: str) -> Optional[dict]:
        """The image if it is active; None otherwise, counted as skipped
        (deleted or changed since the walk listed it) or, when it is the
        image --image-id named, reported."""
        with session.reader() as conn:
            image = db.image_get(conn, image_id)
        if image is not None and image['status'] == 'active':
            return image
        if image_id == self.image_id:
            self.finding(image_id, 'not_active',
                         'no active image has this id (%s)' % (
                             image['status'] if image else 'not found'),
                         action='none')
        else:
            self.summary.count('skipped')
        return None

    def read(self, store, url: str, algo: str, inspect: bool = False):
        result = reading.read_location(
            store, url, algo, self.limiter, inspect=inspect,
            progress=self.progress.advanced, stopping=self.halted)
        if result is not None:
            self.summary.bytes_read += result.size
        return result

    def run_pass(self) -> report.Summary:
        self.summary = report.Summary()
        self.limiter = reading.RateLimiter(self.rate, sleep=self.sleep)
        started = time.monotonic()
        self.progress = report.Progress(enabled=self.progress_enabled)
        try:
            if self.image_id:
                self.progress.start(1, 0)
                self._one(self.image_id)
            else:
                self._walk()
        finally:
            self.progress.stop()
            self.summary.seconds = time.monotonic() - started
        self.log.info('%s pass: %s', self.name, {
            k: v for k, v in self.summary.to_dict().items()
            if k not in ('findings', 'listed')})
        return self.summary

    def _one(self, image_id: str) -> None:
        try:
            self.check_image(image_id)
        except exception.ServiceUnavailable:
            # The database is away: the pass ends here, and the next one
            # continues with this image.
            raise
        except Exception as e:
            self.log.exception('%s: image %s not checked', self.name,
                               image_id)
            self.finding(image_id, 'error', str(e), action='none')
        if not self.halted():
            self.summary.images += 1
            self.progress.image_done()

    def _walk(self) -> None:
        after = self.state.load()
        self.summary.resumed_after = after
        if after:
            self.log.info('%s continues after image %s', self.name, after)
        else:
            self.log.info('%s checks the catalogue', self.name)
        with session.reader() as conn:
            count, size = integrity_db.count_active(
                conn, lacking=self.lacking)
        self.progress.start(count, size)
        while not self.halted():
            with session.reader() as conn:
                ids = self.next_ids(conn, after)
            if not ids:
                self.state.save(None)
                return
            for image_id in ids:
                self._one(image_id)
                if self.halted():
                    self.summary.interrupted = True
                    return
                after = image_id
                self.state.save(after)
        self.summary.interrupted = True

    def next_ids(self, conn, after: Optional[str]) -> list[str]:
        return integrity_db.active_image_ids(conn, after, BATCH,
                                             lacking=self.lacking)
