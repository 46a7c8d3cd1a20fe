"""glance.imports.proxy: an import replayed on the node holding the
staged data, against a real HTTP server on 127.0.0.1."""

import http.server
import json
import socket

import fixtures

from glance.common import exception
from glance import context
from glance.imports import proxy
from glance.tests.unit import base
from glance.tests.unit import fixtures_net
from glance.tests.unit.common import test_http_client

IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'


class _Handler(http.server.BaseHTTPRequestHandler):
    """Records each POST (path, headers, body) and answers with the
    server's ``answer``: (status, body, content type) or raw bytes."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.server.seen.append((self.path, dict(self.headers), body))
        answer = self.server.answer
        if isinstance(answer, bytes):
            self.wfile.write(answer)
            self.close_connection = True
            return
        status, data, content_type = answer
        self.send_response(status)
        if content_type:
            self.send_header('Content-Type', content_type)
        if status in (301, 302, 307, 308):
            self.send_header('Location', '/elsewhere')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StageHost(fixtures.Fixture):
    """A stand-in for the API node holding the staged data."""

    def _setUp(self):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.daemon_threads = True
        server.seen = self.seen = []
        server.answer = (202, b'', 'text/html; charset=UTF-8')
        self.server = server
        self.url = 'http://127.0.0.1:%d' % server.server_address[1]
        fixtures_net.serve_in_thread(self, server)

    def answer(self, answer):
        self.server.answer = answer


class TestReplay(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(test_http_client.ProxyEnvironment())
        self.host = self.useFixture(StageHost())
        self.ctx = context.RequestContext(
            auth_token='tok', project_id='proj', user_id='usr',
            roles=['member', 'reader'], request_id='req-123')
        self.body = {'method': {'name': 'glance-direct'},
                     'stores': ['fast']}

    def replay(self, host=None):
        return proxy.replay(self.ctx, host or self.host.url, IMAGE_ID,
                            self.body)

    def test_replays_as_the_caller(self):
        # 127.0.0.1 is refused to imports by default; a peer is not.
        answer = self.replay()
        self.assertEqual((202, b'', 'text/html; charset=UTF-8'),
                         (answer.status, answer.body, answer.content_type))
        [(path, headers, body)] = self.host.seen
        self.assertEqual('/v2/images/%s/import' % IMAGE_ID, path)
        self.assertEqual(self.body, json.loads(body))
        for name, value in (('Content-Type', 'application/json'),
                            (proxy.PROXIED_HEADER, '1'),
                            ('X-Auth-Token', 'tok'),
                            ('X-Project-Id', 'proj'),
                            ('X-User-Id', 'usr'),
                            ('X-Roles', 'member,reader'),
                            ('X-Openstack-Request-Id', 'req-123'),
                            ('Host', self.host.url[len('http://'):])):
            self.assertEqual(value, headers.get(name), name)

    def test_path_of_the_host_url_is_kept(self):
        self.replay(self.host.url + '/image/')
        self.assertEqual('/image/v2/images/%s/import' % IMAGE_ID,
                         self.host.seen[0][0])

    def test_errors_of_the_stage_host_are_passed_through(self):
        for status in (400, 403, 409, 500, 503):
            error = json.dumps({'message': 'no %d' % status}).encode()
            self.host.answer((status, error, 'application/json'))
            answer = self.replay()
            self.assertEqual((status, error, 'application/json'),
                             (answer.status, answer.body,
                              answer.content_type))

    def test_redirects_are_passed_through(self):
        self.host.answer((302, b'', None))
        answer = self.replay()
        self.assertEqual((302, None), (answer.status, answer.content_type))
        self.assertEqual(1, len(self.host.seen))

    def test_unreachable_stage_host_is_a_gateway_timeout(self):
        port = test_http_client.closed_port()
        e = self.assertRaises(exception.GatewayTimeout, self.replay,
                              'http://127.0.0.1:%d' % port)
        self.assertEqual(504, e.code)
        self.assertRaises(exception.GatewayTimeout, self.replay,
                          'http://stage-host.invalid:9292')

    def test_silent_stage_host_is_a_gateway_timeout(self):
        self.useFixture(fixtures.MonkeyPatch(
            'glance.imports.proxy.TIMEOUT', 0.3))
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        self.addCleanup(sock.close)
        self.assertRaises(exception.GatewayTimeout, self.replay,
                          'http://127.0.0.1:%d' % sock.getsockname()[1])

    def test_bad_answer_is_a_bad_gateway(self):
        for raw in (b'SSH-2.0-OpenSSH_9.6\r\n',
                    b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'):
            self.host.answer(raw)
            e = self.assertRaises(exception.BadGateway, self.replay)
            self.assertEqual(502, e.code)
            self.assertIn('Stage host %s answered badly' % self.host.url,
                          e.msg)

    def test_through_the_proxy_of_the_environment(self):
        forward = self.useFixture(fixtures_net.ForwardProxy())
        self.useFixture(test_http_client.ProxyEnvironment(
            HTTP_PROXY=forward.url()))
        self.assertEqual(202, self.replay().status)
        [(method, target, headers)] = forward.requests
        self.assertEqual(('POST', self.host.url + '/v2/images/%s/import'
                          % IMAGE_ID), (method, target))
        self.assertEqual(self.body, json.loads(self.host.seen[0][2]))
        self.useFixture(test_http_client.ProxyEnvironment(
            HTTP_PROXY=forward.url(), NO_PROXY='127.0.0.1'))
        self.assertEqual(202, self.replay().status)
        self.assertEqual(1, len(forward.requests))
        self.assertEqual(2, len(self.host.seen))
