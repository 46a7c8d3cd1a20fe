"""glance.api.middleware.request_id: x-openstack-request-id."""

import webob
import webob.dec
import webob.exc

from glance.api.middleware import request_id
from glance.tests.unit import base


class TestRequestId(base.TestCase):

    def setUp(self):
        super().setUp()
        self.seen = []

        @webob.dec.wsgify
        def app(req):
            self.seen.append(req.environ.get(request_id.ENV_KEY))
            return webob.Response('ok')

        self.app = request_id.filter_factory({})(app)

    def call(self, **headers):
        return webob.Request.blank('/', headers=headers).get_response(
            self.app)

    def test_generated(self):
        resp = self.call()
        rid = resp.headers['x-openstack-request-id']
        self.assertRegex(rid, r'^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                              r'[0-9a-f]{4}-[0-9a-f]{12}$')
        self.assertEqual([rid], self.seen)

    def test_unique_per_request(self):
        first = self.call().headers['x-openstack-request-id']
        second = self.call().headers['x-openstack-request-id']
        self.assertNotEqual(first, second)

    def test_client_id_kept(self):
        resp = self.call(**{'X-Openstack-Request-ID': 'req-abc'})
        self.assertEqual('req-abc', resp.headers['x-openstack-request-id'])
        self.assertEqual(['req-abc'], self.seen)

    def test_client_id_prefixed(self):
        resp = self.call(**{'X-Openstack-Request-ID': 'abc'})
        self.assertEqual('req-abc', resp.headers['x-openstack-request-id'])

    def test_longest_allowed(self):
        rid = 'req-' + 'a' * 60
        resp = self.call(**{'X-Openstack-Request-ID': rid})
        self.assertEqual(200, resp.status_int)
        self.assertEqual(rid, resp.headers['x-openstack-request-id'])

    def test_too_long_is_431(self):
        resp = self.call(**{'X-Openstack-Request-ID': 'a' * 65})
        self.assertEqual(431, resp.status_int)
        self.assertEqual([], self.seen)
        rid = resp.headers['x-openstack-request-id']
        self.assertTrue(rid.startswith('req-'))
        self.assertNotIn('a' * 65, rid)

    def test_limit_configurable(self):
        self.config(max_request_id_length=5)
        resp = self.call(**{'X-Openstack-Request-ID': 'abcdef'})
        self.assertEqual(431, resp.status_int)
        resp = self.call(**{'X-Openstack-Request-ID': 'abcde'})
        self.assertEqual(200, resp.status_int)

    def test_header_on_error_responses(self):
        @webob.dec.wsgify
        def failing(req):
            return webob.exc.HTTPNotFound()

        app = request_id.filter_factory({})(failing)
        resp = webob.Request.blank('/').get_response(app)
        self.assertEqual(404, resp.status_int)
        self.assertIn('x-openstack-request-id', resp.headers)
