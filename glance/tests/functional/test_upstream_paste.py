"""Upstream's paste file, and an operator's customised copy of it, load
unchanged and serve.

``fixtures/upstream/glance-api-paste.ini`` is the file upstream Glance
ships (33.0.0): its factory paths (``VersionNegotiationFilter.factory``,
``context:UnauthenticatedContextMiddleware.factory``, ``CacheFilter``,
``CacheManageFilter``, ``versions:create_resource``,
``v2.router:API.factory``, oslo.middleware's CORS and proxy headers,
osprofiler) resolve to this service's filters. ``glance-api-paste-custom
.ini`` is a customised copy: filters reordered, oslo.middleware's
RequestId and CatchErrors added, and a ``site`` flavor of its own with
the gzip filter. The keystone flavors run against a real Keystone
(``test_keystone``).
"""

import gzip
import os
import time

from glance.tests.functional import base
from glance.tests.functional import test_keystone

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'fixtures', 'upstream')
STOCK = os.path.join(FIXTURES, 'glance-api-paste.ini')
CUSTOM = os.path.join(FIXTURES, 'glance-api-paste-custom.ini')
PROFILER_WARNING = 'osprofiler is not installed'
CACHE_WARNING = 'but image_cache_dir is not set'


class UpstreamPasteTest(base.FunctionalTest):

    paste = STOCK
    cache = False

    def make_daemon(self, **kwargs):
        self.options = dict(self.options,
                            **{'paste_deploy.config_file': self.paste})
        return super().make_daemon(**kwargs)

    def log(self):
        with open(self.daemon.log) as f:
            return f.read()

    def check_serves(self):
        # Version negotiation, in the pipeline.
        self.assertEqual(200, self.request('GET', '/versions').status_code)
        self.assertEqual(300, self.request('GET', '/').status_code)
        # /healthcheck, outside of it.
        resp = self.request('GET', '/healthcheck')
        self.assertEqual(200, resp.status_code, resp.text)
        # The header-based context; one request id per response.
        image = self.create_image(headers=self.headers('proj-up'),
                                  name='up', disk_format='raw',
                                  container_format='bare')
        self.assertEqual('proj-up', image['owner'])
        path = '/v2/images/%s/file' % image['id']
        resp = self.request('PUT', path, data=b'upstream paste' * 100,
                            headers=self.headers(
                                'proj-up',
                                **{'Content-Type':
                                   'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', '/v2.9' + path[3:],
                            headers=self.headers('proj-up'))
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(b'upstream paste' * 100, resp.content)
        ids = [v for k, v in resp.raw.headers.items()
               if k.lower() == 'x-openstack-request-id']
        self.assertEqual(1, len(ids), resp.raw.headers)
        self.assertTrue(ids[0].startswith('req-'), ids)
        return image

    def check_log(self):
        log = self.log()
        self.assertEqual(1, log.count(PROFILER_WARNING), log[-4000:])
        self.assertEqual(1 if self.cache else 0, log.count(CACHE_WARNING),
                         log[-4000:])
        # Upstream's pipelines have no request id filter: the one added is
        # no warning. Nothing else was missing.
        for line in log.splitlines():
            if 'has no' in line:
                self.assertIn(' INFO ', line)
                self.assertIn('has no request_id filter', line)
        self.assertNotIn('Traceback', log)


class TestStockDefault(UpstreamPasteTest):

    def test_serves(self):
        self.check_serves()
        self.check_log()


class TestStockCaching(UpstreamPasteTest):

    flavor = 'caching'
    cache = True

    def test_serves(self):
        self.check_serves()
        self.check_log()


class TestStockCacheManagement(UpstreamPasteTest):
    """Without image_cache_dir the cache filters have no cache: the older
    management paths answer 404 as upstream's API does."""

    flavor = 'cachemanagement'
    cache = True

    def test_serves_and_cache_management_is_404(self):
        image = self.check_serves()
        for method, path in (
                ('GET', '/v2/cached_images'),
                ('DELETE', '/v2/cached_images/%s' % image['id']),
                ('GET', '/v2/queued_images'),
                ('PUT', '/v2/queued_images/%s' % image['id'])):
            resp = self.request(method, path,
                                headers={'Accept': 'application/json'})
            self.assertEqual(404, resp.status_code, (path, resp.text))
            self.assertIn('not supported at this site', resp.text)
        # Other paths pass the filter.
        resp = self.request('GET', '/v2/images/%s' % image['id'])
        self.assertEqual(200, resp.status_code, resp.text)
        self.check_log()


class TestStockCacheManagementWithCache(UpstreamPasteTest):
    """Upstream's file with a cache: downloads are cached and the older
    management paths answer."""

    flavor = 'cachemanagement'

    def make_daemon(self, **kwargs):
        self.options = dict(self.options, image_cache_dir=os.path.join(
            self.workdir, 'cache'))
        return super().make_daemon(**kwargs)

    def test_cache_and_cache_management(self):
        image = self.check_serves()
        deadline = time.time() + 20
        cached = []
        while time.time() < deadline and not cached:
            resp = self.request('GET', '/v2/cached_images')
            self.assertEqual(200, resp.status_code, resp.text)
            cached = [e['image_id'] for e in resp.json()['cached_images']]
            time.sleep(0.1)
        self.assertEqual([image['id']], cached)
        resp = self.request('DELETE', '/v2/cached_images')
        self.assertEqual({'num_deleted': 1}, resp.json())
        resp = self.request('PUT', '/v2/queued_images/%s' % image['id'])
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIsNone(resp.json())
        resp = self.request('GET', '/versions')
        self.assertEqual('v2.18', resp.json()['versions'][0]['id'])
        self.check_log()


class TestCustomDefault(UpstreamPasteTest):
    """Reordered filters and oslo.middleware's RequestId, which this
    service's own request id filter replaces: one id per response, the
    client's own kept."""

    paste = CUSTOM

    def test_serves(self):
        self.check_serves()
        resp = self.request('GET', '/v2/images',
                            headers={'X-Openstack-Request-Id': 'req-mine'})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('req-mine', resp.headers['x-openstack-request-id'])
        self.check_log()
        self.assertNotIn('has no', self.log())


class TestCustomFlavor(UpstreamPasteTest):
    """An operator's own flavor: CatchErrors, RequestId, cache and
    gzip."""

    paste = CUSTOM
    flavor = 'site'
    cache = True

    def test_serves_compressed(self):
        image = self.check_serves()
        resp = self.http.get(self.url + '/v2/images/%s' % image['id'],
                             headers=self.headers(
                                 'proj-up', **{'Accept-Encoding': 'gzip'}),
                             stream=True)
        self.assertEqual(200, resp.status_code)
        self.assertEqual('gzip', resp.headers.get('Content-Encoding'))
        body = gzip.decompress(resp.raw.read())
        self.assertIn(image['id'].encode(), body)
        # Image data is sent as stored.
        resp = self.request('GET', '/v2/images/%s/file' % image['id'],
                            headers=self.headers(
                                'proj-up', **{'Accept-Encoding': 'gzip'}))
        self.assertEqual(200, resp.status_code)
        self.assertNotIn('Content-Encoding', resp.headers)
        self.assertEqual(b'upstream paste' * 100, resp.content)
        self.check_log()


class TestStockKeystoneCacheManagement(test_keystone.KeystoneFlavorTest):
    """The stock keystone+cachemanagement flavor with tokens of a real
    Keystone."""

    flavor = 'keystone+cachemanagement'
    extra_options = {'paste_deploy.config_file': STOCK}

    def test_tokens_decide(self):
        resp = self.request('GET', '/v2/images', headers={})
        self.assertEqual(401, resp.status_code, resp.text)
        image = self.new_image(headers=self.member_a())
        self.assertEqual(self.project_id(test_keystone.MEMBER_A,
                                         test_keystone.PROJECT_A),
                         image['owner'])
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.member_b())
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/cached_images',
                            headers=self.admin_c())
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual(200, self.request('GET', '/versions',
                                           headers={}).status_code)
        self.assertEqual(200, self.request('GET', '/healthcheck',
                                           headers={}).status_code)
