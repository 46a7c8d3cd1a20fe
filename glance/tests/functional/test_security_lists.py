"""List requests are bounded: repeated sort keys, too many sort keys or
filters get a clear 400 (never a 500, never minutes of work), while the
longest valid requests are still served."""

import urllib.parse
import uuid

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
# The caps, as the README states them.
MAX_FILTER_TERMS = 100


class ListBoundsTest(h.ImageAPIMixin, base.SharedDaemonTest):

    def setUp(self):
        super().setUp()
        self.images = [self.new_image(name='img-%d' % n, tags=['t'],
                                      foo='bar') for n in range(3)]
        self.marker = self.images[0]['id']

    def refused(self, query, words):
        resp = self.request('GET', '/v2/images?' + query)
        self.assertEqual(400, resp.status_code, resp.text[:300])
        for word in words:
            self.assertIn(word, resp.text)
        return resp

    def served(self, query):
        resp = self.request('GET', '/v2/images?' + query)
        self.assertEqual(200, resp.status_code, resp.text[:300])
        return resp.json()['images']

    def test_repeated_sort_keys_with_a_marker(self):
        self.refused('&'.join(['sort_key=name'] * 200)
                     + '&marker=' + self.marker, ['name', 'more than once'])
        self.refused('sort=' + ','.join(['name:asc'] * 200)
                     + '&marker=' + self.marker, ['more than once'])
        self.refused('sort=name:asc,size:desc,name:desc',
                     ['name', 'more than once'])
        self.refused('sort_key=size&sort_key=id&sort_key=size'
                     '&sort_dir=asc&sort_dir=asc&sort_dir=asc',
                     ['size', 'more than once'])
        self.assert_serving()

    def test_every_sort_key_once_with_a_marker(self):
        names = sorted(i['name'] for i in self.images)
        for query in ('&'.join('sort_key=%s' % k for k in SORT_KEYS),
                      'sort=' + ','.join('%s:asc' % k for k in SORT_KEYS)):
            found = self.served(query)
            self.assertEqual(names, sorted(i['name'] for i in found))
            found = self.served(query + '&marker=' + self.marker)
            self.assertNotIn(self.marker, [i['id'] for i in found])

    def test_too_many_filters(self):
        props = '&'.join('p%d=v' % n for n in range(1100))
        self.refused(props, ['filter', str(MAX_FILTER_TERMS)])
        self.refused('&'.join(['tag=t'] * 1100),
                     ['filter', str(MAX_FILTER_TERMS)])
        self.refused('name=in:' + ','.join(['x'] * 1100),
                     ['values', 'name', '1000'])
        self.refused('&'.join('p%d=v' % n for n in range(MAX_FILTER_TERMS))
                     + '&tag=t', ['filter', str(MAX_FILTER_TERMS)])
        self.assert_serving()

    def test_as_many_filters_as_allowed(self):
        # Every image carries foo=bar and tag t: all match.
        query = '&'.join(['foo=bar'] + ['tag=t'] * (MAX_FILTER_TERMS - 2)
                         + ['name=in:' + urllib.parse.quote(
                             ','.join(i['name'] for i in self.images[:1]))])
        found = self.served(query)
        self.assertEqual([self.images[0]['id']], [i['id'] for i in found])
        query = ('foo=bar&name=in:' + ','.join(
            ['img-%d' % n for n in range(3)]
            + ['other'] * (MAX_FILTER_TERMS - 4)) + '&marker=' + self.marker
            + '&sort=name:asc')
        found = self.served(query)
        self.assertEqual(['img-1', 'img-2'], [i['name'] for i in found])

    def test_images_of_a_page_by_id(self):
        # As Horizon asks for the images of a page of instances: one
        # in: list of up to a page of ids is one filter term.
        ids = [i['id'] for i in self.images] + [
            str(uuid.uuid4()) for _ in range(147)]
        found = self.served('id=in:' + ','.join(ids))
        self.assertEqual(sorted(i['id'] for i in self.images),
                         sorted(i['id'] for i in found))

    def test_many_distinct_list_shapes(self):
        # Each request below is a query of another shape; the daemon keeps
        # a bounded number of them and goes on answering correctly.
        for n in range(60):
            keys = [SORT_KEYS[(n + k) % len(SORT_KEYS)]
                    for k in range(1 + n % len(SORT_KEYS))]
            query = '&'.join(['sort_key=%s' % k for k in keys]
                             + ['tag=t'] * (1 + n % 7)
                             + ['foo=bar', 'marker=' + self.marker])
            found = self.served(query)
            self.assertNotIn(self.marker, [i['id'] for i in found])


class OtherListsTest(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_tasks_list_with_repeated_parameters(self):
        resp = self.request('GET', '/v2/tasks?' + '&'.join(
            ['sort_key=status'] * 200 + ['type=import'] * 200),
            headers=self.admin_headers())
        self.assertEqual(200, resp.status_code, resp.text[:300])
        resp = self.request('GET', '/v2/tasks?limit=' + '9' * 5000,
                            headers=self.admin_headers())
        self.assertEqual(400, resp.status_code, resp.text[:300])

    def test_metadef_namespaces_with_many_resource_types(self):
        resp = self.request('GET', '/v2/metadefs/namespaces?resource_types='
                            + ','.join('rt%d' % n for n in range(1000)))
        self.assertEqual(200, resp.status_code, resp.text[:300])
        for path in ('/v2/metadefs/namespaces', '/v2/metadefs/resource_types'):
            resp = self.request('GET', path + '?' + '&'.join(
                ['sort_key=namespace'] * 200 + ['limit=1'] * 200))
            self.assertEqual(200, resp.status_code, resp.text[:300])
        resp = self.request('GET', '/v2/metadefs/namespaces?limit='
                            + '9' * 5000)
        self.assertEqual(400, resp.status_code, resp.text[:300])

    def test_members_list_ignores_query(self):
        image = self.new_image()
        resp = self.request('GET', '/v2/images/%s/members?' % image['id']
                            + '&'.join(['sort_key=x'] * 500))
        self.assertEqual(200, resp.status_code, resp.text[:300])
