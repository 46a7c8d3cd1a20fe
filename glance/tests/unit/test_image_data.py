"""glance.domain.images.data helpers: the hashing reader and the storage
quota syntax."""

import hashlib
import io
import os

from glance.common import exception
from glance.domain.images import data as image_data
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
        for chunk in (4096, image_data.TPOOL_MIN, 1024 * 1024):
            reader = image_data.HashingReader(io.BytesIO(data), 10 ** 9)
            self.assertEqual(data, drain(reader, chunk))
            self.assertEqual((hashlib.md5(data).hexdigest(),
                              hashlib.sha512(data).hexdigest()),
                             reader.digests())
            self.assertEqual(len(data), reader.count)

    def test_hashing_algorithm_option(self):
        self.config(hashing_algorithm='sha256')
        reader = image_data.HashingReader(io.BytesIO(b'abc'), 100)
        drain(reader)
        self.assertEqual(hashlib.sha256(b'abc').hexdigest(),
                         reader.digests()[1])

    def test_limit(self):
        reader = image_data.HashingReader(io.BytesIO(b'x' * 100), 99)
        self.assertRaises(exception.RequestEntityTooLarge, drain, reader, 10)

    def test_short_stream_against_declared_size(self):
        reader = image_data.HashingReader(io.BytesIO(b'x' * 5), 100,
                                          expected=10)
        self.assertRaises(exception.BadRequest, drain, reader)


class TestQuotaSyntax(base.TestCase):

    def test_units(self):
        for text, value in (('0', 0), ('100', 100), ('100B', 100),
                            ('2KB', 2048), ('3 MB', 3 * 1024 ** 2),
                            ('1gb', 1024 ** 3), ('5TB', 5 * 1024 ** 4)):
            self.assertEqual(value, image_data.parse_quota(text), text)

    def test_bad_values(self):
        for text in ('lots', '1.5GB', 'GB'):
            self.assertRaises(exception.Invalid, image_data.parse_quota,
                              text)
