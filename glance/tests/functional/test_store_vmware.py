"""The vmware store against the vCenter simulator of tools/vcsim (no
vCenter or ESX host can run here; the simulator speaks the same SOAP API
and datastore file access): uploads of known and unknown size, ranges,
vsphere:// locations, deletion through the API's file manager, a new
login when the session ends, a server that cannot be reached or refuses
the login at start-up, and the store in multi-store mode."""

import hashlib
import os
import shutil
import tempfile
import time
import uuid

import testtools

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_relay
from glance.tests.functional import helpers_vcsim
from glance.tests.functional import test_image_data
from glance.tests.functional import test_import

MiB = 1024 * 1024


class VcsimDaemonTest(base.SharedDaemonTest):
    """One glance-api for the class, with a vmware store on tools/vcsim."""

    base_options = {}

    @classmethod
    def store_options(cls, env):
        return helpers_vcsim.vmware_options(env)

    @classmethod
    def setUpClass(cls):
        cls.vcsim, env = helpers_vcsim.acquire()
        if cls.vcsim is None:
            cls._unmet = env
            return
        cls.vcsim_env = env
        cls.options = dict(cls.base_options, **cls.store_options(env))
        try:
            super().setUpClass()
        except BaseException:
            cls.vcsim.release()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.vcsim is not None:
                cls.vcsim.release()

    def datastore_file(self, image_id):
        return os.path.join(self.vcsim_env['VCSIM_DATASTORE_DIR'],
                            'openstack_glance', image_id)


