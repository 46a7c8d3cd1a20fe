"""glance.api.v2.images: JSON pointers, patch operations, list query
parameters, the image representation, and the controller in-process."""

import datetime
import json

import webob

from glance.api.v2 import images
from glance.api.v2 import router
from glance.common import exception
from glance.common import wsgi
from glance.tests.unit import base

V21 = '2.1'
V20 = '2.0'


class TestParsePointer(base.TestCase):

    def test_simple(self):
        self.assertEqual(['name'], images.parse_pointer('/name'))
        self.assertEqual(['locations', '-'],
                         images.parse_pointer('/locations/-'))

    def test_escapes(self):
        self.assertEqual(['a/b'], images.parse_pointer('/a~1b'))
        self.assertEqual(['a~b'], images.parse_pointer('/a~0b'))
        # "~01" is "~" followed by "1", not "/".
        self.assertEqual(['~1'], images.parse_pointer('/~01'))

    def test_tokens_stripped(self):
        self.assertEqual(['name'], images.parse_pointer('/ name '))

    def test_invalid(self):
        for path in ('name', '', '/', '/name/', '//name', '/a//b', '/a~',
                     '/a~2b', '/~', '/ ', None, 5):
            self.assertRaises(exception.BadRequest, images.parse_pointer,
                              path)

    def test_lone_tilde_next_to_escape(self):
        # "~~01" starts with a "~" that escapes nothing.
        self.assertRaises(exception.BadRequest, images.parse_pointer,
                          '/a~~01b')


class TestParseChange(base.TestCase):

    def test_v21_operations(self):
        for op in ('add', 'replace'):
            self.assertEqual(
                (op, ['name'], 'x', V21),
                images.parse_change({'op': op, 'path': '/name',
                                     'value': 'x'}, V21))
        self.assertEqual(('remove', ['foo'], None, V21),
                         images.parse_change({'op': 'remove',
                                              'path': '/foo'}, V21))

    def test_v21_errors(self):
        for raw in ({'path': '/name', 'value': 'x'},
                    {'op': 'move', 'path': '/name', 'value': 'x'},
                    {'op': 'test', 'path': '/name', 'value': 'x'},
                    {'op': 'add', 'value': 'x'},
                    {'op': 'add', 'path': '/name'},
                    {'op': 'replace', 'path': '/name'},
                    ['op', 'add'], 'add'):
            self.assertRaises(exception.BadRequest, images.parse_change,
                              raw, V21)

    def test_v20_operations(self):
        self.assertEqual(('add', ['foo'], 'bar', V20),
                         images.parse_change({'add': '/foo',
                                              'value': 'bar'}, V20))
        self.assertEqual(('replace', ['name'], 'n', V20),
                         images.parse_change({'replace': '/name',
                                              'value': 'n'}, V20))
        self.assertEqual(('remove', ['foo'], None, V20),
                         images.parse_change({'remove': '/foo'}, V20))

    def test_v20_errors(self):
        for raw in ({'value': 'x'}, {'op': 'add', 'path': '/foo',
                                     'value': 'x'},
                    {'add': '/foo', 'replace': '/foo', 'value': 'x'},
                    {'add': '/foo'}):
            self.assertRaises(exception.BadRequest, images.parse_change,
                              raw, V20)

    def test_readonly_roots(self):
        for root in ('created_at', 'updated_at', 'status', 'checksum',
                     'size', 'virtual_size', 'direct_url', 'self', 'file',
                     'schema', 'id', 'os_hash_algo', 'os_hash_value'):
            self.assertRaises(exception.ReadonlyProperty,
                              images.parse_change,
                              {'op': 'replace', 'path': '/' + root,
                               'value': 'x'}, V21)

    def test_reserved_roots(self):
        for root in ('location', 'deleted', 'deleted_at', 'os_glance_x',
                     'os_glance_import_task'):
            e = self.assertRaises(exception.ReservedProperty,
                                  images.parse_change,
                                  {'op': 'add', 'path': '/' + root,
                                   'value': 'x'}, V21)
            self.assertEqual(403, e.code)

    def test_depth(self):
        self.assertRaises(exception.BadRequest, images.parse_change,
                          {'op': 'add', 'path': '/name/x', 'value': 'x'},
                          V21)
        self.assertRaises(exception.BadRequest, images.parse_change,
                          {'op': 'add', 'path': '/locations', 'value': {}},
                          V21)
        self.assertRaises(exception.BadRequest, images.parse_change,
                          {'op': 'remove', 'path': '/locations'}, V21)
        self.assertRaises(exception.BadRequest, images.parse_change,
                          {'op': 'replace', 'path': '/locations/0',
                           'value': []}, V21)

    def test_locations(self):
        loc = {'url': 'file:///a', 'metadata': {}}
        self.assertEqual(
            ('add', ['locations', '-'], loc, V21),
            images.parse_change({'op': 'add', 'path': '/locations/-',
                                 'value': loc}, V21))
        self.assertEqual(
            ('replace', ['locations'], [loc], V21),
            images.parse_change({'op': 'replace', 'path': '/locations',
                                 'value': [loc]}, V21))
        self.assertRaises(exception.Invalid, images.parse_change,
                          {'op': 'add', 'path': '/locations/0',
                           'value': {'url': 'file:///a'}}, V21)

    def test_schema_validation(self):
        for path, value in (('/foo', 1), ('/foo', None), ('/name', 'x' * 256),
                            ('/visibility', 'secret'),
                            ('/disk_format', 'floppy'), ('/tags', ['x' * 256]),
                            ('/protected', 'yes'), ('/min_ram', '1')):
            self.assertRaises(exception.Invalid, images.parse_change,
                              {'op': 'replace', 'path': path,
                               'value': value}, V21)

    def test_remove_needs_no_value(self):
        self.assertEqual(('remove', ['name'], None, V21),
                         images.parse_change({'op': 'remove',
                                              'path': '/name'}, V21))


