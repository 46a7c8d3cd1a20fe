"""Multi-store with a file, an rbd and an s3 store on the Ceph and RADOS
Gateway of tools/ceph: copy-image into each, DELETE
/v2/stores/{store}/{image}, and the stores' details without secrets."""

import os
import uuid

from glance.tests.functional import helpers_ceph
from glance.tests.functional import test_import
from glance.tests.functional import test_store_rbd
from glance.tests.functional import test_store_s3

MiB = 1024 * 1024


class TestFileRbdS3(helpers_ceph.CephDaemonTest, test_import.ImportTest):

    base_options = {'enabled_backends': 'fast:file,ceph:rbd,objects:s3',
                    'glance_store.default_backend': 'fast',
                    'ceph.store_description': 'Ceph RBD pool images',
                    'objects.store_description': 'RADOS Gateway bucket',
                    'image_size_cap': 32 * MiB}
    bucket = 'glance-multi-%s' % uuid.uuid4().hex[:12]

    @classmethod
    def store_options(cls, env):
        options = test_store_rbd.rbd_options(env, 'ceph')
        options.update(test_store_s3.s3_options(env, cls.bucket, 'objects'))
        return options

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def rbd_names(self):
        import rbd
        return set(rbd.RBD().list(self.images_pool()))

    def s3_keys(self):
        client = test_store_s3.s3_client(self.ceph_env)
        return {o['Key'] for o in client.list_objects_v2(
            Bucket=self.bucket).get('Contents', [])}

    def copied_everywhere(self, data):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        resp = self.start_import(image['id'], {
            'method': {'name': 'copy-image'}, 'stores': ['ceph', 'objects']},
            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image['id'], timeout=120)
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(image['id'])
        self.assertEqual({'fast', 'ceph', 'objects'},
                         set(shown['stores'].split(',')))
        return image['id']

    def test_stores_detail_without_secrets(self):
        resp = self.request('GET', '/v2/info/stores/detail',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        stores = {s['id']: s for s in resp.json()['stores']}
        self.assertEqual('rbd', stores['ceph']['type'])
        self.assertEqual('s3', stores['objects']['type'])
        self.assertEqual('images', stores['ceph']['properties']['pool'])
        self.assertEqual(self.ceph_env['CEPH_FSID'],
                         stores['ceph']['properties']['fsid'])
        self.assertEqual(self.bucket,
                         stores['objects']['properties']['bucket'])
        self.assertEqual(self.ceph_env['S3_ENDPOINT'],
                         stores['objects']['properties']['s3_store_host'])
        self.assertNotIn(self.ceph_env['S3_SECRET_KEY'], resp.text)
        self.assertNotIn(self.ceph_env['S3_ACCESS_KEY'], resp.text)

    def test_copy_then_delete_from_each_store(self):
        data = os.urandom(7 * MiB + 11)
        image_id = self.copied_everywhere(data)
        self.assertIn(image_id, self.rbd_names())
        self.assertIn(image_id, self.s3_keys())
        got = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(data, got.content)
        resp = self.request('DELETE', '/v2/stores/ceph/%s' % image_id,
                            headers=self.admin())
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertNotIn(image_id, self.rbd_names())
        resp = self.request('DELETE', '/v2/stores/fast/%s' % image_id,
                            headers=self.admin())
        self.assertEqual(204, resp.status_code, resp.text)
        # Only the S3 copy is left, and it is served.
        self.assertEqual('objects', self.show(image_id)['stores'])
        got = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(data, got.content)
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertNotIn(image_id, self.s3_keys())

    def test_delete_from_rbd_store_while_cloned(self):
        import rbd
        image_id = self.copied_everywhere(b'cloned' * 1000)
        pool = self.images_pool()
        clone = 'clone-of-%s' % image_id
        rbd.RBD().clone(pool, image_id, 'snap', pool, clone,
                        features=rbd.RBD_FEATURE_LAYERING)
        # Last, the image (its data in every store); first, the clone.
        self.addCleanup(self.request, 'DELETE', '/v2/images/%s' % image_id)
        self.addCleanup(rbd.RBD().remove, pool, clone)
        resp = self.request('DELETE', '/v2/stores/ceph/%s' % image_id,
                            headers=self.admin())
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertIn(clone, resp.text)
        self.assertIn('ceph', self.show(image_id)['stores'].split(','))
        self.assertIn(image_id, self.rbd_names())
