"""glance.common.sendfile: download bodies sent from the file to a real
loopback TCP socket, and the fallbacks."""

import io
import os
import socket
import uuid

import eventlet
import fixtures
from eventlet.green import socket as green_socket

from glance.common import sendfile
from glance.store import exceptions
from glance.tests.unit import base
from glance.tests.unit.store import fixtures_store as fx

MiB = 1024 * 1024


def tcp_pair():
    """(server side, client side) of a green loopback TCP connection."""
    listener = green_socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    client = green_socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return server, client


def read_until_closed(sock):
    out = []
    while True:
        data = sock.recv(MiB)
        if not data:
            return b''.join(out)
        out.append(data)


class TestBody(base.TestCase):

    def setUp(self):
        super().setUp()
        root = self.useFixture(fixtures.TempDir()).path
        self.store = fx.file_store(datadir=root, chunk_size=64 * 1024)
        self.data = os.urandom(3 * MiB + 5)
        self.uri, _, _ = self.store.add(str(uuid.uuid4()),
                                        io.BytesIO(self.data),
                                        len(self.data))
        self.server, self.client = tcp_pair()
        self.addCleanup(self.client.close)
        self.addCleanup(self.server.close)

    def fds(self):
        return len(os.listdir('/proc/self/fd'))

    def test_first_chunk_through_the_server_rest_through_sendfile(self):
        chunks, _ = self.store.get(self.uri, offset=3, length=3 * MiB)
        environ = {sendfile.SOCKET_KEY: self.server}
        body = sendfile.body(environ, chunks)
        self.assertEqual(0, environ['eventlet.minimum_write_chunk_size'])
        first = next(body)
        self.assertEqual(self.data[3:3 + 64 * 1024], first)
        reader = eventlet.spawn(read_until_closed, self.client)
        self.assertEqual([], list(body))
        self.server.close()
        self.assertEqual(self.data[3 + 64 * 1024:3 + 3 * MiB],
                         reader.wait())
        self.assertIsNone(chunks.file_range())      # file closed

    def test_without_the_socket_every_chunk_is_yielded(self):
        chunks, _ = self.store.get(self.uri)
        environ = {}
        pieces = list(sendfile.body(environ, chunks))
        self.assertEqual(self.data, b''.join(pieces))
        self.assertEqual(64 * 1024, len(pieces[0]))
        self.assertNotIn('eventlet.minimum_write_chunk_size', environ)

    def test_chunks_not_from_a_file_are_yielded(self):
        closed = []

        class Remote:
            def __iter__(self):
                return iter([b'ab', b'cd'])

            def close(self):
                closed.append(True)
        body = sendfile.body({sendfile.SOCKET_KEY: self.server}, Remote())
        self.assertEqual([b'ab', b'cd'], list(body))
        self.assertEqual([True], closed)

    def test_small_file_needs_no_sendfile(self):
        uri, _, _ = self.store.add(str(uuid.uuid4()), io.BytesIO(b'xyz'), 3)
        chunks, _ = self.store.get(uri)
        body = sendfile.body({sendfile.SOCKET_KEY: self.server}, chunks)
        self.assertEqual([b'xyz'], list(body))

    def test_a_client_that_stops_reading_times_out(self):
        # Buffers far smaller than the image, so the sender must wait.
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        self.client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.server.settimeout(0.3)
        before = self.fds()
        chunks, _ = self.store.get(self.uri)
        body = sendfile.body({sendfile.SOCKET_KEY: self.server}, chunks)
        next(body)
        self.assertRaises(socket.timeout, next, body)
        self.assertEqual(before, self.fds())

    def test_a_client_that_leaves_raises_and_the_file_is_closed(self):
        before = self.fds() - 1     # the client socket goes too
        chunks, _ = self.store.get(self.uri)
        body = sendfile.body({sendfile.SOCKET_KEY: self.server}, chunks)
        next(body)
        self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                               b'\1\0\0\0\0\0\0\0')
        self.client.close()     # reset: the sender gets ECONNRESET/EPIPE
        self.assertRaises(OSError, list, body)
        self.assertEqual(before, self.fds())

    def test_a_file_that_shrinks_ends_the_body_with_an_error(self):
        chunks, _ = self.store.get(self.uri)
        body = sendfile.body({sendfile.SOCKET_KEY: self.server}, chunks)
        next(body)
        os.truncate(self.uri[len('file://'):], MiB)
        reader = eventlet.spawn(read_until_closed, self.client)
        self.assertRaises(exceptions.StoreError, list, body)
        self.server.close()
        self.assertEqual(self.data[64 * 1024:MiB], reader.wait())
