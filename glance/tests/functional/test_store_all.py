"""Every store of a real server in one deployment: a file store, an rbd
and an s3 store on the Ceph and RADOS Gateway of tools/ceph, and a
vmware store on the simulator of tools/vcsim. The multi-store tests of
the Ceph stores run again with the vmware store beside them, and an
image is copied into all four, then taken out of them one by one."""

import os

from glance.tests.functional import helpers_vcsim
from glance.tests.functional import test_store_ceph_multi
from glance.tests.functional import test_store_vmware

MiB = 1024 * 1024


class TestEveryStore(test_store_ceph_multi.TestFileRbdS3):

    base_options = dict(
        test_store_ceph_multi.TestFileRbdS3.base_options,
        enabled_backends='fast:file,ceph:rbd,objects:s3,datastore:vmware')
    base_options['datastore.store_description'] = 'vSphere datastore'

    @classmethod
    def setUpClass(cls):
        cls.vcsim, env = helpers_vcsim.acquire()
        if cls.vcsim is None:
            cls.ceph, cls._unmet = None, env
            return
        cls.vcsim_env = env
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

    @classmethod
    def store_options(cls, env):
        options = super().store_options(env)
        options.update(helpers_vcsim.vmware_options(cls.vcsim_env,
                                                    'datastore'))
        return options

    datastore_file = test_store_vmware.VcsimDaemonTest.datastore_file

    def test_four_stores_listed_without_secrets(self):
        resp = self.request('GET', '/v2/info/stores/detail',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        types = {s['id']: s['type'] for s in resp.json()['stores']}
        self.assertEqual({'fast': 'file', 'ceph': 'rbd', 'objects': 's3',
                          'datastore': 'vmware'}, types)
        for secret in (self.ceph_env['S3_SECRET_KEY'],
                       self.vcsim_env['VCSIM_PASSWORD']):
            self.assertNotIn(secret, resp.text)

    def test_copied_into_every_store_then_taken_out_one_by_one(self):
        data = os.urandom(3 * MiB + 7)
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        resp = self.start_import(image['id'], {
            'method': {'name': 'copy-image'},
            'stores': ['ceph', 'objects', 'datastore']},
            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image['id'], timeout=180)
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual({'fast', 'ceph', 'objects', 'datastore'},
                         set(self.show(image['id'])['stores'].split(',')))
        self.assertIn(image['id'], self.rbd_names())
        self.assertIn(image['id'], self.s3_keys())
        with open(self.datastore_file(image['id']), 'rb') as f:
            self.assertEqual(data, f.read())
        # Each store's copy goes; what is left is served.
        for store, left in (('fast', {'ceph', 'objects', 'datastore'}),
                            ('ceph', {'objects', 'datastore'}),
                            ('objects', {'datastore'})):
            resp = self.request('DELETE', '/v2/stores/%s/%s' % (
                store, image['id']), headers=self.admin())
            self.assertEqual(204, resp.status_code, resp.text)
            self.assertEqual(left,
                             set(self.show(image['id'])['stores'].split(',')))
            got = self.request('GET', '/v2/images/%s/file' % image['id'])
            self.assertEqual(data, got.content)
        self.assertNotIn(image['id'], self.rbd_names())
        self.assertNotIn(image['id'], self.s3_keys())
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.datastore_file(image['id'])))
