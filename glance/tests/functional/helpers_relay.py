"""A TCP relay for functional tests: what a daemon reaches through it
can be cut off and brought back, and what went through counted."""

import socket
import threading
import time

from glance.tests.functional import base


class Relay:
    """A TCP relay on 127.0.0.1 to ``target`` that can be cut (every
    connection reset, new ones refused) and brought back on its port.
    ``sent`` holds every byte its clients sent, in order per connection
    (to count the requests that went through). With ``rate``, what the
    target answers is passed at about that many bytes a second (a
    transfer slow enough to be interrupted half-way)."""

    def __init__(self, target, rate=0):
        self.target = target
        self.rate = rate
        self.port = base.free_port()
        self.conns = []
        self.sent = []
        self.lock = threading.Lock()
        self.listener = None
        self.resume()

    def resume(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,),
                         daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            seen = []
            with self.lock:
                if self.listener is not listener:
                    # Cut while this one was being set up: it goes too.
                    client.close()
                    server.close()
                    return
                self.conns += [client, server]
                self.sent.append(seen)
            for a, b, kept, rate in ((client, server, seen, 0),
                                     (server, client, None, self.rate)):
                threading.Thread(target=self._pump,
                                 args=(a, b, kept, rate),
                                 daemon=True).start()

    def _pump(self, src, dst, seen, rate):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if seen is not None:
                    seen.append(data)
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        # shutdown wakes the thread blocked in accept(); close alone
        # would leave the socket listening until it returns.
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
        with self.lock:
            conns, self.conns = self.conns, []
            self.listener = None
        # A pump thread blocked in recv() keeps its socket open through
        # close(): shutdown() first wakes it, so that the peers see the
        # connection end now (reset, with a linger of 0) rather than
        # when their own timeouts run out.
        for s in conns:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b'\x01\x00\x00\x00\x00\x00\x00\x00')
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def count(self, marker: bytes) -> int:
        """How many times ``marker`` is in what the clients sent."""
        with self.lock:
            streams = [b''.join(seen) for seen in self.sent]
        return sum(stream.count(marker) for stream in streams)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port