def params(query=''):
    return images.parse_list_params(webob.Request.blank('/?' + query).GET)


class TestListParamsSorting(base.TestCase):

    def sort(self, query):
        p = params(query)
        return list(zip(p['sort_keys'], p['sort_dirs']))

    def test_default(self):
        self.assertEqual([('created_at', 'desc')], self.sort(''))

    def test_sort_syntax(self):
        self.assertEqual([('name', 'asc'), ('size', 'desc')],
                         self.sort('sort=name:asc,size'))
        self.assertEqual([('status', 'desc')], self.sort('sort= status '))

    def test_classic_single_dir_applies_to_all(self):
        self.assertEqual([('name', 'asc'), ('id', 'asc')],
                         self.sort('sort_key=name&sort_key=id&sort_dir=asc'))
        self.assertEqual([('name', 'desc'), ('id', 'desc')],
                         self.sort('sort_key=name&sort_key=id'))

    def test_classic_paired_dirs(self):
        self.assertEqual(
            [('name', 'asc'), ('id', 'desc')],
            self.sort('sort_key=name&sort_dir=asc&sort_key=id&sort_dir=desc'))

    def test_classic_dir_only(self):
        self.assertEqual([('created_at', 'asc')], self.sort('sort_dir=asc'))

    def test_invalid(self):
        for query in ('sort=owner', 'sort=name:up', 'sort_key=owner',
                      'sort_key=name&sort_dir=sideways',
                      'sort_key=a&sort_key=b&sort_key=c'
                      '&sort_dir=asc&sort_dir=desc',
                      'sort=name&sort_key=name', 'sort=name&sort_dir=asc',
                      'sort_dir=asc&sort_dir=desc'):
            self.assertRaises(exception.BadRequest, params, query)

    def test_every_allowed_key(self):
        for key in ('name', 'status', 'container_format', 'disk_format',
                    'size', 'id', 'created_at', 'updated_at'):
            self.assertEqual([(key, 'asc')], self.sort('sort=%s:asc' % key))


