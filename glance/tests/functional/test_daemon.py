"""The glance-api process: workers, signals, HTTP protocol details and the
server options of [DEFAULT], observed from outside over real sockets."""

import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

import requests

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd

IMAGE = {'name': 'img', 'disk_format': 'raw', 'container_format': 'bare'}


def post_image_head(extra=b''):
    """Request line and headers of a chunked POST /v2/images."""
    return (b'POST /v2/images HTTP/1.1\r\n'
            b'Host: 127.0.0.1\r\n'
            b'Content-Type: application/json\r\n'
            b'Transfer-Encoding: chunked\r\n' + extra + b'\r\n')


class TestWorkers(hd.DaemonTestCase):
    """Pre-forked workers and the signals of the parent."""

    def test_workers_serve_and_dead_worker_is_replaced(self):
        daemon = self.start_daemon(workers=2)
        first = self.wait_workers(daemon, 2)
        for _ in range(10):
            self.assertEqual(200, requests.get(
                daemon.url + '/v2/images', timeout=30).status_code)

        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)

        def replaced():
            now = hd.worker_pids(daemon.proc.pid)
            return (victim not in now and len(now) == 2) and now
        now = hd.wait_for(replaced, what='a replacement worker')
        self.assertEqual(1, len(now - first), now)
        self.assertIsNone(daemon.proc.poll())

        # Every request goes through, whichever worker accepts it.
        for i in range(20):
            resp = requests.post(daemon.url + '/v2/images',
                                 json=dict(IMAGE, name='after-%d' % i),
                                 headers={'Connection': 'close'}, timeout=30)
            self.assertEqual(201, resp.status_code, resp.text)
        images = requests.get(daemon.url + '/v2/images?limit=100',
                              timeout=30).json()['images']
        self.assertEqual(20, len(images))

    def test_parent_loads_the_notification_stack_before_forking(self):
        # oslo.messaging and its dependencies are imported by the parent,
        # so their pages are shared by the workers rather than loaded in
        # each one at its first request. msgpack's C extension is one of
        # them, and only oslo.messaging brings it in.
        daemon = self.start_daemon(workers=2)
        workers = self.wait_workers(daemon, 2)
        with open('/proc/%d/maps' % daemon.proc.pid) as f:
            parent_maps = f.read()
        self.assertIn('_cmsgpack', parent_maps)
        for pid in workers:
            with open('/proc/%d/maps' % pid) as f:
                self.assertIn('_cmsgpack', f.read())

    def _sigterm_during_request(self, workers):
        # graceful_shutdown_timeout far above the waits below: the process
        # must exit because its work is done, not because time ran out.
        daemon = self.start_daemon(
            workers=workers, options={'graceful_shutdown_timeout': 120})
        if workers:
            self.wait_workers(daemon, workers)
        body = json.dumps(dict(IMAGE, name='in-flight')).encode()
        sock = hd.connect(daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(post_image_head(b'Expect: 100-continue\r\n'))
        # 100 Continue proves a worker is running the application and is
        # reading the body.
        hd.recv_until(sock, b'\r\n\r\n')
        sock.sendall(hd.chunk(body[:10]))
        idle = hd.idle_connections(daemon)
        for conn in idle.values():
            self.addCleanup(conn.close)

        daemon.signal(signal.SIGTERM)
        # Every process that serves has taken the signal: each closed its
        # idle connection.
        for pid, conn in idle.items():
            self.assertTrue(hd.is_closed(conn), pid)

        # A connection made now must not be served.
        try:
            probe = hd.connect(daemon.port, timeout=5)
        except ConnectionRefusedError:
            probe = None
        else:
            self.addCleanup(probe.close)
            probe.sendall(b'GET /versions HTTP/1.1\r\nHost: x\r\n\r\n')

        # The client sends the rest only now.
        sock.sendall(hd.chunk(body[10:]) + b'0\r\n\r\n')
        status, headers, payload, _ = hd.read_response(sock)
        self.assertEqual(201, status, payload)
        self.assertEqual('in-flight', json.loads(payload)['name'])

        # The client keeps its connection open: the server must not wait
        # for it before exiting.
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))
        if probe is not None:
            self.assertTrue(hd.is_closed(probe),
                            'a connection made after SIGTERM was served')
        self.assertRaises(ConnectionRefusedError, hd.connect, daemon.port)
        self.assertEqual(set(), hd.worker_pids(daemon.proc.pid))

        # The image really was stored.
        daemon.proc.stdout.close()
        daemon.start()
        names = [i['name'] for i in requests.get(
            daemon.url + '/v2/images', timeout=30).json()['images']]
        self.assertEqual(['in-flight'], names)

    def test_sigterm_lets_in_flight_request_finish_workers(self):
        self._sigterm_during_request(workers=2)

    def test_sigterm_lets_in_flight_request_finish_single_process(self):
        self._sigterm_during_request(workers=0)

    def test_sigterm_idle_daemon_exits_zero(self):
        daemon = self.start_daemon(workers=2)
        pids = self.wait_workers(daemon, 2)
        daemon.signal(signal.SIGTERM)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))
        for pid in pids:
            hd.wait_for(lambda: not _alive(pid), what='worker %d exit' % pid)

    def _sighup_reload(self, workers):
        daemon = self.start_daemon(workers=workers)
        if workers:
            old = self.wait_workers(daemon, workers)
        for i in range(3):
            self.assertEqual(201, requests.post(
                daemon.url + '/v2/images', json=dict(IMAGE, name='i%d' % i),
                timeout=30).status_code)
        listing = requests.get(daemon.url + '/v2/images', timeout=30).json()
        self.assertEqual(3, len(listing['images']))
        self.assertNotIn('next', listing)

        # Requests in a loop, each on a fresh connection, during the reload.
        results = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    resp = requests.get(daemon.url + '/v2/images',
                                        headers={'Connection': 'close'},
                                        timeout=30)
                    results.append(resp.status_code)
                except requests.RequestException as e:
                    results.append(repr(e))
        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            hd.wait_for(lambda: len(results) > 10, what='first requests')
            hd.set_option(daemon, 'DEFAULT', 'limit_param_default', 2)
            daemon.signal(signal.SIGHUP)

            def reloaded():
                # Dropped requests are counted by the threads above.
                body = _get_json(daemon.url + '/v2/images')
                return body and len(body['images']) == 2 and 'next' in body
            hd.wait_for(reloaded, what='the new limit_param_default')
            if workers:
                # The old generation drains and is replaced.
                hd.wait_for(lambda: not (old & hd.worker_pids(
                    daemon.proc.pid)), what='old workers to exit')
                self.wait_workers(daemon, workers)
            # Keep hammering the new generation for a moment.
            count = len(results)
            hd.wait_for(lambda: len(results) > count + 10,
                        what='requests after the reload')
        finally:
            stop.set()
            for t in threads:
                t.join()
        failures = [r for r in results if r != 200]
        self.assertEqual([], failures)
        self.assertIsNone(daemon.proc.poll())
        # Every request now uses the new default page size.
        for _ in range(5):
            body = requests.get(daemon.url + '/v2/images', timeout=30).json()
            self.assertEqual(2, len(body['images']))
            self.assertIn('marker=', body['next'])

    def test_sighup_reloads_configuration_workers(self):
        self._sighup_reload(workers=2)

    def test_sighup_reloads_configuration_single_process(self):
        self._sighup_reload(workers=0)

    def test_sighup_with_broken_config_keeps_serving(self):
        daemon = self.start_daemon(workers=2)
        old = self.wait_workers(daemon, 2)
        hd.set_option(daemon, 'paste_deploy', 'flavor', 'nosuchflavor')
        daemon.signal(signal.SIGHUP)
        # The failure is reported in the log, naming what is wrong.
        hd.wait_for(lambda: 'nosuchflavor' in hd.log_text(daemon),
                    what='the reload error in the log')
        for _ in range(10):
            self.assertEqual(200, requests.get(
                daemon.url + '/v2/images', headers={'Connection': 'close'},
                timeout=30).status_code)
        self.assertIsNone(daemon.proc.poll())
        self.assertEqual(old, hd.worker_pids(daemon.proc.pid))

        # Once the configuration is repaired, SIGHUP applies it.
        hd.set_option(daemon, 'paste_deploy', 'flavor', '')
        hd.set_option(daemon, 'DEFAULT', 'limit_param_default', 1)
        for i in range(2):
            requests.post(daemon.url + '/v2/images',
                          json=dict(IMAGE, name='i%d' % i), timeout=30)
        daemon.signal(signal.SIGHUP)
        hd.wait_for(lambda: len((_get_json(daemon.url + '/v2/images') or
                                 {'images': []})['images']) == 1,
                    what='the repaired configuration')


