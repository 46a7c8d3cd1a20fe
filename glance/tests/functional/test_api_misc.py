"""Everything around the image resources: the versions document and
version negotiation, request ids, 404/405/501 routing, error bodies, the
healthcheck, the schema endpoints and CORS."""

import json
import uuid

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

# The versions document without a cache or multi-store configured, in the
# order the service emits it.
EXPECTED_VERSIONS = ([('v2.15', 'SUPPORTED'), ('v2.9', 'SUPPORTED'),
                      ('v2.17', 'CURRENT')]
                     + [('v2.%d' % n, 'SUPPORTED') for n in range(7, -1, -1)])


class TestVersions(h.ImageAPIMixin, base.SharedDaemonTest):

    def assert_versions(self, resp, status):
        self.assertEqual(status, resp.status_code, resp.text)
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0])
        versions = resp.json()['versions']
        self.assertEqual(EXPECTED_VERSIONS,
                         [(v['id'], v['status']) for v in versions])
        for v in versions:
            self.assertEqual([{'rel': 'self', 'href': self.url + '/v2/'}],
                             v['links'])

    def test_root_is_300(self):
        self.assert_versions(self.request('GET', '/'), 300)
        self.assert_versions(self.request('GET', ''), 300)

    def test_versions_is_200(self):
        self.assert_versions(self.request('GET', '/versions'), 200)

    def test_unknown_versions_are_300(self):
        for path in ('/v1', '/v1/images', '/v3/images', '/v2.8/images',
                     '/v2.18/images', '/v2.99/images', '/unknown',
                     '/images', '/v20/images', '/V2/images'):
            self.assert_versions(self.request('GET', path), 300)

    def test_minor_versions_route_to_v2(self):
        image = self.new_image(name='minor')
        for version in ('v2', 'v2.0', 'v2.3', 'v2.7', 'v2.9', 'v2.15',
                        'v2.17'):
            resp = self.request('GET', '/%s/images' % version)
            self.assertEqual(200, resp.status_code, version)
            self.assertEqual([image['id']],
                             [i['id'] for i in resp.json()['images']])
            resp = self.request('GET', '/%s/images/%s' % (version,
                                                         image['id']))
            self.assertEqual(200, resp.status_code, version)
            # Links are always /v2 ones.
            self.assertEqual('/v2/images/%s' % image['id'],
                             resp.json()['self'])

    def test_accept_header_negotiation(self):
        image = self.new_image()
        for version in ('v2', 'v2.1', 'v2.5'):
            headers = self.headers(
                Accept='application/vnd.openstack.images-%s' % version)
            resp = self.request('GET', '/images/%s' % image['id'],
                                headers=headers)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertEqual(image['id'], resp.json()['id'])
        for version in ('v1', 'v3', 'v2.8'):
            headers = self.headers(
                Accept='application/vnd.openstack.images-%s' % version)
            self.assert_versions(self.request('GET', '/images',
                                              headers=headers), 300)


class TestRequestIds(h.ImageAPIMixin, base.SharedDaemonTest):

    def assert_request_id(self, resp):
        rid = resp.headers.get('x-openstack-request-id')
        self.assertIsNotNone(rid, '%s %s' % (resp.status_code,
                                             resp.request.url))
        self.assertRegex(rid, h.REQUEST_ID_RE)
        return rid

    def test_every_response_has_one(self):
        image = self.new_image()
        cases = [
            ('GET', '/', None, 300), ('GET', '/versions', None, 200),
            ('GET', '/v1/images', None, 300),
            ('GET', '/v2/images', None, 200),
            ('POST', '/v2/images', {}, 201),
            ('GET', '/v2/images/%s' % uuid.uuid4(), None, 404),
            ('GET', '/v2/nowhere', None, 404),
            ('DELETE', '/v2/images', None, 405),
            ('POST', '/v2/images', [], 400),
            ('GET', '/v2/images?sort_key=bogus', None, 400),
            ('DELETE', '/v2/images/%s' % image['id'], None, 204),
            ('GET', '/v2/schemas/image', None, 200),
        ]
        seen = set()
        for method, path, body, status in cases:
            resp = self.request(method, path, json=body)
            self.assertEqual(status, resp.status_code, path)
            seen.add(self.assert_request_id(resp))
        # Fresh ids each time.
        self.assertEqual(len(cases), len(seen))
        resp = self.request('FOO', '/v2/nowhere')
        self.assertEqual(501, resp.status_code)
        self.assert_request_id(resp)

    def test_client_request_id_kept(self):
        resp = self.request('GET', '/v2/images', headers=self.headers(
            **{'X-Openstack-Request-ID': 'req-my-own-id'}))
        self.assertEqual('req-my-own-id',
                         resp.headers['x-openstack-request-id'])
        resp = self.request('GET', '/v2/images', headers=self.headers(
            **{'X-Openstack-Request-ID': 'abc123'}))
        self.assertEqual('req-abc123',
                         resp.headers['x-openstack-request-id'])
        given = 'req-' + 'a' * 60
        resp = self.request('GET', '/v2/images', headers=self.headers(
            **{'X-Openstack-Request-ID': given}))
        self.assertEqual(200, resp.status_code)
        self.assertEqual(given, resp.headers['x-openstack-request-id'])
        # Also on an error answer from the version negotiation.
        resp = self.request('GET', '/', headers=self.headers(
            **{'X-Openstack-Request-ID': 'req-root'}))
        self.assertEqual(300, resp.status_code)
        self.assertEqual('req-root', resp.headers['x-openstack-request-id'])

    def test_too_long_request_id(self):
        resp = self.request('POST', '/v2/images', json={'name': 'nope'},
                            headers=self.headers(
                                **{'X-Openstack-Request-ID': 'r' * 65}))
        self.assertEqual(431, resp.status_code, resp.text)
        rid = self.assert_request_id(resp)
        self.assertNotEqual('req-' + 'r' * 65, rid)
        # The request was not served.
        self.assertEqual([], self.list_ids())


