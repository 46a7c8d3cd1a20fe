"""The swift store against the real Swift of tools/swift.

glance-api stores into a container of each class's own; the tests look
at what it wrote with python-swiftclient: plain objects below
swift_store_large_object_size, static large objects (segments whose last
one has its true length, and a manifest) above it or for chunked
uploads, nothing left by a failed upload or after a delete; ranges,
tokens that expire during an upload, Keystone v3, references files
(swift+config:// locations) and the start-up failures.
"""

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import testtools

from glance.store import swift as swift_store
from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_swift
from glance.tests.functional import test_image_data
from glance.tests.functional import test_keystone

ONE_MB = helpers_swift.ONE_MB
OCTET = test_image_data.OCTET
IDENTITY = {'X-Identity-Status': 'Confirmed', 'X-Project-Id': 'takeover',
            'X-User-Id': 'user-takeover', 'X-Roles': 'admin,member,reader'}


class SwiftDataTest(helpers_swift.SwiftTest, test_image_data.ImageDataTest):
    """Segments of one "MB" (1,024,000 bytes) from two of them on."""

    base_options = {'image_size_cap': 64 * 1024 * 1024,
                    'show_multiple_locations': True}

    @classmethod
    def store_options(cls, env, container):
        return helpers_swift.tempauth_options(
            env, container,
            **{'glance_store.swift_store_large_object_size': 2,
               'glance_store.swift_store_large_object_chunk_size': 1})

    def stored_files(self):
        return sorted(self.objects())

    def locations(self, image_id):
        with sqlite3.connect(self.db.url[len('sqlite:///'):]) as db:
            return [row[0] for row in db.execute(
                'SELECT value FROM image_locations WHERE image_id = ? '
                'AND deleted = 0', (image_id,))]

    def upload(self, data):
        image = self.new_image()
        resp = self.put_data(image['id'], data)
        self.assertEqual(204, resp.status_code, resp.text)
        return image['id']

    def download(self, image_id, **headers):
        return self.request('GET', '/v2/images/%s/file' % image_id,
                            headers=self.headers(**headers))

    def assert_hashes(self, image_id, data):
        image = self.show(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])

    def assert_nothing_stored(self, image_id):
        self.assertEqual({}, self.objects(image_id))

    def wait_queued(self, image_id):
        deadline = time.time() + 60
        while self.show(image_id)['status'] != 'queued':
            self.assertLess(time.time(), deadline, 'image stuck in saving')
            time.sleep(0.1)


