"""Image data through the real daemon: upload, download, ranges and the
failure paths that must leave an image queued with no data behind."""

import hashlib
import os
import socket
import subprocess
import sys
import time

import requests

from glance.tests import prerequisites
from glance.tests.functional import base

OCTET = {'Content-Type': 'application/octet-stream'}


class ImageDataTest(base.SharedDaemonTest):

    # Small store chunks: downloads bigger than 4 KiB go out mostly
    # through sendfile, and the tests below exercise that path.
    options = {'image_size_cap': 8 * 1024 * 1024,
               'glance_store.filesystem_store_chunk_size': 4096}

    def datadir(self):
        return os.path.join(self.workdir, 'images')

    def stored_files(self):
        return sorted(os.listdir(self.datadir())) if os.path.isdir(
            self.datadir()) else []

    def new_image(self, **extra):
        body = {'name': 'data', 'disk_format': 'raw',
                'container_format': 'bare'}
        body.update(extra)
        return self.create_image(headers=self.headers(), **body)

    def put_data(self, image_id, data, headers=None):
        hdrs = self.headers(**OCTET)
        hdrs.update(headers or {})
        return self.request('PUT', '/v2/images/%s/file' % image_id,
                            data=data, headers=hdrs)

    def show(self, image_id):
        resp = self.request('GET', '/v2/images/%s' % image_id)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def assert_queued_without_data(self, image_id):
        image = self.show(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertIsNone(image['checksum'])
        self.assertNotIn(image_id, ' '.join(self.stored_files()))


class TestUploadDownload(ImageDataTest):

    def test_round_trip_with_hashes(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        image = self.new_image()
        resp = self.put_data(image['id'], data)
        self.assertEqual(204, resp.status_code, resp.text)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual('sha512', shown['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         shown['os_hash_value'])
        resp = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(data, resp.content)
        self.assertEqual(str(len(data)), resp.headers['Content-Length'])
        self.assertEqual(shown['checksum'], resp.headers['Content-MD5'])
        self.assertEqual('application/octet-stream',
                         resp.headers['Content-Type'])

    def test_chunked_upload(self):
        data = os.urandom(2 * 1024 * 1024)
        image = self.new_image()

        def chunks():
            for i in range(0, len(data), 100000):
                yield data[i:i + 100000]
        resp = self.put_data(image['id'], chunks())
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(len(data), self.show(image['id'])['size'])
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(data, got.content)

    def test_ranges(self):
        data = bytes(range(256)) * 40
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        path = '/v2/images/%s/file' % image['id']
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=10-19'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[10:20], resp.content)
        self.assertEqual('bytes 10-19/%d' % len(data),
                         resp.headers['Content-Range'])
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=-5'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[-5:], resp.content)
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=100-'))
        self.assertEqual(data[100:], resp.content)
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=%d-' % len(data)))
        self.assertEqual(416, resp.status_code)
        self.assertEqual('bytes */%d' % len(data),
                         resp.headers['Content-Range'])
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=0-1,5-6'))
        self.assertEqual(400, resp.status_code)

    def read_syscalls(self):
        with open('/proc/%d/io' % self.daemon.proc.pid) as f:
            return int(dict(line.split(': ') for line in f)['syscr'])

    def test_download_is_sent_straight_from_the_file(self):
        data = os.urandom(4 * 1024 * 1024)
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        path = '/v2/images/%s/file' % image['id']
        before = self.read_syscalls()
        resp = self.request('GET', path)
        self.assertEqual(data, resp.content)
        # Read 4 KiB at a time, the data would take 1024 reads; sendfile
        # (counted as a read too) moves it in a few dozen calls.
        self.assertLess(self.read_syscalls() - before, 200)
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=5000-3000000'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[5000:3000001], resp.content)

    def test_data_of_the_wrong_size_is_not_served(self):
        data = os.urandom(1024 * 1024)
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        os.truncate(os.path.join(self.datadir(), image['id']), 100000)
        resp = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(404, resp.status_code)
        self.assertIn('not found in any store', resp.text)
        self.assertIn('has 100000 bytes, not the %d recorded' % len(data),
                      self.daemon.output())

    def test_queued_image_has_no_data(self):
        image = self.new_image()
        resp = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(204, resp.status_code)
        self.assertEqual(b'', resp.content)

    def test_delete_removes_data(self):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], b'x' * 1000)
                         .status_code)
        self.assertIn(image['id'], self.stored_files())
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code)
        self.assertNotIn(image['id'], self.stored_files())

    def test_deactivated_download(self):
        image = self.new_image()
        self.put_data(image['id'], b'abc')
        path = '/v2/images/%s' % image['id']
        resp = self.request('POST', path + '/actions/deactivate')
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', path + '/file')
        self.assertEqual(403, resp.status_code)
        admin = self.headers(roles='admin,member,reader')
        resp = self.request('GET', path + '/file', headers=admin)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(b'abc', resp.content)