def _get_json(url):
    """The JSON body of a GET, or None when the request failed."""
    try:
        resp = requests.get(url, headers={'Connection': 'close'},
                            timeout=30)
    except requests.RequestException:
        return None
    return resp.json() if resp.status_code == 200 else None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


class TestProtocol(base.SharedDaemonTest):
    """HTTP details of the eventlet server with default options."""

    workers = 2

    def _conn(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.daemon.port,
                                          timeout=30)
        self.addCleanup(conn.close)
        return conn

    def test_chunked_request_body(self):
        body = json.dumps(dict(IMAGE, name='chunky')).encode()
        pieces = [body[i:i + 7] for i in range(0, len(body), 7)]
        conn = self._conn()
        conn.request('POST', '/v2/images', body=iter(pieces),
                     headers={'Content-Type': 'application/json',
                              'X-Project-Id': self.project},
                     encode_chunked=True)
        resp = conn.getresponse()
        payload = resp.read()
        self.assertEqual(201, resp.status, payload)
        self.assertEqual('chunky', json.loads(payload)['name'])

    def test_chunked_patch_body(self):
        image = self.create_image(headers=self.headers(), **IMAGE)
        body = json.dumps([{'op': 'replace', 'path': '/name',
                            'value': 'patched'}]).encode()
        conn = self._conn()
        conn.request('PATCH', '/v2/images/%s' % image['id'],
                     body=iter([body[:5], body[5:]]),
                     headers={'Content-Type': 'application/openstack-images-'
                                              'v2.1-json-patch',
                              'X-Project-Id': self.project},
                     encode_chunked=True)
        resp = conn.getresponse()
        payload = resp.read()
        self.assertEqual(200, resp.status, payload)
        self.assertEqual('patched', json.loads(payload)['name'])

    def _expect_continue(self, framing, body):
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'POST /v2/images HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/json\r\n'
                     b'X-Project-Id: ' + self.project.encode() + b'\r\n'
                     b'Expect: 100-continue\r\n' + framing + b'\r\n')
        # The server must invite the body before the client sends it.
        interim = hd.recv_until(sock, b'\r\n\r\n')
        self.assertRegex(interim.split(b'\r\n')[0].decode(),
                         r'^HTTP/1\.1 100 ')
        sock.sendall(body)
        status, headers, payload, _ = hd.read_response(sock)
        self.assertEqual(201, status, payload)
        return json.loads(payload)

    def test_expect_100_continue_with_content_length(self):
        body = json.dumps(dict(IMAGE, name='expect-cl')).encode()
        image = self._expect_continue(
            b'Content-Length: %d\r\n' % len(body), body)
        self.assertEqual('expect-cl', image['name'])

    def test_expect_100_continue_with_chunked_body(self):
        body = json.dumps(dict(IMAGE, name='expect-chunked')).encode()
        image = self._expect_continue(
            b'Transfer-Encoding: chunked\r\n',
            hd.chunk(body[:3]) + hd.chunk(body[3:]) + b'0\r\n\r\n')
        self.assertEqual('expect-chunked', image['name'])

    def test_keepalive_by_default(self):
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        request = (b'GET /v2/images HTTP/1.1\r\nHost: x\r\n'
                   b'X-Project-Id: ' + self.project.encode() + b'\r\n\r\n')
        for _ in range(3):
            sock.sendall(request)
            status, headers, payload, rest = hd.read_response(sock)
            self.assertEqual(200, status, payload)
            self.assertNotEqual('close', headers.get('connection', ''))
            self.assertEqual(b'', rest)

    def test_default_max_header_line(self):
        # 16384 by default: an 8 KiB header is fine, a 20 KiB one is not.
        resp = self.request('GET', '/v2/images',
                            headers=self.headers(**{'X-Junk': 'a' * 8000}))
        self.assertEqual(200, resp.status_code)
        sock = hd.connect(self.daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'GET /v2/images HTTP/1.1\r\nHost: x\r\nX-Junk: '
                     + b'a' * 20000 + b'\r\n\r\n')
        status, _, _, _ = hd.read_response(sock)
        self.assertGreaterEqual(status, 400)
        self.assertLess(status, 500)


