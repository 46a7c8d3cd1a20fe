"""The s3 store against the RADOS Gateway of tools/ceph: single PUTs,
multipart uploads with parallel parts, ranges, aborted uploads leaving no
parts (also when the server goes away in the middle and comes back),
and a server that cannot be reached or refuses the keys at start-up.
The uploads, ranges, deletes and the server going away are run against
SeaweedFS (tools/seaweedfs) too."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import testtools

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_ceph
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_relay
from glance.tests.functional import test_image_data
from glance.tests.functional import test_keystone

MiB = 1024 * 1024


def s3_options(env, bucket, group='glance_store', endpoint=None):
    return {'%s.s3_store_host' % group: endpoint or env['S3_ENDPOINT'],
            '%s.s3_store_access_key' % group: env['S3_ACCESS_KEY'],
            '%s.s3_store_secret_key' % group: env['S3_SECRET_KEY'],
            '%s.s3_store_bucket' % group: bucket,
            '%s.s3_store_create_bucket_on_put' % group: True,
            '%s.s3_store_bucket_url_format' % group: 'path',
            '%s.s3_store_large_object_size' % group: 6,
            '%s.s3_store_large_object_chunk_size' % group: 5,
            '%s.s3_store_thread_pools' % group: 3}


class SeaweedFS(test_keystone.SharedServer):
    """The tools/seaweedfs server."""

    tool = os.path.join(base.ROOT, 'tools', 'seaweedfs')
    home = os.environ.get('GLANCE_SEAWEEDFS_HOME', os.path.expanduser(
        '~/.cache/glance-seaweedfs'))
    port = os.environ.get('GLANCE_SEAWEEDFS_PORT', '8333')
    tool_env = dict(os.environ, GLANCE_SEAWEEDFS_HOME=home,
                    GLANCE_SEAWEEDFS_PORT=port)
    started_key = 'SEAWEEDFS_STARTED'


def acquire_seaweedfs():
    """``(server, env)``, or ``(None, problem)`` as helpers_ceph.acquire."""
    unmet = prerequisites.skip_requested('SEAWEEDFS')
    if unmet is not None:
        return None, unmet
    server = SeaweedFS()
    try:
        return server, server.acquire()
    except RuntimeError as e:
        return None, prerequisites.check('SEAWEEDFS', False, str(e))


def s3_client(env):
    import boto3
    import botocore.config
    return boto3.session.Session().client(
        's3', endpoint_url=env['S3_ENDPOINT'],
        aws_access_key_id=env['S3_ACCESS_KEY'],
        aws_secret_access_key=env['S3_SECRET_KEY'],
        config=botocore.config.Config(
            s3={'addressing_style': 'path'},
            request_checksum_calculation='when_required',
            response_checksum_validation='when_required'))


class S3StoreTest(helpers_ceph.CephDaemonTest,
                  test_image_data.ImageDataTest):

    base_options = {'image_size_cap': 32 * MiB,
                    'show_image_direct_url': True,
                    'glance_store.stores': 's3',
                    'glance_store.default_store': 's3'}
    bucket = 'glance-test-%s' % uuid.uuid4().hex[:12]

    @classmethod
    def store_options(cls, env):
        return s3_options(env, cls.bucket)

    def s3(self):
        return s3_client(self.ceph_env)

    def upload(self, data):
        image = self.new_image()
        resp = self.put_data(image['id'], data)
        self.assertEqual(204, resp.status_code, resp.text)
        return self.show(image['id'])

    def assert_nothing_stored(self, image_id):
        client = self.s3()
        keys = [o['Key'] for o in client.list_objects_v2(
            Bucket=self.bucket, Prefix=image_id).get('Contents', [])]
        self.assertEqual([], keys)
        uploads = client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=image_id).get('Uploads', [])
        self.assertEqual([], uploads)


class TestS3Store(S3StoreTest):

    def test_single_put_round_trip(self):
        data = os.urandom(MiB + 7)
        shown = self.upload(data)
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        host = self.ceph_env['S3_ENDPOINT'].split('://')[1]
        self.assertEqual('s3://%s/%s/%s' % (host, self.bucket, shown['id']),
                         shown['direct_url'])
        stored = self.s3().get_object(Bucket=self.bucket, Key=shown['id'])
        # One PUT: a plain ETag, the md5 of the data.
        self.assertEqual('"%s"' % shown['checksum'], stored['ETag'])
        self.assertEqual(data, stored['Body'].read())
        got = self.request('GET', '/v2/images/%s/file' % shown['id'])
        self.assertEqual(data, got.content)

    def test_multipart_known_size_and_ranges(self):
        data = os.urandom(12 * MiB + 3)
        shown = self.upload(data)
        stored = self.s3().head_object(Bucket=self.bucket, Key=shown['id'])
        # Three parts of 5 MiB at most.
        self.assertTrue(stored['ETag'].endswith('-3"'), stored['ETag'])
        self.assertEqual(len(data), stored['ContentLength'])
        path = '/v2/images/%s/file' % shown['id']
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=%d-%d' % (5 * MiB - 2, 5 * MiB + 9)))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[5 * MiB - 2:5 * MiB + 10], resp.content)
        self.assertEqual('bytes %d-%d/%d' % (5 * MiB - 2, 5 * MiB + 9,
                                             len(data)),
                         resp.headers['Content-Range'])
        self.assertEqual(data, self.request('GET', path).content)

    def test_multipart_unknown_size(self):
        data = os.urandom(11 * MiB + 5)

        def chunks():
            for i in range(0, len(data), 700000):
                yield data[i:i + 700000]
        shown = self.upload(chunks())
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         shown['os_hash_value'])
        got = self.request('GET', '/v2/images/%s/file' % shown['id'])
        self.assertEqual(data, got.content)

    def test_empty_chunked_upload(self):
        shown = self.upload(iter([b'']))
        self.assertEqual(0, shown['size'])
        self.assertEqual(0, self.s3().head_object(
            Bucket=self.bucket, Key=shown['id'])['ContentLength'])

    def test_failed_multipart_is_aborted(self):
        image = self.new_image()

        def chunks():
            for _ in range(40):
                yield b'q' * MiB
        resp = self.put_data(image['id'], chunks())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assert_nothing_stored(image['id'])

    def test_delete(self):
        shown = self.upload(b'gone soon')
        resp = self.request('DELETE', '/v2/images/%s' % shown['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assert_nothing_stored(shown['id'])


class TestS3ServerGoesAway(S3StoreTest):
    """glance-api reaches the gateway through a relay the test cuts in
    the middle of an upload, then brings back."""

    @classmethod
    def store_options(cls, env):
        host, port = env['S3_ENDPOINT'].split('://')[1].split(':')
        cls.proxy = helpers_relay.Relay((host, int(port)))
        return s3_options(env, cls.bucket, endpoint=cls.proxy.url)

    def test_cut_mid_upload_then_back(self):
        image = self.new_image()
        mark = hd.log_mark(self.daemon)
        sent = []

        def chunks():
            for i in range(30):
                if i == 12:
                    # Two parts are on the server (or on their way).
                    self.proxy.cut()
                sent.append(i)
                yield b'r' * MiB
                time.sleep(0.02)
        try:
            resp = self.request(
                'PUT', '/v2/images/%s/file' % image['id'], data=chunks(),
                headers=self.headers(**test_image_data.OCTET), timeout=120)
        except Exception:
            resp = None
        finally:
            self.proxy.resume()
        if resp is not None:
            self.assertGreaterEqual(resp.status_code, 500, resp.text)
        hd.wait_for(lambda: self.show(image['id'])['status'] == 'queued',
                    what='the image back to queued')
        self.assert_queued_without_data(image['id'])
        # The abort that failed while the server was away is made once
        # it answers again: no part stays on the server.
        client = self.s3()
        hd.wait_log(self.daemon, 'Did abort the multipart upload of %s'
                    % image['id'], mark)
        hd.wait_for(lambda: not client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=image['id']).get('Uploads'),
            timeout=60, what='the multipart upload aborted')
        self.assert_nothing_stored(image['id'])
        # And the store works again.
        data = os.urandom(7 * MiB)
        again = self.new_image()
        self.assertEqual(204, self.put_data(again['id'], data).status_code)
        self.assertEqual(data, self.request(
            'GET', '/v2/images/%s/file' % again['id']).content)


class TestS3StoreOnSeaweedFS(TestS3Store):
    """TestS3Store's uploads, ranges and deletes on SeaweedFS."""

    @classmethod
    def acquire_server(cls):
        return acquire_seaweedfs()


