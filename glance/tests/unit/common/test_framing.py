"""The framing rules: headers that decide a body's length, and the
chunked reader, on parsed headers and in-memory streams."""

import http.client
import io

import testtools

from glance.common import exception
from glance.common import framing


def parse(raw):
    return http.client.parse_headers(io.BytesIO(raw + b'\r\n'))


class TestCheckFraming(testtools.TestCase):

    def refused(self, raw, status=400, version='HTTP/1.1'):
        e = self.assertRaises(framing.FramingError, framing.check_framing,
                              parse(raw), version)
        self.assertEqual(status, e.status, raw)
        return e.message

    def test_accepted(self):
        for raw, chunked in (
                (b'Host: x\r\n', False),
                (b'Content-Length: 10\r\n', False),
                (b'Content-Length: 010\r\nContent-Length: 10\r\n', False),
                (b'Transfer-Encoding: chunked\r\n', True),
                (b'Transfer-Encoding:  CHUNKED \r\n', True),
                (b'Content-Type: multipart/form-data\r\n', False)):
            self.assertEqual(chunked, framing.check_framing(parse(raw),
                                                            'HTTP/1.1'))

    def test_content_length(self):
        for value in (b'+5', b'-5', b'5_0', b'0x5', b'5 5', b'5,5', b'',
                      b'\xd9\xa1'):
            self.assertIn('Content-Length',
                          self.refused(b'Content-Length: ' + value + b'\r\n'))
        self.refused(b'Content-Length: 5\r\nContent-Length: 6\r\n')
        self.assertIn('digits', self.refused(
            b'Content-Length: ' + b'9' * 5000 + b'\r\n'))
        framing.check_framing(parse(b'Content-Length: %s1\r\n' % (
            b'0' * 5000)), 'HTTP/1.1')

    def test_transfer_encoding(self):
        for value in (b'gzip', b'chunked, gzip', b'deflate,chunked'):
            self.refused(b'Transfer-Encoding: ' + value + b'\r\n', 501)
        for raw in (b'Transfer-Encoding: chunked\r\nContent-Length: 1\r\n',
                    b'Transfer-Encoding: chunked,chunked\r\n',
                    b'Transfer-Encoding: chunked\r\n'
                    b'Transfer-Encoding: chunked\r\n',
                    b'Transfer-Encoding: ,chunked\r\n',
                    b'Transfer-Encoding:\r\n'):
            self.refused(raw)
        self.refused(b'Transfer-Encoding: chunked\r\n', version='HTTP/1.0')

    def test_header_block(self):
        for raw in (b'Content-Length : 5\r\n',
                    b'Host: x\r\nnot a field\r\n',
                    b' Content-Length: 5\r\nHost: x\r\n',
                    b'Host: x\r\n Content-Length: 5\r\n',
                    b'X: a\x00b\r\n',
                    b'Transfer_Encoding: chunked\r\n',
                    b'content_length: 5\r\n'):
            self.refused(raw)


class TestChunkedInput(testtools.TestCase):

    def reader(self, raw):
        self.broken = []
        return framing.ChunkedInput(io.BytesIO(raw), None,
                                    on_error=lambda: self.broken.append(1))

    def test_reads_chunks_extensions_and_trailers(self):
        raw = (b'5;a=b\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n'
               b'NEXT')
        stream = self.reader(raw)
        self.assertEqual(b'hel', stream.read(3))
        self.assertEqual(b'lo0123456789', stream.read())
        self.assertEqual(b'', stream.read())
        self.assertEqual(b'NEXT', stream.rfile.read())
        self.assertEqual([], self.broken)

    def test_readline_and_iteration(self):
        raw = b'4\r\nab\nc\r\n3\r\nd\ne\r\n0\r\n\r\n'
        self.assertEqual([b'ab\n', b'cd\n', b'e'],
                         self.reader(raw).readlines())
        self.assertEqual(b'ab\ncd\ne', b''.join(self.reader(raw)))

    def test_malformed(self):
        for raw in (b'0x5\r\nhello\r\n0\r\n\r\n', b'+5\r\nhello\r\n',
                    b'5 \r\nhello\r\n', b'\r\n', b'5\nhello\n',
                    b'5\r\nhelloXX\r\n', b'5\r\nhel', b'',
                    b'1' * 5000, b'0' * 17 + b'\r\n\r\n',
                    b'0\r\n' + b'X: 1\r\n' * 40 + b'\r\n'):
            stream = self.reader(raw)
            e = self.assertRaises(framing.MalformedChunk, stream.read)
            self.assertIsInstance(e, exception.BadRequest)
            self.assertEqual([1], self.broken, raw)
            # Every later read fails the same way, and discarding the rest
            # of the body (as the server does) does not pass over it.
            self.assertRaises(framing.MalformedChunk, stream.discard)
            self.assertEqual([1], self.broken)
