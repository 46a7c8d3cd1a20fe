"""glance.common.wsgi: Request bodies, responses, Router and error bodies."""

import io
import json

import fixtures
import webob
import webob.exc

from glance.common import exception
from glance.common import wsgi
from glance.tests.unit import base


class Controller:
    """Actions exercising each way a controller can answer."""

    def show(self, req, item_id):
        return wsgi.json_response({'id': item_id})

    def create(self, req):
        return wsgi.json_response(req.json(), 201)

    def domain_error(self, req, item_id):
        raise exception.Conflict('Item %s is busy.' % item_id,
                                 headers={'Retry-After': '3'})

    def http_error(self, req, item_id):
        raise webob.exc.HTTPGone()

    def crash(self, req):
        raise ZeroDivisionError('secret detail')


ROUTES = [
    wsgi.Route('/items', {'POST': ('c', 'create')}),
    wsgi.Route('/items/{item_id}', {'GET': ('c', 'show'),
                                    'PUT': ('c', 'domain_error'),
                                    'DELETE': ('c', 'http_error')}),
    wsgi.Route('/crash', {'GET': ('c', 'crash')}),
]


class TestRouter(base.TestCase):

    def setUp(self):
        super().setUp()
        self.app = wsgi.Router(ROUTES, {'c': Controller()})

    def call(self, path, method='GET', **kwargs):
        return webob.Request.blank(path, method=method,
                                   **kwargs).get_response(self.app)

    def test_dispatch_with_path_variables(self):
        resp = self.call('/items/42')
        self.assertEqual(200, resp.status_int)
        self.assertEqual({'id': '42'}, resp.json)

    def test_lowered_path_variables(self):
        self.assertEqual({'id': 'AbC'}, self.call('/items/AbC').json)
        self.app = wsgi.Router(ROUTES, {'c': Controller()},
                               lowered=('item_id',))
        self.assertEqual({'id': 'abc'}, self.call('/items/AbC').json)
        self.assertEqual(409, self.call('/items/AbC', 'PUT').status_int)

    def test_unknown_path_is_404(self):
        for method in ('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'):
            self.assertEqual(404, self.call('/nothing', method).status_int,
                             method)

    def test_unknown_method_is_501(self):
        for method in ('OPTIONS', 'TRACE', 'FROB'):
            self.assertEqual(501, self.call('/nothing', method).status_int,
                             method)

    def test_unrouted_method_is_405_with_allow(self):
        resp = self.call('/items/1', 'PATCH')
        self.assertEqual(405, resp.status_int)
        self.assertEqual('GET, PUT, DELETE', resp.headers['Allow'])
        resp = self.call('/items', 'GET')
        self.assertEqual(405, resp.status_int)
        self.assertEqual('POST', resp.headers['Allow'])

    def test_head_is_not_get(self):
        resp = self.call('/items/1', 'HEAD')
        self.assertEqual(405, resp.status_int)

    def test_domain_error_mapped(self):
        resp = self.call('/items/7', 'PUT')
        self.assertEqual(409, resp.status_int)
        self.assertEqual('3', resp.headers['Retry-After'])
        self.assertIn('Item 7 is busy.', resp.text)

    def test_webob_error_passes_through(self):
        resp = self.call('/items/7', 'DELETE')
        self.assertEqual(410, resp.status_int)

    def test_unexpected_error_is_500_without_detail(self):
        logs = self.useFixture(fixtures.FakeLogger())
        resp = self.call('/crash')
        self.assertEqual(500, resp.status_int)
        self.assertNotIn('secret detail', resp.text)
        self.assertIn('secret detail', logs.output)

    def test_json_body(self):
        resp = self.call('/items', 'POST', body=b'{"a": 1}',
                         content_type='application/json')
        self.assertEqual(201, resp.status_int)
        self.assertEqual({'a': 1}, resp.json)


