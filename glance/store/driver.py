"""The interface every store driver implements, and what it promises.

A driver is a subclass of ``Store`` published under the
``glance.store.drivers`` entry point group (see ``glance.store.discovery``);
the entry point's name is its type, the ``file`` of ``enabled_backends =
fast:file``. The class describes itself, so adding a driver edits no
central table:

* ``type_name``: the type, equal to the entry point name;
* ``schemes``: the location URI schemes it reads (``file``, ``http`` ...);
* ``capabilities``: what its stores can do (READ, WRITE, SEEK, LOCAL_FILE);
* ``config_opts()``: its options, registered in ``[glance_store]``
  (single-store) and in each ``[<store name>]`` section of its type
  (multi-store) by ``glance.store.options``, and listed in the sample
  configuration.

An instance is one configured store: ``FilesystemStore('fast', options)``.
``options`` is any object whose attributes are the driver's option values
(an oslo.config group, or a view over one, see ``glance.store.registry``).
The registry builds and configures the instances; the service layer calls
their data operations.

Rules every driver follows:

* **Nothing blocks the eventlet hub.** Green threads switch only on green
  I/O. A call into a C library that blocks or computes for long --
  librados and librbd, boto3's transfer threads and its waits on them,
  sqlite3, compression, hashing of big buffers, fsync -- runs in a real
  thread (``eventlet.tpool.execute``, or threads the driver starts and
  waits on with green primitives), never in the calling green thread:
  there it would stall every request of the worker process. Pure-Python
  network clients (requests, python-swiftclient) are green under
  monkey-patching and may be called directly.
* **Client libraries are imported where they are used** (``configure``
  or the data operations), not when the module is imported: the options
  of every installed driver are listed and registered on hosts that lack
  some driver's library.
* **Data streams.** Memory does not grow with the size of an image:
  ``add`` reads and writes a chunk at a time, ``get`` returns an iterator.
* **A failed write leaves nothing behind.** Whatever goes wrong in
  ``add``, including an exception raised by the reader (the client went
  away), the partial object is removed and the original exception
  propagates.
* **Missing data is ``exceptions.NotFound``**, from ``get``, ``get_size``
  and ``delete`` alike; callers that delete treat it as already deleted.
* **The request context is optional.** The data operations take
  ``context``, the caller's ``oslo_context`` request context, or None
  when the service acts on its own behalf (scrubber, background import
  steps). A driver that stores data with the caller's credentials
  (multi-tenant Swift, with the user's token) uses it; the others ignore
  it. With None, a driver uses the credentials of its configuration.

A ``ChunkIterator`` over a local file also offers ``file_range()``, the
``(fd, offset, count)`` still to be delivered, and ``consumed(n)``, which
tells it that ``n`` of those bytes went out another way (``os.sendfile``
straight to the client socket, see ``glance.common.sendfile``).
"""

import abc
import collections
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Callable, ClassVar, Protocol
from urllib import parse

import eventlet
from oslo_config import cfg
from oslo_context import context as oslo_context

from glance.common import blocking
from glance.store import exceptions

LOG = logging.getLogger(__name__)

# Capabilities: plain strings.
READ = 'read'
WRITE = 'write'
SEEK = 'seek'                # reads at an offset skip what comes before
LOCAL_FILE = 'local_file'    # local_path() gives a path on this host
CAPABILITIES = frozenset({READ, WRITE, SEEK, LOCAL_FILE})

MiB = 1024 * 1024
CHUNK_SIZE = MiB


class Readable(Protocol):
    """A file-like source of bytes: ``read(n)`` returns b'' at the end."""

    def read(self, size: int, /) -> bytes: ...


Reader = Readable | Iterable[bytes]
Context = oslo_context.RequestContext
# (location URI, bytes written, location metadata)
AddResult = tuple[str, int, dict[str, Any]]


def scheme_of(uri: str | None) -> str:
    """Lower-case scheme of ``uri``; BadStoreUri when it has none."""
    scheme = parse.urlsplit(uri or '').scheme.lower()
    if not scheme:
        raise exceptions.BadStoreUri('Location has no scheme: %r' % uri)
    return scheme


