"""The glance_store adapter, for real: glance-api with a store of type
glance_store served by upstream's own filesystem driver (from the
glance_store library, configured with upstream's option names), beside a
native file store: uploads, ranges, failures leaving nothing, copy-image
into it, DELETE /v2/stores/{store}/{image}, its details, and start-up
refusing a driver that does not exist or cannot be configured."""

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import types

from oslo_config import cfg as oslo_cfg
import testtools

from glance.store import adapter
from glance.store import exceptions

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import test_image_data
from glance.tests.functional import test_import

MiB = 1024 * 1024


class TestGlanceStoreAdapter(test_import.ImportTest,
                             test_image_data.ImageDataTest):

    @classmethod
    def setUpClass(cls):
        cls.legacy_dir = tempfile.mkdtemp(prefix='glance-upstream-store-')
        cls.options = {
            'enabled_backends': 'fast:file,legacy:glance_store',
            'glance_store.default_backend': 'legacy',
            'legacy.store_description': "upstream's file driver",
            'legacy.glance_store_driver': 'file',
            'legacy.filesystem_store_datadir': cls.legacy_dir,
            'legacy.filesystem_store_chunk_size': 65536,
            'image_size_cap': 8 * MiB,
            'show_multiple_locations': True}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.legacy_dir, True)

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def legacy_file(self, image_id):
        return os.path.join(self.legacy_dir, image_id)

    def upload(self, data, **headers):
        image = self.new_image()
        resp = self.put_data(image['id'], data, headers)
        self.assertEqual(204, resp.status_code, resp.text)
        return self.show(image['id'])

    def test_round_trip_through_upstreams_driver(self):
        data = os.urandom(MiB + 99)
        shown = self.upload(data)
        self.assertEqual('legacy', shown['stores'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual(['file://%s' % self.legacy_file(shown['id'])],
                         [loc['url'] for loc in shown['locations']])
        with open(self.legacy_file(shown['id']), 'rb') as f:
            self.assertEqual(data, f.read())
        path = '/v2/images/%s/file' % shown['id']
        self.assertEqual(data, self.request('GET', path).content)
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=70000-70099'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[70000:70100], resp.content)
        self.assertEqual('bytes 70000-70099/%d' % len(data),
                         resp.headers['Content-Range'])
        resp = self.request('DELETE', '/v2/images/%s' % shown['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.legacy_file(shown['id'])))

    def test_chunked_upload(self):
        data = os.urandom(MiB + 5)

        def chunks():
            for i in range(0, len(data), 100000):
                yield data[i:i + 100000]
        shown = self.upload(chunks())
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         shown['os_hash_value'])

    def test_failures_leave_nothing(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'12345',
                             {'x-openstack-image-size': '10'})
        self.assertEqual(400, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assertFalse(os.path.exists(self.legacy_file(image['id'])))

        def too_much():
            for _ in range(12):
                yield b'z' * MiB
        resp = self.put_data(image['id'], too_much())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assertFalse(os.path.exists(self.legacy_file(image['id'])))

    def test_stores_detail(self):
        resp = self.request('GET', '/v2/info/stores/detail',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        stores = {s['id']: s for s in resp.json()['stores']}
        self.assertEqual('glance_store', stores['legacy']['type'])
        properties = stores['legacy']['properties']
        self.assertEqual('file', properties['glance_store_driver'])
        self.assertEqual(self.legacy_dir,
                         properties['filesystem_store_datadir'])
        self.assertEqual(65536, properties['filesystem_store_chunk_size'])

    def test_copy_into_it_then_delete_from_each_store(self):
        data = os.urandom(300001)
        shown = self.upload(data, **{'X-Image-Meta-Store': 'fast'})
        self.assertEqual('fast', shown['stores'])
        resp = self.start_import(shown['id'], {
            'method': {'name': 'copy-image'}, 'stores': ['legacy']},
            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(shown['id'], timeout=120)
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual({'fast', 'legacy'},
                         set(self.show(shown['id'])['stores'].split(',')))
        with open(self.legacy_file(shown['id']), 'rb') as f:
            self.assertEqual(data, f.read())
        resp = self.request('DELETE', '/v2/stores/fast/%s' % shown['id'],
                            headers=self.admin())
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(data, self.request(
            'GET', '/v2/images/%s/file' % shown['id']).content)
        resp = self.request('DELETE', '/v2/images/%s' % shown['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.legacy_file(shown['id'])))


class TestAdapterStartUp(testtools.TestCase):
    """glance-api exits with status 3 naming the store when the adapter's
    driver does not exist or upstream's driver refuses its options."""

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database('sqlite', self.workdir)

    def start_failing(self, **section):
        options = {'enabled_backends': 'fast:file,legacy:glance_store',
                   'glance_store.default_backend': 'fast'}
        options.update({'legacy.' + k: v for k, v in section.items()})
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

    def test_unknown_driver(self):
        code, output = self.start_failing(glance_store_driver='tape')
        self.assertEqual(3, code, output)
        self.assertIn("Store legacy: glance_store_driver 'tape' is not a "
                      'driver of glance_store (installed: ', output)
        self.assertIn('cinder', output)

    def test_upstream_refuses_its_options(self):
        code, output = self.start_failing(
            glance_store_driver='file',
            filesystem_store_datadir=os.path.join(self.workdir, 'a'),
            filesystem_store_datadirs=os.path.join(self.workdir, 'b'))
        self.assertEqual(3, code, output)
        self.assertIn("Store legacy: glance_store's file driver cannot be "
                      'used', output)


class TestAdapterStoreFull(base.FunctionalTest):
    """Upstream's filesystem driver on a 1 MiB tmpfs (root, to mount):
    its StorageFull is a 413, and the image stays queued without data."""

    def make_daemon(self, **kwargs):
        mount = os.path.join(self.workdir, 'small')
        os.makedirs(mount)
        done = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m',
                               'tmpfs', mount], capture_output=True)
        prerequisites.require('MOUNT', done.returncode == 0,
                              'mount -t tmpfs: %s' % done.stderr[:200]
                              .decode(errors='replace').strip())
        self.addCleanup(subprocess.run, ['umount', '-l', mount])
        self.mount = mount
        options = {'enabled_backends': 'fast:file,legacy:glance_store',
                   'glance_store.default_backend': 'legacy',
                   'legacy.glance_store_driver': 'file',
                   'legacy.filesystem_store_datadir': mount}
        return super().make_daemon(options=options, **kwargs)

    def test_full_is_413_and_leaves_nothing(self):
        image = self.create_image(name='big', disk_format='raw',
                                  container_format='bare')
        path = '/v2/images/%s/file' % image['id']

        def chunks():
            for _ in range(3):
                yield os.urandom(MiB)
        resp = self.request('PUT', path, data=chunks(),
                            headers={'Content-Type':
                                     'application/octet-stream'})
        self.assertEqual(413, resp.status_code, resp.text)
        shown = self.request('GET', '/v2/images/%s' % image['id']).json()
        self.assertEqual('queued', shown['status'])
        self.assertEqual([], os.listdir(self.mount))
        resp = self.request('PUT', path, data=b'fits',
                            headers={'Content-Type':
                                     'application/octet-stream'})
        self.assertEqual(204, resp.status_code, resp.text)


class TestAdapterReadOnlyDriver(testtools.TestCase):
    """Upstream's http driver through the adapter, against a real HTTP
    server: read-only (no WRITE), and ranges cut out of whole reads since
    the driver cannot start at an offset (no SEEK)."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix='glance-http-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.data = os.urandom(300000)
        with open(os.path.join(self.dir, 'image'), 'wb') as f:
            f.write(self.data)

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
        handler = functools.partial(Quiet, directory=self.dir)
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      handler)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        conf = os.path.join(self.dir, 'glance-api.conf')
        with open(conf, 'w') as f:
            f.write('[web]\nglance_store_driver = http\n')

        class Adapter(adapter.GlanceStoreAdapter):
            def _private_conf(self):
                private = oslo_cfg.ConfigOpts()
                private(args=[], default_config_files=[conf])
                return private

            def _quiet_options(self, cls):
                pass

        self.store = Adapter('web', types.SimpleNamespace(
            glance_store_driver='http'), multi_store=True)
        self.store.configure()
        self.url = 'http://127.0.0.1:%d/image' % self.server.server_port

    def test_read_only_and_ranges(self):
        self.assertEqual({'read'}, self.store.capabilities)
        self.assertEqual(('http', 'https'), self.store.schemes)
        self.assertEqual(len(self.data), self.store.get_size(self.url))
        chunks, total = self.store.get(self.url)
        self.assertEqual((self.data, len(self.data)),
                         (chunks.read_all(), total))
        chunks, total = self.store.get(self.url, 70000, 100)
        self.assertFalse(chunks.seekable)
        self.assertEqual((self.data[70000:70100], len(self.data)),
                         (chunks.read_all(), total))
        self.assertRaises(exceptions.InvalidRange, self.store.get,
                          self.url, len(self.data) + 1)
        self.assertRaises(exceptions.NotFound, self.store.get_size,
                          self.url + '-missing')
