"""The interface every store driver implements.

A driver instance is one configured store: ``FilesystemStore('fast',
options)``. ``options`` is any object whose attributes are the driver's
option values (an oslo.config group, or a view over one, see
``glance.store.registry``). The registry builds the instances; the service
layer calls them:

* ``add(image_id, reader, size=None)`` streams ``reader`` (a file-like
  object with ``read(n)``, or an iterable of bytes) into the store and
  returns ``(location_uri, bytes_written, metadata)``. ``size`` None means
  unknown (chunked upload). Hashing is the caller's job: it wraps the
  reader. Whatever goes wrong, including an exception raised by the reader
  (client disconnect), nothing partial stays in the store and the original
  exception propagates.
* ``get(location, offset=0, length=None)`` returns ``(chunks, total_size)``:
  a ``ChunkIterator`` over exactly the requested bytes and the size of the
  whole stored object (None when the store cannot tell). Close the
  iterator if you stop early.
* ``get_size(location)``, ``delete(location)``.
* ``local_path(location)``: a path on this host to the data, when the
  store has the ``local_file`` capability.

A ``ChunkIterator`` over a local file also offers ``file_range()``, the
``(fd, offset, count)`` still to be delivered, and ``consumed(n)``, which
tells it that ``n`` of those bytes went out another way (``os.sendfile``
straight to the client socket, see ``glance.common.sendfile``).

Capabilities are plain strings: READ, WRITE, SEEK (reads at an offset
without reading what comes before), LOCAL_FILE.
"""

from urllib import parse

from glance.store import exceptions

READ = 'read'
WRITE = 'write'
SEEK = 'seek'
LOCAL_FILE = 'local_file'

MiB = 1024 * 1024
CHUNK_SIZE = MiB


def scheme_of(uri):
    """Lower-case scheme of ``uri``; BadStoreUri when it has none."""
    scheme = parse.urlsplit(uri or '').scheme.lower()
    if not scheme:
        raise exceptions.BadStoreUri('Location has no scheme: %r' % uri)
    return scheme


def read_chunks(reader, chunk_size=CHUNK_SIZE):
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


class ChunkIterator:
    """Iterator of byte strings that releases its resource on ``close``.

    WSGI servers call ``close()`` on the response iterable when a client
    goes away; a controller that returns this iterator (or wraps it and
    forwards ``close``) therefore never leaks file handles or connections.
    ``seekable`` tells whether the store read the range directly (True)
    or had to read and drop the bytes before ``offset`` (False).
    """

    def __init__(self, chunks, close=None, seekable=True):
        self._chunks = iter(chunks)
        self._close = close
        self.seekable = seekable

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self):
        close, self._close = self._close, None
        if close is not None:
            close()

    def file_range(self):
        """``(fd, offset, count)`` left to deliver from a local file, or
        None when the bytes do not come from one."""
        return None

    def consumed(self, count):
        raise NotImplementedError('%s has no file to send from'
                                  % type(self).__name__)

    def read_all(self):
        """All remaining bytes at once (tests and small objects only)."""
        try:
            return b''.join(self)
        finally:
            self.close()


def check_range(offset, length):
    if offset < 0 or (length is not None and length < 0):
        raise exceptions.InvalidRange('Invalid range: offset %s length %s'
                                      % (offset, length))


class Store:
    """Base class of the drivers: the defaults are "cannot do that"."""

    type_name = None          # entry point name: 'file', 'http'
    schemes = ()              # location URI schemes this driver reads
    capabilities = frozenset()

    def __init__(self, name, options, multi_store=False, weight=0,
                 description=None):
        self.name = name
        self.options = options
        self.multi_store = multi_store
        self.weight = weight
        self.description = description
        # Per instance: configure() may drop WRITE from a broken store.
        self.capabilities = set(type(self).capabilities)

    def __repr__(self):
        return '<%s %s>' % (type(self).__name__, self.name)

    def configure(self):
        """Check options and prepare; BadStoreConfiguration if unusable."""

    def is_capable(self, *capabilities):
        return set(capabilities) <= self.capabilities

    @property
    def read_only(self):
        return WRITE not in self.capabilities

    def location_prefixes(self):
        """URI prefixes of the data this store holds (longest wins)."""
        return ['%s://' % scheme for scheme in self.schemes]

    def match_location(self, uri):
        """Length of the longest prefix of ``uri`` this store owns, or 0."""
        return max((len(p) for p in self.location_prefixes()
                    if uri.startswith(p)), default=0)

    def location_metadata(self):
        """Metadata stored with a location this store wrote."""
        return {'store': self.name} if self.multi_store else {}

    def properties(self):
        """Driver details for GET /v2/info/stores/detail."""
        return {}

    def add(self, image_id, reader, size=None):
        raise exceptions.StoreAddDisabled(
            'Store %s does not accept image data.' % self.name)

    def get(self, location, offset=0, length=None):
        raise NotImplementedError

    def get_size(self, location):
        raise NotImplementedError

    def delete(self, location):
        raise exceptions.StoreDeleteNotSupported(
            'Store %s cannot delete image data.' % self.name)

    def local_path(self, location):
        """Path of the data on this host, or None."""
        return None