def read_chunks(reader: Reader,
                chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the non-empty pieces of ``reader`` until it is exhausted."""
    if hasattr(reader, 'read'):
        while True:
            chunk = reader.read(chunk_size)
            if not chunk:
                return
            yield chunk
    else:
        for chunk in reader:
            if chunk:
                yield chunk


def retry_in_background(function: Callable[[], Any], what: str,
                        interval: float = 2.0,
                        duration: float = 600.0) -> None:
    """Call ``function`` every ``interval`` seconds until it returns
    without raising or ``duration`` seconds have passed, in a green thread
    (a real one where threads are not green). For clean-ups a failed write
    owes a server that could not be reached then (a multipart upload to
    abort, a partial image to remove): they happen once it answers again.
    """
    def run() -> None:
        deadline = time.monotonic() + duration
        while True:
            time.sleep(interval)
            try:
                function()
            except Exception as e:
                if time.monotonic() >= deadline:
                    LOG.warning('Gave up trying to %s: %s', what, e)
                    return
                LOG.debug('Could not %s yet: %s', what, e)
                continue
            LOG.info('Did %s once the store answered again', what)
            return

    if blocking.green():
        eventlet.spawn(run)
    else:
        threading.Thread(target=run, daemon=True).start()


class Waitable(Protocol):
    def wait(self) -> Any: ...


class ReadAhead:
    """The pieces of a read from ``offset`` to ``end``, handed out in
    order as ``(piece, count)``, with up to ``depth`` of them under way
    ahead of the one handed out (the first ones from the start).

    ``start(at, count)`` begins reading ``count`` bytes at ``at`` and
    gives something to ``wait()`` on for them; ``close()`` hands every
    piece still under way to ``drop`` (to wait out or to cancel).
    """

    def __init__(self, start: Callable[[int, int], Waitable], offset: int,
                 end: int, size: int, depth: int,
                 drop: Callable[[Waitable], None]) -> None:
        self._start = start
        self._ahead = offset
        self._end = end
        self._size = size
        self._depth = depth
        self._drop = drop
        self._pending: collections.deque = collections.deque()
        self._top_up()

    def _top_up(self) -> None:
        while len(self._pending) < self._depth and self._ahead < self._end:
            count = min(self._size, self._end - self._ahead)
            self._pending.append((self._start(self._ahead, count), count))
            self._ahead += count

    def __iter__(self) -> 'ReadAhead':
        return self

    def __next__(self) -> tuple[Any, int]:
        if not self._pending:
            raise StopIteration
        started, count = self._pending.popleft()
        piece = started.wait()
        self._top_up()
        return piece, count

    def close(self) -> None:
        while self._pending:
            self._drop(self._pending.popleft()[0])


class ChunkIterator:
    """Iterator of byte strings that releases its resource on ``close``.

    WSGI servers call ``close()`` on the response iterable when a client
    goes away; a controller that returns this iterator (or wraps it and
    forwards ``close``) therefore never leaks file handles or connections.
    ``seekable`` tells whether the store read the range directly (True)
    or had to read and drop the bytes before ``offset`` (False).
    """

    def __init__(self, chunks: Iterable[bytes],
                 close: Callable[[], Any] | None = None,
                 seekable: bool = True) -> None:
        self._chunks = iter(chunks)
        self._close = close
        self.seekable = seekable

    def __iter__(self) -> 'ChunkIterator':
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()

    def file_range(self) -> tuple[int, int, int] | None:
        """``(fd, offset, count)`` left to deliver from a local file, or
        None when the bytes do not come from one."""
        return None

    def consumed(self, count: int) -> None:
        raise NotImplementedError('%s has no file to send from'
                                  % type(self).__name__)

    def read_all(self) -> bytes:
        """All remaining bytes at once (tests and small objects only)."""
        try:
            return b''.join(self)
        finally:
            self.close()


def check_range(offset: int, length: int | None) -> None:
    if offset < 0 or (length is not None and length < 0):
        raise exceptions.InvalidRange('Invalid range: offset %s length %s'
                                      % (offset, length))


class Store(abc.ABC):
    """A store driver. Reading (``get``, ``get_size``) is what every driver
    implements; for the rest the defaults are "cannot do that"."""

    # -- what the driver declares ------------------------------------------

    type_name: ClassVar[str | None] = None   # its entry point name
    schemes: ClassVar[tuple[str, ...]] = ()  # location schemes it reads
    # The class's capabilities; an instance starts with a copy that its
    # configure() may narrow (a directory it cannot write: no WRITE).
    capabilities: frozenset[str] | set[str] = frozenset()

    @classmethod
    def config_opts(cls, backend_section: bool = False) -> list[cfg.Opt]:
        """Fresh definitions of the driver's options.

        ``backend_section`` asks for those of a multi-store section
        ``[<store name>]`` (the reserved ``[os_glance_*]`` ones included)
        rather than of ``[glance_store]``; a driver may give an option
        another default there. New objects on each call, so that one
        section's options never share state with another's.
        """
        return []

    @classmethod
    def backend_fallbacks(cls, glance_store: Any,
                          name: str) -> dict[str, Any]:
        """Values for the options of multi-store store ``name`` that its
        section leaves None, worked out from ``glance_store`` (the
        ``[glance_store]`` option values)."""
        return {}

    # -- an instance: one configured store ---------------------------------

    def __init__(self, name: str, options: Any, multi_store: bool = False,
                 weight: int = 0, description: str | None = None) -> None:
        self.name = name
        self.options = options
        self.multi_store = multi_store
        self.weight = weight
        self.description = description
        self.capabilities = set(type(self).capabilities)

    def __repr__(self) -> str:
        return '<%s %s>' % (type(self).__name__, self.name)

    def configure(self) -> None:
        """Check options and prepare; BadStoreConfiguration if unusable."""

    def is_capable(self, *capabilities: str) -> bool:
        return set(capabilities) <= self.capabilities

    @property
    def read_only(self) -> bool:
        return WRITE not in self.capabilities

    def location_prefixes(self) -> list[str]:
        """URI prefixes of the data this store holds (longest wins)."""
        return ['%s://' % scheme for scheme in self.schemes]

    def match_location(self, uri: str) -> int:
        """Length of the longest prefix of ``uri`` this store owns, or 0."""
        return max((len(p) for p in self.location_prefixes()
                    if uri.startswith(p)), default=0)

    def location_metadata(self) -> dict[str, Any]:
        """Metadata stored with a location this store wrote."""
        return {'store': self.name} if self.multi_store else {}

    def properties(self) -> dict[str, Any]:
        """Driver details for GET /v2/info/stores/detail."""
        return {}

    # -- data ----------------------------------------------------------------

    def add(self, image_id: str, reader: Reader, size: int | None = None,
            *, context: Context | None = None) -> AddResult:
        """Stream ``reader`` into the store as the data of ``image_id``.

        ``size`` None means unknown (a chunked upload); otherwise more or
        fewer bytes are SizeMismatch. Hashing is the caller's job (it wraps
        the reader). Data already stored for the image is Duplicate, lack
        of space StorageFull. Returns ``(location_uri, bytes_written,
        location_metadata)``. Stores without WRITE raise StoreAddDisabled.
        """
        raise exceptions.StoreAddDisabled(
            'Store %s does not accept image data.' % self.name)

    @abc.abstractmethod
    def get(self, location: str, offset: int = 0, length: int | None = None,
            *, context: Context | None = None
            ) -> tuple[ChunkIterator, int | None]:
        """``(chunks, total_size)``: an iterator over exactly the requested
        bytes and the size of the whole stored object (None when the store
        cannot tell). The caller closes the iterator if it stops early.
        A negative range or an offset beyond the end is InvalidRange."""

    @abc.abstractmethod
    def get_size(self, location: str, *,
                 context: Context | None = None) -> int:
        """Size in bytes of the data at ``location``."""

    def delete(self, location: str, *,
               context: Context | None = None) -> None:
        """Remove the data at ``location``. A location this store does not
        own (outside its directories, containers ...) is BadStoreUri, never
        deleted; stores that cannot delete raise StoreDeleteNotSupported."""
        raise exceptions.StoreDeleteNotSupported(
            'Store %s cannot delete image data.' % self.name)

    def check_delete(self, location: str, *,
                     context: Context | None = None) -> None:
        """Raise InUseByStore when the store would refuse to delete the
        data at ``location`` because something else uses it (RBD clones),
        before the image record changes; the data is left alone."""

    def local_path(self, location: str) -> str | None:
        """Path of the data on this host (LOCAL_FILE stores), or None."""
        return None
