"""Bad input is answered with a clear 4xx, never a 5xx, and the daemon
keeps serving normal requests afterwards."""

import json
import socket
import uuid

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

JSON_CT = {'Content-Type': 'application/json'}


class TestBadInput(h.ImageAPIMixin, base.SharedDaemonTest):

    def send(self, method, path, data=None, headers=None, status=400,
             extra=None):
        """Send raw ``data``; assert ``status`` and that the daemon lives."""
        hdrs = self.headers(**(extra or {}))
        hdrs.update(headers or {})
        resp = self.request(method, path, data=data, headers=hdrs)
        if isinstance(status, int):
            status = (status,)
        shown = data[:80] if isinstance(data, (str, bytes)) else data
        self.assertIn(resp.status_code, status, '%s %s %r: %s' % (
            method, path[:80], shown, resp.text[:300]))
        self.assert_serving()
        return resp

    def test_malformed_json(self):
        image = self.new_image()
        for data in ('{', '{"name": }', "{'name': 'x'}", 'nul', '{"a":1}}',
                     '\xff\xfe', b'\xff\xfe{}', '{"name": "\\ud800"}'):
            self.send('POST', '/v2/images', data, JSON_CT)
            self.send('PATCH', '/v2/images/%s' % image['id'], data,
                      {'Content-Type': h.PATCH_V21})

    def test_json_that_is_not_an_object(self):
        for data in ('[]', '"name"', '42', 'null', 'true', '[{"name": 1}]'):
            self.send('POST', '/v2/images', data, JSON_CT)

    def test_missing_body(self):
        self.send('POST', '/v2/images', None, JSON_CT)
        self.send('POST', '/v2/images', '', JSON_CT)
        image = self.new_image()
        self.send('PATCH', '/v2/images/%s' % image['id'], '',
                  {'Content-Type': h.PATCH_V21})

    def test_wrong_content_types(self):
        image = self.new_image()
        for media in ('application/json', 'text/plain', 'multipart/form-data',
                      'application/x-www-form-urlencoded', ''):
            self.send('PATCH', '/v2/images/%s' % image['id'], '[]',
                      {'Content-Type': media}, status=415)
        # Create reads a JSON body whatever it is labelled; a form-encoded
        # body is not JSON.
        self.send('POST', '/v2/images', 'name=x&disk_format=raw',
                  {'Content-Type': 'application/x-www-form-urlencoded'},
                  status=(400, 415))
        self.send('POST', '/v2/images', '{"name": "typed"}',
                  {'Content-Type': 'text/plain'}, status=(201, 400, 415))

    def test_body_on_bodiless_routes(self):
        image = self.new_image(tags=['t'])
        iid = image['id']
        for method, path in (('GET', '/v2/images/%s' % iid),
                             ('DELETE', '/v2/images/%s' % iid),
                             ('PUT', '/v2/images/%s/tags/x' % iid),
                             ('DELETE', '/v2/images/%s/tags/t' % iid),
                             ('POST', '/v2/images/%s/actions/deactivate'
                              % iid),
                             ('GET', '/v2/schemas/images')):
            self.send(method, path, '{"a": "b"}', JSON_CT)
        self.assertEqual(image, self.show(iid))

    def test_oversized_json_body(self):
        big = json.dumps({'name': 'x', 'description': 'd' * (1024 * 1024)})
        self.send('POST', '/v2/images', big, JSON_CT, status=413)
        image = self.new_image()
        patch = json.dumps([{'op': 'add', 'path': '/description',
                             'value': 'd' * (1024 * 1024)}])
        self.send('PATCH', '/v2/images/%s' % image['id'], patch,
                  {'Content-Type': h.PATCH_V21}, status=413)
        self.assertEqual([image['id']], self.list_ids())

    def test_oversized_chunked_body(self):
        def chunks():
            yield b'{"name": "x", "description": "'
            for _ in range(20):
                yield b'd' * 65536
            yield b'"}'
        self.send('POST', '/v2/images', chunks(), JSON_CT, status=413)

    def test_oversized_header_line(self):
        # Default max_header_line is 16384.
        resp = self.request('GET', '/v2/images', headers=self.headers(
            **{'X-Long': 'x' * 20000}))
        self.assertIn(resp.status_code, (400, 431), resp.text[:200])
        self.assert_serving()

    def test_non_uuid_ids(self):
        for image_id in ('not-a-uuid', '1', 'x' * 1000, '%00', '%25',
                         '..', str(uuid.uuid4()) + 'x', "1'%20OR%20'1'='1"):
            for method, suffix in (('GET', ''), ('DELETE', ''),
                                   ('PUT', '/tags/x'), ('DELETE', '/tags/x'),
                                   ('POST', '/actions/deactivate'),
                                   ('POST', '/actions/reactivate')):
                self.send(method, '/v2/images/%s%s' % (image_id, suffix),
                          status=404)
            self.send('PATCH', '/v2/images/%s' % image_id, '[]',
                      {'Content-Type': h.PATCH_V21}, status=404)

    def test_four_byte_unicode(self):
        emoji = '\U0001F600'
        for body in ({'name': 'smile' + emoji}, {'os_distro': emoji},
                     {emoji: 'x'}, {'tags': [emoji]}):
            self.send('POST', '/v2/images', json.dumps(body), JSON_CT)
        image = self.new_image(name='ok')
        for change in ({'op': 'replace', 'path': '/name', 'value': emoji},
                       {'op': 'add', 'path': '/os_distro', 'value': emoji},
                       {'op': 'add', 'path': '/' + emoji, 'value': 'x'},
                       {'op': 'replace', 'path': '/tags',
                        'value': [emoji]}):
            self.send('PATCH', '/v2/images/%s' % image['id'],
                      json.dumps([change]), {'Content-Type': h.PATCH_V21})
        self.send('PUT', '/v2/images/%s/tags/%s' % (image['id'],
                                                     '%F0%9F%98%80'))
        self.assertEqual(image, self.show(image['id']))
        # Three-byte characters are fine.
        named = self.new_image(name='\u00e9t\u00e9 \u65e5\u672c')
        self.assertEqual('\u00e9t\u00e9 \u65e5\u672c',
                         self.show(named['id'])['name'])

    def test_control_characters(self):
        for char in ('\x00', '\x01', '\x1b', '\x7f'):
            for body in ({'name': 'a%sb' % char},
                         {'os_distro': 'a%sb' % char},
                         {'a%sb' % char: 'x'}):
                self.send('POST', '/v2/images', json.dumps(body), JSON_CT)
        image = self.new_image(name='ok')
        self.send('PATCH', '/v2/images/%s' % image['id'],
                  json.dumps([{'op': 'replace', 'path': '/name',
                               'value': 'a\x00b'}]),
                  {'Content-Type': h.PATCH_V21})
        self.send('PUT', '/v2/images/%s/tags/a%%00b' % image['id'])
        self.send('GET', '/v2/images?name=a%00b')

    def test_nul_bytes_in_queries(self):
        self.new_image(name='q')
        for query in ('name=a%00b', 'os_distro=%00', 'tag=%00',
                      'name=in:a%00,b', 'owner=%00'):
            resp = self.request('GET', '/v2/images?' + query)
            self.assertIn(resp.status_code, (200, 400), query)
            if resp.status_code == 200:
                self.assertEqual([], resp.json()['images'])
        for query in ('sort_key=na%00me', 'marker=%00', 'limit=1%00',
                      'visibility=%00', 'created_at=%00'):
            self.send('GET', '/v2/images?' + query)

    def test_invalid_utf8_in_query(self):
        for query in ('name=%ff%fe', 'os_distro=%c3%28', 'tag=%80'):
            self.send('GET', '/v2/images?' + query, status=(200, 400))

    def test_huge_numbers(self):
        body = self.list_images('limit=%d' % 10 ** 30)
        self.assertEqual([], body['images'])
        for key in ('size_min', 'size_max', 'min_ram', 'size'):
            self.send('GET', '/v2/images?%s=%d' % (key, 10 ** 30),
                      status=(200, 400))
        for key in ('min_ram', 'min_disk'):
            self.send('POST', '/v2/images', json.dumps({key: 2 ** 63}),
                      JSON_CT)
            self.send('POST', '/v2/images', json.dumps({key: 10 ** 30}),
                      JSON_CT)
        image = self.new_image()
        self.send('PATCH', '/v2/images/%s' % image['id'],
                  json.dumps([{'op': 'replace', 'path': '/min_ram',
                               'value': 2 ** 63}]),
                  {'Content-Type': h.PATCH_V21})
        self.assertEqual(0, self.show(image['id'])['min_ram'])

    def test_unknown_sort_keys_and_bad_markers(self):
        for query in ('sort_key=owner', 'sort_key=' + 'x' * 5000,
                      'sort=name:asc:desc', 'sort=,', 'sort=:asc',
                      'marker=%s' % uuid.uuid4(), 'marker=',
                      'marker=' + 'm' * 5000, 'limit=-5', 'limit=1e3'):
            self.send('GET', '/v2/images?' + query)

    def test_deeply_nested_json(self):
        depth = 100000
        data = '[' * depth + ']' * depth
        self.send('POST', '/v2/images', data, JSON_CT)
        data = '{"name": ' + '{"a": ' * depth + '1' + '}' * depth + '}'
        self.send('POST', '/v2/images', data, JSON_CT)
        image = self.new_image()
        self.send('PATCH', '/v2/images/%s' % image['id'],
                  '[' * depth + ']' * depth, {'Content-Type': h.PATCH_V21})

    def test_bad_json_types_in_patch(self):
        image = self.new_image()
        for change in ([{'op': ['add'], 'path': '/a', 'value': 'x'}],
                       [{'op': {'a': 1}, 'path': '/a', 'value': 'x'}],
                       [{'op': 'add', 'path': {'x': 1}, 'value': 'x'}],
                       [{'op': 'add', 'path': '/' + 'k' * 300,
                         'value': 'x'}],
                       [{'op': 'add', 'path': '/tags', 'value': [None]}],
                       [{'op': 'add', 'path': '/tags',
                         'value': [['nested']]}]):
            self.send('PATCH', '/v2/images/%s' % image['id'],
                      json.dumps(change), {'Content-Type': h.PATCH_V21})
        self.assertEqual(image, self.show(image['id']))

    def test_bad_identity_headers(self):
        # Odd but harmless identity headers must not crash the service.
        for headers in ({'X-Roles': ',,,'}, {'X-Roles': 'ADMIN'},
                        {'X-Project-Id': 'p' * 300}):
            resp = self.request('GET', '/v2/images',
                                headers=dict(self.headers(), **headers))
            self.assertLess(resp.status_code, 500, headers)
        self.assert_serving()

    def test_garbage_on_the_socket(self):
        port = int(self.url.rsplit(':', 1)[1])
        for payload in (b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
                        b'GET /v2/images HTTP/9.9\r\n\r\n',
                        b'NOT A REQUEST\r\n\r\n',
                        b'GET /v2/images HTTP/1.1\r\nHost: x\r\n'
                        b'Content-Length: -1\r\n\r\n'):
            with socket.create_connection(('127.0.0.1', port),
                                          timeout=5) as s:
                s.sendall(payload)
                try:
                    answer = s.recv(4096)
                except socket.timeout:
                    answer = b''
            if answer.startswith(b'HTTP/'):
                status = int(answer.split(b' ', 2)[1])
                self.assertLess(status, 500, answer[:200])
        self.assert_serving()
