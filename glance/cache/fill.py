"""Filling a cache entry: the store is read once, however many clients
want the image meanwhile.

The first request for an uncached image takes an exclusive ``flock`` on
``incomplete/<id>`` and starts a writer thread that copies the store's
data into that file while hashing it. Every client, the first included,
is a ``Follower``: it reads the file as it grows and waits (polling) when
it has caught up. So no client's pace holds the writer back, and a client
that goes away stops nothing but its own reading. Requests arriving later,
in this worker or in another process on the node, find the lock held and
follow the same file from its first byte.

When the writer ends, it verifies the size and the hashes against the
image's ``checksum`` and ``os_hash_value``, checks the image has not
changed meanwhile, then renames the file into place and records it in the
index: only then is the entry visible. A mismatch moves the file to
``invalid/``. A writer that fails, or a process killed while writing,
releases the lock (the kernel does, with the file): followers that have
not read everything go on from the store at their offset, and the file
left behind is taken over by the next fill or removed by the cleaner.
"""

import hashlib
import os
import threading
import time
import typing

from oslo_log import log as logging

from glance.cache import layout as layout_mod
from glance.common import blocking

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
POLL_MIN = 0.002
POLL_MAX = 0.05


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev)


def writer_active(fd: int) -> bool:
    """Whether a writer holds the lock on the file of ``fd``."""
    if layout_mod.try_lock(fd, shared=True):
        layout_mod.unlock(fd)
        return False
    return True


class Follower:
    """The bytes of an entry being written, read from its file as they
    arrive; from the store (``open_data(offset, length, notify=False)``)
    for whatever the writer did not write, if it stops early."""

    def __init__(self, fd: int, expected: int, open_data: typing.Callable,
                 image_id: str):
        self._fd = fd
        self._expected = expected
        self._open_data = open_data
        self._image_id = image_id
        self._offset = 0
        self._store = None
        self._poll = POLL_MIN
        # The writer, when this follower's request started the fill.
        self.writer = None

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        if self._store is not None:
            return next(self._store)
        while True:
            want = min(CHUNK, self._expected - self._offset)
            if want <= 0 or self._fd < 0:
                self.close()
                raise StopIteration
            data = os.pread(self._fd, want, self._offset)
            if data:
                self._offset += len(data)
                self._poll = POLL_MIN
                return data
            if writer_active(self._fd):
                time.sleep(self._poll)
                self._poll = min(self._poll * 2, POLL_MAX)
                continue
            data = os.pread(self._fd, want, self._offset)
            if data:
                continue
            LOG.info('The cache fill of image %s stopped at byte %d of %d: '
                     'reading the rest from the store', self._image_id,
                     self._offset, self._expected)
            os.close(self._fd)
            self._fd = -1
            self._store = iter(self._open_data(
                self._offset, self._expected - self._offset, notify=False))
            return next(self._store)

    def file_range(self):
        """(fd, offset, bytes written past it) for sendfile, once some
        are (waiting for the writer meanwhile); None when the rest must
        come from the chunks (the writer stopped early, or all is read)."""
        if self._store is not None or self._fd < 0:
            return None
        while self._offset < self._expected:
            written = min(os.fstat(self._fd).st_size, self._expected)
            if written > self._offset:
                self._poll = POLL_MIN
                return self._fd, self._offset, written - self._offset
            if not writer_active(self._fd):
                written = min(os.fstat(self._fd).st_size, self._expected)
                if written > self._offset:
                    continue
                return None
            time.sleep(self._poll)
            self._poll = min(self._poll * 2, POLL_MAX)
        return self._fd, self._offset, 0

    def consumed(self, count: int) -> None:
        """``count`` more bytes left straight from the file."""
        self._offset += count

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._store is not None:
            close = getattr(self._store, 'close', None)
            if close is not None:
                close()


class Writer:
    """Copies the store's data of ``image`` into the locked file ``fd``,
    then publishes or discards it (``publish``, ``discard`` of the
    cache)."""

    def __init__(self, cache, fd: int, image: dict,
                 open_data: typing.Callable):
        self.cache = cache
        self.fd = fd
        self.image = image
        self.open_data = open_data
        self.done = threading.Event()
        self.published = False

    def start(self) -> None:
        threading.Thread(target=self.run, daemon=True,
                         name='cache-fill-%s' % self.image['id']).start()

    def run(self) -> None:
        image_id = self.image['id']
        try:
            md5, multihash, written = self._copy()
            problem = self._check(md5, multihash, written)
            if problem:
                LOG.error('Cache entry of image %s not kept: %s', image_id,
                          problem)
                self.cache.discard(image_id, invalid=True)
                return
            self.published = self.cache.publish(self.image, md5)
        except Exception as e:
            self.cache.fill_failed(image_id, e)
        finally:
            os.close(self.fd)
            self.done.set()

    def _copy(self):
        md5 = hashlib.md5(usedforsecurity=False)
        algo = self.image.get('os_hash_algo') or 'sha512'
        multihash = hashlib.new(algo)
        written = 0
        chunks = self.open_data(0, None, notify=False)
        try:
            for chunk in chunks:
                blocking.call(_write_and_hash, self.fd, written, chunk,
                              md5, multihash)
                written += len(chunk)
        finally:
            close = getattr(chunks, 'close', None)
            if close is not None:
                close()
        return md5.hexdigest(), multihash.hexdigest(), written

    def _check(self, md5, multihash, written):
        image = self.image
        if written != image['size']:
            return 'the store gave %d bytes, the image has %d' % (
                written, image['size'])
        if image.get('checksum') and md5 != image['checksum']:
            return 'md5 %s, the image checksum is %s' % (md5,
                                                         image['checksum'])
        if image.get('os_hash_value') and multihash != image['os_hash_value']:
            return '%s does not match os_hash_value' % image['os_hash_algo']
        return None


def _write_and_hash(fd, offset, chunk, md5, multihash):
    view = memoryview(chunk)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], offset + done)
    md5.update(chunk)
    multihash.update(chunk)


def file_md5(path: str) -> typing.Tuple[str, int]:
    """(md5 hex digest, size) of a file, read in large blocks."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, 'rb', buffering=0) as f:
        while True:
            block = f.read(4 * CHUNK)
            if not block:
                break
            md5.update(block)
            size += len(block)
    return md5.hexdigest(), size


def begin(cache, image: dict, open_data: typing.Callable):
    """A ``Follower`` of the fill of ``image``, started here or joined;
    ``None`` when a complete file appeared meanwhile (look it up again).
    OSError when the cache directory cannot be used."""
    image_id = image['id']
    path = cache.layout.incomplete(image_id)
    for _attempt in range(3):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            locked = layout_mod.try_lock(fd)
            if not locked:
                # Someone writes it: follow, from the first byte.
                return Follower(fd, image['size'], open_data, image_id)
            if not _same_file(fd, path):
                os.close(fd)
                continue
            if os.path.exists(cache.layout.entry(image_id)):
                # Published just now: this file was created after it.
                os.unlink(path)
                os.close(fd)
                return None
            os.ftruncate(fd, 0)
            reader = os.open(path, os.O_RDONLY)
        except BaseException:
            os.close(fd)
            raise
        writer = Writer(cache, fd, image, open_data)
        writer.start()
        follower = Follower(reader, image['size'], open_data, image_id)
        follower.writer = writer
        return follower
    return None
