"""Writing a stream of chunks to a new file without stalling the hub.

``open_writer(fd)`` gives a writer with ``write(chunk)``, ``wait()``
(everything written) and ``abandon()`` (stop; no write runs afterwards,
and errors of the writes thrown away are not raised).
Both kinds write in a real thread while the caller receives what comes
next:

* ``DirectWriter``, where the filesystem takes ``O_DIRECT``: chunks are
  copied into two page-aligned buffers of ``DIRECT_BLOCK`` bytes, and a
  full one goes straight to the device while the other fills. The data
  does not pass through the page cache, so a big upload neither waits on
  dirty-page writeback nor leaves a long fsync at the end, and it does not
  push other files out of memory. The unaligned tail is written through
  the page cache once ``O_DIRECT`` is cleared. The first download of the
  image then reads from the device.
* ``BufferedWriter`` elsewhere (filesystems without ``O_DIRECT``): batches
  of at least ``WRITE_BATCH`` bytes through the page cache.
"""

import errno
import fcntl
import mmap
import os

import eventlet

from glance.common import blocking

MiB = 1024 * 1024
DIRECT_BLOCK = 4 * MiB
ALIGN = 4096
WRITE_BATCH = 4 * MiB


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def open_writer(fd):
    """The writer for ``fd``: direct when the filesystem allows it."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT)
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        return BufferedWriter(fd)
    return DirectWriter(fd, flags)


def _write_batch(fd, chunks):
    for chunk in chunks:
        _write_all(fd, chunk)


class BufferedWriter:
    """Batches of chunks written through the page cache."""

    def __init__(self, fd):
        self.fd = fd
        self.pending = None
        self.batch = []
        self.size = 0

    def write(self, chunk):
        self.batch.append(chunk)
        self.size += len(chunk)
        if self.size >= WRITE_BATCH:
            self._flush()

    def _flush(self):
        batch, self.batch, self.size = self.batch, [], 0
        self._wait_pending()
        if batch:
            self.pending = eventlet.spawn(blocking.call, _write_batch,
                                          self.fd, batch)

    def _wait_pending(self):
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.wait()

    def wait(self):
        self._flush()
        self._wait_pending()

    def abandon(self):
        self.batch, self.size = [], 0
        try:
            self._wait_pending()
        except OSError:
            pass        # what failed is being thrown away anyway


def _write_block(fd, buffer, length, offset):
    with memoryview(buffer) as view:
        view = view[:length]
        while view:
            try:
                written = os.pwrite(fd, view, offset)
            except OSError as e:
                if e.errno != errno.EINVAL or not _drop_direct(fd):
                    raise
                continue
            view, offset = view[written:], offset + written


def _drop_direct(fd):
    """Some filesystems accept O_DIRECT on the descriptor but refuse the
    writes: carry on through the page cache. False if it was not set."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if not flags & os.O_DIRECT:
        return False
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
    return True


class DirectWriter:
    """Two aligned buffers: one fills while the other is written. Both
    writes may run at once, so each says where it goes (pwrite)."""

    def __init__(self, fd, buffered_flags):
        self.fd = fd
        self.buffered_flags = buffered_flags
        self.buffers = [mmap.mmap(-1, DIRECT_BLOCK) for _ in range(2)]
        self.pending = [None, None]
        self.current = 0
        self.fill = 0
        self.offset = 0

    def write(self, chunk):
        view = memoryview(chunk)
        while view:
            n = min(len(view), DIRECT_BLOCK - self.fill)
            self.buffers[self.current][self.fill:self.fill + n] = view[:n]
            self.fill += n
            view = view[n:]
            if self.fill == DIRECT_BLOCK:
                self._submit(DIRECT_BLOCK)

    def _submit(self, length):
        """Write ``length`` bytes of the current buffer; switch to the
        other one once its own write is done."""
        index = self.current
        self.pending[index] = eventlet.spawn(
            blocking.call, _write_block, self.fd, self.buffers[index], length,
            self.offset)
        self.offset += length
        self.current, self.fill = 1 - index, 0
        self._wait(self.current)

    def _wait(self, index):
        pending, self.pending[index] = self.pending[index], None
        if pending is not None:
            pending.wait()

    def _wait_all(self):
        """Wait for both buffers, even when the first write failed."""
        error = None
        for index in (0, 1):
            try:
                self._wait(index)
            except BaseException as e:
                error = error or e
        if error is not None:
            raise error

    def wait(self):
        fill = self.fill
        aligned = fill - fill % ALIGN
        tail = self.buffers[self.current][aligned:fill]
        try:
            if aligned:
                self._submit(aligned)
            self._wait_all()
            fcntl.fcntl(self.fd, fcntl.F_SETFL, self.buffered_flags)
            _write_block(self.fd, tail, len(tail), self.offset)
        finally:
            self._release()

    def abandon(self):
        try:
            self._wait_all()
        except OSError:
            pass        # what failed is being thrown away anyway
        finally:
            self._release()

    def _release(self):
        buffers, self.buffers = self.buffers, []
        for buffer in buffers:
            try:
                buffer.close()
            except BufferError:     # a view is still referenced somewhere
                pass