class TestS3SeaweedFSGoesAway(TestS3ServerGoesAway):
    """TestS3ServerGoesAway on SeaweedFS."""

    @classmethod
    def acquire_server(cls):
        return acquire_seaweedfs()


class TestS3StartUp(testtools.TestCase):
    """glance-api exits with status 3, naming the store, when the S3
    server cannot be reached or refuses the keys; the secret key is in no
    log line."""

    def setUp(self):
        super().setUp()
        self.ceph, self.env = helpers_ceph.acquire()
        if self.ceph is None:
            raise self.env
        self.addCleanup(self.ceph.release)
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database('sqlite', self.workdir)

    def start_failing(self, **changes):
        options = {'enabled_backends': 'fast:file,objects:s3',
                   'glance_store.default_backend': 'fast',
                   'debug': True}
        options.update(s3_options(self.env, 'startup', 'objects'))
        options.update({'objects.' + k: v for k, v in changes.items()})
        daemon = base.Daemon(self.workdir, self.db.url, options=options)
        daemon.manage('db', 'sync')
        daemon.start(wait=False)
        try:
            code = daemon.proc.wait(120)
        finally:
            output = daemon.proc.stdout.read().decode(errors='replace')
        with open(daemon.log) as f:
            output += f.read()
        return code, output

    def test_server_unreachable(self):
        code, output = self.start_failing(
            s3_store_host='http://127.0.0.1:%d' % base.free_port())
        self.assertEqual(3, code, output)
        self.assertIn('Store objects: cannot reach the S3 server', output)

    def test_wrong_secret(self):
        secret = 'not-the-secret-%s' % uuid.uuid4().hex
        code, output = self.start_failing(s3_store_secret_key=secret)
        self.assertEqual(3, code, output)
        self.assertIn('Store objects', output)
        self.assertIn('refused the access key', output)
        self.assertNotIn(secret, output)


class TestS3BucketFull(S3StoreTest):
    """A bucket quota the gateway enforces: 413, the image back to
    queued, no object and no multipart upload left."""

    bucket = 'glance-full-%s' % uuid.uuid4().hex[:12]

    def setUp(self):
        super().setUp()
        client = self.s3()
        try:
            client.create_bucket(Bucket=self.bucket)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        conf = self.ceph_env['CEPH_CONF']
        for args in (['quota', 'set', '--quota-scope=bucket',
                      '--bucket=%s' % self.bucket,
                      '--max-size=%d' % (3 * MiB)],
                     ['quota', 'enable', '--quota-scope=bucket',
                      '--bucket=%s' % self.bucket]):
            subprocess.run(['radosgw-admin', '-c', conf] + args, check=True,
                           capture_output=True, timeout=60)

    def test_single_put_over_quota(self):
        image = self.new_image()
        resp = self.put_data(image['id'], os.urandom(4 * MiB))
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assert_nothing_stored(image['id'])

    def test_multipart_over_quota(self):
        image = self.new_image()

        def chunks():
            for _ in range(9):
                yield os.urandom(MiB)
        resp = self.put_data(image['id'], chunks())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assert_nothing_stored(image['id'])