class TestUploadRules(ImageDataTest):

    def test_wrong_content_type(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'abc', {
            'Content-Type': 'application/json'})
        self.assertEqual(415, resp.status_code)
        self.assert_queued_without_data(image['id'])

    def test_formats_required(self):
        image = self.create_image(headers=self.headers(), name='noformat')
        resp = self.put_data(image['id'], b'abc')
        self.assertEqual(400, resp.status_code)
        self.assert_queued_without_data(image['id'])

    def test_second_upload_conflicts(self):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], b'abc').status_code)
        resp = self.put_data(image['id'], b'def')
        self.assertEqual(409, resp.status_code)
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(b'abc', got.content)

    def test_declared_size_mismatch(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'12345', {
            'x-openstack-image-size': '10'})
        self.assertEqual(400, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        resp = self.put_data(image['id'], b'12345', {
            'x-openstack-image-size': 'ten'})
        self.assertEqual(400, resp.status_code)
        self.assertEqual(204, self.put_data(image['id'], b'12345')
                         .status_code)

    def test_size_cap(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'x' * (9 * 1024 * 1024))
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])

        def chunks():
            for _ in range(9):
                yield b'y' * (1024 * 1024)
        resp = self.put_data(image['id'], chunks())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])

    def test_client_disconnect_reverts(self):
        image = self.new_image()
        sock = socket.create_connection(('127.0.0.1', self.daemon.port))
        headers = ''.join('%s: %s\r\n' % kv for kv in self.headers(
            **OCTET).items())
        sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                      'Content-Length: %d\r\n%s\r\n'
                      % (image['id'], 4 * 1024 * 1024, headers)).encode())
        sock.sendall(b'z' * (1024 * 1024))
        deadline = time.time() + 20
        while self.show(image['id'])['status'] != 'saving':
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        # A second upload while the first is in flight is refused.
        self.assertEqual(409, self.put_data(image['id'], b'abc').status_code)
        sock.close()
        while self.show(image['id'])['status'] != 'queued':
            self.assertLess(time.time(), deadline, 'image stuck in saving')
            time.sleep(0.05)
        self.assert_queued_without_data(image['id'])
        self.assertEqual([], [f for f in self.stored_files()
                              if image['id'] in f])
        self.assertEqual(204, self.put_data(image['id'], b'again')
                         .status_code)