class TestErrorBodies(base.TestCase):

    def error(self, accept=None, code=404, message='Gone fishing.'):
        headers = {'Accept': accept} if accept else {}
        req = wsgi.Request.blank('/x', headers=headers)
        return wsgi.error_response(req, code, message)

    def test_plain_text_by_default(self):
        resp = self.error()
        self.assertEqual(404, resp.status_int)
        self.assertEqual('text/plain', resp.content_type)
        self.assertTrue(resp.text.startswith('404 Not Found\n\n'))
        self.assertIn('Gone fishing.', resp.text)

    def test_json_when_accepted(self):
        resp = self.error('application/json')
        self.assertEqual('application/json', resp.content_type)
        body = json.loads(resp.body)
        self.assertEqual('404 Not Found', body['code'])
        self.assertEqual('Not Found', body['title'])
        self.assertIn('Gone fishing.', body['message'])

    def test_html_for_browsers(self):
        resp = self.error('text/html')
        self.assertEqual('text/html', resp.content_type)
        self.assertIn('Gone fishing.', resp.text)

    def test_unknown_code_is_500(self):
        self.assertEqual(500, self.error(code=599).status_int)

    def test_extra_headers(self):
        req = wsgi.Request.blank('/x')
        resp = wsgi.error_response(req, 415, 'no', {'Accept-Patch': 'a'})
        self.assertEqual('a', resp.headers['Accept-Patch'])

    def test_domain_error_response(self):
        req = wsgi.Request.blank('/x', headers={'Accept': 'application/json'})
        resp = wsgi.domain_error_response(
            req, exception.LimitExceeded('Too many tags.'))
        self.assertEqual(413, resp.status_int)
        self.assertIn('Too many tags.', resp.json['message'])

    def test_431(self):
        self.assertEqual(431, self.error(code=431).status_int)

    def test_exception_codes(self):
        expected = {exception.BadRequest: 400, exception.Invalid: 400,
                    exception.NotAuthenticated: 401,
                    exception.Forbidden: 403,
                    exception.ReadonlyProperty: 403,
                    exception.ReservedProperty: 403,
                    exception.ProtectedImageDelete: 403,
                    exception.ImageNotFound: 404,
                    exception.MethodNotAllowed: 405,
                    exception.Duplicate: 409,
                    exception.InvalidImageStatusTransition: 409,
                    exception.RequestEntityTooLarge: 413,
                    exception.UnsupportedMediaType: 415,
                    exception.HeaderTooLarge: 431,
                    exception.ServiceUnavailable: 503}
        for cls, code in expected.items():
            self.assertEqual(code, cls().code, cls.__name__)
            self.assertTrue(cls().msg)


class TestRequest(base.TestCase):

    def req(self, body=None, method='POST', **kwargs):
        req = wsgi.Request.blank('/', method=method, **kwargs)
        if body is not None:
            req.body = body
        return req

    def test_json_object(self):
        self.assertEqual({'a': [1]}, self.req(b'{"a": [1]}').json())

    def test_json_list_when_expected(self):
        self.assertEqual([1], self.req(b'[1]').json(expect=(list,)))

    def test_wrong_type(self):
        e = self.assertRaises(exception.BadRequest,
                              self.req(b'[1]').json)
        self.assertIn('Unexpected body type', e.msg)
        self.assertRaises(exception.BadRequest,
                          self.req(b'{}').json, expect=(list,))
        self.assertRaises(exception.BadRequest, self.req(b'"s"').json)

    def test_missing_body(self):
        e = self.assertRaises(exception.BadRequest, self.req().json)
        self.assertEqual('Body expected in request.', e.msg)

    def test_malformed(self):
        for raw in (b'{', b'{"a": }', b'\xff\xfe', b'nul'):
            self.assertRaises(exception.BadRequest, self.req(raw).json)

    def test_chunked_body(self):
        req = wsgi.Request.blank('/', method='POST')
        req.environ['wsgi.input'] = io.BytesIO(b'{"k": "v"}')
        req.headers['Transfer-Encoding'] = 'chunked'
        req.environ.pop('CONTENT_LENGTH', None)
        self.assertTrue(req.has_body())
        self.assertEqual({'k': 'v'}, req.json())

    def test_too_large(self):
        big = b'"' + b'x' * wsgi.MAX_JSON_BODY + b'"'
        req = self.req(big)
        self.assertRaises(exception.RequestEntityTooLarge, req.json)

    def test_too_large_chunked(self):
        req = wsgi.Request.blank('/', method='POST')
        req.environ['wsgi.input'] = io.BytesIO(
            b'[' + b'1,' * wsgi.MAX_JSON_BODY + b'1]')
        req.headers['Transfer-Encoding'] = 'chunked'
        self.assertRaises(exception.RequestEntityTooLarge, req.json,
                          expect=(list,))

    def test_read_body_limit(self):
        req = self.req(b'12345')
        self.assertRaises(exception.RequestEntityTooLarge,
                          req.read_body, limit=4)
        self.assertEqual(b'12345', self.req(b'12345').read_body(limit=5))

    def test_reject_body(self):
        self.assertIsNone(self.req(method='GET').reject_body())
        e = self.assertRaises(exception.BadRequest,
                              self.req(b'x', method='GET').reject_body)
        self.assertEqual('A body is not expected with this request.', e.msg)

    def test_context(self):
        req = self.req()
        req.environ['glance.context'] = 'ctx'
        self.assertEqual('ctx', req.context)


class TestResponses(base.TestCase):

    def test_json_response(self):
        resp = wsgi.json_response({'a': 'é'}, 202, {'X-Foo': 'bar'})
        self.assertEqual(202, resp.status_int)
        self.assertEqual('application/json', resp.content_type)
        self.assertEqual({'a': 'é'}, json.loads(resp.body))
        self.assertEqual('bar', resp.headers['X-Foo'])

    def test_empty_response(self):
        resp = wsgi.empty_response()
        self.assertEqual(204, resp.status_int)
        self.assertEqual(b'', resp.body)
        self.assertNotIn('Content-Type', resp.headers)