class TestRouting(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_405_with_allow(self):
        image = self.new_image()
        iid = image['id']
        cases = [
            ('DELETE', '/v2/images', {'GET', 'POST'}),
            ('PUT', '/v2/images', {'GET', 'POST'}),
            ('PUT', '/v2/images/%s' % iid, {'GET', 'PATCH', 'DELETE'}),
            ('POST', '/v2/images/%s' % iid, {'GET', 'PATCH', 'DELETE'}),
            ('POST', '/v2/schemas/image', {'GET'}),
            ('DELETE', '/v2/schemas/images', {'GET'}),
            ('GET', '/v2/images/%s/tags/x' % iid, {'PUT', 'DELETE'}),
            ('PUT', '/v2/images/%s/actions/reactivate' % iid, {'POST'}),
        ]
        for method, path, allowed in cases:
            resp = self.request(method, path)
            self.assertEqual(405, resp.status_code, '%s %s' % (method, path))
            self.assertEqual(allowed, {m.strip() for m in
                                       resp.headers['Allow'].split(',')},
                             '%s %s' % (method, path))
        self.assertEqual(image, self.show(iid))

    def test_404_and_501(self):
        for method in ('GET', 'POST', 'PUT', 'DELETE', 'PATCH'):
            resp = self.request(method, '/v2/nowhere')
            self.assertEqual(404, resp.status_code, method)
        for method in ('FOO', 'PROPFIND'):
            resp = self.request(method, '/v2/nowhere')
            self.assertEqual(501, resp.status_code, method)

    def test_json_error_bodies(self):
        resp = self.request('GET', '/v2/images/%s' % uuid.uuid4(),
                            headers=self.headers(Accept='application/json'))
        self.assertEqual(404, resp.status_code)
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0])
        body = resp.json()
        self.assertEqual('404 Not Found', body['code'])
        self.assertEqual('Not Found', body['title'])
        self.assertIn('message', body)
        resp = self.request('DELETE', '/v2/images',
                            headers=self.headers(Accept='application/json'))
        self.assertEqual(405, resp.status_code)
        self.assertEqual('405 Method Not Allowed', resp.json()['code'])
        resp = self.request('POST', '/v2/images', json={'visibility': 'x'},
                            headers=self.headers(Accept='application/json'))
        self.assertEqual(400, resp.status_code)
        self.assertEqual('400 Bad Request', resp.json()['code'])
        resp = self.request('POST', '/v2/images', json={'status': 'active'},
                            headers=self.headers(Accept='application/json'))
        self.assertEqual(403, resp.status_code)
        self.assertEqual('Forbidden', resp.json()['title'])
        self.assertIn('status', resp.json()['message'])

    def test_plain_text_error_bodies(self):
        resp = self.request('GET', '/v2/images/%s' % uuid.uuid4(),
                            headers=self.headers(Accept='text/plain'))
        self.assertEqual(404, resp.status_code)
        self.assertEqual('text/plain',
                         resp.headers['Content-Type'].split(';')[0])
        self.assertTrue(resp.text.startswith('404 Not Found'), resp.text)


class TestHealthcheck(base.SharedDaemonTest):

    def test_healthcheck(self):
        for headers in ({}, self.headers()):
            resp = self.http.get(self.url + '/healthcheck', headers=headers)
            self.assertEqual(200, resp.status_code)
            self.assertEqual('OK', resp.text.strip())