class TestServerOptions(hd.DaemonTestCase):
    """[DEFAULT] options of the eventlet server."""

    def test_http_keepalive_false_closes_connections(self):
        daemon = self.start_daemon(options={'http_keepalive': 'false'})
        sock = hd.connect(daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'GET /v2/images HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, _, rest = hd.read_response(sock)
        self.assertEqual(200, status)
        self.assertEqual('close', headers.get('connection', '').lower())
        self.assertEqual(b'', rest)
        self.assertTrue(hd.is_closed(sock))
        # Same through an HTTP client library.
        resp = requests.get(daemon.url + '/v2/images', timeout=30)
        self.assertEqual('close', resp.headers.get('Connection', '').lower())

    def test_client_socket_timeout_closes_idle_connection(self):
        daemon = self.start_daemon(options={'client_socket_timeout': 2})
        # Idle from the start.
        idle = hd.connect(daemon.port)
        self.addCleanup(idle.close)
        # Idle after one keep-alive request.
        used = hd.connect(daemon.port)
        self.addCleanup(used.close)
        used.sendall(b'GET /versions HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, _, _ = hd.read_response(used)
        self.assertEqual(200, status)
        self.assertNotEqual('close', headers.get('connection', ''))
        self.assertTrue(hd.is_closed(idle))
        self.assertTrue(hd.is_closed(used))
        # The server itself is fine.
        self.assertEqual(200, requests.get(daemon.url + '/versions',
                                           timeout=30).status_code)

    def test_max_header_line_option(self):
        daemon = self.start_daemon(workers=1,
                                   options={'max_header_line': 1024})
        ok = requests.get(daemon.url + '/v2/images',
                          headers={'X-Junk': 'a' * 500}, timeout=30)
        self.assertEqual(200, ok.status_code)
        sock = hd.connect(daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'GET /v2/images HTTP/1.1\r\nHost: x\r\nX-Junk: '
                     + b'a' * 4000 + b'\r\n\r\n')
        status, _, _, _ = hd.read_response(sock)
        self.assertGreaterEqual(status, 400)
        self.assertLess(status, 500)

    def test_wsgi_default_pool_size_limits_concurrency(self):
        # One green thread: a second request waits for the first.
        daemon = self.start_daemon(options={'wsgi_default_pool_size': 1,
                                            'client_socket_timeout': 0})
        slow = hd.connect(daemon.port)
        self.addCleanup(slow.close)
        slow.sendall(post_image_head(b'Expect: 100-continue\r\n'
                                     b'Connection: close\r\n'))
        hd.recv_until(slow, b'\r\n\r\n')   # 100 Continue: it is running
        other = hd.connect(daemon.port)
        self.addCleanup(other.close)
        other.sendall(b'GET /versions HTTP/1.1\r\nHost: x\r\n'
                      b'Connection: close\r\n\r\n')
        other.settimeout(3)
        self.assertRaises(socket.timeout, other.recv, 1)
        body = json.dumps(IMAGE).encode()
        slow.sendall(hd.chunk(body) + b'0\r\n\r\n')
        self.assertEqual(201, hd.read_response(slow)[0])
        other.settimeout(hd.PATIENCE)
        self.assertEqual(200, hd.read_response(other)[0])

    def test_ten_thousand_idle_keepalive_clients(self):
        """Two workers with the default options hold 10,000 keep-alive
        connections left idle after a request, and a new client is still
        answered at once."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 10500:
            self.skipTest('the hard descriptor limit (%d) cannot hold '
                          '10,000 client sockets in this process' % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                        (soft, hard))
        # The daemon raises its own limit to the hard one: started with a
        # shell's usual 1024, it must get past it.
        daemon = self.make_daemon(workers=2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        daemon.start()
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        request = b'GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n'
        held = []

        def close_all():
            for sock in held:
                sock.close()
        self.addCleanup(close_all)
        for _ in range(20):
            batch = [hd.connect(daemon.port) for _ in range(500)]
            held += batch
            for sock in batch:
                sock.sendall(request)
            for sock in batch:
                self.assertEqual(200, hd.read_response(sock)[0])
        started = time.monotonic()
        resp = requests.get(daemon.url + '/versions', timeout=10)
        self.assertEqual(200, resp.status_code)
        self.assertLess(time.monotonic() - started, 2)
        # The idle ones are still open and served.
        for sock in held[::500]:
            sock.sendall(request)
            self.assertEqual(200, hd.read_response(sock)[0])

    def test_environment_overrides_bind_port(self):
        daemon = self.make_daemon()
        file_port = daemon.port
        env_port = base.free_port()
        daemon.port = env_port
        daemon.url = 'http://127.0.0.1:%d' % env_port
        daemon.start(env={'OS_DEFAULT__BIND_PORT': str(env_port)})
        self.assertEqual(200, requests.get(daemon.url + '/versions',
                                           timeout=30).status_code)
        self.assertRaises(ConnectionRefusedError, hd.connect, file_port)

    def test_environment_overrides_other_options(self):
        daemon = self.make_daemon()
        daemon.start(env={'OS_DEFAULT__LIMIT_PARAM_DEFAULT': '1'})
        for i in range(2):
            requests.post(daemon.url + '/v2/images',
                          json=dict(IMAGE, name='i%d' % i), timeout=30)
        body = requests.get(daemon.url + '/v2/images', timeout=30).json()
        self.assertEqual(1, len(body['images']))
        self.assertIn('next', body)

    def _run_to_exit(self, daemon, timeout=120):
        daemon.start(wait=False)
        try:
            code = daemon.proc.wait(timeout)
        finally:
            output = daemon.proc.stdout.read().decode(errors='replace')
        return code, output

    def _port_taken(self):
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        return blocker, blocker.getsockname()[1]

    def test_port_in_use(self):
        # The daemon retries for bind_retry_timeout seconds, then gives up.
        _blocker, port = self._port_taken()
        daemon = self.make_daemon(port=port,
                                  options={'bind_retry_timeout': 1})
        started = time.monotonic()
        code, output = self._run_to_exit(daemon)
        self.assertEqual(1, code, output)
        self.assertIn('ERROR:', output)
        self.assertIn('Could not bind', output)
        self.assertIn('after trying for 1 seconds', output)
        self.assertIn(str(port), output)
        self.assertLess(time.monotonic() - started, 20)

    def test_port_freed_while_retrying(self):
        blocker, port = self._port_taken()
        daemon = self.make_daemon(port=port,
                                  options={'bind_retry_timeout': 60})
        mark = hd.log_mark(daemon)
        daemon.start(wait=False)
        hd.wait_log(daemon, '127.0.0.1:%d is in use, trying again' % port,
                    mark)
        self.assertIsNone(daemon.proc.poll())
        blocker.close()
        daemon.wait_ready()
        self.assertEqual(200, requests.get(daemon.url + '/v2/images',
                                           timeout=30).status_code)

    def test_missing_paste_file(self):
        missing = os.path.join(self.workdir, 'no-such-paste.ini')
        daemon = self.make_daemon(
            options={'paste_deploy.config_file': missing})
        code, output = self._run_to_exit(daemon)
        self.assertEqual(1, code, output)
        self.assertIn('ERROR:', output)
        self.assertIn('paste', output.lower())

    def test_unknown_paste_flavor(self):
        daemon = self.make_daemon(flavor='nosuchflavor')
        code, output = self._run_to_exit(daemon)
        self.assertNotEqual(0, code, output)
        self.assertIn('nosuchflavor', output)

    def test_invalid_option_value(self):
        daemon = self.make_daemon(options={'workers': 'many'})
        code, output = self._run_to_exit(daemon)
        # oslo.config's ConfigFileValueError: exit code 5, as upstream.
        self.assertEqual(5, code, output)
        self.assertIn('ERROR:', output)
        self.assertIn('workers', output)


WSGIREF_SERVER = '''
import sys
from wsgiref import simple_server

from glance.wsgi.api import application

class Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = simple_server.make_server('127.0.0.1', int(sys.argv[1]),
                                   application, handler_class=Quiet)
print('serving', flush=True)
server.serve_forever()
'''


class TestWsgiApplication(hd.DaemonTestCase):
    """glance.wsgi.api:application under another WSGI server."""

    def start_wsgiref(self, options):
        daemon = self.make_daemon(options=options)
        confdir = os.path.join(self.workdir, 'etc')
        os.makedirs(confdir)
        os.rename(daemon.conf, os.path.join(confdir, 'glance-api.conf'))
        port = base.free_port()
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=confdir)
        proc = subprocess.Popen(
            [sys.executable, '-c', WSGIREF_SERVER, str(port)], cwd=base.ROOT,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.wsgiref_daemon = daemon
        return proc, port

    def test_unauthenticated_refused_where_the_address_is_unknown(self):
        # wsgiref does not tell the application where it listens: the
        # noauth flavor is refused unless the operator opts in.
        proc, _port = self.start_wsgiref({})
        try:
            output, _ = proc.communicate(timeout=hd.PATIENCE)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertNotEqual(0, proc.returncode)
        self.assertNotIn(b'serving', output)
        self.assertIn('allow_unauthenticated_remote',
                      hd.log_text(self.wsgiref_daemon))

    def test_importable_and_serving_under_wsgiref(self):
        proc, port = self.start_wsgiref(
            {'limit_param_default': 1,
             'paste_deploy.allow_unauthenticated_remote': 'true'})

        def finish():
            proc.kill()
            proc.wait()
            proc.stdout.close()
        self.addCleanup(finish)
        url = 'http://127.0.0.1:%d' % port
        hd.wait_for(lambda: proc.poll() is not None or base.server_answers(
            url), what='the wsgiref server')
        if proc.poll() is not None:
            self.fail('wsgiref server exited: %s'
                      % proc.stdout.read().decode(errors='replace'))

        for i in range(2):
            resp = requests.post(url + '/v2/images',
                                 json=dict(IMAGE, name='w%d' % i),
                                 timeout=30)
            self.assertEqual(201, resp.status_code, resp.text)
        # The configuration came from $OS_GLANCE_CONFIG_DIR.
        body = requests.get(url + '/v2/images', timeout=30).json()
        self.assertEqual(1, len(body['images']))
        self.assertIn('next', body)
        self.assertEqual(300, requests.get(url + '/', timeout=30).status_code)

        # wsgiref cannot decode a chunked body: the upload is refused, not
        # stored as an empty image.
        image_id = body['images'][0]['id']
        resp = requests.put(url + '/v2/images/%s/file' % image_id,
                            data=iter([b'some', b'data']), timeout=30,
                            headers={'Content-Type':
                                     'application/octet-stream'})
        self.assertEqual(411, resp.status_code, resp.text)
        self.assertIn('Content-Length', resp.text)
        image = requests.get(url + '/v2/images/' + image_id,
                             timeout=30).json()
        self.assertEqual('queued', image['status'])