class TestListParamsPaging(base.TestCase):

    def test_limit(self):
        self.assertEqual(25, params()['limit'])
        self.assertEqual(0, params('limit=0')['limit'])
        self.assertEqual(7, params('limit=7')['limit'])
        self.assertEqual(1000, params('limit=5000')['limit'])

    def test_limit_options(self):
        self.config(limit_param_default=10, api_limit_max=20)
        self.assertEqual(10, params()['limit'])
        self.assertEqual(20, params('limit=21')['limit'])
        self.config(limit_param_default=50)
        self.assertEqual(20, params()['limit'])

    def test_bad_limit(self):
        for value in ('-1', 'x', '1.5', ''):
            self.assertRaises(exception.BadRequest, params,
                              'limit=' + value)

    def test_marker(self):
        self.assertNotIn('marker', params())
        self.assertEqual('abc', params('marker=abc')['marker'])


class TestListParamsFilters(base.TestCase):

    def columns(self, query):
        return params(query)['filters']['columns']

    def test_defaults(self):
        p = params()
        self.assertEqual('accepted', p['member_status'])
        self.assertIsNone(p['visibility'])
        self.assertEqual({'os_hidden': ('eq', False)},
                         p['filters']['columns'])
        self.assertEqual({}, p['filters']['properties'])
        self.assertEqual([], p['filters']['tags'])

    def test_member_status(self):
        for value in ('pending', 'accepted', 'rejected', 'all'):
            self.assertEqual(value,
                             params('member_status=' + value)['member_status'])
        self.assertRaises(exception.BadRequest, params,
                          'member_status=maybe')

    def test_visibility(self):
        for value in ('public', 'private', 'shared', 'community', 'all'):
            self.assertEqual(value, params('visibility=' + value)['visibility'])
        self.assertRaises(exception.BadRequest, params, 'visibility=secret')

    def test_booleans(self):
        self.assertEqual(('eq', True), self.columns('os_hidden=true')
                         ['os_hidden'])
        self.assertEqual(('eq', False), self.columns('protected=false')
                         ['protected'])
        self.assertEqual(('eq', True), self.columns('protected=true')
                         ['protected'])
        # openstacksdk sends os_hidden=True: case does not matter.
        self.assertEqual(('eq', True), self.columns('os_hidden=True')
                         ['os_hidden'])
        self.assertEqual(('eq', False), self.columns('os_hidden=FALSE')
                         ['os_hidden'])
        for query in ('os_hidden=1', 'protected=yes', 'protected='):
            self.assertRaises(exception.BadRequest, params, query)

    def test_tags(self):
        self.assertEqual(['a', 'b'], params('tag=a&tag=b')['filters']['tags'])

    def test_size_bounds(self):
        f = params('size_min=1&size_max=10')['filters']
        self.assertEqual((1, 10), (f['size_min'], f['size_max']))
        self.assertRaises(exception.BadRequest, params, 'size_min=big')
        self.assertRaises(exception.BadRequest, params, 'size_max=1.0')

    def test_operator_filters(self):
        for key in ('name', 'id', 'status', 'container_format',
                    'disk_format'):
            self.assertEqual(('eq', 'v'), self.columns(key + '=v')[key])
            self.assertEqual(('eq', 'v'), self.columns(key + '=eq:v')[key])
            self.assertEqual(('in', ['a', 'b']),
                             self.columns(key + '=in:a,b')[key])

    def test_eq_keeps_later_colons(self):
        self.assertEqual(('eq', 'a:b'), self.columns('name=eq:a:b')['name'])

    def test_unknown_operator(self):
        self.assertRaises(exception.BadRequest, params, 'name=gt:a')
        # A plain value with a colon reads as an operator (section 4.4).
        self.assertRaises(exception.BadRequest, params, 'name=a:b')

    def test_in_quoting(self):
        cases = {
            'in:"a,b",c': ['a,b', 'c'],
            'in:c,"a,b"': ['c', 'a,b'],
            'in:"a"': ['a'],
            'in:a': ['a'],
            'in:"x,y","z"': ['x,y', 'z'],
        }
        for value, expected in cases.items():
            self.assertEqual(('in', expected),
                             self.columns('name=' + _q(value))['name'],
                             value)

    def test_in_bad_quoting(self):
        for value in ('in:"a,b', 'in:"a"b,c', 'in:a"b', 'in:a, "b"',
                      'in:"a" ,b'):
            self.assertRaises(exception.BadRequest, params,
                              'name=' + _q(value))

    def test_time_filters(self):
        for key in ('created_at', 'updated_at'):
            for op in ('gt', 'gte', 'eq', 'neq', 'lt', 'lte'):
                self.assertEqual(
                    (op, datetime.datetime(2024, 1, 2, 3, 4, 5)),
                    self.columns('%s=%s:2024-01-02T03:04:05Z' % (key, op))
                    [key])

    def test_time_filter_plain_is_eq(self):
        self.assertEqual(('eq', datetime.datetime(2024, 1, 2, 3, 4, 5)),
                         self.columns('created_at=2024-01-02T03:04:05Z')
                         ['created_at'])

    def test_time_filter_offset_becomes_utc(self):
        self.assertEqual(('gt', datetime.datetime(2024, 1, 2, 1, 4, 5)),
                         self.columns('created_at=gt:' +
                                      _q('2024-01-02T03:04:05+02:00'))
                         ['created_at'])

    def test_bad_time_filters(self):
        for value in ('yesterday', 'gt:yesterday', 'foo:2024-01-02T03:04:05Z',
                      'gt:'):
            self.assertRaises(exception.BadRequest, params,
                              'updated_at=' + _q(value))

    def test_column_filters(self):
        cols = self.columns('owner=p1&checksum=abc&os_hash_value=h'
                            '&os_hash_algo=sha512&virtual_size=5&size=6'
                            '&min_ram=7&min_disk=8')
        self.assertEqual({'owner': ('eq', 'p1'), 'checksum': ('eq', 'abc'),
                          'os_hash_value': ('eq', 'h'),
                          'os_hash_algo': ('eq', 'sha512'),
                          'virtual_size': ('eq', 5), 'size': ('eq', 6),
                          'min_ram': ('eq', 7), 'min_disk': ('eq', 8),
                          'os_hidden': ('eq', False)}, cols)

    def test_integer_column_filters_validated(self):
        for key in ('virtual_size', 'size', 'min_ram', 'min_disk'):
            self.assertRaises(exception.BadRequest, params, key + '=lots')

    def test_property_filters(self):
        p = params('os_distro=ubuntu&hw_x=1')
        self.assertEqual({'os_distro': 'ubuntu', 'hw_x': '1'},
                         p['filters']['properties'])

    def test_changes_since_rejected(self):
        e = self.assertRaises(exception.BadRequest, params,
                              'changes-since=2020-01-01T00:00:00Z')
        self.assertIn('changes-since', e.msg)


