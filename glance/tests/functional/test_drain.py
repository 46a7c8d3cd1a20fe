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

        daemon.signal(signal.SIGTERM)
        time.sleep(1.5)   # the client goes on after the signal
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
        time.sleep(1)
        # The old worker sending the image is still at it.
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
