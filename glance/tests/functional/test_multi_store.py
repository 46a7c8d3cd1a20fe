"""Several stores: discovery, choosing the store of an upload, the stores
field, and the rules of DELETE /v2/stores/{store}/{image}."""

import os

from glance.tests.functional import test_image_data


class TestMultiStore(test_image_data.ImageDataTest):

    @classmethod
    def setUpClass(cls):
        cls.options = {
            'enabled_backends': 'fast:file,cheap:file',
            'glance_store.default_backend': 'fast',
            'fast.store_description': 'Fast disks',
            'cheap.store_description': 'Cheap disks',
            'cheap.weight': 10,
        }
        super().setUpClass()

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def test_info_stores(self):
        resp = self.request('GET', '/v2/info/stores')
        self.assertEqual(200, resp.status_code, resp.text)
        stores = {s['id']: s for s in resp.json()['stores']}
        self.assertEqual({'fast', 'cheap'}, set(stores))
        self.assertTrue(stores['fast'].get('default'))
        self.assertNotIn('default', stores['cheap'])
        self.assertEqual('Cheap disks', stores['cheap']['description'])

    def test_info_stores_detail_is_for_admins(self):
        resp = self.request('GET', '/v2/info/stores/detail')
        self.assertEqual(403, resp.status_code)
        resp = self.request('GET', '/v2/info/stores/detail',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        stores = {s['id']: s for s in resp.json()['stores']}
        self.assertEqual('file', stores['fast']['type'])
        self.assertEqual(10, stores['cheap']['weight'])
        self.assertIn('data_dir', stores['fast']['properties'])

    def test_create_advertises_store_ids(self):
        resp = self.request('POST', '/v2/images', json={'name': 'x'})
        self.assertEqual(201, resp.status_code)
        self.assertEqual({'fast', 'cheap'}, set(
            resp.headers['OpenStack-image-store-ids'].split(',')))

    def test_upload_to_named_and_default_store(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'cheap data',
                             {'X-Image-Meta-Store': 'cheap'})
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual('cheap', self.show(image['id'])['stores'])
        other = self.new_image()
        self.assertEqual(204, self.put_data(other['id'], b'fast data')
                         .status_code)
        self.assertEqual('fast', self.show(other['id'])['stores'])
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(b'cheap data', got.content)
        cheap_dir = os.path.join(os.path.dirname(self.datadir()), 'cheap')
        self.assertIn(image['id'], os.listdir(cheap_dir))

    def test_unknown_store_header(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'x', {'X-Image-Meta-Store': 'nope'})
        self.assertEqual(400, resp.status_code)
        self.assert_queued_without_data(image['id'])

    def test_delete_from_store_rules(self):
        image = self.new_image()
        self.put_data(image['id'], b'only copy')
        path = '/v2/stores/fast/%s' % image['id']
        self.assertEqual(403, self.request('DELETE', path).status_code)
        resp = self.request('DELETE', path, headers=self.admin())
        self.assertEqual(403, resp.status_code)
        self.assertIn('only store', resp.text)
        resp = self.request('DELETE', '/v2/stores/nope/%s' % image['id'],
                            headers=self.admin())
        self.assertEqual(409, resp.status_code)
        queued = self.new_image()
        resp = self.request('DELETE', '/v2/stores/fast/%s' % queued['id'],
                            headers=self.admin())
        self.assertEqual(409, resp.status_code)


class TestSingleStoreDiscovery(test_image_data.ImageDataTest):

    def test_multi_store_routes_are_absent(self):
        self.assertEqual(404, self.request('GET', '/v2/info/stores')
                         .status_code)
        image = self.new_image()
        resp = self.request('DELETE', '/v2/stores/file/%s' % image['id'])
        self.assertEqual(404, resp.status_code)
        resp = self.request('GET', '/v2/info/import')
        self.assertEqual(['glance-direct', 'web-download', 'copy-image'],
                         resp.json()['import-methods']['value'])
        # The header names a store only in multi-store mode.
        resp = self.put_data(image['id'], b'abc',
                             {'X-Image-Meta-Store': 'whatever'})
        self.assertEqual(204, resp.status_code)