def _q(value):
    from urllib.parse import quote
    return quote(value, safe='')


def stored_image(**overrides):
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    image = {'id': 'c0ffee00-0000-4000-8000-000000000001', 'name': 'cirros',
             'status': 'active', 'visibility': 'shared', 'size': 10,
             'virtual_size': None, 'checksum': None, 'protected': False,
             'min_ram': 0, 'min_disk': 0, 'owner': 'p1', 'os_hidden': False,
             'os_hash_algo': None, 'os_hash_value': None,
             'disk_format': 'raw', 'container_format': 'bare',
             'created_at': when, 'updated_at': when, 'deleted': False,
             'deleted_at': None,
             'properties': {'os_distro': 'cirros', 'empty': None,
                            'os_glance_stage_host': 'http://w1',
                            'os_glance_hash_op_host': 'http://w2',
                            'os_glance_importing_to_stores': 'a'},
             'tags': ['b', 'a'],
             'locations': [{'id': 1, 'url': 'file:///x', 'status': 'active',
                            'metadata': {'store': 'fast'}},
                           {'id': 2, 'url': 'file:///y', 'status': 'active',
                            'metadata': {}}]}
    image.update(overrides)
    return image


class TestFormatImage(base.TestCase):

    def test_default_shape(self):
        body = images.format_image(stored_image())
        iid = 'c0ffee00-0000-4000-8000-000000000001'
        self.assertEqual('2024-05-06T07:08:09Z', body['created_at'])
        self.assertEqual('2024-05-06T07:08:09Z', body['updated_at'])
        self.assertEqual('/v2/images/' + iid, body['self'])
        self.assertEqual('/v2/images/%s/file' % iid, body['file'])
        self.assertEqual('/v2/schemas/image', body['schema'])
        self.assertEqual(['b', 'a'], body['tags'])
        self.assertEqual('cirros', body['os_distro'])
        self.assertEqual('a', body['os_glance_importing_to_stores'])
        for absent in ('os_glance_stage_host', 'os_glance_hash_op_host',
                       'locations', 'direct_url', 'stores', 'deleted',
                       'deleted_at', 'properties'):
            self.assertNotIn(absent, body)

    def test_null_extra_property_is_empty_string(self):
        self.assertEqual('', images.format_image(stored_image())['empty'])

    def test_core_keys_present_even_when_null(self):
        body = images.format_image(stored_image())
        for key in images.CORE_KEYS:
            self.assertIn(key, body)
        self.assertIsNone(body['virtual_size'])
        self.assertIsNone(body['checksum'])

    def test_show_multiple_locations(self):
        self.config(show_multiple_locations=True)
        body = images.format_image(stored_image())
        self.assertEqual([{'url': 'file:///x', 'metadata': {'store': 'fast'}},
                          {'url': 'file:///y', 'metadata': {}}],
                         body['locations'])
        body = images.format_image(stored_image(locations=[]))
        self.assertEqual([], body['locations'])

    def test_direct_url(self):
        self.config(show_image_direct_url=True)
        self.assertEqual('file:///x',
                         images.format_image(stored_image())['direct_url'])
        self.assertNotIn('direct_url',
                         images.format_image(stored_image(locations=[])))

    def test_stores_in_multistore(self):
        self.config(enabled_backends={'fast': 'file'})
        self.assertEqual('fast',
                         images.format_image(stored_image())['stores'])
        self.assertNotIn('stores',
                         images.format_image(stored_image(locations=[])))

    def test_serialisable(self):
        json.dumps(images.format_image(stored_image()))


