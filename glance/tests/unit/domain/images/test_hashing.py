"""glance.domain.images.hashing: the reader that hashes, counts and bounds."""

import hashlib
import io
import os

from glance.common import exception
from glance.domain.images import hashing
from glance.tests.unit import base


def drain(reader, chunk=1024 * 1024):
    out = []
    while True:
        data = reader.read(chunk)
        if not data:
            return b''.join(out)
        out.append(data)


class TestHashingReader(base.TestCase):

    def test_hashes_match_whatever_the_chunking(self):
        data = os.urandom(3 * 1024 * 1024 + 11)
        for chunk in (4096, hashing.TPOOL_MIN, 1024 * 1024):
            reader = hashing.HashingReader(io.BytesIO(data), 10 ** 9)
            self.assertEqual(data, drain(reader, chunk))
            self.assertEqual((hashlib.md5(data).hexdigest(),
                              hashlib.sha512(data).hexdigest()),
                             reader.digests())
            self.assertEqual(len(data), reader.count)

    def test_hashing_algorithm_option(self):
        self.config(hashing_algorithm='sha256')
        reader = hashing.HashingReader(io.BytesIO(b'abc'), 100)
        drain(reader)
        self.assertEqual(hashlib.sha256(b'abc').hexdigest(),
                         reader.digests()[1])

    def test_limit(self):
        reader = hashing.HashingReader(io.BytesIO(b'x' * 100), 99)
        self.assertRaises(exception.RequestEntityTooLarge, drain, reader, 10)

    def test_short_stream_against_declared_size(self):
        reader = hashing.HashingReader(io.BytesIO(b'x' * 5), 100,
                                          expected=10)
        self.assertRaises(exception.BadRequest, drain, reader)