class TestSchemas(h.ImageAPIMixin, base.SharedDaemonTest):

    def get_schema(self, name):
        resp = self.request('GET', '/v2/schemas/%s' % name)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0])
        return resp.json()

    def test_image(self):
        schema = self.get_schema('image')
        self.assertEqual('image', schema['name'])
        props = schema['properties']
        for key in ('id', 'name', 'status', 'visibility', 'protected',
                    'os_hidden', 'checksum', 'os_hash_algo',
                    'os_hash_value', 'owner', 'size', 'virtual_size',
                    'container_format', 'disk_format', 'created_at',
                    'updated_at', 'tags', 'min_ram', 'min_disk', 'self',
                    'file', 'schema'):
            self.assertIn(key, props)
        self.assertEqual({'community', 'public', 'private', 'shared'},
                         set(props['visibility']['enum']))
        self.assertEqual({'queued', 'saving', 'active', 'killed', 'deleted',
                          'uploading', 'importing', 'pending_delete',
                          'deactivated'}, set(props['status']['enum']))
        self.assertTrue(props['status'].get('readOnly'))
        self.assertEqual({'type': 'string'}, schema['additionalProperties'])
        self.assertEqual(255, props['name']['maxLength'])
        self.assertIn(None, props['disk_format']['enum'])
        self.assertIn('qcow2', props['disk_format']['enum'])
        self.assertIn('bare', props['container_format']['enum'])

    def test_images(self):
        schema = self.get_schema('images')
        image = self.get_schema('image')
        self.assertEqual('images', schema['name'])
        self.assertEqual('array', schema['properties']['images']['type'])
        self.assertEqual(image, schema['properties']['images']['items'])
        for key in ('first', 'next', 'schema'):
            self.assertEqual({'type': 'string'}, schema['properties'][key])
        self.assertEqual([{'rel': 'first', 'href': '{first}'},
                          {'rel': 'next', 'href': '{next}'},
                          {'rel': 'describedby', 'href': '{schema}'}],
                         schema['links'])

    def test_member_and_members(self):
        member = self.get_schema('member')
        self.assertEqual('member', member['name'])
        for key in ('member_id', 'image_id', 'status', 'created_at',
                    'updated_at', 'schema'):
            self.assertIn(key, member['properties'])
        self.assertEqual({'pending', 'accepted', 'rejected'},
                         set(member['properties']['status']['enum']))
        self.assertNotIn('additionalProperties', member)
        members = self.get_schema('members')
        self.assertEqual('members', members['name'])
        self.assertEqual(member, members['properties']['members']['items'])
        self.assertEqual([{'rel': 'describedby', 'href': '{schema}'}],
                         members['links'])

    def test_task_and_tasks(self):
        task = self.get_schema('task')
        self.assertEqual('task', task['name'])
        for key in ('id', 'type', 'status', 'input', 'result', 'owner',
                    'message', 'created_at', 'updated_at', 'self',
                    'schema'):
            self.assertIn(key, task['properties'])
        tasks = self.get_schema('tasks')
        self.assertEqual('tasks', tasks['name'])
        items = tasks['properties']['tasks']['items']['properties']
        self.assertIn('status', items)
        for key in ('input', 'result', 'message'):
            self.assertNotIn(key, items)
        self.assertEqual([{'rel': 'describedby', 'href': '{schema}'}],
                         tasks['links'])

    def test_unknown_schema_and_body(self):
        self.assertEqual(404, self.request(
            'GET', '/v2/schemas/nothing').status_code)
        resp = self.request('GET', '/v2/schemas/image', data='{}',
                            headers=self.headers(
                                **{'Content-Type': 'application/json'}))
        self.assertEqual(400, resp.status_code)

    def test_schema_describes_real_images(self):
        """Every key of a served image is a property of the schema."""
        schema = self.get_schema('image')
        image = self.new_image(name='x', disk_format='raw', foo='bar')
        for key, value in image.items():
            if key == 'foo':
                continue
            self.assertIn(key, schema['properties'])
        self.assertEqual(json.loads(json.dumps(image)), image)


class TestCors(h.ImageAPIMixin, base.SharedDaemonTest):

    options = {'cors.allowed_origin': 'http://example.com'}

    def test_preflight_allowed_origin(self):
        resp = self.request('OPTIONS', '/v2/images', headers={
            'Origin': 'http://example.com',
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'X-Roles, Content-Type'})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('http://example.com',
                         resp.headers['Access-Control-Allow-Origin'])
        methods = {m.strip() for m in resp.headers[
            'Access-Control-Allow-Methods'].split(',')}
        self.assertIn('POST', methods)
        allowed = {m.strip().lower() for m in resp.headers[
            'Access-Control-Allow-Headers'].split(',')}
        self.assertIn('x-roles', allowed)
        # No image was created by the preflight.
        self.assertEqual([], self.list_ids())

    def test_preflight_other_origin(self):
        resp = self.request('OPTIONS', '/v2/images', headers={
            'Origin': 'http://evil.example.org',
            'Access-Control-Request-Method': 'GET'})
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
        self.assertLess(resp.status_code, 500)

    def test_simple_request_headers(self):
        resp = self.request('GET', '/v2/images', headers=self.headers(
            Origin='http://example.com'))
        self.assertEqual(200, resp.status_code)
        self.assertEqual('http://example.com',
                         resp.headers['Access-Control-Allow-Origin'])
        exposed = {m.strip().lower() for m in resp.headers[
            'Access-Control-Expose-Headers'].split(',')}
        self.assertIn('x-openstack-request-id', exposed)
        resp = self.request('GET', '/v2/images', headers=self.headers(
            Origin='http://evil.example.org'))
        self.assertEqual(200, resp.status_code)
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
