"""The read-only HTTP store against a real HTTP server on 127.0.0.1,
which the URL filter is told to allow (and refuses by default)."""

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

from glance.store import driver
from glance.store import exceptions
from glance.store import http as http_store
from glance.tests.unit import base
from glance.tests.unit.common import test_url_filter
from glance.tests.unit import fixtures_net

MiB = 1024 * 1024
DATA = bytes(range(256)) * (12 * 1024) + b'tail'   # 3 MiB + 4 bytes


class Handler(http.server.BaseHTTPRequestHandler):
    """Paths: /image (honours Range), /norange (ignores it), /nolength
    (HEAD without Content-Length), /redirect/<n> (n more redirects, then
    /image), /goto?<url> (a redirect to url), /loop, /missing (404),
    /broken (500). Absolute URLs in the
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
        if path.startswith('/goto?'):
            return self.empty(302, [('Location', path[len('/goto?'):])])
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


class _Server(http.server.ThreadingHTTPServer):

    def handle_error(self, request, client_address):
        pass    # a reader that stops early resets the connection


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


class TestHttpStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.EnvironmentVariable('http_proxy'))
        self.useFixture(fixtures.EnvironmentVariable('https_proxy'))
        self.dns = self.useFixture(test_url_filter.FakeDNS({
            'image.test': ['127.0.0.1']}))
        self.allow_loopback()
        self.server = _Server(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.server.seen = []
        fixtures_net.serve_in_thread(self, self.server, poll_interval=0.01)
        self.base = 'http://127.0.0.1:%d' % self.server.server_port
        self.store = self.make_store()

    def make_store(self, **overrides):
        store = http_store.HttpStore('web', http_options(**overrides))
        store.configure()
        return store

    def allow_loopback(self, **overrides):
        values = {'allowed_ports': [],
                  'allowed_internal_networks': ['127.0.0.1/32']}
        values.update(overrides)
        self.config(group='import_filtering_opts', **values)

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
        # The proxy is asked for the address that passed the filter.
        store = self.make_store(http_proxy_information={'http': self.base})
        chunks, size = store.get('http://image.test/image', 7, 3)
        self.assertEqual(DATA[7:10], chunks.read_all())
        self.assertEqual([('GET', '/image', True, 'bytes=7-9')],
                         self.server.seen)
        self.assertEqual({'image.test': 1}, self.dns.calls)

    def test_proxy_does_not_bypass_the_filter(self):
        self.config(group='import_filtering_opts',
                    allowed_internal_networks=[])
        store = self.make_store(http_proxy_information={
            'http': self.base, 'https': self.base})
        for url in ('http://image.test/image', 'https://image.test/image'):
            self.assertRaises(exceptions.LocationRefused, store.get, url)
        self.assertEqual([], self.server.seen)

    def test_proxy_wins_over_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'http_proxy', 'http://127.0.0.1:9/'))
        self.test_proxy()

    def assertRefused(self, url, *reasons, redirected=False):
        """Every read of ``url`` refused, and its check when the refusal
        is not of a redirect (which only reading finds)."""
        store = self.store
        calls = [store.get, store.get_size]
        if not redirected:
            calls.append(store.vet_location)
        for call in calls:
            error = self.assertRaises(exceptions.LocationRefused, call, url)
            self.assertEqual(403, error.code)
            for reason in reasons:
                self.assertIn(reason, error.msg)
        return error

    def test_internal_addresses_refused_by_default(self):
        self.config(group='import_filtering_opts', allowed_ports=[80, 443],
                    allowed_internal_networks=[])
        scheme = self.base.split(':')[0]
        self.assertRefused(self.url('/image'), 'the port %d is not allowed'
                           % self.server.server_port)
        for host, reason in [
                ('127.0.0.1', 'is a loopback address'),
                ('127.9.9.9', 'is a loopback address'),
                ('localhost', 'resolves to a loopback address'),
                ('[::1]', 'is a loopback address'),
                ('0.0.0.0', 'is an unspecified address'),
                ('169.254.169.254', 'is a link-local address'),
                ('[fe80::1]', 'is a link-local address'),
                ('10.1.2.3', 'is a private address'),
                ('172.16.0.1', 'is a private address'),
                ('192.168.1.1', 'is a private address'),
                ('100.64.0.1', 'address, which is not allowed'),
                ('[fd00:ec2::254]', 'is a private address'),
                ('[::ffff:127.0.0.1]', 'is a loopback address'),
                ('[::ffff:169.254.169.254]', 'is a link-local address'),
                ('[64:ff9b::a00:1]', 'address, which is not allowed'),
                ('[2002:7f00:1::]', 'address, which is not allowed'),
                ('2130706433', 'not a standard dotted IPv4 address'),
                ('017700000001', 'not a standard dotted IPv4 address'),
                ('0x7f000001', 'not a standard dotted IPv4 address'),
                ('0x7f.0.0.1', 'not a standard dotted IPv4 address'),
                ('0177.0.0.1', 'not a standard dotted IPv4 address'),
                ('127.1', 'not a standard dotted IPv4 address'),
                ('image.test', 'resolves to a loopback address')]:
            self.assertRefused('%s://%s/image' % (scheme, host), reason)
        self.assertEqual([], self.server.seen)

    def test_schemes_ports_and_hosts_of_the_filter(self):
        self.config(group='import_filtering_opts', allowed_schemes=['https'])
        if self.base.startswith('http:'):
            self.assertRefused(self.url('/image'),
                               'the scheme http is not allowed')
        self.config(group='import_filtering_opts', allowed_schemes=[],
                    disallowed_ports=[self.server.server_port])
        self.assertRefused(self.url('/image'), 'the port %d is not allowed'
                           % self.server.server_port)
        self.config(group='import_filtering_opts', disallowed_ports=[],
                    disallowed_hosts=['127.0.0.1'])
        self.assertRefused(self.url('/image'),
                           'the host 127.0.0.1 is not allowed')
        self.assertEqual([], self.server.seen)
        for uri in ('ftp://127.0.0.1/x', 'gopher://127.0.0.1/x',
                    'file:///etc/passwd'):
            self.assertRaises(exceptions.BadStoreUri, self.store.get, uri)
            self.assertRaises(exceptions.BadStoreUri,
                              self.store.vet_location, uri)

    def test_ip_listed_in_allowed_hosts_is_exempt(self):
        self.allow_loopback(allowed_internal_networks=[],
                            allowed_hosts=['127.0.0.1'])
        self.assertEqual(DATA, self.store.get(self.url('/image'))[0]
                         .read_all())
        self.assertRefused(self.url('/image').replace('127.0.0.1',
                                                      'localhost'),
                           'the host localhost is not allowed')

    def test_redirects_are_vetted(self):
        port = self.server.server_port
        scheme = self.base.split(':')[0]
        for target in ('%s://127.0.0.2:%d/image' % (scheme, port),
                       'http://169.254.169.254/latest/meta-data/',
                       'http://[::1]:%d/image' % port,
                       'http://2130706433:%d/image' % port,
                       '%s://image.test.:%d/image' % (scheme, port)):
            self.dns.records['image.test'] = ['127.0.0.2']
            self.server.seen[:] = []
            self.assertRefused(self.url('/goto?' + target),
                               'may not be fetched', redirected=True)
            self.assertEqual([('GET', '/goto?' + target, False, None)],
                             self.server.seen[:1])
            self.assertEqual(1, len([c for c in self.server.seen
                                     if c[0] == 'GET']))
        for target in ('ftp://127.0.0.1/x', 'file:///etc/passwd',
                       'gopher://127.0.0.1:70/x'):
            self.assertRefused(self.url('/goto?' + target),
                               'is not allowed', redirected=True)
        self.assertEqual(DATA, self.store.get(
            self.url('/goto?' + self.url('/image')))[0].read_all())

    def test_the_vetted_address_is_the_one_connected_to(self):
        # The first answer passes the filter; a later one would lead to
        # an address nothing listens on: the store never asks again.
        answers = [['127.0.0.1']]
        self.dns.records['image.test'] = lambda: (
            answers.pop() if answers else ['127.0.0.3'])
        port = self.server.server_port
        scheme = self.base.split(':')[0]
        chunks, _ = self.store.get('%s://image.test:%d/image'
                                   % (scheme, port))
        self.assertEqual(DATA, chunks.read_all())
        self.assertEqual({'image.test': 1}, self.dns.calls)

    def test_a_name_answering_inward_is_refused(self):
        self.allow_loopback(allowed_internal_networks=['127.0.0.2/32'])
        self.dns.records['image.test'] = ['127.0.0.2', '127.0.0.1']
        port = self.server.server_port
        scheme = self.base.split(':')[0]
        self.assertRefused('%s://image.test:%d/image' % (scheme, port),
                           'image.test resolves to a loopback address')
        self.assertEqual([], self.server.seen)


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

    def test_proxy(self):
        # https goes through a CONNECT tunnel: the proxy sees the host and
        # port (a name only it can resolve), the server the request.
        proxy = self.useFixture(fixtures_net.ForwardProxy())
        store = self.make_store(http_proxy_information={
            'https': proxy.url()})
        port = self.server.server_port
        chunks, size = store.get('https://image.test:%d/image' % port,
                                 7, 3)
        self.assertEqual(DATA[7:10], chunks.read_all())
        self.assertEqual(len(DATA), size)
        # The address that passed the filter, never the name.
        self.assertEqual([('CONNECT', '127.0.0.1:%d' % port)],
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
        # CA bundles named by the environment change nothing.
        for name in ('REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE'):
            self.useFixture(fixtures.EnvironmentVariable(
                name, ssl.get_default_verify_paths().cafile))
        self.test_insecure_default_accepts_any_certificate()

    def test_verification(self):
        store = self.make_store(https_insecure=False)
        self.assertRaises(exceptions.RemoteServiceUnavailable, store.get,
                          self.url('/image'))
        store = self.make_store(https_insecure=False,
                                https_ca_certificates_file=self.cert)
        self.assertEqual(DATA, store.get(self.url('/image'))[0].read_all())
