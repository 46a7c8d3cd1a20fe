"""Reading the data of one image location once: counted, hashed, fed to
the format inspectors on demand, and paced by a byte-rate limiter.

The auditor and the updater run as plain processes (no eventlet): md5 and
the multihash are updated in two real threads on each chunk (hashlib
releases the GIL on large buffers), so reading and both hashes use both
cores when the rate is not limited.
"""

import dataclasses
import hashlib
import threading
import time
from concurrent import futures
from typing import Callable, Optional

from glance.domain.images import format_check
from glance.store import driver

# Chunks below this are hashed in the calling thread: the hand-off would
# cost more than it saves.
THREAD_MIN = 256 * 1024


class RateLimiter:
    """Keeps the bytes passed through ``spend`` under ``rate`` a second
    (0: no limit), sleeping as needed; ``sleep`` is the sleep (a stopping
    process passes one that ends early), ``clock`` the time."""

    def __init__(self, rate: int,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.sleep = sleep
        self.clock = clock
        self.started = clock()
        self.spent = 0

    def spend(self, count: int) -> None:
        if not self.rate:
            return
        self.spent += count
        due = self.started + self.spent / self.rate
        now = self.clock()
        if due > now:
            self.sleep(due - now)
        elif now - due > 1.0:
            # Idle time (between images, a slow store) is not credit for
            # a later burst.
            self.started, self.spent = now, 0


@dataclasses.dataclass
class Reading:
    """What reading one location gave."""
    size: int
    checksum: str
    hash_algo: str
    hash_value: str
    checker: Optional[format_check.FormatChecker]
    seconds: float


class _Hasher:
    """md5 and one multihash, updated side by side in two threads."""

    _pool: Optional[futures.ThreadPoolExecutor] = None
    _lock = threading.Lock()

    def __init__(self, algo: str) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multihash = hashlib.new(algo)

    @classmethod
    def pool(cls) -> futures.ThreadPoolExecutor:
        with cls._lock:
            if cls._pool is None:
                cls._pool = futures.ThreadPoolExecutor(
                    1, thread_name_prefix='glance-hash')
            return cls._pool

    def update(self, chunk: bytes) -> None:
        if len(chunk) < THREAD_MIN:
            self.md5.update(chunk)
            self.multihash.update(chunk)
            return
        done = self.pool().submit(self.md5.update, chunk)
        self.multihash.update(chunk)
        done.result()


def read_location(store: driver.Store, url: str, algo: str,
                  limiter: RateLimiter, inspect: bool = False,
                  progress: Optional[Callable[[int], None]] = None,
                  stopping: Callable[[], bool] = lambda: False
                  ) -> Optional[Reading]:
    """Read the data at ``url`` through ``store`` once; None when
    ``stopping()`` turned true on the way. Store errors come out as the
    store raises them (``NotFound`` for missing data)."""
    started = time.monotonic()
    chunks, _total = store.get(url, 0, None, context=None)
    hasher = _Hasher(algo)
    checker = format_check.FormatChecker() if inspect else None
    size = 0
    try:
        for chunk in chunks:
            if stopping():
                return None
            hasher.update(chunk)
            if checker is not None:
                checker.feed(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
            limiter.spend(len(chunk))
    finally:
        chunks.close()
    return Reading(size=size, checksum=hasher.md5.hexdigest(),
                   hash_algo=algo, hash_value=hasher.multihash.hexdigest(),
                   checker=checker, seconds=time.monotonic() - started)