class TestSwiftData(SwiftDataTest):

    def test_small_image_is_one_object(self):
        data = os.urandom(5000)
        image_id = self.upload(data)
        self.assert_hashes(image_id, data)
        self.assertEqual({image_id: 5000}, self.objects(image_id))
        [uri] = self.locations(image_id)
        # upstream's location: credentials, auth address, container, object
        self.assertEqual('swift+http://test%%3Atester:testing@127.0.0.1:%s/'
                         'auth/v1.0/%s/%s' % (self.env['SWIFT_URL'].rsplit(
                             ':', 1)[1], self.container, image_id), uri)
        self.assertEqual(data, self.download(image_id).content)
        resp = self.download(image_id, Range='bytes=10-19')
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[10:20], resp.content)
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image_id).status_code)
        self.assert_nothing_stored(image_id)

    def test_large_image_is_a_static_large_object(self):
        # three full segments and a short last one
        data = os.urandom(3 * ONE_MB + 12345)
        image_id = self.upload(data)
        self.assert_hashes(image_id, data)
        stored = self.objects(image_id)
        segments = {name: size for name, size in stored.items()
                    if name != image_id}
        self.assertEqual({'%s-%05d' % (image_id, n): ONE_MB
                          for n in (1, 2, 3)} | {
                              '%s-00004' % image_id: 12345}, segments)
        headers = self.sw.head_object(self.container, image_id)
        self.assertEqual('True', headers.get('x-static-large-object'))
        self.assertEqual(str(len(data)), headers['content-length'])
        self.assertEqual(data, self.download(image_id).content)
        # ranges across a segment boundary, and to the end
        start = ONE_MB - 7
        resp = self.download(image_id, Range='bytes=%d-%d'
                             % (start, start + ONE_MB + 99))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[start:start + ONE_MB + 100], resp.content)
        resp = self.download(image_id, Range='bytes=-3')
        self.assertEqual(data[-3:], resp.content)
        resp = self.download(image_id, Range='bytes=%d-' % len(data))
        self.assertEqual(416, resp.status_code)
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image_id).status_code)
        self.assert_nothing_stored(image_id)

    def test_read_in_pieces(self):
        # More than three pieces of the store's reads, the last one short,
        # in one object (Swift slows reads of many segments down to one a
        # second after the tenth, each ranged GET anew).
        piece = swift_store.PIECE
        data = os.urandom(3 * piece + 777)
        name = str(uuid.uuid4())
        self.sw.put_container(self.container)
        self.sw.put_object(self.container, name, data)
        uri = 'swift+http://test%%3Atester:testing@%s/auth/v1.0/%s/%s' % (
            self.env['SWIFT_URL'].split('://')[1], self.container, name)
        admin = self.headers(roles='admin,member,reader')
        image_id = self.create_image(headers=admin, name='plain',
                                     disk_format='raw',
                                     container_format='bare')['id']
        resp = self.patch(image_id, [{
            'op': 'add', 'path': '/locations/-',
            'value': {'url': uri, 'metadata': {}}}], headers=admin)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(hashlib.md5(data).hexdigest(),
                         hashlib.md5(self.download(image_id).content)
                         .hexdigest())
        for first, last in ((piece - 5, 2 * piece + 9),
                            (piece, None), (0, piece), (7, None)):
            resp = self.download(image_id, Range='bytes=%d-%s' % (
                first, '' if last is None else last))
            self.assertEqual(206, resp.status_code)
            want = data[first:None if last is None else last + 1]
            self.assertEqual(len(want), len(resp.content))
            self.assertTrue(want == resp.content, (first, last))

    def test_exact_segments(self):
        data = os.urandom(2 * ONE_MB)
        image_id = self.upload(data)
        self.assertEqual({image_id, image_id + '-00001',
                          image_id + '-00002'}, set(self.objects(image_id)))
        self.assertEqual(data, self.download(image_id).content)

    def test_chunked_upload(self):
        pieces = [os.urandom(300 * 1024) for _ in range(8)]
        data = b''.join(pieces)
        image = self.new_image()
        resp = self.put_data(image['id'], iter(pieces))
        self.assertEqual(204, resp.status_code, resp.text)
        self.assert_hashes(image['id'], data)
        self.assertEqual([ONE_MB, ONE_MB, len(data) - 2 * ONE_MB],
                         [size for name, size in sorted(
                             self.objects(image['id'] + '-').items())])
        self.assertEqual(data, self.download(image['id']).content)

    def test_small_chunked_and_empty_uploads(self):
        for data in (b'tiny', b''):
            image = self.new_image()
            resp = self.put_data(image['id'], iter([data]))
            self.assertEqual(204, resp.status_code, resp.text)
            self.assert_hashes(image['id'], data)
            self.assertEqual(data, self.download(image['id']).content)

    def test_size_mismatch_leaves_nothing(self):
        image = self.new_image()
        body = iter([os.urandom(ONE_MB)] * 3)
        resp = self.put_data(image['id'], body, {
            'Content-Length': str(5 * ONE_MB)})
        # the body ends early: the client's request is incomplete
        self.assertIn(resp.status_code, (400, 408, 500, 503))
        self.wait_queued(image['id'])
        self.assert_nothing_stored(image['id'])

    def test_interrupted_upload_removes_its_segments(self):
        image = self.new_image()
        sock = socket.create_connection(('127.0.0.1', self.daemon.port))
        headers = ''.join('%s: %s\r\n' % kv for kv in self.headers(
            **OCTET).items())
        sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                      'Content-Length: %d\r\n%s\r\n'
                      % (image['id'], 6 * ONE_MB, headers)).encode())
        sock.sendall(os.urandom(3 * ONE_MB))
        deadline = time.time() + 60
        while not self.objects(image['id'] + '-00002'):
            self.assertLess(time.time(), deadline, 'no segment written')
            time.sleep(0.1)
        sock.close()
        self.wait_queued(image['id'])
        self.assert_queued_without_data(image['id'])
        self.assert_nothing_stored(image['id'])
        data = os.urandom(3 * ONE_MB)
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        self.assertEqual(data, self.download(image['id']).content)

    def test_token_expiring_during_upload(self):
        flushed = []

        def body():
            for n in range(5):
                if n == 2:
                    # Every token Swift gave is forgotten: the next
                    # segment needs a new one.
                    helpers_swift.flush_tokens(self.env)
                    flushed.append(n)
                yield chunk[n]
        chunk = [os.urandom(ONE_MB) for _ in range(5)]
        image = self.new_image()
        resp = self.put_data(image['id'], body())
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual([2], flushed)
        self.assert_hashes(image['id'], b''.join(chunk))
        helpers_swift.flush_tokens(self.env)
        self.assertEqual(b''.join(chunk), self.download(image['id']).content)

    def test_delete_removes_upstream_dynamic_large_objects(self):
        # An image that upstream wrote: DLO segments and a manifest.
        image_id = str(uuid.uuid4())
        parts = [os.urandom(1000) for _ in range(3)]
        self.sw.put_container(self.container)
        for n, part in enumerate(parts, 1):
            self.sw.put_object(self.container, '%s-%05d' % (image_id, n),
                               part)
        self.sw.put_object(self.container, image_id, b'', headers={
            'X-Object-Manifest': '%s/%s-' % (self.container, image_id)})
        uri = 'swift+http://test%%3Atester:testing@%s/auth/v1.0/%s/%s' % (
            self.env['SWIFT_URL'].split('://')[1], self.container, image_id)
        admin = self.headers(roles='admin,member,reader')
        image = self.create_image(headers=admin, name='upstream',
                                  disk_format='raw',
                                  container_format='bare')
        resp = self.patch(image['id'], [{
            'op': 'add', 'path': '/locations/-',
            'value': {'url': uri, 'metadata': {}}}], headers=admin)
        self.assertEqual(200, resp.status_code, resp.text)
        got = self.request('GET', '/v2/images/%s/file' % image['id'],
                           headers=admin)
        self.assertEqual(b''.join(parts), got.content)
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image['id'],
            headers=admin).status_code)
        self.assert_nothing_stored(image_id)


