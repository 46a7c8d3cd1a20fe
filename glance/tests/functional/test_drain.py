"""Transfers across SIGHUP and SIGTERM: a download survives a reload; an
upload either finishes within graceful_shutdown_timeout or is interrupted
and rolled back (image queued, no data left) before the process exits,
within Debian's TimeoutStopSec of 15 seconds."""

import hashlib
import os
import signal
import socket
import time

import psutil
import requests

from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_systemd as hs

MIB = 1024 * 1024
# No idle keep-alive connection of the test's own may hold a worker back.
CLOSE = {'Connection': 'close'}
OCTETS = dict(CLOSE, **{'Content-Type': 'application/octet-stream'})
# Debian's units give a service this long between SIGTERM and SIGKILL.
DEBIAN_STOP_TIMEOUT = 15


def _create(daemon, name):
    resp = requests.post(daemon.url + '/v2/images', timeout=30,
                         headers=CLOSE, json={
        'name': name, 'disk_format': 'raw', 'container_format': 'bare'})
    assert resp.status_code == 201, resp.text
    return resp.json()['id']


def _image(daemon, image_id):
    return requests.get(daemon.url + '/v2/images/' + image_id,
                        headers=CLOSE, timeout=30).json()


class DrainTestCase(hd.DaemonTestCase):

    def images_dir(self):
        return os.path.join(self.workdir, 'images')

    def begin_upload(self, daemon, image_id, data, sent):
        """A PUT of ``data`` of which the first ``sent`` bytes are on
        their way; returns the socket once the image is saving and its
        data file exists."""
        sock = hd.connect(daemon.port)
        self.addCleanup(sock.close)
        sock.sendall(b'PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'Content-Length: %d\r\n\r\n'
                     % (image_id.encode(), len(data)))
        sock.sendall(data[:sent])
        hd.wait_for(lambda: _image(daemon, image_id)['status'] == 'saving',
                    what='the upload to start')
        # The partial file the rollback must remove.
        hd.wait_for(lambda: os.listdir(self.images_dir()),
                    what='a partial data file')
        return sock