class TestControllerInProcess(base.DBTestCase):
    """The images controller behind the v2 router, on a real database."""

    def setUp(self):
        super().setUp()
        self.app = router.app_factory({})

    def call(self, path, method='GET', body=None, ctx=None,
             content_type='application/json'):
        req = wsgi.Request.blank(path, method=method)
        req.environ['glance.context'] = ctx or base.ctx()
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = content_type
        return req.get_response(self.app)

    def create(self, **body):
        resp = self.call('/images', 'POST', body)
        self.assertEqual(201, resp.status_int, resp.text)
        return resp.json

    def test_create_response(self):
        resp = self.call('/images', 'POST', {'name': 'n'})
        self.assertEqual(201, resp.status_int)
        iid = resp.json['id']
        self.assertTrue(resp.headers['Location'].endswith('/v2/images/'
                                                          + iid))
        self.assertEqual('glance-direct,web-download,copy-image',
                         resp.headers['OpenStack-image-import-methods'])
        self.assertNotIn('OpenStack-image-store-ids', resp.headers)
        self.assertEqual('queued', resp.json['status'])
        self.assertEqual('shared', resp.json['visibility'])
        self.assertEqual('p1', resp.json['owner'])

    def test_create_headers_follow_config(self):
        self.config(enabled_import_methods=[],
                    enabled_backends={'fast': 'file', 'slow': 'file'})
        resp = self.call('/images', 'POST', {})
        self.assertNotIn('OpenStack-image-import-methods', resp.headers)
        self.assertEqual({'fast', 'slow'}, set(
            resp.headers['OpenStack-image-store-ids'].split(',')))

    def test_create_rejects(self):
        for body, code in (({'self': 'x'}, 403), ({'file': 'x'}, 403),
                           ({'schema': 'x'}, 403), ({'stores': 'x'}, 403),
                           ({'direct_url': 'x'}, 403),
                           ({'status': 'active'}, 403),
                           ({'name': 1}, 400), ({'foo': 1}, 400),
                           ([], 400)):
            resp = self.call('/images', 'POST', body)
            self.assertEqual(code, resp.status_int, body)

    def test_create_without_body(self):
        self.assertEqual(400, self.call('/images', 'POST').status_int)

    def test_show(self):
        iid = self.create(name='n')['id']
        resp = self.call('/images/' + iid)
        self.assertEqual(200, resp.status_int)
        self.assertEqual('n', resp.json['name'])
        self.assertEqual(404, self.call('/images/not-a-uuid').status_int)
        self.assertEqual(
            404, self.call('/images/' + iid, ctx=base.ctx('p2')).status_int)

    def test_show_rejects_body(self):
        iid = self.create()['id']
        self.assertEqual(400, self.call('/images/' + iid, 'GET',
                                        {}).status_int)

    def test_patch_media_types(self):
        iid = self.create(name='a')['id']
        resp = self.call('/images/' + iid, 'PATCH',
                         [{'op': 'replace', 'path': '/name', 'value': 'b'}])
        self.assertEqual(415, resp.status_int)
        self.assertEqual(images.ACCEPT_PATCH, resp.headers['Accept-Patch'])
        resp = self.call('/images/' + iid, 'PATCH',
                         [{'op': 'replace', 'path': '/name', 'value': 'b'}],
                         content_type='application/openstack-images-v2.1-'
                                      'json-patch')
        self.assertEqual(200, resp.status_int)
        self.assertEqual('b', resp.json['name'])
        resp = self.call('/images/' + iid, 'PATCH',
                         [{'replace': '/name', 'value': 'c'}],
                         content_type='application/openstack-images-v2.0-'
                                      'json-patch')
        self.assertEqual(200, resp.status_int)
        self.assertEqual('c', resp.json['name'])

    def test_patch_body_must_be_list(self):
        iid = self.create()['id']
        resp = self.call('/images/' + iid, 'PATCH', {'op': 'add'},
                         content_type='application/openstack-images-v2.1-'
                                      'json-patch')
        self.assertEqual(400, resp.status_int)

    def test_index_links(self):
        ids = [self.create(name='i%d' % n)['id'] for n in range(3)]
        resp = self.call('/images?limit=2&sort=name:asc')
        self.assertEqual(200, resp.status_int)
        body = resp.json
        self.assertEqual(ids[:2], [i['id'] for i in body['images']])
        self.assertEqual('/v2/schemas/images', body['schema'])
        self.assertEqual('/v2/images?limit=2&sort=name%3Aasc', body['first'])
        self.assertEqual('/v2/images?limit=2&sort=name%3Aasc&marker='
                         + ids[1], body['next'])
        resp = self.call(body['next'][len('/v2'):])
        self.assertEqual([ids[2]], [i['id'] for i in resp.json['images']])
        self.assertNotIn('next', resp.json)
        self.assertEqual('/v2/images?limit=2&sort=name%3Aasc',
                         resp.json['first'])

    def test_index_bad_marker(self):
        self.assertEqual(400, self.call('/images?marker=nope').status_int)

    def test_delete(self):
        iid = self.create()['id']
        resp = self.call('/images/' + iid, 'DELETE')
        self.assertEqual(204, resp.status_int)
        self.assertEqual(404, self.call('/images/' + iid).status_int)
