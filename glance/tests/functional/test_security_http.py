"""HTTP framing and byte ranges, spoken over raw sockets to the daemon.

A request whose length is in doubt is refused (400, or 501 for a transfer
coding the service does not know) and its connection closed, so that
what follows it on the connection (here a smuggled DELETE) is never read
as a request. Ranges with absurd numbers get 416, never a 500, and
If-Range decides between the range and the whole data.
"""

import hashlib
import json

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_images as h

OCTET = {'Content-Type': 'application/octet-stream'}


class _Replay:
    """A socket whose next recv() first returns ``data``."""

    def __init__(self, sock, data):
        self.sock, self.data = sock, data

    def recv(self, size):
        data, self.data = self.data, b''
        return data or self.sock.recv(size)


class FramingTest(h.ImageAPIMixin, base.SharedDaemonTest):

    def setUp(self):
        super().setUp()
        self.victim = self.new_image(name='victim')

    def smuggled(self):
        """A complete DELETE of the victim image, as raw bytes."""
        return (b'DELETE /v2/images/%s HTTP/1.1\r\nHost: x\r\n'
                b'X-Project-Id: %s\r\nX-Roles: admin,member\r\n'
                b'Content-Length: 0\r\n\r\n'
                % (self.victim['id'].encode(), self.project.encode()))

    def post(self, framing, body, version=b'HTTP/1.1'):
        """Send POST /v2/images with the ``framing`` header lines and raw
        ``body``; (status, headers, payload, socket)."""
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'POST /v2/images ' + version + b'\r\nHost: x\r\n'
                     b'Content-Type: application/json\r\n'
                     b'X-Project-Id: ' + self.project.encode() + b'\r\n'
                     + framing + b'\r\n' + body)
        status, headers, payload, rest = hd.read_response(sock)
        # Anything past the response would be the answer to what followed.
        self.assertEqual(b'', rest)
        return status, headers, payload, sock

    def assert_refused(self, framing, body, status=400,
                       version=b'HTTP/1.1'):
        got, headers, payload, sock = self.post(framing, body, version)
        shown = (framing + body)[:120]
        self.assertEqual(status, got, '%r: %r' % (shown, payload))
        self.assertEqual('close', headers.get('connection'), shown)
        self.assertTrue(hd.is_closed(sock), shown)
        # The smuggled DELETE never ran: the victim is still there.
        self.assertEqual('victim', self.show(self.victim['id'])['name'])
        return payload

    def image_json(self, name='framed'):
        return json.dumps({'name': name}).encode()

    # -- the controls: valid framing is served, pipelining works --------

    def test_pipelined_request_after_a_valid_body_is_served(self):
        body = self.image_json()
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'POST /v2/images HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/json\r\n'
                     b'X-Project-Id: ' + self.project.encode() + b'\r\n'
                     b'Transfer-Encoding: chunked\r\n\r\n'
                     + hd.chunk(body) + b'0\r\n\r\n' + self.smuggled())
        status, _headers, payload, rest = hd.read_response(sock)
        self.assertEqual(201, status, payload)
        # A well framed request that follows is read and served: the
        # requests below would delete the victim if their framing let it
        # through.
        status, _headers, payload, _rest = hd.read_response(
            _Replay(sock, rest))
        self.assertEqual(204, status, payload)
        resp = self.request('GET', '/v2/images/%s' % self.victim['id'])
        self.assertEqual(404, resp.status_code)

    def test_valid_framing_variants_are_served(self):
        body = self.image_json()
        for framing, raw in (
                (b'Content-Length: %d\r\n' % len(body), body),
                (b'Content-Length: %d\r\nContent-Length: %d\r\n'
                 % (len(body), len(body)), body),
                (b'Content-Length:  %d \r\n' % len(body), body),
                (b'Transfer-Encoding: Chunked\r\n',
                 b'%X\r\n%s\r\n0\r\n\r\n' % (len(body), body)),
                (b'Transfer-Encoding: chunked\r\n',
                 b'%x;name=value\r\n%s\r\n000\r\nX-Trailer: 1\r\n\r\n'
                 % (len(body), body)),
                (b'Transfer-Encoding: chunked\r\n',
                 hd.chunk(body[:1]) + hd.chunk(body[1:]) + b'0\r\n\r\n')):
            status, headers, payload, sock = self.post(framing, raw)
            self.assertEqual(201, status, (framing, raw, payload))
            self.assertNotEqual('close', headers.get('connection'))

    # -- Content-Length ----------------------------------------------------

    def test_content_length_that_is_not_digits(self):
        body = self.smuggled()
        for value in (b'+%d' % len(body), b'-1', b'0x10', b'1_0',
                      b'%d, %d' % (len(body), len(body)), b'', b'1e3',
                      '\u0661'.encode(), b'9' * 5000):
            payload = self.assert_refused(
                b'Content-Length: ' + value + b'\r\n', body)
            self.assertIn(b'Content-Length', payload)

    def test_differing_content_lengths(self):
        # Read by the first value, the body would be the DELETE.
        self.assert_refused(b'Content-Length: 0\r\nContent-Length: %d\r\n'
                            % len(self.smuggled()), self.smuggled())
        self.assert_refused(b'Content-Length: %d\r\nContent-Length: 0\r\n'
                            % len(self.smuggled()), self.smuggled())

    def test_malformed_header_lines(self):
        length = b'%d' % len(self.smuggled())
        for framing in (
                # Not a field line: the parser would drop the length.
                b'Content-Length : ' + length + b'\r\n',
                b'X-Other: 1\r\nno colon here\r\nContent-Length: '
                + length + b'\r\n',
                # A folded line hides the length in another header.
                b'X-Other: 1\r\n Content-Length: ' + length + b'\r\n',
                b'Transfer-Encoding: \r\n chunked\r\n',
                b'Bad\x01Name: 1\r\nContent-Length: ' + length + b'\r\n',
                b'X-Other: a\x00b\r\nContent-Length: ' + length + b'\r\n',
                # Read as the framing header by some servers.
                b'Content_Length: ' + length + b'\r\n',
                b'Transfer_Encoding: chunked\r\n'):
            self.assert_refused(framing, self.smuggled())

    def test_first_header_line_folded(self):
        # The parser drops a first line that starts with a space.
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'POST /v2/images HTTP/1.1\r\n Content-Length: %d\r\n'
                     b'Host: x\r\nX-Project-Id: %s\r\n\r\n'
                     % (len(self.smuggled()), self.project.encode())
                     + self.smuggled())
        status, headers, payload, rest = hd.read_response(sock)
        self.assertEqual(400, status, payload)
        self.assertEqual(b'', rest)
        self.assertTrue(hd.is_closed(sock))
        self.assertEqual('victim', self.show(self.victim['id'])['name'])

    # -- Transfer-Encoding ---------------------------------------------------

    def test_unknown_transfer_codings(self):
        # Read as bodyless, the DELETE would be the next request.
        for value in (b'gzip', b'chunked, gzip', b'gzip, chunked',
                      b'identity', b'xchunked'):
            payload = self.assert_refused(
                b'Transfer-Encoding: ' + value + b'\r\n', self.smuggled(),
                status=501)
            self.assertIn(b'not implemented', payload)

    def test_ambiguous_transfer_encoding(self):
        chunked = b'0\r\n\r\n' + self.smuggled()
        for framing in (
                b'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n',
                b'Content-Length: 0\r\nTransfer-Encoding: chunked\r\n',
                b'Transfer-Encoding: chunked\r\n'
                b'Transfer-Encoding: chunked\r\n',
                b'Transfer-Encoding: chunked, chunked\r\n',
                b'Transfer-Encoding: chunked,\r\n',
                b'Transfer-Encoding: ,chunked\r\n',
                b'Transfer-Encoding:\r\n'):
            self.assert_refused(framing, chunked)
        self.assert_refused(b'Transfer-Encoding: chunked\r\n', chunked,
                            version=b'HTTP/1.0')

    # -- chunk sizes and chunk data -----------------------------------------

    def test_chunk_sizes_that_are_not_plain_hex(self):
        # Each of these ends the body where Python's int(x, 16) would
        # read a last chunk; the DELETE after it must not run.
        for size in (b'0x0', b'0_0', b' 0', b'+0', b'-0', b'0 ', b'',
                     b'zz', b'\t0', b'0' * 17, b'0;ext\x00'):
            payload = self.assert_refused(
                b'Transfer-Encoding: chunked\r\n',
                size + b'\r\n\r\n' + self.smuggled())
            self.assertIn(b'chunked', payload)

    def test_chunk_framing_errors(self):
        body = self.image_json()
        for raw in (
                # Data longer than its size: the extra bytes would be
                # skipped as if they were the CRLF.
                b'1\r\n' + body + b'\r\n0\r\n\r\n',
                # Bare LF line ends.
                b'%x\n%s\n0\n\n' % (len(body), body),
                b'%x\r\n%s\r\n0\n\n' % (len(body), body),
                # A size line without end, longer than any size line.
                b'1' * 8192,
                # Too many trailer lines.
                hd.chunk(body) + b'0\r\n' + b'X-T: 1\r\n' * 40 + b'\r\n'):
            self.assert_refused(b'Transfer-Encoding: chunked\r\n',
                                raw + self.smuggled())

    def test_bad_chunk_in_an_upload_leaves_the_image_queued(self):
        image = self.new_image(name='upload', disk_format='raw',
                               container_format='bare')
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'X-Project-Id: %s\r\n'
                     b'Transfer-Encoding: chunked\r\n\r\n'
                     % (image['id'].encode(), self.project.encode())
                     + hd.chunk(b'a' * 1000) + b'0x10\r\n' + b'b' * 16
                     + b'\r\n0\r\n\r\n' + self.smuggled())
        status, headers, payload, _rest = hd.read_response(sock)
        self.assertEqual(400, status, payload)
        self.assertEqual('close', headers.get('connection'))
        self.assertTrue(hd.is_closed(sock))
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertEqual('victim', self.show(self.victim['id'])['name'])
        self.assert_serving()


