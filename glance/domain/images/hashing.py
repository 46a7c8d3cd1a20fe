"""Reading image data while hashing it: md5 (``checksum``) and the
multihash (``hashing_algorithm``), counted and bounded, fed to a format
checker on the way. Uploads, staging, imports and copies read through it.
"""

import hashlib

import eventlet
from oslo_config import cfg

from glance.common import blocking
from glance.common import exception

CONF = cfg.CONF
# Data is hashed in real threads (hashlib releases the GIL), md5 and the
# multihash each in its own, in batches of at least this many bytes while
# the next batch arrives: one batch of slack keeps the socket, both hashes
# and the store busy at the same time.
HASH_BATCH = 2 * 1024 * 1024
# Below this, hashing in place costs less than the hand-off.
TPOOL_MIN = 256 * 1024


def _update(digest, chunks):
    for data in chunks:
        digest.update(data)


class HashingReader:
    """A file-like reader that hashes, counts and bounds what it passes."""

    def __init__(self, source, limit, expected=None, checker=None):
        self.source = source
        self.checker = checker
        self.limit = limit
        self.expected = expected
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multihash = hashlib.new(CONF.hashing_algorithm)
        self.count = 0
        self._batch = []
        self._batch_size = 0
        self._hashing = ()

    def _wait_hashing(self):
        hashing, self._hashing = self._hashing, ()
        for thread in hashing:
            thread.wait()

    def _flush(self):
        """Hand the batch to real threads once the previous one is done."""
        batch, size = self._batch, self._batch_size
        self._batch, self._batch_size = [], 0
        self._wait_hashing()
        if size >= TPOOL_MIN:
            self._hashing = [eventlet.spawn(blocking.call, _update, digest,
                                            batch)
                             for digest in (self.md5, self.multihash)]
        else:
            _update(self.md5, batch)
            _update(self.multihash, batch)

    def read(self, size=-1):
        data = self.source.read(size)
        if data:
            self.count += len(data)
            if self.count > self.limit:
                raise exception.RequestEntityTooLarge(
                    'Image exceeds the size limit or the storage quota '
                    '(%d bytes).' % self.limit)
            self._batch.append(data)
            self._batch_size += len(data)
            if self._batch_size >= HASH_BATCH:
                self._flush()
            if self.checker is not None:
                self.checker.feed(data)
        elif self.expected is not None and self.count != self.expected:
            raise exception.BadRequest(
                'Image data ended after %d of %d bytes.'
                % (self.count, self.expected))
        return data

    def digests(self):
        """(md5, multihash) hex digests, once the data is all read."""
        self._flush()
        self._wait_hashing()
        return self.md5.hexdigest(), self.multihash.hexdigest()
