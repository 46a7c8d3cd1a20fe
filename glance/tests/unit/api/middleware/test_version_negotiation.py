"""glance.api.middleware.version_negotiation (section 3.2)."""

import json

import webob
import webob.dec

from glance.api import versions
from glance.api.middleware import version_negotiation
from glance.tests.unit import base


@webob.dec.wsgify
def echo(req):
    """Report the path and API version the filter handed down."""
    return webob.Response(json={'path': req.path_info,
                                'version': req.environ.get('api.version')})


class TestVersionNegotiation(base.TestCase):

    def setUp(self):
        super().setUp()
        self.app = version_negotiation.filter_factory({})(echo)

    def call(self, path, **headers):
        return webob.Request.blank(path, headers=headers).get_response(
            self.app)

    def assertPassed(self, resp, path):
        self.assertEqual(200, resp.status_int)
        self.assertEqual({'path': path, 'version': 2}, json.loads(resp.body))

    def assertVersions(self, resp, status=300):
        self.assertEqual(status, resp.status_int)
        self.assertIn('versions', json.loads(resp.body))

    def test_v2(self):
        self.assertPassed(self.call('/v2/images'), '/v2/images')

    def test_minor_versions_rewritten(self):
        for token in ('v2.0', 'v2.3', 'v2.9', 'v2.15', 'v2.17'):
            self.assertPassed(self.call('/%s/images/x' % token),
                              '/v2/images/x')

    def test_bare_version(self):
        self.assertPassed(self.call('/v2'), '/v2')
        self.assertPassed(self.call('/v2.1/'), '/v2/')

    def test_root_and_unknown_versions(self):
        for path in ('/', '/v1/images', '/v3', '/v2.8/images',
                     '/v2.18/images', '/images'):
            self.assertVersions(self.call(path))

    def test_cache_versions_only_with_cache(self):
        self.assertVersions(self.call('/v2.16/images'))
        self.config(image_cache_dir='/tmp/cache')
        # ... served by a caching flavor.
        self.assertVersions(self.call('/v2.16/images'))
        versions.set_caching(True)
        self.addCleanup(versions.set_caching, False)
        self.assertPassed(self.call('/v2.16/images'), '/v2/images')

    def test_multistore_versions_only_with_backends(self):
        self.assertVersions(self.call('/v2.10/images'))
        self.config(enabled_backends={'a': 'file'})
        self.assertPassed(self.call('/v2.10/images'), '/v2/images')

    def test_versions_path_is_200(self):
        self.assertVersions(self.call('/versions'), 200)

    def test_accept_header(self):
        resp = self.call('/images',
                         Accept='application/vnd.openstack.images-v2.5')
        self.assertPassed(resp, '/v2/images')

    def test_accept_header_unknown_version(self):
        resp = self.call('/images',
                         Accept='application/vnd.openstack.images-v1')
        self.assertVersions(resp)

    def test_ordinary_accept_ignored(self):
        self.assertPassed(self.call('/v2/images', Accept='application/json'),
                          '/v2/images')