class TestClientsData(ImageDataTest):

    def test_glanceclient_cli_upload_download(self):
        data = os.urandom(1024 * 1024 + 3)
        src = os.path.join(self.workdir, 'src-%s.img' % self.project)
        dst = os.path.join(self.workdir, 'dst-%s.img' % self.project)
        with open(src, 'wb') as f:
            f.write(data)
        glance = os.path.join(os.path.dirname(sys.executable), 'glance')
        env = dict(os.environ, OS_IMAGE_URL=self.url, OS_AUTH_TOKEN='x')
        out = subprocess.run(
            [glance, 'image-create', '--name', 'cli', '--disk-format', 'raw',
             '--container-format', 'bare', '--file', src],
            capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(0, out.returncode, out.stderr)
        image_id = [line.split('|')[2].strip() for line in
                    out.stdout.splitlines() if line.startswith('| id ')][0]
        out = subprocess.run([glance, 'image-download', '--file', dst,
                              image_id], capture_output=True, text=True,
                             env=env, timeout=120)
        self.assertEqual(0, out.returncode, out.stderr)
        with open(dst, 'rb') as f:
            self.assertEqual(data, f.read())

    def test_openstacksdk_upload_download(self):
        import openstack
        data = os.urandom(512 * 1024)
        src = os.path.join(self.workdir, 'sdk-%s.img' % self.project)
        with open(src, 'wb') as f:
            f.write(data)
        conn = openstack.connect(auth_type='none',
                                 image_endpoint_override=self.url)
        image = conn.image.create_image(
            name='sdk-data', filename=src, disk_format='raw',
            container_format='bare', use_import=False, wait=True)
        got = conn.image.download_image(image)
        body = got.content if hasattr(got, 'content') else got
        self.assertEqual(data, body)
        fetched = conn.image.get_image(image.id)
        self.assertEqual(hashlib.md5(data).hexdigest(), fetched.checksum)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         fetched.hash_value)
        conn.image.delete_image(image)


class TestUploadRaw(base.FunctionalTest):
    """Data sent with requests directly, outside the shared daemon."""

    def test_expect_continue_upload(self):
        image = self.create_image(name='e', disk_format='raw',
                                  container_format='bare')
        sock = socket.create_connection(('127.0.0.1', self.daemon.port))
        sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'Content-Length: 5\r\nExpect: 100-continue\r\n\r\n'
                      % image['id']).encode())
        self.assertIn(b'100 Continue', sock.recv(100))
        sock.sendall(b'hello')
        self.assertIn(b'204', sock.recv(200))
        sock.close()
        resp = requests.get('%s/v2/images/%s/file' % (self.url, image['id']))
        self.assertEqual(b'hello', resp.content)


class TestStoreFull(base.FunctionalTest):
    """A store on a 1 MiB tmpfs (needs root to mount)."""

    def setUp(self):
        self.images_dir = None
        super().setUp()

    def make_daemon(self, **kwargs):
        mount = os.path.join(self.workdir, 'small')
        os.makedirs(mount)
        done = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m',
                               'tmpfs', mount], capture_output=True)
        prerequisites.require('MOUNT', done.returncode == 0,
                              'mount -t tmpfs: %s' % done.stderr[:200]
                              .decode(errors='replace').strip())
        self.addCleanup(subprocess.run, ['umount', '-l', mount])
        self.images_dir = mount
        options = {'glance_store.filesystem_store_datadir': mount}
        return super().make_daemon(options=options, **kwargs)

    def test_store_full_is_413_and_reverts(self):
        image = self.create_image(name='big', disk_format='raw',
                                  container_format='bare')
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=os.urandom(2 * 1024 * 1024),
                            headers=OCTET)
        self.assertEqual(413, resp.status_code, resp.text)
        shown = self.request('GET', '/v2/images/%s' % image['id']).json()
        self.assertEqual('queued', shown['status'])
        self.assertEqual([], os.listdir(self.images_dir))
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=b'small enough', headers=OCTET)
        self.assertEqual(204, resp.status_code, resp.text)


class TestStorageQuota(ImageDataTest):

    options = {'user_storage_quota': '1KB'}

    def test_quota_counts_the_owners_images(self):
        first = self.new_image()
        self.assertEqual(204, self.put_data(first['id'], b'a' * 600)
                         .status_code)
        second = self.new_image()
        resp = self.put_data(second['id'], b'b' * 600)
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(second['id'])

        def chunks():
            yield b'c' * 300
            yield b'c' * 300
        resp = self.put_data(second['id'], chunks())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(second['id'])
        self.assertEqual(204, self.put_data(second['id'], b'd' * 400)
                         .status_code)
        # Another project has its own quota.
        other = self.create_image(headers=self.headers(project='other-' +
                                                       self.project),
                                  name='o', disk_format='raw',
                                  container_format='bare')
        resp = self.put_data(other['id'], b'e' * 900, headers=self.headers(
            project='other-' + self.project))
        self.assertEqual(204, resp.status_code, resp.text)