class TestVMwareStore(VcsimDaemonTest, test_image_data.ImageDataTest):

    base_options = {'image_size_cap': 16 * MiB,
                    'show_image_direct_url': True,
                    'debug': True,
                    'glance_store.stores': 'vmware',
                    'glance_store.default_store': 'vmware'}

    def upload(self, data):
        image = self.new_image()
        resp = self.put_data(image['id'], data)
        self.assertEqual(204, resp.status_code, resp.text)
        return self.show(image['id'])

    def test_round_trip_and_location(self):
        data = os.urandom(3 * MiB + 17)
        shown = self.upload(data)
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual(
            'vsphere://%s/folder/openstack_glance/%s?dcPath=DC0'
            '&dsName=LocalDS_0' % (self.vcsim_env['VCSIM_HOST'],
                                   shown['id']),
            shown['direct_url'])
        with open(self.datastore_file(shown['id']), 'rb') as f:
            self.assertEqual(data, f.read())
        path = '/v2/images/%s/file' % shown['id']
        self.assertEqual(data, self.request('GET', path).content)
        resp = self.request('GET', path, headers=self.headers(
            Range='bytes=%d-%d' % (MiB - 3, 2 * MiB + 4)))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[MiB - 3:2 * MiB + 5], resp.content)
        self.assertEqual('bytes %d-%d/%d' % (MiB - 3, 2 * MiB + 4,
                                             len(data)),
                         resp.headers['Content-Range'])

    def test_password_in_no_log_line(self):
        shown = self.upload(b'logged' * 100)
        self.assertEqual(200, self.request(
            'GET', '/v2/images/%s/file' % shown['id']).status_code)
        with open(self.daemon.log) as f:
            log = f.read()
        self.assertIn('Store vmware (vmware) ready', log)   # debug on
        self.assertNotIn(self.vcsim_env['VCSIM_PASSWORD'], log)

    def test_chunked_upload(self):
        data = os.urandom(2 * MiB + 9)

        def chunks():
            for i in range(0, len(data), 300000):
                yield data[i:i + 300000]
        shown = self.upload(chunks())
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         shown['os_hash_value'])
        self.assertEqual(len(data),
                         os.path.getsize(self.datastore_file(shown['id'])))

    def test_too_big_leaves_nothing(self):
        image = self.new_image()

        def chunks():
            for _ in range(20):
                yield b'v' * MiB
        resp = self.put_data(image['id'], chunks())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assertTrue(helpers_vcsim.wait_gone(
            self.datastore_file(image['id'])))

    def test_delete_removes_the_file(self):
        shown = self.upload(b'short-lived' * 100)
        self.assertTrue(os.path.exists(self.datastore_file(shown['id'])))
        resp = self.request('DELETE', '/v2/images/%s' % shown['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.datastore_file(shown['id'])))

    def test_new_login_when_the_session_ends(self):
        before = self.upload(b'before' * 1000)
        mark = hd.log_mark(self.daemon)
        admin = helpers_vcsim.Admin(self.vcsim_env)
        self.addCleanup(admin.close)
        self.assertGreater(admin.terminate_other_sessions(), 0)
        # A read first: its file request is answered 401, then made again.
        got = self.request('GET', '/v2/images/%s/file' % before['id'])
        self.assertEqual(200, got.status_code, got.text)
        self.assertEqual(b'before' * 1000, got.content)
        hd.wait_log(self.daemon, 'the vSphere session ended, logging in '
                    'again', mark)
        # A write: the session is checked before the data goes out.
        admin.terminate_other_sessions()
        data = os.urandom(MiB)
        after = self.upload(data)
        self.assertEqual(data, self.request(
            'GET', '/v2/images/%s/file' % after['id']).content)
        admin.terminate_other_sessions()
        resp = self.request('DELETE', '/v2/images/%s' % after['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.datastore_file(after['id'])))


class TestVMwareStartUp(testtools.TestCase):
    """glance-api exits with status 3, naming the store, when the server
    cannot be reached or refuses the login; the password is in no log
    line."""

    def setUp(self):
        super().setUp()
        self.vcsim, self.env = helpers_vcsim.acquire()
        if self.vcsim is None:
            raise self.env
        self.addCleanup(self.vcsim.release)
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database('sqlite', self.workdir)

    def start_failing(self, **changes):
        options = {'enabled_backends': 'fast:file,datastore:vmware',
                   'glance_store.default_backend': 'fast',
                   'debug': True}
        options.update(helpers_vcsim.vmware_options(
            self.env, 'datastore', **changes))
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
            vmware_server_host='127.0.0.1:%d' % base.free_port())
        self.assertEqual(3, code, output)
        self.assertIn('Store datastore: cannot reach the vSphere server',
                      output)

    def test_wrong_password(self):
        password = 'not-the-password-%s' % uuid.uuid4().hex
        code, output = self.start_failing(vmware_server_password=password)
        self.assertEqual(3, code, output)
        self.assertIn('Store datastore: the vSphere server', output)
        self.assertIn('refused the login of user glance', output)
        self.assertNotIn(password, output)

    def test_untrusted_certificate(self):
        # The simulator's certificate is self-signed: verified, it fails.
        code, output = self.start_failing(vmware_insecure=False)
        self.assertEqual(3, code, output)
        self.assertIn('Store datastore: cannot reach the vSphere server',
                      output)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', output)

    def test_unknown_datastore(self):
        code, output = self.start_failing(vmware_datastores='DC0:nowhere')
        self.assertEqual(3, code, output)
        self.assertIn("datacenter DC0 has no datastore 'nowhere'", output)


class TestFileAndVMware(VcsimDaemonTest, test_import.ImportTest):
    """Multi-store: a file store and a vmware store."""

    base_options = {'enabled_backends': 'fast:file,datastore:vmware',
                    'glance_store.default_backend': 'fast',
                    'datastore.store_description': 'vSphere datastore',
                    'image_size_cap': 16 * MiB}

    @classmethod
    def store_options(cls, env):
        return helpers_vcsim.vmware_options(env, 'datastore')

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def test_stores_detail_without_the_password(self):
        resp = self.request('GET', '/v2/info/stores/detail',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        stores = {s['id']: s for s in resp.json()['stores']}
        self.assertEqual('vmware', stores['datastore']['type'])
        properties = stores['datastore']['properties']
        self.assertEqual(self.vcsim_env['VCSIM_HOST'],
                         properties['vmware_server_host'])
        self.assertEqual(['DC0:LocalDS_0:0'], properties['datastores'])
        self.assertEqual('/openstack_glance', properties['image_dir'])
        self.assertNotIn(self.vcsim_env['VCSIM_PASSWORD'], resp.text)

    def test_copy_then_delete_from_the_store(self):
        data = os.urandom(2 * MiB + 1)
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        resp = self.start_import(image['id'], {
            'method': {'name': 'copy-image'}, 'stores': ['datastore']},
            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image['id'], timeout=120)
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual({'fast', 'datastore'},
                         set(self.show(image['id'])['stores'].split(',')))
        path = self.datastore_file(image['id'])
        with open(path, 'rb') as f:
            self.assertEqual(data, f.read())
        resp = self.request('DELETE', '/v2/stores/fast/%s' % image['id'],
                            headers=self.admin())
        self.assertEqual(204, resp.status_code, resp.text)
        # Only the datastore's copy is left, and it is served.
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(data, got.content)
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(path))


class TestVMwareServerGoesAway(VcsimDaemonTest, test_image_data.ImageDataTest):
    """glance-api reaches the simulator through a relay the test cuts in
    the middle of an upload, then brings back."""

    base_options = {'image_size_cap': 64 * MiB,
                    'glance_store.stores': 'vmware',
                    'glance_store.default_store': 'vmware'}

    @classmethod
    def store_options(cls, env):
        host, port = env['VCSIM_HOST'].rsplit(':', 1)
        cls.proxy = helpers_relay.Relay((host, int(port)))
        return helpers_vcsim.vmware_options(
            env, vmware_server_host='127.0.0.1:%d' % cls.proxy.port)

    def test_cut_mid_upload_then_back(self):
        image = self.new_image()
        mark = hd.log_mark(self.daemon)

        def chunks():
            for i in range(40):
                if i == 10:
                    self.proxy.cut()
                yield b'w' * MiB
                time.sleep(0.02)
        try:
            resp = self.put_data(image['id'], chunks())
        except Exception:
            resp = None
        finally:
            self.proxy.resume()
        if resp is not None:
            self.assertGreaterEqual(resp.status_code, 500, resp.text)
        hd.wait_for(lambda: self.show(image['id'])['status'] == 'queued',
                    what='the image back to queued')
        self.assert_queued_without_data(image['id'])
        # The partial file the server kept is removed once it answers.
        hd.wait_log(self.daemon, 'Did remove the partial', mark)
        self.assertTrue(helpers_vcsim.wait_gone(
            self.datastore_file(image['id'])))
        # And the store works again.
        data = os.urandom(2 * MiB)
        again = self.new_image()
        self.assertEqual(204, self.put_data(again['id'], data).status_code)
        self.assertEqual(data, self.request(
            'GET', '/v2/images/%s/file' % again['id']).content)


class TestVMwareDatastoreWeights(VcsimDaemonTest,
                                 test_image_data.ImageDataTest):
    """Two datastores: new data goes to the heavier one."""

    base_options = {'glance_store.stores': 'vmware',
                    'glance_store.default_store': 'vmware',
                    'show_image_direct_url': True}

    @classmethod
    def store_options(cls, env):
        # A multi-valued option: one line per datastore.
        return helpers_vcsim.vmware_options(
            env, vmware_datastores='DC0:%s:1\nvmware_datastores = DC0:%s:5'
            % (env['VCSIM_DATASTORE'], env['VCSIM_DATASTORE2']))

    def test_heaviest_datastore_takes_new_data(self):
        image = self.new_image()
        data = os.urandom(MiB + 1)
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        shown = self.show(image['id'])
        self.assertTrue(shown['direct_url'].endswith(
            '?dcPath=DC0&dsName=%s' % self.vcsim_env['VCSIM_DATASTORE2']),
            shown['direct_url'])
        path = os.path.join(self.vcsim_env['VCSIM_DATASTORE2_DIR'],
                            'openstack_glance', image['id'])
        with open(path, 'rb') as f:
            self.assertEqual(data, f.read())
        self.assertFalse(os.path.exists(self.datastore_file(image['id'])))
        self.assertEqual(data, self.request(
            'GET', '/v2/images/%s/file' % image['id']).content)
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(path))


class TestVMwareVerifiedCertificate(VcsimDaemonTest,
                                    test_image_data.ImageDataTest):
    """vmware_insecure off: the server's certificate is verified with
    vmware_ca_file, for the API and for the datastore file access."""

    base_options = {'glance_store.stores': 'vmware',
                    'glance_store.default_store': 'vmware'}

    @classmethod
    def store_options(cls, env):
        if not env.get('VCSIM_CA_FILE'):
            raise AssertionError('tools/vcsim gave no VCSIM_CA_FILE (is '
                                 'openssl installed?)')
        return helpers_vcsim.vmware_options(
            env, vmware_insecure=False, vmware_ca_file=env['VCSIM_CA_FILE'])

    def test_round_trip(self):
        image = self.new_image()
        data = os.urandom(MiB + 3)
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        self.assertEqual(data, self.request(
            'GET', '/v2/images/%s/file' % image['id']).content)
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.datastore_file(image['id'])))