class TestSwiftReferences(SwiftDataTest):
    """swift_store_config_file: locations name the reference."""

    @classmethod
    def store_options(cls, env, container):
        path = os.path.join(tempfile.mkdtemp(prefix='glance-swift-'),
                            'glance-swift.conf')
        with open(path, 'w') as f:
            f.write('[store-1]\nauth_address = %s\nuser = %s\nkey = %s\n'
                    'auth_version = 1\n' % (env['SWIFT_AUTH_URL'],
                                            env['SWIFT_USER'],
                                            env['SWIFT_KEY']))
        return {
            'glance_store.stores': 'swift,file',
            'glance_store.default_store': 'swift',
            'glance_store.swift_store_config_file': path,
            'glance_store.default_swift_reference': 'store-1',
            'glance_store.swift_store_container': container,
            'glance_store.swift_store_create_container_on_put': True,
        }

    def test_location_names_the_reference(self):
        data = os.urandom(3 * ONE_MB)
        image_id = self.upload(data)
        self.assertEqual(['swift+config://store-1/%s/%s'
                          % (self.container, image_id)],
                         self.locations(image_id))
        self.assertEqual(data, self.download(image_id).content)
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image_id).status_code)
        self.assert_nothing_stored(image_id)


class TestSwiftKeystone(SwiftDataTest):
    """Identity v3: the storage URL comes from Keystone's catalog."""

    keystone = True

    @classmethod
    def store_options(cls, env, container):
        ks = env
        return {
            'glance_store.stores': 'swift,file',
            'glance_store.default_store': 'swift',
            'glance_store.swift_store_auth_version': '3',
            'glance_store.swift_store_auth_address':
                ks['KEYSTONE_URL'] + '/v3',
            'glance_store.swift_store_user': '%s:%s' % (
                ks['KEYSTONE_SERVICE_PROJECT'], ks['KEYSTONE_SERVICE_USER']),
            'glance_store.swift_store_key': ks['KEYSTONE_SERVICE_PASSWORD'],
            'glance_store.swift_store_region': ks['KEYSTONE_REGION'],
            'glance_store.swift_store_container': container,
            'glance_store.swift_store_create_container_on_put': True,
            'glance_store.swift_store_large_object_size': 2,
            'glance_store.swift_store_large_object_chunk_size': 1,
        }

    def objects(self, prefix='', container=None):
        from swiftclient import client
        ks = self.env
        conn = client.Connection(
            authurl=ks['KEYSTONE_URL'] + '/v3', auth_version='3',
            user=ks['KEYSTONE_SERVICE_USER'],
            key=ks['KEYSTONE_SERVICE_PASSWORD'],
            os_options={'project_name': ks['KEYSTONE_SERVICE_PROJECT'],
                        'user_domain_id': 'default',
                        'project_domain_id': 'default',
                        'region_name': ks['KEYSTONE_REGION']})
        try:
            _, listing = conn.get_container(container or self.container,
                                            prefix=prefix)
        finally:
            conn.close()
        return {entry['name']: entry['bytes'] for entry in listing}

    def test_round_trip_through_keystone(self):
        data = os.urandom(2 * ONE_MB + 77)
        image_id = self.upload(data)
        self.assert_hashes(image_id, data)
        [uri] = self.locations(image_id)
        self.assertTrue(uri.startswith('swift+http://service%3Aglance:'),
                        uri)
        self.assertIn('/v3/%s/%s' % (self.container, image_id), uri)
        self.assertEqual(3, len(self.objects(image_id + '-')))
        self.assertEqual(data, self.download(image_id).content)
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image_id).status_code)
        self.assertEqual({}, self.objects(image_id))


