"""The read-only HTTP store against a real HTTP server on 127.0.0.1."""

import http.server
import io
import ipaddress
import re
import socket
import ssl
import types

from cryptography import x509
import fixtures
import testtools
import urllib3

from glance.store import driver
from glance.store import exceptions
from glance.store import http as http_store
from glance.tests.unit import fixtures_net

MiB = 1024 * 1024
DATA = bytes(range(256)) * (12 * 1024) + b'tail'   # 3 MiB + 4 bytes


class Handler(http.server.BaseHTTPRequestHandler):
    """Paths: /image (honours Range), /norange (ignores it), /nolength
    (HEAD without Content-Length), /redirect/<n> (n more redirects, then
    /image), /loop, /missing (404), /broken (500). Absolute URLs in the
    request line (proxy requests) are served by path too."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def empty(self, status, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def serve(self, head):
        path = self.path
        proxied = path.startswith('http://')
        if proxied:
            path = '/' + path.split('/', 3)[3]
        self.server.seen.append((self.command, path, proxied,
                                 self.headers.get('Range')))
        redirect = re.match(r'/redirect/(\d+)$', path)
        if redirect:
            left = int(redirect.group(1))
            target = '/redirect/%d' % (left - 1) if left else '/image'
            return self.empty(302, [('Location', target)])
        if path == '/loop':
            return self.empty(302, [('Location', '/loop')])
        if path == '/broken':
            return self.empty(500)
        if path not in ('/image', '/norange', '/nolength'):
            return self.empty(404)
        status, body, headers = 200, DATA, []
        wanted = self.headers.get('Range')
        if wanted and path != '/norange':
            first, last = re.match(r'bytes=(\d+)-(\d*)$', wanted).groups()
            first = int(first)
            last = min(int(last), len(DATA) - 1) if last else len(DATA) - 1
            if first >= len(DATA):
                return self.empty(416, [('Content-Range',
                                         'bytes */%d' % len(DATA))])
            status, body = 206, DATA[first:last + 1]
            headers.append(('Content-Range', 'bytes %d-%d/%d'
                            % (first, last, len(DATA))))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not (head and path == '/nolength'):
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def http_options(**overrides):
    values = {'https_insecure': True, 'https_ca_certificates_file': None,
              'http_proxy_information': {}}
    values.update(overrides)
    return types.SimpleNamespace(**values)


class TestDeclarations(testtools.TestCase):

    def test_schemes_capabilities_options(self):
        cls = http_store.HttpStore
        self.assertEqual(('http', ('http', 'https'), {driver.READ}),
                         (cls.type_name, cls.schemes, cls.capabilities))
        for backend_section in (False, True):
            self.assertEqual(
                [('https_insecure', True), ('https_ca_certificates_file',
                                            None),
                 ('http_proxy_information', {})],
                [(o.name, o.default) for o in
                 cls.config_opts(backend_section=backend_section)])


class TestHttpStore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.server.seen = []
        fixtures_net.serve_in_thread(self, self.server, poll_interval=0.01)
        self.base = 'http://127.0.0.1:%d' % self.server.server_port
        self.store = self.make_store()

    def make_store(self, **overrides):
        store = http_store.HttpStore('web', http_options(**overrides))
        store.configure()
        self.addCleanup(store.session.close)
        return store

    def url(self, path):
        return self.base + path

    def test_capabilities(self):
        self.assertEqual({driver.READ}, self.store.capabilities)
        self.assertTrue(self.store.read_only)
        self.assertIsNone(self.store.local_path(self.url('/image')))
        self.assertEqual(['http://', 'https://'],
                         self.store.location_prefixes())

    def test_get_whole(self):
        chunks, size = self.store.get(self.url('/image'))
        self.assertEqual(len(DATA), size)
        self.assertTrue(chunks.seekable)
        self.assertEqual(DATA, chunks.read_all())
        self.assertEqual([('GET', '/image', False, None)], self.server.seen)

    def test_get_range_honoured(self):
        cases = [(1000, 5000), (5, None), (len(DATA) - 3, 100), (0, 1)]
        for offset, length in cases:
            chunks, size = self.store.get(self.url('/image'), offset, length)
            end = None if length is None else offset + length
            self.assertEqual(DATA[offset:end], chunks.read_all())
            self.assertTrue(chunks.seekable)
            self.assertEqual(len(DATA), size)
        self.assertEqual('bytes=1000-5999', self.server.seen[0][3])
        self.assertEqual('bytes=5-', self.server.seen[1][3])

    def test_get_range_ignored_by_server(self):
        for offset, length in [(1000, 5000), (2 * MiB + 1, None),
                               (MiB, MiB), (len(DATA), None)]:
            chunks, size = self.store.get(self.url('/norange'), offset,
                                          length)
            end = None if length is None else offset + length
            self.assertEqual(DATA[offset:end], chunks.read_all())
            self.assertFalse(chunks.seekable)
            self.assertEqual(len(DATA), size)

    def test_zero_length(self):
        chunks, size = self.store.get(self.url('/image'), 10, 0)
        self.assertEqual((b'', len(DATA)), (chunks.read_all(), size))

    def test_offset_beyond_end(self):
        for path in ('/image', '/norange'):
            self.assertRaises(exceptions.InvalidRange, self.store.get,
                              self.url(path), len(DATA) + 10)

    def test_close_early(self):
        chunks, _ = self.store.get(self.url('/image'))
        self.assertEqual(driver.CHUNK_SIZE, len(next(chunks)))
        chunks.close()
        chunks, _ = self.store.get(self.url('/image'))
        self.assertEqual(DATA, chunks.read_all())

    def test_get_size(self):
        self.assertEqual(len(DATA), self.store.get_size(self.url('/image')))
        self.assertEqual('HEAD', self.server.seen[-1][0])

    def test_get_size_without_content_length(self):
        self.assertEqual(len(DATA),
                         self.store.get_size(self.url('/nolength')))
        self.assertEqual([('HEAD', '/nolength', False, None),
                          ('GET', '/nolength', False, 'bytes=0-0')],
                         self.server.seen)

    def test_redirects(self):
        chunks, size = self.store.get(self.url('/redirect/4'))   # 5 hops
        self.assertEqual(DATA, chunks.read_all())
        self.assertEqual(len(DATA),
                         self.store.get_size(self.url('/redirect/4')))
        for path in ('/redirect/5', '/loop'):                  # 6+ hops
            self.assertRaises(exceptions.BadStoreUri, self.store.get,
                              self.url(path))
            self.assertRaises(exceptions.BadStoreUri, self.store.get_size,
                              self.url(path))

    def test_missing(self):
        self.assertRaises(exceptions.NotFound, self.store.get,
                          self.url('/missing'))
        error = self.assertRaises(exceptions.NotFound, self.store.get_size,
                                  self.url('/missing'))
        self.assertEqual(404, error.code)

    def test_server_error(self):
        error = self.assertRaises(exceptions.RemoteServiceUnavailable,
                                  self.store.get, self.url('/broken'))
        self.assertEqual(503, error.code)

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()
        self.assertRaises(exceptions.RemoteServiceUnavailable,
                          self.store.get, 'http://127.0.0.1:%d/x' % port)

    def test_bad_locations(self):
        for uri in ('ftp://host/x', 'http://', 'file:///etc/passwd'):
            self.assertRaises(exceptions.BadStoreUri, self.store.get, uri)

    def test_read_only(self):
        self.assertRaises(exceptions.StoreAddDisabled, self.store.add,
                          'img', io.BytesIO(b'x'), 1)
        error = self.assertRaises(exceptions.StoreDeleteNotSupported,
                                  self.store.delete, self.url('/image'))
        self.assertEqual(403, error.code)
        self.assertEqual([], self.server.seen)

    def test_proxy(self):
        store = self.make_store(http_proxy_information={'http': self.base})
        chunks, size = store.get('http://image.invalid/image', 7, 3)
        self.assertEqual(DATA[7:10], chunks.read_all())
        self.assertEqual([('GET', '/image', True, 'bytes=7-9')],
                         self.server.seen)

    def test_proxy_wins_over_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'http_proxy', 'http://127.0.0.1:9/'))
        self.test_proxy()


class TestHttpsStore(TestHttpStore):
    """The same server behind TLS, with a self-signed certificate."""

    def setUp(self):
        super().setUp()
        self.cert, key = fixtures_net.self_signed_certificate(
            self.useFixture(fixtures.TempDir()).path, '127.0.0.1',
            [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket,
                                                 server_side=True)
        self.base = self.base.replace('http://', 'https://')
        # Expected with https_insecure; urllib3 warns once per host.
        self.useFixture(fixtures.WarningsFilter(
            [{'action': 'ignore',
              'category': urllib3.exceptions.InsecureRequestWarning}]))

    def test_proxy(self):
        # https goes through a CONNECT tunnel: the proxy sees the host and
        # port (a name only it can resolve), the server the request.
        proxy = self.useFixture(fixtures_net.ForwardProxy(
            hosts={'image.invalid': '127.0.0.1'}))
        store = self.make_store(http_proxy_information={
            'https': proxy.url()})
        port = self.server.server_port
        chunks, size = store.get('https://image.invalid:%d/image' % port,
                                 7, 3)
        self.assertEqual(DATA[7:10], chunks.read_all())
        self.assertEqual(len(DATA), size)
        self.assertEqual([('CONNECT', 'image.invalid:%d' % port)],
                         [(method, target)
                          for method, target, _ in proxy.requests])
        self.assertEqual([('GET', '/image', False, 'bytes=7-9')],
                         self.server.seen)

    def test_proxy_wins_over_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'https_proxy', 'http://127.0.0.1:9/'))
        self.test_proxy()

    def test_insecure_default_accepts_any_certificate(self):
        chunks, _ = self.store.get(self.url('/image'), 1, 2)
        self.assertEqual(DATA[1:3], chunks.read_all())

    def test_insecure_wins_over_environment(self):
        # This machine may well set REQUESTS_CA_BUNDLE; make sure of it.
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', ssl.get_default_verify_paths().cafile))
        self.test_insecure_default_accepts_any_certificate()

    def test_verification(self):
        store = self.make_store(https_insecure=False)
        self.assertRaises(exceptions.RemoteServiceUnavailable, store.get,
                          self.url('/image'))
        store = self.make_store(https_insecure=False,
                                https_ca_certificates_file=self.cert)
        self.assertEqual(DATA, store.get(self.url('/image'))[0].read_all())