class TestSigtermDuringUpload(DrainTestCase):

    def test_upload_that_fits_the_bound_completes(self):
        daemon = self.start_daemon(workers=2)
        image_id = _create(daemon, 'finishes')
        data = os.urandom(8 * MIB)
        sock = self.begin_upload(daemon, image_id, data, 3 * MIB)
        serving = hd.server_of(sock, hd.worker_pids(daemon.proc.pid))
        idle = hd.idle_connections(daemon, {serving})[serving]
        self.addCleanup(idle.close)

        daemon.signal(signal.SIGTERM)
        # The client goes on once the worker has taken the signal (it
        # closed its idle connection).
        self.assertTrue(hd.is_closed(idle))
        sock.sendall(data[3 * MIB:])
        status, _, payload, _ = hd.read_response(sock)
        self.assertEqual(204, status, payload)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))

        daemon.proc.stdout.close()
        daemon.start()
        image = _image(daemon, image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])

    def _stalled_upload(self, workers, options=None):
        daemon = self.start_daemon(workers=workers, options=options)
        image_id = _create(daemon, 'stalls')
        data = os.urandom(8 * MIB)
        sock = self.begin_upload(daemon, image_id, data, 3 * MIB)

        # The client sends nothing more, and keeps its connection open.
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))
        elapsed = time.monotonic() - started

        # The request was cut, not answered with success.
        sock.settimeout(5)
        try:
            answer = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            answer = b''
        self.assertFalse(answer.startswith(b'HTTP/1.1 2'), answer)
        self.assertIn('interrupting', hd.log_text(daemon))

        # Rolled back: no data file, partial or not, and the image is
        # queued again, ready for another upload.
        self.assertEqual([], os.listdir(self.images_dir()))
        daemon.proc.stdout.close()
        daemon.start()
        image = _image(daemon, image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertIsNone(image['checksum'])
        resp = requests.put(daemon.url + '/v2/images/%s/file' % image_id,
                            data=data, timeout=60, headers=OCTETS)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual('active', _image(daemon, image_id)['status'])
        return elapsed

    def test_stalled_upload_rolled_back_within_debian_stop_timeout(self):
        # Default graceful_shutdown_timeout: the whole stop, rollback
        # included, must fit before systemd's SIGKILL.
        elapsed = self._stalled_upload(workers=2)
        self.assertLess(elapsed, DEBIAN_STOP_TIMEOUT)

    def test_stalled_upload_rolled_back_single_process(self):
        elapsed = self._stalled_upload(
            workers=0, options={'graceful_shutdown_timeout': 2})
        self.assertGreaterEqual(elapsed, 2)
        self.assertLess(elapsed, 2 + 3 + 3)


class TestSighupDuringDownload(DrainTestCase):

    def test_download_completes_across_reload(self):
        listener = hs.NotifyListener(self.workdir)
        self.addCleanup(listener.close)
        daemon = self.make_daemon(workers=2)
        daemon.start(env=listener.env())
        old = self.wait_workers(daemon, 2)
        image_id = _create(daemon, 'big')
        data = os.urandom(48 * MIB)
        resp = requests.put(daemon.url + '/v2/images/%s/file' % image_id,
                            data=data, timeout=120, headers=OCTETS)
        self.assertEqual(204, resp.status_code, resp.text)

        sock = hd.connect(daemon.port)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(b'GET /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n\r\n'
                     % image_id.encode())
        received = hd.recv_until(sock, b'\r\n\r\n')
        head, _, rest = received.partition(b'\r\n\r\n')
        body = bytearray(rest)
        self.assertIn(b' 200 ', head.split(b'\r\n')[0])
        self.assertIn(b'content-length: %d' % len(data), head.lower())
        while len(body) < MIB:
            body += sock.recv(65536)

        serving = _server_of(sock, old)

        index = len(listener.snapshot())
        daemon.signal(signal.SIGHUP)
        at, _ = listener.wait('RELOADING', after=index)
        listener.wait('READY', after=at + 1)
        hd.wait_for(lambda: len(hd.worker_pids(daemon.proc.pid) - old) == 2,
                    what='the new workers')
        # The other old worker, idle, took the same SIGHUP and left; the
        # one sending the image is still at it.
        hd.wait_for(lambda: not (old - {serving}) & hd.worker_pids(
            daemon.proc.pid), what='the idle old worker to exit')
        self.assertIn(serving, hd.worker_pids(daemon.proc.pid))

        while len(body) < len(data):
            chunk = sock.recv(4 * MIB)
            if not chunk:
                break
            body += chunk
        self.assertEqual(len(data), len(body))
        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         hashlib.sha256(body).hexdigest())
        # Then the old worker leaves.
        hd.wait_for(lambda: serving not in hd.worker_pids(daemon.proc.pid),
                    what='the old worker to exit')
        self.assertIsNone(daemon.proc.poll())
        self.assertNotIn('interrupting', hd.log_text(daemon))


def _server_of(sock, pids):
    """Which of ``pids`` holds the server end of ``sock``."""
    port = sock.getsockname()[1]
    for pid in pids:
        for conn in psutil.Process(pid).connections('tcp'):
            if conn.raddr and conn.raddr.port == port:
                return pid
    raise AssertionError('no worker serves port %d' % port)


