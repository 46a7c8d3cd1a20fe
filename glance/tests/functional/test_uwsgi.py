"""glance.wsgi.api:application under Debian's uWSGI (packages uwsgi-core
and uwsgi-plugin-python3), run as the README describes: a real SQLite
database and filesystem store, uploads with and without Content-Length,
full and ranged downloads, keep-alive connections.

uWSGI's Python plugin is the system's Python; the test's virtualenv
packages reach it through --pythonpath, which needs both to be the same
Python minor version.
"""

import hashlib
import os
import re
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile

import fixtures
import requests
import testtools
from testtools import content

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd

PLUGIN = '/usr/lib/uwsgi/plugins/python3_plugin.so'
MIB = 1024 * 1024
OCTETS = {'Content-Type': 'application/octet-stream'}
IMAGE = {'name': 'uwsgi', 'disk_format': 'raw', 'container_format': 'bare'}


def _missing():
    """Why uWSGI cannot run the application here, or None."""
    if not shutil.which('uwsgi'):
        return 'no uwsgi command'
    if not os.path.exists(PLUGIN):
        return 'no %s' % PLUGIN
    return None


def _pieces(data, size=64 * 1024):
    """``data`` as a generator: requests sends it chunked."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def start_uwsgi(address, confdir, log_path, threads=True):
    command = ['uwsgi', '--plugin', 'python3',
               # Not --http-socket: it closes each connection after the
               # response without saying so, and a client that keeps
               # connections open then fails now and then.
               '--http11-socket', address,
               '--master', '--processes', '2', '--need-app',
               '--die-on-term', '--chdir', base.ROOT,
               '--pythonpath', base.ROOT]
    if threads:
        # Lease renewals and the recovery of interrupted uploads run in
        # threads.
        command.append('--enable-threads')
    for path in site.getsitepackages():
        command += ['--pythonpath', path]
    command += ['--env', 'OS_GLANCE_CONFIG_DIR=%s' % confdir,
                '--module', 'glance.wsgi.api:application']
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in base.PROXY_VARIABLES
           and k not in ('PYTHONHOME', 'PYTHONPATH')}
    with open(log_path, 'wb') as log:
        return subprocess.Popen(command, cwd=base.ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)


class TestUwsgiExposure(testtools.TestCase):
    """The unauthenticated (default) flavor is not served on every
    address under uWSGI either."""

    def refused(self, address, threads, reason):
        why = _missing()
        if why:
            prerequisites.require('UWSGI', False, why)
        workdir = self.useFixture(fixtures.TempDir()).path
        daemon = base.Daemon(workdir, base.Database('sqlite', workdir).url)
        daemon.manage('db', 'sync')
        confdir = os.path.join(workdir, 'etc')
        os.makedirs(confdir)
        os.rename(daemon.conf, os.path.join(confdir, 'glance-api.conf'))
        log_path = os.path.join(workdir, 'uwsgi.log')
        proc = start_uwsgi(address % base.free_port(), confdir, log_path,
                           threads=threads)
        try:
            proc.wait(hd.PATIENCE)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertNotEqual(0, proc.returncode)
        with open(daemon.log, errors='replace') as f:
            self.assertIn(reason, f.read())

    def test_refused_beyond_loopback(self):
        self.refused('0.0.0.0:%d', True, 'allow_unauthenticated_remote')

    def test_refused_without_threads(self):
        self.refused('127.0.0.1:%d', False, '--enable-threads')


class TestUwsgi(testtools.TestCase):
    """One uWSGI server (a master and two workers) for the class."""

    _unmet = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        why = _missing()
        if why:
            cls._unmet = prerequisites.check('UWSGI', False, why)
            return
        cls.workdir = tempfile.mkdtemp(prefix='glance-uwsgi-test-')
        db = base.Database('sqlite', cls.workdir)
        daemon = base.Daemon(cls.workdir, db.url)
        daemon.manage('db', 'sync')
        # Found the way the README says: $OS_GLANCE_CONFIG_DIR.
        confdir = os.path.join(cls.workdir, 'etc')
        os.makedirs(confdir)
        os.rename(daemon.conf, os.path.join(confdir, 'glance-api.conf'))
        cls.glance_log = daemon.log
        cls.images = os.path.join(cls.workdir, 'images')
        cls.port = base.free_port()
        cls.url = 'http://127.0.0.1:%d' % cls.port
        cls.uwsgi_log = os.path.join(cls.workdir, 'uwsgi.log')
        cls.proc = start_uwsgi('127.0.0.1:%d' % cls.port, confdir,
                               cls.uwsgi_log)
        try:
            hd.wait_for(lambda: (cls.proc.poll() is not None
                                 or base.server_answers(cls.url)),
                        what='uWSGI to serve the application')
        except AssertionError:
            cls._stop()
            raise
        if cls.proc.poll() is not None:
            text = cls._log_text()
            version = re.search(r'Python version: (\d+\.\d+)', text)
            ours = '%d.%d' % sys.version_info[:2]
            if version and version.group(1) != ours:
                cls._unmet = prerequisites.check(
                    'UWSGI', False, "uWSGI's python3 plugin is Python %s, "
                    'the virtualenv Python %s' % (version.group(1), ours))
                return
            raise AssertionError('uWSGI exited with %s:\n%s'
                                 % (cls.proc.returncode, text[-8000:]))

    @classmethod
    def _log_text(cls):
        with open(cls.uwsgi_log, errors='replace') as f:
            return f.read()

    @classmethod
    def _stop(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(hd.PATIENCE)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, 'proc'):
            cls._stop()
            shutil.rmtree(cls.workdir, True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)
        self.addOnException(self._attach_logs)
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def _attach_logs(self, exc_info):
        self.addDetail('uwsgi.log', content.text_content(
            self._log_text()[-20000:]))
        if os.path.exists(self.glance_log):
            with open(self.glance_log, errors='replace') as f:
                self.addDetail('glance-api.log', content.text_content(
                    f.read()[-20000:]))

    def create(self):
        resp = self.http.post(self.url + '/v2/images', json=IMAGE,
                              timeout=30)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()['id']

    def show(self, image_id):
        resp = self.http.get(self.url + '/v2/images/' + image_id,
                             timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def assert_stored(self, image_id, data):
        """The image is active with ``data``, whole and in ranges."""
        image = self.show(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])

        path = '/v2/images/%s/file' % image_id
        resp = self.http.get(self.url + path, timeout=60)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(str(len(data)), resp.headers['Content-Length'])
        self.assertEqual(image['checksum'], resp.headers['Content-MD5'])
        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         hashlib.sha256(resp.content).hexdigest())

        resp = self.http.get(self.url + path, timeout=30,
                             headers={'Range': 'bytes=1000-66535'})
        self.assertEqual(206, resp.status_code)
        self.assertEqual('bytes 1000-66535/%d' % len(data),
                         resp.headers['Content-Range'])
        self.assertEqual(data[1000:66536], resp.content)

        resp = self.http.get(self.url + path, timeout=30,
                             headers={'Range': 'bytes=-100'})
        self.assertEqual(206, resp.status_code)
        self.assertEqual('bytes %d-%d/%d' % (len(data) - 100, len(data) - 1,
                                             len(data)),
                         resp.headers['Content-Range'])
        self.assertEqual(data[-100:], resp.content)

    def test_chunked_upload(self):
        image_id = self.create()
        data = os.urandom(3 * MIB + 17)
        resp = self.http.put(self.url + '/v2/images/%s/file' % image_id,
                             data=_pieces(data), headers=OCTETS, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        # The request went without a length.
        self.assertEqual('chunked', resp.request.headers['Transfer-Encoding'])
        self.assertNotIn('Content-Length', resp.request.headers)
        self.assert_stored(image_id, data)

    def test_content_length_upload(self):
        image_id = self.create()
        data = os.urandom(2 * MIB + 5)
        resp = self.http.put(self.url + '/v2/images/%s/file' % image_id,
                             data=data, headers=OCTETS, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(str(len(data)),
                         resp.request.headers['Content-Length'])
        self.assert_stored(image_id, data)

    def test_chunked_json_body(self):
        body = b'{"name": "chunked", "disk_format": "raw", ' \
               b'"container_format": "bare"}'
        resp = self.http.post(self.url + '/v2/images',
                              data=_pieces(body, 10), timeout=30,
                              headers={'Content-Type': 'application/json'})
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual('chunked', resp.json()['name'])

    def test_keep_alive_session(self):
        # One connection, many requests, as python-glanceclient and
        # openstacksdk use it.
        image_id = self.create()
        for _ in range(50):
            self.assertEqual('queued', self.show(image_id)['status'])

    def test_chunk_over_the_limit_is_refused(self):
        # uWSGI takes chunks of up to --chunked-input-limit (1 MiB by
        # default): a larger one is a client error, and nothing is kept.
        image_id = self.create()
        sock = hd.connect(self.port)
        self.addCleanup(sock.close)
        sock.sendall(b'PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'Transfer-Encoding: chunked\r\n\r\n'
                     b'%x\r\n' % (image_id.encode(), 2 * MIB)
                     + os.urandom(4096))
        status, _, body, _ = hd.read_response(sock)
        self.assertEqual(400, status, body)
        self.assertIn(b'chunked request body could not be read', body)
        image = self.show(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertEqual([], os.listdir(self.images)
                         if os.path.exists(self.images) else [])

    def test_upload_of_a_killed_worker_recovered(self):
        # The workers die (kill -9) mid-upload; those uWSGI starts again
        # find the upload's holder dead, put the image back to queued and
        # remove its partial file.
        image_id = self.create()
        sock = hd.connect(self.port)
        self.addCleanup(sock.close)
        sock.sendall(b'PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'Content-Length: %d\r\n\r\n'
                     % (image_id.encode(), MIB) + os.urandom(4096))
        hd.wait_for(lambda: self.show(image_id)['status'] == 'saving',
                    what='the upload to start')
        workers = hd.worker_pids(self.proc.pid)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        hd.wait_for(lambda: set(hd.worker_pids(self.proc.pid)) - set(workers),
                    what='uWSGI to start workers again')
        hd.wait_for(lambda: self.show(image_id)['status'] == 'queued',
                    what='the upload to be recovered')
        # The class's other images stay.
        hd.wait_for(lambda: not [
            name for name in os.listdir(self.images) if image_id in name],
            what='the partial file to be removed')

    def test_body_cut_short(self):
        # The client stops sending halfway through its Content-Length: the
        # client's error (400), and nothing is kept.
        image_id = self.create()
        sock = hd.connect(self.port)
        self.addCleanup(sock.close)
        sock.sendall(b'PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'Content-Length: %d\r\n\r\n'
                     % (image_id.encode(), MIB) + os.urandom(4096))
        sock.shutdown(socket.SHUT_WR)
        status, _, body, _ = hd.read_response(sock)
        self.assertEqual(400, status, body)
        self.assertIn(b'request body could not be read', body)
        image = self.show(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
