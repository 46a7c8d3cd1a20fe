"""The daemon starts, answers and serves an image round trip."""

from glance.tests.functional import base


class TestSmoke(base.FunctionalTest):

    def test_create_show_list_delete(self):
        image = self.create_image(name='cirros', disk_format='qcow2',
                                  container_format='bare')
        resp = self.request('GET', '/v2/images/%s' % image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual('cirros', resp.json()['name'])
        ids = [i['id'] for i in self.request('GET', '/v2/images').json()[
            'images']]
        self.assertEqual([image['id']], ids)
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code)
        resp = self.request('GET', '/v2/images/%s' % image['id'])
        self.assertEqual(404, resp.status_code)