class TestSwiftStartFailures(base.FunctionalTest):
    """A Swift that cannot be used stops glance-api at start (exit 3)."""

    def setUp(self):
        # No daemon of the base class: each test starts its own.
        testtools.TestCase.setUp(self)
        server, env = helpers_swift.acquire()
        if server is None:
            raise env
        self.addCleanup(server.release)
        self.env = server.env
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database('sqlite', self.workdir)

    def start_failing(self, **options):
        opts = helpers_swift.tempauth_options(self.env, 'glance-start')
        opts.update(options)
        daemon = base.Daemon(self.workdir, self.db.url, options=opts)
        daemon.manage('db', 'sync')
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.api', '--config-file',
             daemon.conf], cwd=base.ROOT, capture_output=True, text=True,
            timeout=120)
        return proc.returncode, proc.stdout + proc.stderr

    def test_swift_down(self):
        port = base.free_port()
        code, out = self.start_failing(**{
            'glance_store.swift_store_auth_address':
                'http://127.0.0.1:%d/auth/v1.0' % port})
        self.assertEqual(3, code, out)
        self.assertIn('Store swift cannot use Swift', out)
        self.assertIn('unreachable', out)

    def test_wrong_credentials(self):
        code, out = self.start_failing(**{
            'glance_store.swift_store_key': 'not-the-key-12345'})
        self.assertEqual(3, code, out)
        self.assertIn('refused the credentials of store swift', out)
        self.assertNotIn('not-the-key-12345', out)
        with open(os.path.join(self.workdir, 'glance-api.log')) as f:
            self.assertNotIn('not-the-key-12345', f.read())

    def test_missing_container_without_create_on_put(self):
        opts = helpers_swift.tempauth_options(
            self.env, 'glance-missing-%s' % uuid.uuid4().hex[:8],
            **{'glance_store.swift_store_create_container_on_put': False})
        daemon = base.Daemon(self.workdir, self.db.url, options=opts)
        daemon.manage('db', 'sync')
        daemon.start()
        self.addCleanup(daemon.stop)
        headers = {'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                   'X-Roles': 'member,reader'}
        resp = requests.post(daemon.url + '/v2/images', json={
            'name': 'x', 'disk_format': 'raw', 'container_format': 'bare'},
            headers=headers)
        image_id = resp.json()['id']
        resp = requests.put(
            daemon.url + '/v2/images/%s/file' % image_id, data=b'abc',
            headers=dict(headers, **OCTET))
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertIn('swift_store_create_container_on_put', resp.text)
        image = requests.get(daemon.url + '/v2/images/%s' % image_id,
                             headers=headers).json()
        self.assertEqual('queued', image['status'])


class TestSwiftMultiTenant(test_keystone.KeystoneFlavorTest):
    """Each image in a container of its own, in the Swift account of the
    uploader's project, written and read with the request's token."""

    @classmethod
    def setUpClass(cls):
        cls.keystone = None
        cls.servers, problem = helpers_swift.acquire(keystone=True)
        if cls.servers is None:
            cls._unmet = problem
            return
        env = cls.servers.env
        cls.extra_options = {
            'glance_store.stores': 'swift,file',
            'glance_store.default_store': 'swift',
            'glance_store.swift_store_multi_tenant': True,
            'glance_store.swift_store_auth_version': '3',
            'glance_store.swift_store_auth_address':
                env['KEYSTONE_URL'] + '/v3',
            'glance_store.swift_store_region': env['KEYSTONE_REGION'],
            'glance_store.swift_store_container': 'glance-mt',
            'glance_store.swift_store_large_object_size': 2,
            'glance_store.swift_store_large_object_chunk_size': 1,
        }
        try:
            super().setUpClass()
        except Exception:
            cls.servers.release()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if getattr(cls, 'servers', None) is not None:
                cls.servers.release()

    def own_account(self, user, project):
        from swiftclient import client
        token, body = self.login(user, project)
        [service] = [s for s in body['catalog']
                     if s['type'] == 'object-store']
        [url] = [e['url'] for e in service['endpoints']
                 if e['interface'] == 'public']
        return client.Connection(preauthurl=url, preauthtoken=token,
                                 retries=0), url

    def test_image_in_its_own_container_of_the_project(self):
        data = os.urandom(2 * ONE_MB + 999)
        image = self.new_image(disk_format='raw', container_format='bare')
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=data, headers=dict(self.member_a(), **OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        conn, url = self.own_account(test_keystone.MEMBER_A,
                                     test_keystone.PROJECT_A)
        self.addCleanup(conn.close)
        container = 'glance-mt_%s' % image['id']
        _, listing = conn.get_container(container)
        self.assertEqual(
            {image['id']: len(data), image['id'] + '-00001': ONE_MB,
             image['id'] + '-00002': ONE_MB,
             image['id'] + '-00003': len(data) - 2 * ONE_MB},
            {e['name']: e['bytes'] for e in listing})
        with sqlite3.connect(self.db.url[len('sqlite:///'):]) as db:
            [(uri,)] = db.execute('SELECT value FROM image_locations '
                                  'WHERE image_id = ?', (image['id'],))
        self.assertEqual('swift+%s/%s/%s' % (url, container, image['id']),
                         uri)
        got = self.request('GET', '/v2/images/%s/file' % image['id'],
                           headers=self.member_a())
        self.assertEqual(200, got.status_code)
        self.assertEqual(data, got.content)
        self.assertEqual(hashlib.sha512(data).hexdigest(), self.request(
            'GET', '/v2/images/%s' % image['id'],
            headers=self.member_a()).json()['os_hash_value'])
        resp = self.request('DELETE', '/v2/images/%s' % image['id'],
                            headers=self.member_a())
        self.assertEqual(204, resp.status_code, resp.text)
        _, containers = conn.get_account()
        self.assertNotIn(container, [c['name'] for c in containers])

    def test_other_projects_read_community_and_shared_images(self):
        conn, _ = self.own_account(test_keystone.MEMBER_A,
                                   test_keystone.PROJECT_A)
        self.addCleanup(conn.close)
        project_b = self.project_id(test_keystone.MEMBER_B,
                                    test_keystone.PROJECT_B)
        for visibility in ('community', 'shared'):
            data = os.urandom(3000)
            image = self.new_image(disk_format='raw',
                                   container_format='bare')
            container = 'glance-mt_%s' % image['id']
            resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                                data=data,
                                headers=dict(self.member_a(), **OCTET))
            self.assertEqual(204, resp.status_code, resp.text)
            self.assertEqual('', conn.head_container(container).get(
                'x-container-read', ''))
            resp = self.patch(image['id'], [{
                'op': 'replace', 'path': '/visibility',
                'value': visibility}], headers=self.member_a())
            self.assertEqual(200, resp.status_code, resp.text)
            if visibility == 'shared':
                resp = self.request(
                    'POST', '/v2/images/%s/members' % image['id'],
                    json={'member': project_b}, headers=self.member_a())
                self.assertEqual(200, resp.status_code, resp.text)
                expected = '%s:*' % project_b
            else:
                expected = '*:*'
            self.assertEqual(expected, conn.head_container(container).get(
                'x-container-read'))
            got = self.request('GET', '/v2/images/%s/file' % image['id'],
                               headers=self.member_b())
            self.assertEqual(200, got.status_code, got.text)
            self.assertEqual(data, got.content)

    def test_import_into_the_project_account(self):
        data = os.urandom(5000)
        image = self.new_image(disk_format='raw', container_format='bare')
        resp = self.request('PUT', '/v2/images/%s/stage' % image['id'],
                            data=data,
                            headers=dict(self.member_a(), **OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('POST', '/v2/images/%s/import' % image['id'],
                            json={'method': {'name': 'glance-direct'}},
                            headers=self.member_a())
        self.assertEqual(202, resp.status_code, resp.text)
        deadline = time.time() + 60
        while True:
            shown = self.request('GET', '/v2/images/%s' % image['id'],
                                 headers=self.member_a()).json()
            if shown['status'] in ('active', 'queued'):
                break
            self.assertLess(time.time(), deadline, shown['status'])
            time.sleep(0.2)
        self.assertEqual('active', shown['status'])
        conn, _ = self.own_account(test_keystone.MEMBER_A,
                                   test_keystone.PROJECT_A)
        self.addCleanup(conn.close)
        _, listing = conn.get_container('glance-mt_%s' % image['id'])
        self.assertEqual([image['id']], [e['name'] for e in listing])
        got = self.request('GET', '/v2/images/%s/file' % image['id'],
                           headers=self.member_a())
        self.assertEqual(data, got.content)


class PrivateProxy:
    """A Swift proxy of the class's own in front of the shared storage
    servers, which its tests stop and start."""

    proxy = None

    @classmethod
    def make_proxy(cls, env):
        cls.proxy_port = base.free_port()
        with open(os.path.join(env['SWIFT_DATA'], 'etc',
                               'proxy-server.conf')) as f:
            conf = f.read()
        cls.proxy_conf = os.path.join(
            tempfile.mkdtemp(prefix='glance-swift-proxy-'), 'proxy.conf')
        with open(cls.proxy_conf, 'w') as f:
            f.write(conf.replace('bind_port = %s' % helpers_swift.PORT,
                                 'bind_port = %d' % cls.proxy_port, 1))
        cls.start_proxy()
        return 'http://127.0.0.1:%d/auth/v1.0' % cls.proxy_port

    @classmethod
    def start_proxy(cls):
        cls.proxy = subprocess.Popen(
            [os.path.join(helpers_swift.HOME, 'venv', 'bin',
                          'swift-proxy-server'), cls.proxy_conf],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not base.server_answers('http://127.0.0.1:%d/healthcheck'
                                      % cls.proxy_port):
            if time.time() > deadline or cls.proxy.poll() is not None:
                raise RuntimeError('the test proxy did not start')
            time.sleep(0.1)

    @classmethod
    def stop_proxy(cls):
        cls.proxy.kill()
        cls.proxy.wait()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.proxy is not None:
                if cls.proxy.poll() is None:
                    cls.stop_proxy()
                shutil.rmtree(os.path.dirname(cls.proxy_conf), True)


class TestSwiftOutage(PrivateProxy, SwiftDataTest):
    """Swift (its proxy) going away in the middle of an upload."""

    @classmethod
    def store_options(cls, env, container):
        return helpers_swift.tempauth_options(
            env, container,
            **{'glance_store.swift_store_auth_address': cls.make_proxy(env),
               'glance_store.swift_store_large_object_size': 2,
               'glance_store.swift_store_large_object_chunk_size': 1})

    def test_proxy_down_mid_upload(self):
        image = self.new_image()

        def body():
            for n in range(6):
                if n == 3:
                    # two segments are in Swift: it goes away
                    deadline = time.time() + 60
                    while not self.objects(image['id'] + '-00002'):
                        self.assertLess(time.time(), deadline)
                        time.sleep(0.05)
                    self.stop_proxy()
                yield os.urandom(ONE_MB)
        try:
            resp = self.put_data(image['id'], body())
        finally:
            if self.proxy.poll() is not None:
                self.start_proxy()
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertIn('Swift of store swift unreachable', resp.text)
        self.wait_queued(image['id'])
        self.assertIsNone(self.show(image['id'])['size'])
        # Swift is back: what could not be removed while it was away goes.
        deadline = time.time() + 60
        while self.objects(image['id']):
            self.assertLess(time.time(), deadline, self.objects(image['id']))
            time.sleep(0.5)
        data = os.urandom(1000)
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        self.assertEqual({image['id']: 1000}, self.objects(image['id']))
        self.assertEqual(data, self.download(image['id']).content)


class TestSwiftMultiStore(PrivateProxy, SwiftDataTest):
    """enabled_backends = fast:file, objects:swift."""

    @classmethod
    def store_options(cls, env, container):
        cls.key = env['SWIFT_KEY']
        return {
            'enabled_backends': 'fast:file,objects:swift',
            'glance_store.default_backend': 'fast',
            'objects.store_description': 'Object storage',
            'objects.weight': 10,
            'objects.swift_store_auth_version': '1',
            'objects.swift_store_auth_address': cls.make_proxy(env),
            'objects.swift_store_user': env['SWIFT_USER'],
            'objects.swift_store_key': env['SWIFT_KEY'],
            'objects.swift_store_container': container,
            'objects.swift_store_create_container_on_put': True,
            'objects.swift_store_large_object_size': 2,
            'objects.swift_store_large_object_chunk_size': 1,
        }

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def copy_to(self, image_id, store):
        resp = self.request('POST', '/v2/images/%s/import' % image_id,
                            json={'method': {'name': 'copy-image'},
                                  'stores': [store]}, headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        deadline = time.time() + 60
        while set(self.show(image_id)['stores'].split(',')) != {
                'fast', 'objects'}:
            self.assertLess(time.time(), deadline, self.show(image_id))
            time.sleep(0.1)

    def test_stores_detail_shows_no_secret(self):
        resp = self.request('GET', '/v2/info/stores/detail',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        [objects] = [s for s in resp.json()['stores']
                     if s['id'] == 'objects']
        self.assertEqual('swift', objects['type'])
        self.assertEqual('Object storage', objects['description'])
        self.assertEqual(self.container,
                         objects['properties']['container'])
        self.assertEqual(2 * ONE_MB,
                         objects['properties']['large_object_size'])
        self.assertNotIn(self.key, json.dumps(objects))

    def test_copy_delete_from_store_and_fallback(self):
        data = os.urandom(3 * ONE_MB + 5)
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        self.assertEqual('fast', self.show(image['id'])['stores'])
        self.copy_to(image['id'], 'objects')
        self.assertEqual(5, len(self.objects(image['id'])))
        self.assertEqual(data, self.download(image['id']).content)
        # The swift copy comes first (weight 10); with Swift away the
        # file copy is served.
        self.stop_proxy()
        try:
            got = self.download(image['id'])
        finally:
            self.start_proxy()
        self.assertEqual(200, got.status_code, got.text)
        self.assertEqual(data, got.content)
        resp = self.request('DELETE', '/v2/stores/objects/%s' % image['id'],
                            headers=self.admin())
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual({}, self.objects(image['id']))
        shown = self.show(image['id'])
        self.assertEqual(('active', 'fast'),
                         (shown['status'], shown['stores']))
        self.assertEqual(data, self.download(image['id']).content)

    def test_upload_to_swift_store(self):
        data = os.urandom(1000)
        image = self.new_image()
        resp = self.put_data(image['id'], data,
                             {'X-Image-Meta-Store': 'objects'})
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual('objects', self.show(image['id'])['stores'])
        self.assertEqual({image['id']: 1000}, self.objects(image['id']))
        # Swift away and no other copy: 503 naming the store
        self.stop_proxy()
        try:
            got = self.download(image['id'])
        finally:
            self.start_proxy()
        self.assertEqual(503, got.status_code, got.text)
        self.assertIn('store objects unreachable', got.text)


class TestSwiftSeededContainers(SwiftDataTest):
    """swift_store_multiple_containers_seed: containers named after the
    first characters of the image id."""

    @classmethod
    def store_options(cls, env, container):
        return helpers_swift.tempauth_options(
            env, container,
            **{'glance_store.swift_store_multiple_containers_seed': 2})

    def test_images_spread_over_seeded_containers(self):
        for _ in range(2):
            data = os.urandom(2000)
            image_id = self.upload(data)
            container = '%s_%s' % (self.container, image_id[:2])
            self.assertEqual({image_id: 2000},
                             self.objects(image_id, container))
            self.assertEqual(data, self.download(image_id).content)
            self.assertEqual(204, self.request(
                'DELETE', '/v2/images/%s' % image_id).status_code)
            self.assertEqual({}, self.objects(image_id, container))


class TestSwiftTakeover(testtools.TestCase):
    """Images upstream Glance stored in Swift (Keystone v3; a plain
    object and a dynamic large object), served and deleted by this
    service after it took over upstream's database, with upstream's
    [glance_store] options unchanged."""

    _unmet = None
    servers = None
    SIZES = (1000000, 2 * ONE_MB)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.servers, cls._unmet = helpers_swift.acquire(keystone=True)
        if cls.servers is None:
            return
        cls._unmet = prerequisites.skip_requested('UPSTREAM_GLANCE')
        if cls._unmet is not None:
            return
        env = cls.servers.env
        cls.workdir = tempfile.mkdtemp(prefix='glance-swift-takeover-')
        cls.db = base.Database('sqlite', cls.workdir)
        cls.container = 'glance-up-%s' % uuid.uuid4().hex[:8]
        cls.store_options = {
            'stores': 'swift', 'default_store': 'swift',
            'swift_store_auth_address': env['KEYSTONE_URL'] + '/v3',
            'swift_store_user': '%s:%s' % (env['KEYSTONE_SERVICE_PROJECT'],
                                           env['KEYSTONE_SERVICE_USER']),
            'swift_store_key': env['KEYSTONE_SERVICE_PASSWORD'],
            'swift_store_auth_version': '3',
            'swift_store_region': env['KEYSTONE_REGION'],
            'swift_store_container': cls.container,
            'swift_store_create_container_on_put': 'true',
            # upstream writes segments (DLO) from one "MB" on; sizes of
            # whole segments only (A.8: a short last one hangs upstream)
            'swift_store_large_object_size': '1',
            'swift_store_large_object_chunk_size': '1'}
        stores = os.path.join(cls.workdir, 'stores.conf')
        with open(stores, 'w') as f:
            f.write('[glance_store]\n' + ''.join(
                '%s = %s\n' % item for item in cls.store_options.items()))
        data = os.path.join(cls.workdir, 'upstream')
        port = base.free_port()
        tool_env = dict(os.environ, GLANCE_DB_URL=cls.db.url,
                        GLANCE_STORES_CONF=stores)
        tool = os.path.join(base.ROOT, 'tools', 'upstream-glance')
        proc = subprocess.run([tool, 'start', data, str(port)],
                              capture_output=True, text=True, timeout=1800,
                              env=tool_env)
        if proc.returncode != 0:
            cls._unmet = prerequisites.check('UPSTREAM_GLANCE', False,
                                             proc.stderr[-3000:])
            return
        try:
            cls.images = cls.upstream_uploads('http://127.0.0.1:%d' % port)
        finally:
            subprocess.run([tool, 'stop', data], capture_output=True,
                           timeout=120, env=tool_env)
        cls.daemon = base.Daemon(cls.workdir, cls.db.url, options={
            'glance_store.' + name: value
            for name, value in cls.store_options.items()})
        cls.daemon.manage('db', 'sync')
        cls.daemon.start()

    @classmethod
    def upstream_uploads(cls, url):
        images = {}
        for size in cls.SIZES:
            data = os.urandom(size)
            resp = requests.post(url + '/v2/images', headers=IDENTITY,
                                 json={'name': 'up', 'disk_format': 'raw',
                                       'container_format': 'bare'},
                                 timeout=60)
            assert resp.status_code == 201, resp.text
            image_id = resp.json()['id']
            resp = requests.put(url + '/v2/images/%s/file' % image_id,
                                data=data, timeout=300,
                                headers=dict(IDENTITY, **OCTET))
            assert resp.status_code == 204, resp.text
            images[image_id] = data
        return images

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, 'daemon', None) is not None:
                cls.daemon.stop()
            if getattr(cls, 'workdir', None):
                shutil.rmtree(cls.workdir, True)
        finally:
            if cls.servers is not None:
                cls.servers.release()
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)

    def objects(self):
        from swiftclient import client
        env = self.servers.env
        conn = client.Connection(
            authurl=env['KEYSTONE_URL'] + '/v3', auth_version='3',
            user=env['KEYSTONE_SERVICE_USER'],
            key=env['KEYSTONE_SERVICE_PASSWORD'],
            os_options={'project_name': env['KEYSTONE_SERVICE_PROJECT'],
                        'user_domain_id': 'default',
                        'project_domain_id': 'default',
                        'region_name': env['KEYSTONE_REGION']})
        try:
            return [e['name'] for e in conn.get_container(self.container)[1]]
        finally:
            conn.close()

    def test_upstream_swift_images_served_and_deleted(self):
        url = self.daemon.url
        stored = self.objects()
        for image_id in self.images:
            self.assertIn(image_id, stored)
        # the large one as upstream writes it: segments and a manifest
        self.assertTrue([n for n in stored if n.endswith('-00002')])
        for image_id, data in self.images.items():
            got = requests.get(url + '/v2/images/%s/file' % image_id,
                               headers=IDENTITY, timeout=120)
            self.assertEqual(200, got.status_code, got.text)
            self.assertEqual(data, got.content)
            resp = requests.get(url + '/v2/images/%s/file' % image_id,
                                headers=dict(IDENTITY, Range='bytes=5-9'),
                                timeout=60)
            self.assertEqual(data[5:10], resp.content)
            resp = requests.delete(url + '/v2/images/%s' % image_id,
                                   headers=IDENTITY, timeout=60)
            self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual([], self.objects())