class RangeTest(h.ImageAPIMixin, base.SharedDaemonTest):

    def setUp(self):
        super().setUp()
        self.data = bytes(range(256)) * 8
        self.image = self.new_image(disk_format='raw',
                                    container_format='bare')
        resp = self.request('PUT', '/v2/images/%s/file' % self.image['id'],
                            data=self.data, headers=self.headers(**OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        self.path = '/v2/images/%s/file' % self.image['id']
        self.etag = '"%s"' % hashlib.sha512(self.data).hexdigest()

    def get(self, **headers):
        return self.request('GET', self.path, headers=self.headers(**headers))

    def test_download_carries_a_strong_etag(self):
        resp = self.get()
        self.assertEqual(200, resp.status_code)
        self.assertEqual(self.etag, resp.headers['ETag'])
        self.assertEqual('bytes', resp.headers['Accept-Ranges'])
        resp = self.get(Range='bytes=0-9')
        self.assertEqual(206, resp.status_code)
        self.assertEqual(self.etag, resp.headers['ETag'])

    def test_absurd_ranges_are_not_satisfiable(self):
        size = len(self.data)
        for value in ('bytes=%s-' % ('9' * 5000),
                      'bytes=%s-%s' % ('9' * 30, '9' * 31),
                      'bytes=-%s' % ('0' * 4000), 'bytes=10-5', 'bytes=-0',
                      'bytes=--5', 'bytes=-5-10', 'bytes=5', 'bytes=',
                      'bytes=a-b', 'items=0-5', 'bytes=\u0661-\u0662'.encode(),
                      'bytes=%d-%d' % (size, size + 10), 'bytes=-+5',
                      'bytes=+1-5', 'bytes=0x1-5'):
            resp = self.get(Range=value)
            self.assertEqual(416, resp.status_code,
                             '%r: %s' % (value[:40], resp.text[:200]))
            self.assertEqual('bytes */%d' % size,
                             resp.headers['Content-Range'])

    def test_huge_end_and_suffix_are_cut_to_the_data(self):
        resp = self.get(Range='bytes=100-%s' % ('9' * 5000))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(self.data[100:], resp.content)
        resp = self.get(Range='bytes=-%s' % ('9' * 40))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(self.data, resp.content)

    def test_many_ranges_are_refused(self):
        resp = self.get(Range='bytes=' + ','.join(
            '%d-%d' % (n, n) for n in range(500)))
        self.assertEqual(400, resp.status_code)
        self.assertIn('single byte range', resp.text)

    def test_if_range(self):
        resp = self.get(Range='bytes=10-19', **{'If-Range': self.etag})
        self.assertEqual(206, resp.status_code)
        self.assertEqual(self.data[10:20], resp.content)
        # Any other validator: the whole data, not the range.
        for other in ('"0123abcd"', 'W/' + self.etag, self.etag[1:-1],
                      'Mon, 07 Dec 2026 05:00:00 GMT', '', '*'):
            resp = self.get(Range='bytes=10-19', **{'If-Range': other})
            self.assertEqual(200, resp.status_code, other)
            self.assertEqual(self.data, resp.content)
            self.assertNotIn('Content-Range', resp.headers)
        # If-Range without Range changes nothing.
        resp = self.get(**{'If-Range': '"other"'})
        self.assertEqual(200, resp.status_code)
        self.assertEqual(self.data, resp.content)
        # An unsatisfiable range under a matching If-Range is still 416.
        resp = self.get(Range='bytes=99999-', **{'If-Range': self.etag})
        self.assertEqual(416, resp.status_code)
