"""The cache filters of upstream's caching flavors: pass-throughs while
the image cache is not available; the legacy cache management paths get
501."""

import testtools
import webob

from glance.api.middleware import cache
from glance.api.middleware import cache_manage


def inner(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'inner']


class TestCacheFilters(testtools.TestCase):

    def test_cache_passes_everything_on(self):
        app = cache.CacheFilter.factory({})(inner)
        resp = webob.Request.blank('/v2/images/x/file').get_response(app)
        self.assertEqual(200, resp.status_int)
        self.assertEqual(b'inner', resp.body)

    def test_cache_manage_paths_are_501(self):
        app = cache_manage.CacheManageFilter.factory({})(inner)
        for path in ('/v2/cached_images', '/v2/cached_images/abc',
                     '/v2/queued_images/', '/v2.1/queued_images/abc'):
            resp = webob.Request.blank(path).get_response(app)
            self.assertEqual(501, resp.status_int, path)
            self.assertIn(b'image cache is not available', resp.body)
        for path in ('/v2/images', '/v2/cached_imagesx', '/v2/cache'):
            resp = webob.Request.blank(path).get_response(app)
            self.assertEqual(200, resp.status_int, path)
