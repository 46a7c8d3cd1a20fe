"""glance.common.http_client against real HTTP(S) servers on 127.0.0.1."""

import base64
import http.client
import http.server
import socket
import ssl
import threading
import urllib.parse

from cryptography import x509
import fixtures

from glance.common import exception
from glance.common import http_client
from glance.common import url_filter
from glance.tests.unit import base
from glance.tests.unit import fixtures_net
from glance.tests.unit.common import test_url_filter

GROUP = 'import_filtering_opts'
DATA = bytes(range(256)) * 1200 + b'end'     # 307203 bytes
STALL = 5   # seconds a stalling handler waits at most


class Handler(http.server.BaseHTTPRequestHandler):
    """Paths: /data (with Content-Length), /chunked/<n> (n bytes, chunked),
    /short (closes half way through its Content-Length), /echo (the
    request's Host and Authorization as body), /redirect/<n> (n more hops,
    then /data), /to?<url> (redirect to url), /loop, /ping <-> /pong,
    /noloc (302 without Location), /missing (404), /broken (500),
    /stall-headers, /stall-body (wait until the test ends)."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def send(self, status, body=b'', headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location, status=302):
        self.send(status, headers=[('Location', location)])

    def do_GET(self):
        server = self.server
        server.seen.append((self.path, dict(self.headers)))
        path, _, query = self.path.partition('?')
        parts = path.strip('/').split('/')
        if path == '/data':
            return self.send(200, DATA)
        if path.startswith('/caf'):
            return self.send(200, b'ok')
        if parts[0] == 'chunked':
            return self.chunked(int(parts[1]))
        if parts[0] == 'redirect':
            left = int(parts[1])
            return self.redirect('/redirect/%d' % (left - 1) if left
                                 else '/data', 301 + left % 3)
        if path == '/to':
            return self.redirect(urllib.parse.unquote(query))
        if path in ('/loop', '/ping', '/pong'):
            return self.redirect({'/loop': '/loop', '/ping': '/pong',
                                  '/pong': 'ping'}[path])
        if path == '/noloc':
            return self.send(302)
        if path == '/echo':
            body = '%s|%s' % (self.headers.get('Host'),
                              self.headers.get('Authorization'))
            return self.send(200, body.encode())
        if path == '/short':
            self.send_response(200)
            self.send_header('Content-Length', '1000')
            self.end_headers()
            self.wfile.write(b'x' * 500)
            self.close_connection = True
            return
        if path == '/stall-headers':
            server.release.wait(STALL)
            return self.send(200, b'late')
        if path == '/stall-body':
            self.send_response(200)
            self.send_header('Content-Length', '1000')
            self.end_headers()
            self.wfile.write(b'x' * 10)
            self.wfile.flush()
            server.release.wait(STALL)
            return
        if path == '/broken':
            return self.send(500, b'oops')
        return self.send(404, b'no such thing')

    def chunked(self, size):
        self.send_response(200)
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        left = size
        while left:
            piece = DATA[:min(left, 10000)]
            left -= len(piece)
            self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
        self.wfile.write(b'0\r\n\r\n')


class _HTTPServer(http.server.ThreadingHTTPServer):

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # failed TLS handshakes are expected by some tests


class Server(fixtures.Fixture):
    """A threaded HTTP server on 127.0.0.1, optionally behind TLS."""

    def __init__(self, tls_context=None):
        super().__init__()
        self.tls_context = tls_context

    def _setUp(self):
        server = _HTTPServer(('127.0.0.1', 0), Handler)
        server.seen = []
        server.release = threading.Event()
        if self.tls_context:
            server.socket = self.tls_context.wrap_socket(
                server.socket, server_side=True,
                do_handshake_on_connect=False)
        self.server = server
        self.port = server.server_address[1]
        self.seen = server.seen
        fixtures_net.serve_in_thread(self, server)
        self.addCleanup(server.release.set)

    def url(self, path, host='127.0.0.1', scheme='http'):
        return '%s://%s:%d%s' % (scheme, host, self.port, path)


PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'no_proxy', 'all_proxy')


class ProxyEnvironment(fixtures.Fixture):
    """The proxy variables of the environment set to ``values`` (e.g.
    ``HTTPS_PROXY='http://127.0.0.1:3128'``), every other one unset."""

    def __init__(self, **values):
        super().__init__()
        self.values = values

    def _setUp(self):
        for name in PROXY_VARIABLES:
            for variant in (name, name.upper()):
                self.useFixture(fixtures.EnvironmentVariable(
                    variant, self.values.get(variant)))


class FetchTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(ProxyEnvironment())
        self.http = self.useFixture(Server())
        self.dns = self.useFixture(test_url_filter.FakeDNS({
            'images.test': ['127.0.0.1'],
            'other.test': ['127.0.0.1'],
            'inside.test': ['10.0.0.1'],
        }))
        self.config(group=GROUP, allowed_ports=[80, 443, self.http.port],
                    allowed_internal_networks=['127.0.0.1/32'])

    def fetch(self, url, max_size=None, **kwargs):
        download = http_client.open_url(url, max_size, **kwargs)
        self.addCleanup(download.close)
        return download

    def assertFails(self, exc, url, *reasons, max_size=None, **kwargs):
        e = self.assertRaises(exc, http_client.open_url, url, max_size,
                              **kwargs)
        for reason in reasons:
            self.assertIn(reason, e.msg)
        return e


class TestFetch(FetchTestCase):

    def test_reads_data(self):
        download = self.fetch(self.http.url('/data'), max_size=len(DATA))
        self.assertEqual(len(DATA), download.size)
        self.assertEqual(self.http.url('/data'), download.url)
        chunks = iter(lambda: download.read(65536), b'')
        self.assertEqual(DATA, b''.join(chunks))
        self.assertEqual(b'', download.read(10))
        path, headers = self.http.seen[0]
        self.assertEqual('identity', headers['Accept-Encoding'])
        self.assertTrue(headers['User-Agent'].startswith('glance/'))

    def test_read_everything(self):
        with self.fetch(self.http.url('/data')) as download:
            self.assertEqual(DATA, download.read())

    def test_chunked_has_no_size(self):
        download = self.fetch(self.http.url('/chunked/25000'),
                              max_size=25000)
        self.assertIsNone(download.size)
        self.assertEqual(DATA[:10000] * 2 + DATA[:5000], download.read())

    def test_refused_by_default(self):
        self.config(group=GROUP, allowed_internal_networks=[])
        self.assertFails(exception.BadRequest, self.http.url('/data'),
                         'loopback')
        self.config(group=GROUP, allowed_internal_networks=['127.0.0.1/32'],
                    allowed_ports=[80, 443])
        self.assertFails(exception.BadRequest, self.http.url('/data'),
                         'port %d is not allowed' % self.http.port)
        self.assertEqual([], self.http.seen)

    def test_host_header_names_the_url_host(self):
        download = self.fetch(self.http.url('/echo', host='Images.Test'))
        self.assertEqual(b'images.test:%d|None' % self.http.port,
                         download.read())

    def test_connects_to_the_vetted_address_only(self):
        # The second lookup of the name would give another address; the
        # fetch must use the first answer and never ask again.
        answers = iter([['127.0.0.1'], ['127.0.0.2'], ['127.0.0.2']])
        self.dns.records['images.test'] = lambda: next(answers)
        download = self.fetch(self.http.url('/data', host='images.test'))
        self.assertEqual(DATA, download.read())
        self.assertEqual(1, self.dns.calls['images.test'])

    def test_tries_the_next_vetted_address(self):
        self.config(group=GROUP,
                    allowed_internal_networks=['127.0.0.0/8'])
        self.dns.records['images.test'] = ['127.0.0.2', '127.0.0.1']
        download = self.fetch(self.http.url('/data', host='images.test'))
        self.assertEqual(DATA, download.read())

    def test_basic_auth(self):
        url = self.http.url('/echo').replace('//', '//us%3Aer:p%40ss@')
        download = self.fetch(url)
        self.assertEqual(b'127.0.0.1:%d|Basic dXM6ZXI6cEBzcw=='
                         % self.http.port, download.read())

    def test_credentials_kept_on_same_origin_only(self):
        creds = '//u:p@'
        same = self.http.url('/to?/echo').replace('//', creds)
        self.assertIn(b'|Basic ', self.fetch(same).read())
        other = self.http.url('/echo', host='images.test')
        away = self.http.url('/to?' + urllib.parse.quote(other))
        self.assertEqual(b'images.test:%d|None' % self.http.port,
                         self.fetch(away.replace('//', creds, 1)).read())

    def test_non_ascii_path_is_encoded(self):
        self.fetch(self.http.url('/caf\u00e9?q=\u00e9')).close()
        self.assertEqual('/caf%C3%A9?q=%C3%A9', self.http.seen[0][0])


class TestResolveUrl(FetchTestCase):
    """``resolve_url``, the check for peers the operator configured."""

    def test_target_of_internal_address(self):
        self.assertEqual(
            url_filter.Target('http', '10.0.0.1', 9292, ['10.0.0.1'],
                              '/v2/x?y=1', 'u@x', 'p:w'),
            http_client.resolve_url('HTTP://u%40x:p%3Aw@10.0.0.1:9292'
                                    '/v2/x?y=1'))

    def test_name_resolved_port_defaulted(self):
        target = http_client.resolve_url('https://inside.test/')
        self.assertEqual(('inside.test', 443, ['10.0.0.1'], '/'),
                         (target.host, target.port, target.addresses,
                          target.request_target))

    def test_fetches_what_vet_url_refuses(self):
        self.config(group=GROUP, allowed_internal_networks=[])
        self.assertFails(exception.BadRequest, self.http.url('/data'),
                         'loopback')
        download = self.fetch(self.http.url('/data'),
                              check=http_client.resolve_url)
        self.assertEqual(DATA, download.read())

    def test_refusals(self):
        for url, exc, reason in (
                ('', exception.BadRequest, 'A URL to fetch is required.'),
                ('http://a.b/ x', exception.BadRequest,
                 'it contains spaces or control characters'),
                ('http://[1::2::3]/', exception.BadRequest, 'malformed'),
                ('ftp://10.0.0.1/', exception.BadRequest,
                 'only http and https URLs can be fetched'),
                ('http:///x', exception.BadRequest, 'names no host'),
                ('http://no-such-host.invalid/', http_client.Unreachable,
                 'no-such-host.invalid cannot be resolved')):
            e = self.assertRaises(exc, http_client.resolve_url, url)
            self.assertIn(reason, e.msg)


class TestRedirects(FetchTestCase):

    def test_follows_redirects(self):
        download = self.fetch(self.http.url('/redirect/3'))
        self.assertEqual(DATA, download.read())
        self.assertEqual(self.http.url('/data'), download.url)
        self.assertEqual(['/redirect/3', '/redirect/2', '/redirect/1',
                          '/redirect/0', '/data'],
                         [path for path, _ in self.http.seen])

    def test_five_redirects_at_most(self):
        self.assertEqual(DATA, self.fetch(self.http.url('/redirect/4'))
                         .read())
        self.assertFails(exception.BadRequest, self.http.url('/redirect/5'),
                         'more than 5 redirects')
        self.assertFails(exception.BadRequest, self.http.url('/redirect/1'),
                         'more than 1 redirects', max_redirects=1)

    def test_redirect_loops(self):
        self.assertFails(exception.BadRequest, self.http.url('/loop'),
                         'loop back to %s' % self.http.url('/loop'))
        self.assertFails(exception.BadRequest, self.http.url('/ping'),
                         'loop back to %s' % self.http.url('/ping'))

    def test_redirects_to_forbidden_places(self):
        port = self.http.port
        cases = {
            'http://169.254.169.254/latest/meta-data/': 'link-local',
            'http://[::1]:%d/data' % port: 'loopback',
            'http://127.0.0.2:%d/data' % port: 'loopback',
            'http://inside.test:%d/data' % port: 'private',
            'http://2130706433:%d/data' % port: 'standard dotted',
            'file:///etc/passwd': 'scheme file',
            'http://127.0.0.1:1/data': 'port 1 ',
        }
        for target, reason in cases.items():
            self.http.seen[:] = []
            url = self.http.url('/to?' + urllib.parse.quote(target))
            self.assertFails(exception.BadRequest, url, reason)
            self.assertEqual(1, len(self.http.seen))

    def test_redirect_without_location(self):
        self.assertFails(exception.BadRequest, self.http.url('/noloc'),
                         '302 redirect without a Location')


class TestFailures(FetchTestCase):

    def test_not_found(self):
        e = self.assertFails(exception.BadRequest, self.http.url('/missing'),
                             'answered 404 Not Found')
        self.assertIn(self.http.url('/missing'), e.msg)

    def test_server_error(self):
        self.assertFails(exception.Invalid, self.http.url('/broken'),
                         'answered 500')

    def test_not_found_after_redirect(self):
        self.assertFails(exception.BadRequest,
                         self.http.url('/to?/missing'),
                         '%s: the server answered 404'
                         % self.http.url('/missing'))

    def test_content_length_over_limit(self):
        e = self.assertFails(exception.RequestEntityTooLarge,
                             self.http.url('/data'), 'limit of 1000 bytes',
                             max_size=1000)
        self.assertEqual(413, e.code)
        download = self.fetch(self.http.url('/data'), max_size=len(DATA))
        self.assertEqual(DATA, download.read())

    def test_limit_exceeded_while_streaming(self):
        download = self.fetch(self.http.url('/chunked/50000'),
                              max_size=25000)
        received = b''
        e = None
        try:
            while True:
                chunk = download.read(4096)
                self.assertTrue(chunk)
                received += chunk
        except exception.RequestEntityTooLarge as error:
            e = error
        self.assertIsNotNone(e)
        self.assertGreater(len(received), 25000 - 4096)
        self.assertLessEqual(len(received), 25000)
        self.assertEqual(b'', download.read(10))

    def test_limit_exceeded_by_read_all(self):
        download = self.fetch(self.http.url('/chunked/50000'),
                              max_size=49999)
        self.assertRaises(exception.RequestEntityTooLarge, download.read)
        download = self.fetch(self.http.url('/chunked/50000'),
                              max_size=50000)
        self.assertEqual(50000, len(download.read()))

    def test_body_shorter_than_content_length(self):
        download = self.fetch(self.http.url('/short'))
        self.assertEqual(1000, download.size)
        e = self.assertRaises(exception.BadRequest, download.read)
        self.assertIn('closed after 500 of 1000 bytes', e.msg)

    def test_timeout_waiting_for_headers(self):
        self.assertFails(exception.BadRequest,
                         self.http.url('/stall-headers'),
                         'no answer within 0.3 seconds', timeout=0.3)

    def test_timeout_waiting_for_body(self):
        download = self.fetch(self.http.url('/stall-body'), timeout=0.3)
        self.assertEqual(b'x' * 10, download.read(10))
        e = self.assertRaises(exception.BadRequest, download.read, 10)
        self.assertIn('no answer within 0.3 seconds', e.msg)

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()
        self.config(group=GROUP, allowed_ports=[port])
        self.assertFails(exception.BadRequest,
                         'http://127.0.0.1:%d/data' % port,
                         'Connection refused')

    def test_not_http(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        self.config(group=GROUP, allowed_ports=[port])

        def answer():
            conn, _ = sock.accept()
            conn.recv(4096)
            conn.sendall(b'SSH-2.0-OpenSSH_9.6\r\n')
            conn.close()

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.assertFails(exception.BadRequest,
                         'http://127.0.0.1:%d/' % port,
                         'invalid HTTP response')


class TestHttps(FetchTestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.cert, key = fixtures_net.self_signed_certificate(
            tmp, 'images.test', [x509.DNSName('images.test')])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server_names = []
        context.sni_callback = (
            lambda sslobj, name, ctx: self.server_names.append(name))
        self.https = self.useFixture(Server(context))
        self.config(group=GROUP, allowed_ports=[self.https.port])
        self.trusting = ssl.create_default_context(cafile=self.cert)

    def test_verified_against_the_url_host(self):
        download = self.fetch(
            self.https.url('/echo', host='images.test', scheme='https'),
            ssl_context=self.trusting)
        self.assertEqual(b'images.test:%d|None' % self.https.port,
                         download.read())
        self.assertEqual(['images.test'], self.server_names)

    def test_certificate_for_another_name(self):
        self.assertFails(exception.BadRequest,
                         self.https.url('/echo', host='other.test',
                                        scheme='https'),
                         'certificate cannot be verified',
                         "Hostname mismatch, certificate is not valid for "
                         "'other.test'", ssl_context=self.trusting)
        self.assertFails(exception.BadRequest,
                         self.https.url('/echo', scheme='https'),
                         'certificate cannot be verified',
                         ssl_context=self.trusting)

    def test_default_context_uses_system_authorities(self):
        self.assertFails(exception.BadRequest,
                         self.https.url('/echo', host='images.test',
                                        scheme='https'),
                         'certificate cannot be verified',
                         'self-signed certificate')


def closed_port():
    """A port of 127.0.0.1 nothing listens on."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class TestProxies(TestHttps):
    """Proxies of the environment, with the filter still applied to the
    destination and the proxy pinned to the vetted address."""

    def setUp(self):
        super().setUp()
        self.proxy = self.useFixture(fixtures_net.ForwardProxy())
        self.config(group=GROUP, allowed_ports=[
            80, 443, self.http.port, self.https.port])
        self.dns.records['proxy.test'] = ['127.0.0.1']

    def use(self, **values):
        self.useFixture(ProxyEnvironment(**values))

    def https_url(self, path, host='images.test'):
        return self.https.url(path, host=host, scheme='https')

    def test_http_through_the_proxy(self):
        self.use(HTTP_PROXY=self.proxy.url())
        download = self.fetch(self.http.url('/echo', host='Images.Test'))
        self.assertEqual(b'images.test:%d|None' % self.http.port,
                         download.read())
        # The proxy is asked for the vetted address, the origin sees the
        # URL's host.
        [(method, target, headers)] = self.proxy.requests
        self.assertEqual(('GET', 'http://127.0.0.1:%d/echo'
                          % self.http.port), (method, target))
        self.assertEqual('images.test:%d' % self.http.port, headers['Host'])
        self.assertEqual(['/echo'], [path for path, _ in self.http.seen])

    def test_https_through_a_connect_tunnel(self):
        self.use(HTTPS_PROXY=self.proxy.url())
        download = self.fetch(self.https_url('/echo'),
                              ssl_context=self.trusting)
        self.assertEqual(b'images.test:%d|None' % self.https.port,
                         download.read())
        [(method, target, headers)] = self.proxy.requests
        self.assertEqual(('CONNECT', '127.0.0.1:%d' % self.https.port),
                         (method, target))
        self.assertEqual(['images.test'], self.server_names)

    def test_certificate_checked_through_the_tunnel(self):
        self.use(HTTPS_PROXY=self.proxy.url())
        self.assertFails(exception.BadRequest, self.https_url('/echo',
                                                              'other.test'),
                         'certificate cannot be verified',
                         "not valid for 'other.test'",
                         ssl_context=self.trusting)
        self.assertEqual(['CONNECT'],
                         [method for method, _, _ in self.proxy.requests])

    def test_the_scheme_picks_the_proxy(self):
        self.use(HTTPS_PROXY=self.proxy.url())
        self.fetch(self.http.url('/data')).close()
        self.assertEqual([], self.proxy.requests)

    def test_lowercase_variables_win(self):
        self.use(HTTP_PROXY='http://127.0.0.1:%d' % closed_port(),
                 http_proxy=self.proxy.url())
        self.assertEqual(DATA, self.fetch(self.http.url('/data')).read())
        self.assertEqual(1, len(self.proxy.requests))

    def test_proxy_without_scheme_and_by_name(self):
        self.use(HTTPS_PROXY='proxy.test:%d' % self.proxy.port)
        self.fetch(self.https_url('/echo'), ssl_context=self.trusting).close()
        self.assertEqual(1, len(self.proxy.requests))

    def test_no_proxy_hosts_are_reached_directly(self):
        dead = 'http://127.0.0.1:%d' % closed_port()
        for no_proxy in ('images.test', '.test', 'test',
                         'images.test:%d' % self.https.port, '*',
                         'elsewhere.example, IMAGES.TEST'):
            self.use(HTTPS_PROXY=dead, NO_PROXY=no_proxy)
            self.fetch(self.https_url('/echo'),
                       ssl_context=self.trusting).close()
        self.use(HTTPS_PROXY=dead, NO_PROXY='other.test,ages.test')
        self.assertFails(exception.BadRequest, self.https_url('/echo'),
                         'the proxy 127.0.0.1:', 'cannot be reached',
                         ssl_context=self.trusting)

    def test_filter_applies_before_the_proxy(self):
        self.use(HTTP_PROXY=self.proxy.url(), HTTPS_PROXY=self.proxy.url())
        self.config(group=GROUP, allowed_internal_networks=[])
        self.assertFails(exception.BadRequest,
                         self.http.url('/data', host='images.test'),
                         'loopback')
        self.assertFails(exception.BadRequest, self.https_url('/echo'),
                         'loopback', ssl_context=self.trusting)
        self.assertFails(exception.BadRequest,
                         'http://inside.test:%d/' % self.http.port,
                         'private')
        self.assertEqual([], self.proxy.requests)

    def test_the_name_is_resolved_once_and_pinned(self):
        # The proxy never sees the name: a record changed after the
        # check cannot send it elsewhere.
        self.use(HTTPS_PROXY=self.proxy.url())
        answers = iter([['127.0.0.1'], ['10.0.0.1']])
        self.dns.records['images.test'] = lambda: next(answers)
        self.fetch(self.https_url('/echo'), ssl_context=self.trusting).close()
        self.assertEqual(1, self.dns.calls['images.test'])
        self.assertEqual('127.0.0.1:%d' % self.https.port,
                         self.proxy.requests[0][1])

    def test_redirect_to_a_refused_address_through_the_proxy(self):
        self.use(HTTP_PROXY=self.proxy.url())
        for target, reason in (
                ('http://169.254.169.254/latest/meta-data/', 'link-local'),
                ('http://inside.test:%d/data' % self.http.port, 'private')):
            self.proxy.requests[:] = []
            url = self.http.url('/to?' + urllib.parse.quote(target))
            self.assertFails(exception.BadRequest, url, reason)
            self.assertEqual(1, len(self.proxy.requests))

    def test_redirects_followed_through_the_proxy(self):
        self.use(HTTP_PROXY=self.proxy.url())
        self.assertEqual(DATA, self.fetch(self.http.url('/redirect/1'))
                         .read())
        self.assertEqual(
            ['http://127.0.0.1:%d%s' % (self.http.port, path)
             for path in ('/redirect/1', '/redirect/0', '/data')],
            [target for _, target, _ in self.proxy.requests])

    def test_proxy_credentials_go_to_the_proxy_only(self):
        proxy_auth = 'Basic ' + base64.b64encode(b'pu:p@ss').decode()
        self.use(HTTP_PROXY=self.proxy.url('pu:p%40ss@'),
                 HTTPS_PROXY=self.proxy.url('pu:p%40ss@'))
        download = self.fetch(self.https_url('/echo'),
                              ssl_context=self.trusting)
        self.assertEqual(b'images.test:%d|None' % self.https.port,
                         download.read())
        download = self.fetch(self.http.url('/echo', host='images.test'))
        self.assertEqual(b'images.test:%d|None' % self.http.port,
                         download.read())
        self.assertEqual(
            [('CONNECT', proxy_auth), ('GET', proxy_auth)],
            [(method, headers.get('Proxy-Authorization'))
             for method, _, headers in self.proxy.requests])
        # Through the tunnel the origin hears the client itself.
        self.assertNotIn('Proxy-Authorization', self.https.seen[0][1])

    def test_origin_credentials_are_not_the_proxy_credentials(self):
        self.use(HTTPS_PROXY=self.proxy.url('pu:pp@'))
        url = self.https_url('/echo').replace('//', '//u:p@')
        download = self.fetch(url, ssl_context=self.trusting)
        self.assertEqual(b'images.test:%d|Basic dTpw' % self.https.port,
                         download.read())
        self.assertEqual('Basic cHU6cHA=',
                         self.proxy.requests[0][2]['Proxy-Authorization'])

    def test_proxy_refusing_connect(self):
        self.use(HTTPS_PROXY=self.proxy.url())
        self.proxy.refuse('403 Forbidden')
        e = self.assertFails(
            http_client.Unreachable, self.https_url('/echo'),
            'Cannot fetch https://images.test:%d/echo' % self.https.port,
            'the proxy 127.0.0.1:%d refused to connect to 127.0.0.1:%d '
            '(403 Forbidden)' % (self.proxy.port, self.https.port),
            ssl_context=self.trusting)
        self.assertEqual(400, e.code)
        self.assertEqual([], self.server_names)

    def test_proxy_that_cannot_be_reached(self):
        port = closed_port()
        self.use(HTTP_PROXY='http://127.0.0.1:%d' % port)
        self.assertFails(http_client.Unreachable, self.http.url('/data'),
                         'the proxy 127.0.0.1:%d cannot be reached' % port,
                         'Connection refused')
        self.use(HTTP_PROXY='http://nowhere.invalid:3128')
        self.assertFails(http_client.Unreachable, self.http.url('/data'),
                         'the proxy nowhere.invalid:3128 cannot be '
                         'resolved')

    def test_proxy_settings_that_cannot_be_used(self):
        self.use(HTTP_PROXY='socks5://127.0.0.1:%d' % self.proxy.port)
        self.assertFails(exception.BadRequest, self.http.url('/data'),
                         'not an http:// proxy')
        self.use(HTTP_PROXY='http://[::1')
        self.assertFails(exception.BadRequest, self.http.url('/data'),
                         'proxy setting', 'is not valid')
        self.assertEqual([], self.proxy.requests)
