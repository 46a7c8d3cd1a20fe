"""Helpers shared by the tests that talk to real servers on 127.0.0.1:
servers run in a thread, self-signed TLS certificates, a forward proxy."""

import datetime
import http.client
import os
import select
import socket
import socketserver
import threading
import typing
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import fixtures

# Seconds a proxied connection may stay silent before the proxy drops it.
PROXY_STALL = 5


class _Cleanups(typing.Protocol):
    def addCleanup(self, function, *args, **kwargs): ...


def serve_in_thread(owner: _Cleanups, server: socketserver.BaseServer,
                    poll_interval: float = 0.05) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread until ``owner`` (a
    test case or fixture) cleans up: the server is then shut down, its
    socket closed and the thread joined (5 seconds at most), so that no
    test leaves a listening socket or a running thread behind."""
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={'poll_interval': poll_interval},
                              daemon=True)
    thread.start()
    owner.addCleanup(thread.join, 5)
    owner.addCleanup(server.server_close)
    owner.addCleanup(server.shutdown)
    return thread


def self_signed_certificate(
        directory: str, common_name: str,
        alt_names: typing.Sequence[x509.GeneralName]) -> tuple[str, str]:
    """The paths of ``cert.pem`` and ``key.pem``, written to ``directory``:
    a certificate for ``common_name`` that is its own CA (a client can
    trust it as its CA file) and is valid for the subject alternative
    names ``alt_names`` (e.g. ``x509.DNSName('images.test')`` or
    ``x509.IPAddress(ipaddress.ip_address('127.0.0.1'))``), from an hour
    ago to a day from now, and its EC private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(list(alt_names)),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, 'cert.pem')
    key_path = os.path.join(directory, 'key.pem')
    with open(cert_path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def _relay(one, other):
    """Copy bytes both ways between two sockets until either closes."""
    while True:
        readable, _, _ = select.select([one, other], [], [], PROXY_STALL)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
                if data:
                    (other if sock is one else one).sendall(data)
            except OSError:     # a client giving up on TLS resets
                return
            if not data:
                return


class _ProxyHandler(socketserver.StreamRequestHandler):
    """A forward proxy: CONNECT tunnels, and absolute-form requests
    passed on in origin form (without the Proxy-* headers, as proxies
    consume them)."""

    def handle(self):
        server = self.server
        line = self.rfile.readline(65537).decode('iso-8859-1')
        if not line.strip():
            return
        method, target, _ = line.split(' ', 2)
        headers = http.client.parse_headers(self.rfile)
        server.requests.append((method, target, dict(headers)))
        if server.refuse:
            self.wfile.write(b'HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n'
                             % server.refuse.encode('ascii'))
            return
        if method == 'CONNECT':
            host, _, port = target.rpartition(':')
            host = host.strip('[]')
            upstream = socket.create_connection(
                (server.hosts.get(host, host), int(port)),
                timeout=PROXY_STALL)
            with upstream:
                self.wfile.write(b'HTTP/1.1 200 Connection established'
                                 b'\r\n\r\n')
                _relay(self.connection, upstream)
            return
        parts = urllib.parse.urlsplit(target)
        body = self.rfile.read(int(headers.get('Content-Length', 0)))
        lines = ['%s %s HTTP/1.1' % (
            method, parts.path + ('?' + parts.query if parts.query else ''))]
        lines += ['%s: %s' % (name, value) for name, value in headers.items()
                  if not name.lower().startswith('proxy-')
                  and name.lower() != 'connection']
        lines.append('Connection: close')
        upstream = socket.create_connection(
            (server.hosts.get(parts.hostname, parts.hostname),
             parts.port or 80), timeout=PROXY_STALL)
        with upstream:
            upstream.sendall(('\r\n'.join(lines) + '\r\n\r\n')
                             .encode('iso-8859-1') + body)
            while True:
                data = upstream.recv(65536)
                if not data:
                    return
                self.wfile.write(data)


class ForwardProxy(fixtures.Fixture):
    """A threaded forward proxy on 127.0.0.1: CONNECT tunnels (https
    through a proxy) and absolute-form requests (http). ``requests`` lists
    what it was asked: (method, request target, headers); a status line
    in ``refuse`` (e.g. '403 Forbidden') is its answer to everything.
    ``hosts`` maps names to the addresses the proxy connects to (names
    the client itself cannot resolve prove it went through the proxy)."""

    def __init__(self, hosts: typing.Optional[dict] = None):
        super().__init__()
        self.hosts = dict(hosts or {})

    def _setUp(self):
        server = socketserver.ThreadingTCPServer(('127.0.0.1', 0),
                                                 _ProxyHandler)
        server.daemon_threads = True
        server.requests = self.requests = []
        server.refuse = None
        server.hosts = self.hosts
        self.server = server
        self.port = server.server_address[1]
        serve_in_thread(self, server)

    def url(self, userinfo: str = '') -> str:
        return 'http://%s127.0.0.1:%d' % (userinfo, self.port)

    def refuse(self, status_line: str) -> None:
        self.server.refuse = status_line
