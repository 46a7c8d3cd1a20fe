"""glance.api.versions: the versions document of section 3.1."""

import json

import webob

from glance.api import versions
from glance.tests.unit import base

DEFAULT_ORDER = ['v2.15', 'v2.9', 'v2.17', 'v2.7', 'v2.6', 'v2.5', 'v2.4',
                 'v2.3', 'v2.2', 'v2.1', 'v2.0']


class TestVersionEntries(base.TestCase):

    def ids(self):
        return [vid for vid, _ in versions.version_entries()]

    def current(self):
        return [vid for vid, st in versions.version_entries()
                if st == 'CURRENT']

    def test_default(self):
        self.assertEqual(DEFAULT_ORDER, self.ids())
        self.assertEqual(['v2.17'], self.current())

    def caching(self):
        versions.set_caching(True)
        self.addCleanup(versions.set_caching, False)

    def test_with_cache(self):
        self.config(image_cache_dir='/tmp/cache')
        self.caching()
        self.assertEqual(['v2.18', 'v2.17', 'v2.16', 'v2.15', 'v2.14',
                          'v2.9', 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3',
                          'v2.2', 'v2.1', 'v2.0'], self.ids())
        self.assertEqual(['v2.18'], self.current())

    def test_with_multistore(self):
        self.config(enabled_backends={'fast': 'file'})
        self.assertEqual(['v2.15', 'v2.13', 'v2.12', 'v2.11', 'v2.10',
                          'v2.9', 'v2.8', 'v2.17', 'v2.7', 'v2.6', 'v2.5',
                          'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'],
                         self.ids())

    def test_cache_versions_need_a_caching_flavor(self):
        self.config(image_cache_dir='/tmp/cache')
        self.assertEqual(DEFAULT_ORDER, self.ids())
        versions.set_caching(True)
        self.addCleanup(versions.set_caching, False)
        self.config(image_cache_dir=None)
        self.assertEqual(DEFAULT_ORDER, self.ids())

    def test_with_cache_and_multistore(self):
        self.config(image_cache_dir='/tmp/cache',
                    enabled_backends={'fast': 'file'})
        self.caching()
        ids = self.ids()
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(19, len(ids))
        self.assertEqual(['v2.18'], self.current())

    def test_allowed_tokens(self):
        tokens = versions.allowed_tokens()
        self.assertIn('v2', tokens)
        self.assertIn('v2.0', tokens)
        self.assertIn('v2.17', tokens)
        for absent in ('v2.8', 'v2.14', 'v2.16', 'v2.18', 'v1', 'v3'):
            self.assertNotIn(absent, tokens)


class TestVersionsApp(base.TestCase):

    def get(self, url='/', **kwargs):
        resp = webob.Request.blank(url, **kwargs).get_response(
            versions.app_factory({}))
        return resp, json.loads(resp.body)

    def test_multiple_choices(self):
        resp, body = self.get()
        self.assertEqual(300, resp.status_int)
        self.assertEqual('application/json', resp.content_type)
        self.assertEqual(DEFAULT_ORDER, [v['id'] for v in body['versions']])

    def test_every_link_points_to_v2(self):
        _, body = self.get(base_url='http://glance.example:9292')
        for entry in body['versions']:
            self.assertEqual([{'rel': 'self',
                               'href': 'http://glance.example:9292/v2/'}],
                             entry['links'])

    def test_public_endpoint(self):
        self.config(public_endpoint='https://images.example/')
        _, body = self.get()
        self.assertEqual('https://images.example/v2/',
                         body['versions'][0]['links'][0]['href'])

    def test_versions_response_status(self):
        req = webob.Request.blank('/versions')
        self.assertEqual(200, versions.versions_response(req, 200).status_int)
