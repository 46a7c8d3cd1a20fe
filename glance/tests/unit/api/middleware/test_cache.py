"""The cache filters without a cache (image_cache_dir unset): the cache
filter passes every request on, the older management paths answer 404
(after their policy rule), and other paths go on."""

import webob

from glance import context
from glance.api.middleware import cache
from glance.api.middleware import cache_manage
from glance.tests.unit import base


def inner(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'inner']


def request(path, method='GET', admin=True):
    req = webob.Request.blank(path, method=method)
    req.environ['glance.context'] = context.RequestContext(
        is_admin=admin, roles=['admin'] if admin else ['member'],
        project_id='p')
    return req


class TestCacheFilters(base.TestCase):

    def test_cache_passes_everything_on(self):
        app = cache.CacheFilter.factory({})(inner)
        resp = request('/v2/images/x/file').get_response(app)
        self.assertEqual(200, resp.status_int)
        self.assertEqual(b'inner', resp.body)

    def test_cache_manage_paths_without_a_cache(self):
        app = cache_manage.CacheManageFilter.factory({})(inner)
        for path in ('/v2/cached_images', '/v2/queued_images/'):
            resp = request(path).get_response(app)
            self.assertEqual(404, resp.status_int, path)
            self.assertIn(b'not supported at this site', resp.body)
        resp = request('/v2/cached_images', admin=False).get_response(app)
        self.assertEqual(403, resp.status_int)
        resp = request('/v2/cached_images/abc', 'PUT').get_response(app)
        self.assertEqual(405, resp.status_int)
        self.assertEqual('DELETE', resp.headers['Allow'])
        for path in ('/v2/images', '/v2/cached_imagesx', '/v2/cache'):
            resp = request(path).get_response(app)
            self.assertEqual(200, resp.status_int, path)