class TestSigtermAfterReload(hd.DaemonTestCase):
    """A stop that comes while the workers a reload replaced are still
    draining: their idle keep-alive connections must not hold it back."""

    def _reloaded_daemon(self, options=None, lingering=True):
        """A daemon with 2 workers, reloaded (with a changed option)
        while a requests.Session keeps a connection to one of the old
        workers; returns (daemon, session, the old worker holding it).
        With ``lingering``, that worker is checked to be the only old one
        left."""
        listener = hs.NotifyListener(self.workdir)
        self.addCleanup(listener.close)
        daemon = self.make_daemon(workers=2, options=options)
        daemon.start(env=listener.env())
        old = self.wait_workers(daemon, 2)
        session = requests.Session()
        self.addCleanup(session.close)
        for i in range(3):
            resp = session.post(daemon.url + '/v2/images', timeout=30,
                                json={'name': 'i%d' % i,
                                      'disk_format': 'raw',
                                      'container_format': 'bare'})
            self.assertEqual(201, resp.status_code, resp.text)
            self.assertEqual(200, session.get(daemon.url + '/v2/images',
                                              timeout=30).status_code)
        # Every call went over one keep-alive connection, to one worker.
        holder = hd.wait_for(lambda: _holders(old, daemon.port),
                             what='the session connection')
        self.assertEqual(1, len(holder), holder)

        index = len(listener.snapshot())
        hd.set_option(daemon, 'DEFAULT', 'limit_param_default', 2)
        daemon.signal(signal.SIGHUP)
        at, _ = listener.wait('RELOADING', after=index)
        listener.wait('READY', after=at + 1)
        hd.wait_for(lambda: len(hd.worker_pids(daemon.proc.pid) - old) == 2,
                    what='the new workers')
        # The old worker without connections is gone; the one holding the
        # session's idle connection waits for its next request.
        idle_worker = holder.pop()
        if not lingering:
            return daemon, session, idle_worker
        hd.wait_for(lambda: hd.worker_pids(daemon.proc.pid) & old
                    == {idle_worker}, what='the other old worker to exit')
        return daemon, session, idle_worker

    def test_sigterm_soon_after_reload_is_not_held_back(self):
        daemon, _session, _ = self._reloaded_daemon()
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))
        elapsed = time.monotonic() - started
        # Not graceful_shutdown_timeout (10 s): nothing was in flight.
        self.assertLess(elapsed, 3)
        self.assertNotIn('interrupting', hd.log_text(daemon))

    def test_session_goes_on_after_reload_then_stops_quickly(self):
        daemon, session, idle_worker = self._reloaded_daemon()
        # The old worker answers the session's next request and closes
        # the connection; later ones reach the new generation (new
        # limit_param_default).
        results = []
        for _ in range(4):
            resp = session.get(daemon.url + '/v2/images', timeout=30)
            results.append((resp.status_code, len(resp.json()['images'])))
        self.assertEqual([200] * 4, [status for status, _ in results])
        self.assertEqual(2, results[-1][1])
        hd.wait_for(lambda: idle_worker not in hd.worker_pids(
            daemon.proc.pid), what='the old worker to exit')
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))
        self.assertLess(time.monotonic() - started, 3)
        self.assertNotIn('interrupting', hd.log_text(daemon))

    def test_idle_connection_closed_after_timeout_without_warning(self):
        # Left alone, the old worker closes the idle connection when
        # graceful_shutdown_timeout ends: nothing was interrupted.
        daemon, session, idle_worker = self._reloaded_daemon(
            options={'graceful_shutdown_timeout': 1}, lingering=False)
        hd.wait_for(lambda: idle_worker not in hd.worker_pids(
            daemon.proc.pid), what='the old worker to exit')
        log = hd.log_text(daemon)
        self.assertIn('Closing 1 idle keep-alive connections', log)
        self.assertNotIn('interrupting', log)
        # The session notices and opens a new connection.
        self.assertEqual(200, session.get(daemon.url + '/v2/images',
                                          timeout=30).status_code)


def _holders(pids, port):
    """Which of ``pids`` have a connection from a client to ``port``."""
    found = set()
    for pid in pids:
        for conn in psutil.Process(pid).connections('tcp'):
            if (conn.laddr and conn.laddr.port == port and conn.raddr
                    and conn.status == psutil.CONN_ESTABLISHED):
                found.add(pid)
    return found
