"""The /v2/images API against a running glance-api: create, show, list
(filters, sorting, pagination), PATCH, DELETE, tags, actions and the
visibility rules between projects.

Each class shares one daemon; each test works in a fresh project, so the
listings of a test only hold its own images (plus public images, which
only the visibility class creates).
"""

import urllib.parse
import uuid

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h


def q(**params):
    return urllib.parse.urlencode(params)


class TestImageCreate(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_defaults(self):
        resp = self.request('POST', '/v2/images', json={})
        self.assertEqual(201, resp.status_code, resp.text)
        image = resp.json()
        self.assertRegex(image['id'], h.UUID_RE)
        expected = {
            'name': None, 'status': 'queued', 'visibility': 'shared',
            'protected': False, 'os_hidden': False, 'min_ram': 0,
            'min_disk': 0, 'owner': self.project, 'disk_format': None,
            'container_format': None, 'size': None, 'virtual_size': None,
            'checksum': None, 'os_hash_algo': None, 'os_hash_value': None,
            'tags': [], 'schema': '/v2/schemas/image',
            'self': '/v2/images/%s' % image['id'],
            'file': '/v2/images/%s/file' % image['id'],
        }
        for key, value in expected.items():
            self.assertIn(key, image)
            self.assertEqual(value, image[key], key)
        self.assertRegex(image['created_at'], h.TIME_RE)
        self.assertEqual(image['created_at'], image['updated_at'])
        # Only the documented keys: no locations/direct_url by default.
        self.assertEqual(set(expected) | {'id', 'created_at', 'updated_at'},
                         set(image))
        location = resp.headers['Location']
        self.assertTrue(location.startswith('http://'), location)
        self.assertTrue(location.endswith('/v2/images/%s' % image['id']),
                        location)
        methods = resp.headers['OpenStack-image-import-methods'].split(',')
        self.assertIn('glance-direct', methods)
        self.assertNotIn('OpenStack-image-store-ids', resp.headers)
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0])
        self.assertEqual(image, self.show(image['id']))

    def test_all_settable_attributes(self):
        body = {'name': 'cirros', 'disk_format': 'qcow2',
                'container_format': 'bare', 'visibility': 'private',
                'protected': True, 'os_hidden': True, 'min_ram': 512,
                'min_disk': 2, 'tags': ['a', 'b', 'a'],
                'os_distro': 'cirros', 'hw_disk_bus': 'virtio'}
        image = self.new_image(**body)
        for key, value in body.items():
            if key != 'tags':
                self.assertEqual(value, image[key], key)
        self.assertEqual(['a', 'b'], sorted(image['tags']))
        shown = self.show(image['id'])
        self.assertEqual(image, shown)
        self.assertEqual(self.project, shown['owner'])

    def test_supplied_id_and_duplicate(self):
        image_id = str(uuid.uuid4())
        image = self.new_image(id=image_id, name='mine')
        self.assertEqual(image_id, image['id'])
        self.assertEqual('mine', self.show(image_id)['name'])
        resp = self.request('POST', '/v2/images',
                            json={'id': image_id, 'name': 'again'})
        self.assertEqual(409, resp.status_code, resp.text)
        # The first image is untouched.
        self.assertEqual('mine', self.show(image_id)['name'])
        # Another project cannot take the id either.
        resp = self.request('POST', '/v2/images', json={'id': image_id},
                            headers=self.other_headers())
        self.assertEqual(409, resp.status_code, resp.text)

    def test_deleted_id_cannot_be_reused(self):
        image = self.new_image()
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image['id']).status_code)
        resp = self.request('POST', '/v2/images', json={'id': image['id']})
        self.assertEqual(409, resp.status_code, resp.text)

    def test_read_only_keys_forbidden(self):
        bodies = [
            {'direct_url': 'file:///x'}, {'self': '/v2/images/x'},
            {'file': '/v2/images/x/file'}, {'schema': '/v2/schemas/image'},
            {'stores': 'a,b'}, {'status': 'active'},
            {'created_at': '2020-01-01T00:00:00Z'},
            {'updated_at': '2020-01-01T00:00:00Z'},
            {'checksum': 'd41d8cd98f00b204e9800998ecf8427e'},
            {'size': 10}, {'virtual_size': 10}, {'os_hash_algo': 'sha512'},
            {'os_hash_value': 'ab' * 64},
        ]
        for body in bodies:
            body['name'] = 'readonly'
            resp = self.request('POST', '/v2/images', json=body)
            self.assertEqual(403, resp.status_code, '%r: %s'
                             % (body, resp.text))
        self.assertEqual([], self.list_ids())

    def test_reserved_keys_forbidden(self):
        for key in ('location', 'deleted', 'deleted_at', 'os_glance_foo',
                    'os_glance_import_task', 'os_glance_stage_host',
                    'os_glanceX'):
            resp = self.request('POST', '/v2/images', json={key: 'x'})
            self.assertEqual(403, resp.status_code, '%s: %s'
                             % (key, resp.text))
        self.assertEqual([], self.list_ids())
        # A key merely containing os_glance is a normal property.
        image = self.new_image(my_os_glance='x')
        self.assertEqual('x', image['my_os_glance'])

    def test_schema_violations(self):
        bodies = [
            {'visibility': 'bogus'}, {'disk_format': 'bogus'},
            {'container_format': 'bogus'}, {'name': 'n' * 256},
            {'name': 5}, {'protected': 'yes'}, {'protected': 1},
            {'os_hidden': 'true'}, {'min_ram': 'x'}, {'min_ram': 1.5},
            {'min_disk': '1'}, {'tags': 'a'}, {'tags': ['t' * 256]},
            {'tags': [1]}, {'id': 'not-a-uuid'}, {'id': 5},
            {'owner': 'o' * 256}, {'visibility': None},
        ]
        for body in bodies:
            resp = self.request('POST', '/v2/images', json=body)
            self.assertEqual(400, resp.status_code, '%r: %s'
                             % (body, resp.text))
        self.assertEqual([], self.list_ids())

    def test_non_string_custom_value(self):
        for value in (5, 1.5, True, ['a'], {'a': 'b'}, None):
            resp = self.request('POST', '/v2/images',
                                json={'name': 'x', 'os_distro': 'a',
                                      'my_prop': value})
            self.assertEqual(400, resp.status_code, '%r: %s'
                             % (value, resp.text))
        self.assertEqual([], self.list_ids())

    def test_negative_min_values(self):
        for body in ({'min_ram': -1}, {'min_disk': -1}):
            resp = self.request('POST', '/v2/images', json=body)
            self.assertEqual(400, resp.status_code, resp.text)
        image = self.new_image(min_ram=0, min_disk=0)
        self.assertEqual(0, image['min_ram'])

    def test_long_property_key(self):
        resp = self.request('POST', '/v2/images', json={'k' * 256: 'v'})
        self.assertEqual(400, resp.status_code, resp.text)
        image = self.new_image(**{'k' * 255: 'v'})
        self.assertEqual('v', image['k' * 255])

    def test_name_of_255_characters(self):
        image = self.new_image(name='n' * 255)
        self.assertEqual('n' * 255, self.show(image['id'])['name'])

    def test_owner_of_another_project_forbidden(self):
        resp = self.request('POST', '/v2/images',
                            json={'owner': self.other_project})
        self.assertEqual(403, resp.status_code, resp.text)
        image = self.new_image(owner=self.project)
        self.assertEqual(self.project, image['owner'])

    def test_admin_may_create_for_another_project(self):
        image = self.new_image(owner=self.other_project,
                               headers=self.admin_headers())
        self.assertEqual(self.other_project, image['owner'])
        self.assertEqual(image['id'], self.show(
            image['id'], headers=self.other_headers())['id'])

    def test_public_needs_admin(self):
        resp = self.request('POST', '/v2/images',
                            json={'visibility': 'public'})
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual([], self.list_ids())
        image = self.new_image(visibility='community')
        self.assertEqual('community', image['visibility'])

    def test_body_must_be_an_object(self):
        for body in ([], ['name'], 'name', 5, None):
            resp = self.request('POST', '/v2/images', json=body)
            self.assertEqual(400, resp.status_code, '%r: %s'
                             % (body, resp.text))


class TestImageShow(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_unknown_ids(self):
        for image_id in (str(uuid.uuid4()), 'not-a-uuid', '1234',
                         str(uuid.uuid4()).upper(), 'x' * 300):
            resp = self.request('GET', '/v2/images/%s' % image_id)
            self.assertEqual(404, resp.status_code, image_id)

    def test_uppercase_id_accepted_on_create_and_stored_lower_cased(self):
        image_id = str(uuid.uuid4()).upper()
        resp = self.request('POST', '/v2/images', json={'id': image_id})
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual(image_id.lower(), resp.json()['id'])
        self.assertEqual(image_id.lower(), self.show(image_id)['id'])
        self.assertEqual(image_id.lower(), self.show(image_id.lower())['id'])

    def test_deleted_image_is_404(self):
        image = self.new_image()
        self.request('DELETE', '/v2/images/%s' % image['id'])
        resp = self.request('GET', '/v2/images/%s' % image['id'])
        self.assertEqual(404, resp.status_code)


class TestImageListFilters(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_empty_listing(self):
        body = self.list_images()
        self.assertEqual([], body['images'])
        self.assertEqual('/v2/images', body['first'])
        self.assertEqual('/v2/schemas/images', body['schema'])
        self.assertNotIn('next', body)

    def test_name_filter(self):
        a = self.new_image(name='alpha')['id']
        b = self.new_image(name='a,b')['id']
        c = self.new_image(name='c:d')['id']
        self.new_image(name='other')
        self.assert_ids([a], q(name='alpha'))
        self.assert_ids([a], q(name='eq:alpha'))
        self.assert_ids([], q(name='alph'))
        self.assert_ids([a, b], q(name='in:alpha,"a,b"'))
        self.assert_ids([b], q(name='in:"a,b"'))
        self.assert_ids([a], q(name='in:alpha,nothing'))
        self.assert_ids([c], q(name='eq:c:d'))
        self.assert_ids([c, b], q(name='in:"c:d","a,b"'))
        # A colon makes the prefix an operator: unknown op.
        self.assert_list_rejected(q(name='c:d'))
        self.assert_list_rejected(q(name='gt:alpha'))
        # Quotes must be terminated and adjacent to commas.
        self.assert_list_rejected(q(name='in:"a,b'))
        self.assert_list_rejected(q(name='in:"a,b"x,alpha'))
        self.assert_list_rejected(q(name='in:al"pha'))

    def test_id_filter(self):
        a = self.new_image()['id']
        b = self.new_image()['id']
        c = self.new_image()['id']
        self.assert_ids([a], q(id=a))
        self.assert_ids([a], q(id='eq:' + a))
        self.assert_ids([a, c], q(id='in:%s,%s' % (a, c)))
        self.assert_ids([b], q(id='in:"%s"' % b))
        self.assert_ids([], q(id=str(uuid.uuid4())))
        self.assert_list_rejected(q(id='neq:' + a))

    def test_status_and_format_filters(self):
        a = self.new_image(disk_format='qcow2', container_format='bare')['id']
        b = self.new_image(disk_format='raw', container_format='ovf')['id']
        c = self.new_image(disk_format='iso', container_format='bare')['id']
        self.set_columns(c, status='active', size=3)
        self.assert_ids([a, b], q(status='queued'))
        self.assert_ids([c], q(status='eq:active'))
        self.assert_ids([a, b, c], q(status='in:queued,active'))
        self.assert_list_rejected(q(status='lt:active'))
        self.assert_ids([a], q(disk_format='qcow2'))
        self.assert_ids([a, b], q(disk_format='in:qcow2,raw'))
        self.assert_ids([b], q(disk_format='eq:raw'))
        self.assert_list_rejected(q(disk_format='like:raw'))
        self.assert_ids([a, c], q(container_format='bare'))
        self.assert_ids([a, b, c], q(container_format='in:bare,ovf'))
        self.assert_ids([b], q(container_format='eq:ovf'))
        self.assert_list_rejected(q(container_format='ne:ovf'))
        # Filters combine conjunctively.
        self.assert_ids([c], q(container_format='bare', status='active'))

    def test_killed_images_not_listed(self):
        a = self.new_image()['id']
        b = self.new_image()['id']
        self.set_columns(b, status='killed')
        self.assert_ids([a])
        self.assert_ids([], q(status='killed'))
        self.assertEqual('killed', self.show(b)['status'])

    def test_size_filters(self):
        a = self.new_image()['id']
        b = self.new_image()['id']
        c = self.new_image()['id']
        self.new_image()  # no size at all
        self.set_columns(a, size=10)
        self.set_columns(b, size=20)
        self.set_columns(c, size=30)
        self.assert_ids([b, c], q(size_min=20))
        self.assert_ids([a, b], q(size_max=20))
        self.assert_ids([b], q(size_min=11, size_max=29))
        self.assert_ids([b], q(size_min=20, size_max=20))
        self.assert_ids([], q(size_min=31))
        self.assert_ids([a], q(size=10))
        for bad in ('x', '1.5', ''):
            self.assert_list_rejected(q(size_min=bad))
            self.assert_list_rejected(q(size_max=bad))

    def test_time_filters(self):
        a = self.new_image(name='a')
        self.wait_past(a['created_at'])
        b = self.new_image(name='b')
        self.assertLess(a['created_at'], b['created_at'])
        t_a, t_b = a['created_at'], b['created_at']
        self.assert_ids([b['id']], q(created_at='gt:' + t_a))
        self.assert_ids([a['id'], b['id']], q(created_at='gte:' + t_a))
        self.assert_ids([a['id']], q(created_at='lt:' + t_b))
        self.assert_ids([a['id'], b['id']], q(created_at='lte:' + t_b))
        self.assert_ids([a['id']], q(created_at='eq:' + t_a))
        self.assert_ids([a['id']], q(created_at=t_a))
        self.assert_ids([b['id']], q(created_at='neq:' + t_a))
        # An offset is understood: t_a expressed at UTC+01:00.
        plus_one = t_a[:11] + '%02d' % ((int(t_a[11:13]) + 1) % 24) + \
            t_a[13:19] + '+01:00'
        if int(t_a[11:13]) < 23:
            self.assert_ids([a['id']], q(created_at='eq:' + plus_one))
        self.wait_past(b['updated_at'])
        a2 = self.patch_image(a['id'], [{'op': 'replace', 'path': '/name',
                                         'value': 'a2'}])
        self.assertGreater(a2['updated_at'], b['updated_at'])
        self.assertEqual(t_a, a2['created_at'])
        self.assert_ids([a['id']], q(updated_at='gt:' + b['updated_at']))
        self.assert_ids([b['id']], q(updated_at='lte:' + b['updated_at']))
        self.assert_ids([b['id']], q(updated_at='lt:' + a2['updated_at']))
        self.assert_ids([a['id'], b['id']],
                        q(updated_at='gte:' + b['updated_at']))
        self.assert_ids([a['id']], q(updated_at='eq:' + a2['updated_at']))
        self.assert_ids([b['id']], q(updated_at='neq:' + a2['updated_at']))
        for bad in ('yesterday', 'gt:yesterday', 'gt:', 'xx:' + t_a,
                    '2020-13-45T00:00:00Z'):
            self.assert_list_rejected(q(created_at=bad))
            self.assert_list_rejected(q(updated_at=bad))

    def test_protected_filter(self):
        a = self.new_image(protected=True)['id']
        b = self.new_image()['id']
        self.assert_ids([a], q(protected='true'))
        self.assert_ids([b], q(protected='false'))
        self.assert_ids([a, b])
        self.assert_ids([a], q(protected='True'))
        for bad in ('1', 'yes', ''):
            self.assert_list_rejected(q(protected=bad))
        self.patch_image(a, [{'op': 'replace', 'path': '/protected',
                              'value': False}])

    def test_os_hidden(self):
        hidden = self.new_image(os_hidden=True)['id']
        shown = self.new_image()['id']
        self.assert_ids([shown])
        self.assert_ids([shown], q(os_hidden='false'))
        self.assert_ids([hidden], q(os_hidden='true'))
        # openstacksdk sends os_hidden=True: the case does not matter.
        self.assert_ids([hidden], q(os_hidden='True'))
        for bad in ('1', 'no', ''):
            self.assert_list_rejected(q(os_hidden=bad))
        # A hidden image can still be fetched by id.
        self.assertTrue(self.show(hidden)['os_hidden'])

    def test_tag_filter(self):
        a = self.new_image(tags=['x', 'y'])['id']
        b = self.new_image(tags=['x'])['id']
        self.new_image(tags=['z'])
        self.assert_ids([a, b], q(tag='x'))
        self.assert_ids([a], 'tag=x&tag=y')
        self.assert_ids([], 'tag=x&tag=z')
        if self.db_kind != 'mysql':
            # Case-insensitive on MySQL's default collation (as upstream).
            self.assert_ids([], q(tag='X'))

    def test_property_filters(self):
        a = self.new_image(os_distro='ubuntu', os_version='22.04')['id']
        b = self.new_image(os_distro='ubuntu', os_version='24.04')['id']
        self.new_image(os_distro='debian')
        self.new_image()
        self.assert_ids([a, b], q(os_distro='ubuntu'))
        self.assert_ids([b], q(os_distro='ubuntu', os_version='24.04'))
        if self.db_kind != 'mysql':
            # MySQL's default collation compares case-insensitively, as
            # upstream Glance does there; elsewhere the match is exact.
            self.assert_ids([], q(os_distro='Ubuntu'))
        self.assert_ids([], q(no_such_property='x'))
        # Removed properties no longer match.
        self.patch_image(b, [{'op': 'remove', 'path': '/os_distro'}])
        self.assert_ids([a], q(os_distro='ubuntu'))

    def test_column_filters(self):
        a = self.new_image(min_ram=512, min_disk=1)['id']
        b = self.new_image(min_ram=1024)['id']
        self.assert_ids([a], q(min_ram=512))
        self.assert_ids([b], q(min_ram=1024, min_disk=0))
        self.assert_list_rejected(q(min_ram='lots'))

    def test_owner_filter(self):
        a = self.new_image()['id']
        self.assert_ids([a], q(owner=self.project))
        self.assert_ids([], q(owner=self.other_project))
        # An admin sees the image of another project through owner=.
        self.assert_ids([a], q(owner=self.project),
                        headers=self.headers(project=h.new_project(),
                                             roles='admin,member,reader'))

    def test_visibility_filter(self):
        private = self.new_image(visibility='private')['id']
        shared = self.new_image()['id']
        community = self.new_image(visibility='community')['id']
        # The owner's default list holds its community images too.
        self.assert_ids([private, shared, community])
        self.assert_ids([private], q(visibility='private'))
        self.assert_ids([shared], q(visibility='shared'))
        self.assert_ids([community], q(visibility='community'),
                        headers=None)
        self.assertIn(private, self.list_ids(q(visibility='all')))
        self.assertIn(community, self.list_ids(q(visibility='all')))
        for bad in ('Public', 'everyone', ''):
            self.assert_list_rejected(q(visibility=bad))

    def test_member_status_values(self):
        a = self.new_image()['id']
        for value in ('pending', 'accepted', 'rejected', 'all'):
            # The owner's own images do not depend on membership.
            self.assert_ids([a], q(member_status=value))
        for bad in ('Accepted', 'bogus', ''):
            self.assert_list_rejected(q(member_status=bad))

    def test_changes_since_rejected(self):
        self.new_image()
        resp = self.assert_list_rejected(
            q(**{'changes-since': '2020-01-01T00:00:00Z'}))
        self.assertIn('changes-since', resp.text)


class TestImageListSort(h.ImageAPIMixin, base.SharedDaemonTest):

    def make(self):
        self.a = self.new_image(name='a', disk_format='raw')['id']
        self.b = self.new_image(name='b', disk_format='qcow2')['id']
        self.c = self.new_image(name='c', disk_format='raw')['id']

    def test_default_order_is_created_at_then_id_desc(self):
        ids = [self.new_image(name='x')['id'] for _ in range(4)]
        found = self.list_ids()
        created = {i['id']: i['created_at']
                   for i in self.list_images()['images']}
        expected = sorted(ids, key=lambda i: (created[i], i), reverse=True)
        self.assertEqual(expected, found)

    def test_sort_key_and_dir(self):
        self.make()
        a, b, c = self.a, self.b, self.c
        self.assert_ids([a, b, c], 'sort_key=name&sort_dir=asc',
                        ordered=True)
        self.assert_ids([c, b, a], 'sort_key=name&sort_dir=desc',
                        ordered=True)
        self.assert_ids([c, b, a], 'sort_key=name', ordered=True)
        # One dir applies to every key.
        self.assert_ids([b, a, c],
                        'sort_key=disk_format&sort_key=name&sort_dir=asc',
                        ordered=True)
        self.assert_ids([c, a, b],
                        'sort_key=disk_format&sort_key=name&sort_dir=desc',
                        ordered=True)
        # One dir per key.
        self.assert_ids([b, c, a],
                        'sort_key=disk_format&sort_key=name'
                        '&sort_dir=asc&sort_dir=desc', ordered=True)
        self.assert_ids([a, c, b],
                        'sort_key=disk_format&sort_key=name'
                        '&sort_dir=desc&sort_dir=asc', ordered=True)

    def test_sort_key_errors(self):
        self.make()
        self.assert_list_rejected('sort_key=name&sort_key=id'
                                  '&sort_key=status'
                                  '&sort_dir=asc&sort_dir=desc')
        self.assert_list_rejected('sort_key=name&sort_dir=asc&sort_dir=desc'
                                  '&sort_dir=asc')
        self.assert_list_rejected('sort_key=owner')
        self.assert_list_rejected('sort_key=os_distro')
        self.assert_list_rejected('sort_key=name&sort_dir=up')
        self.assert_list_rejected('sort_dir=ASC')

    def test_sort_param(self):
        self.make()
        a, b, c = self.a, self.b, self.c
        self.assert_ids([a, b, c], q(sort='name:asc'), ordered=True)
        self.assert_ids([c, b, a], q(sort='name'), ordered=True)
        self.assert_ids([b, a, c], q(sort='disk_format:asc,name:asc'),
                        ordered=True)
        # A key without a dir is descending.
        self.assert_ids([b, c, a], q(sort='disk_format:asc,name'),
                        ordered=True)
        self.assert_ids([a, c, b], q(sort='disk_format,name:asc'),
                        ordered=True)

    def test_sort_param_errors(self):
        self.make()
        for bad in ('bogus', 'name:up', 'name:asc,bogus:desc', 'owner'):
            self.assert_list_rejected(q(sort=bad))
        self.assert_list_rejected(q(sort='name', sort_key='name'))
        self.assert_list_rejected(q(sort='name', sort_dir='asc'))

    def test_sort_by_size_and_status(self):
        a = self.new_image()['id']
        b = self.new_image()['id']
        c = self.new_image()['id']
        self.set_columns(a, size=300)
        self.set_columns(b, size=100, status='active')
        self.set_columns(c, size=200)
        self.assert_ids([b, c, a], q(sort='size:asc'), ordered=True)
        self.assert_ids([a, c, b], q(sort_key='size'), ordered=True)
        found = self.list_ids(q(sort='status:asc,size:asc'))
        self.assertEqual([b, c, a], found)


class TestImageListPagination(h.ImageAPIMixin, base.SharedDaemonTest):

    def make(self, count):
        return [self.new_image(name='img-%02d' % i)['id']
                for i in range(count)]

    def test_limit_and_next_links(self):
        ids = self.make(5)
        body = self.list_images('limit=2&sort=name:asc')
        self.assertEqual(ids[:2], [i['id'] for i in body['images']])
        self.assertEqual('/v2/images?limit=2&sort=name%3Aasc',
                         body['first'])
        nxt = urllib.parse.urlparse(body['next'])
        self.assertEqual('/v2/images', nxt.path)
        params = urllib.parse.parse_qs(nxt.query)
        self.assertEqual({'limit': ['2'], 'sort': ['name:asc'],
                          'marker': [ids[1]]}, params)
        seen = []
        link = '/v2/images?limit=2&sort=name:asc'
        pages = 0
        while link:
            resp = self.request('GET', link)
            self.assertEqual(200, resp.status_code, resp.text)
            page = resp.json()
            seen += [i['id'] for i in page['images']]
            self.assertNotIn('marker', page['first'])
            link = page.get('next')
            pages += 1
            self.assertLess(pages, 10)
        self.assertEqual(ids, seen)
        self.assertEqual(3, pages)

    def test_full_last_page_has_next_then_empty(self):
        ids = self.make(4)
        body = self.list_images('limit=2&sort=name:asc&marker=%s' % ids[1])
        self.assertEqual(ids[2:], [i['id'] for i in body['images']])
        self.assertIn('next', body)
        body = self.list_images('limit=2&sort=name:asc&marker=%s' % ids[3])
        self.assertEqual([], body['images'])
        self.assertNotIn('next', body)

    def test_marker_with_default_sort(self):
        ids = self.make(5)
        everything = self.list_ids()
        self.assertEqual(sorted(ids), sorted(everything))
        self.assertEqual(everything[2:],
                         self.list_ids('marker=%s' % everything[1]))
        self.assertEqual(everything[2:4],
                         self.list_ids('limit=2&marker=%s' % everything[1]))

    def test_marker_with_filters_and_desc(self):
        ids = self.make(4)
        self.assertEqual([ids[1], ids[0]], self.list_ids(
            'sort_key=name&sort_dir=desc&marker=%s' % ids[2]))

    def test_limit_zero_and_bad_limits(self):
        self.make(2)
        body = self.list_images('limit=0')
        self.assertEqual([], body['images'])
        for bad in ('-1', 'x', '1.5', ''):
            self.assert_list_rejected('limit=%s' % bad)

    def test_bad_markers(self):
        ids = self.make(2)
        self.assert_list_rejected('marker=%s' % uuid.uuid4())
        self.assert_list_rejected('marker=not-a-uuid')
        # The private image of another project is no valid marker.
        other = self.new_image(visibility='private',
                               headers=self.other_headers())['id']
        self.assert_list_rejected('marker=%s' % other)
        # Nor is a deleted image.
        self.request('DELETE', '/v2/images/%s' % ids[0])
        self.assert_list_rejected('marker=%s' % ids[0])
        self.assertEqual([], self.list_ids('marker=%s' % ids[1]))


class TestImageListLimits(h.ImageAPIMixin, base.SharedDaemonTest):

    options = {'limit_param_default': 3, 'api_limit_max': 5}

    def test_default_and_max_limits(self):
        ids = [self.new_image(name='i%d' % i)['id'] for i in range(7)]
        body = self.list_images('sort=name:asc')
        self.assertEqual(ids[:3], [i['id'] for i in body['images']])
        self.assertIn('next', body)
        self.assertEqual(ids[:5], self.list_ids('sort=name:asc&limit=100'))
        self.assertEqual(ids[:4], self.list_ids('sort=name:asc&limit=4'))
        body = self.list_images('sort=name:asc&limit=1000')
        self.assertIn('marker=%s' % ids[4], body['next'])
        self.assertEqual(ids[5:], self.list_ids(
            'sort=name:asc&limit=1000&marker=%s' % ids[4]))


class TestImagePatch(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_replace_add_remove(self):
        image = self.new_image(name='before', os_distro='cirros')
        self.wait_past(image['updated_at'])
        changes = [
            {'op': 'replace', 'path': '/name', 'value': 'after'},
            {'op': 'add', 'path': '/hw_disk_bus', 'value': 'virtio'},
            {'op': 'remove', 'path': '/os_distro'},
            {'op': 'replace', 'path': '/min_ram', 'value': 256},
            {'op': 'replace', 'path': '/protected', 'value': True},
            {'op': 'replace', 'path': '/os_hidden', 'value': True},
            {'op': 'replace', 'path': '/visibility', 'value': 'private'},
            {'op': 'add', 'path': '/min_disk', 'value': 3},
        ]
        patched = self.patch_image(image['id'], changes)
        self.assertEqual('after', patched['name'])
        self.assertEqual('virtio', patched['hw_disk_bus'])
        self.assertNotIn('os_distro', patched)
        self.assertEqual(256, patched['min_ram'])
        self.assertEqual(3, patched['min_disk'])
        self.assertTrue(patched['protected'])
        self.assertTrue(patched['os_hidden'])
        self.assertEqual('private', patched['visibility'])
        self.assertGreater(patched['updated_at'], image['updated_at'])
        self.assertEqual(image['created_at'], patched['created_at'])
        self.assertEqual(patched, self.show(image['id']))
        self.patch_image(image['id'], [{'op': 'replace',
                                        'path': '/protected',
                                        'value': False}])

    def test_changes_apply_in_order(self):
        image = self.new_image()
        patched = self.patch_image(image['id'], [
            {'op': 'add', 'path': '/foo', 'value': '1'},
            {'op': 'replace', 'path': '/foo', 'value': '2'},
            {'op': 'add', 'path': '/bar', 'value': '3'},
            {'op': 'remove', 'path': '/bar'}])
        self.assertEqual('2', patched['foo'])
        self.assertNotIn('bar', patched)

    def test_failed_patch_changes_nothing(self):
        image = self.new_image(name='keep')
        self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'lost'},
            {'op': 'remove', 'path': '/missing'}], status=409)
        self.assertEqual('keep', self.show(image['id'])['name'])

    def test_empty_patch(self):
        image = self.new_image(name='same')
        self.assertEqual(image, self.patch_image(image['id'], []))

    def test_v20_media_type(self):
        image = self.new_image(name='old', foo='bar')
        patched = self.patch_image(image['id'], [
            {'replace': '/name', 'value': 'new'},
            {'add': '/extra', 'value': 'x'},
            {'remove': '/foo'}], media=h.PATCH_V20)
        self.assertEqual('new', patched['name'])
        self.assertEqual('x', patched['extra'])
        self.assertNotIn('foo', patched)
        # v2.0 add of an existing property is a conflict.
        self.patch_image(image['id'], [{'add': '/extra', 'value': 'y'}],
                         media=h.PATCH_V20, status=409)
        self.patch_image(image['id'], [{'add': '/name', 'value': 'y'}],
                         media=h.PATCH_V20, status=409)
        self.assertEqual('x', self.show(image['id'])['extra'])
        # Exactly one operation key.
        for bad in ({'value': 'x'}, {'add': '/a', 'replace': '/a',
                                     'value': 'x'},
                    {'op': 'add', 'path': '/a', 'value': 'x'}):
            self.patch_image(image['id'], [bad], media=h.PATCH_V20,
                             status=400)

    def test_v21_add_overwrites(self):
        image = self.new_image(name='old', foo='bar')
        patched = self.patch_image(image['id'], [
            {'op': 'add', 'path': '/foo', 'value': 'baz'},
            {'op': 'add', 'path': '/name', 'value': 'new'}])
        self.assertEqual('baz', patched['foo'])
        self.assertEqual('new', patched['name'])

    def test_replace_missing_extra_property(self):
        image = self.new_image()
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/nope',
                                        'value': 'x'}], status=409)
        self.patch_image(image['id'], [{'replace': '/nope', 'value': 'x'}],
                         media=h.PATCH_V20, status=409)
        self.assertNotIn('nope', self.show(image['id']))
        # Replacing an unset base attribute is fine.
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/disk_format', 'value': 'raw'}])
        self.assertEqual('raw', patched['disk_format'])

    def test_remove_base_property_forbidden(self):
        image = self.new_image(name='n', disk_format='raw')
        for prop in ('name', 'disk_format', 'container_format', 'min_ram',
                     'min_disk', 'visibility', 'protected', 'os_hidden',
                     'owner', 'tags'):
            self.patch_image(image['id'], [{'op': 'remove',
                                            'path': '/' + prop}],
                             status=403)
        self.assertEqual(image, self.show(image['id']))

    def test_remove_missing_property(self):
        image = self.new_image()
        self.patch_image(image['id'], [{'op': 'remove', 'path': '/nope'}],
                         status=409)

    def test_read_only_paths(self):
        image = self.new_image()
        values = {'created_at': '2020-01-01T00:00:00Z',
                  'updated_at': '2020-01-01T00:00:00Z', 'status': 'active',
                  'checksum': 'x', 'size': 1, 'virtual_size': 1,
                  'direct_url': 'x', 'self': 'x', 'file': 'x', 'schema': 'x',
                  'id': str(uuid.uuid4()), 'os_hash_algo': 'x',
                  'os_hash_value': 'x'}
        for key, value in values.items():
            for op in ('replace', 'add'):
                self.patch_image(image['id'], [{'op': op, 'path': '/' + key,
                                                'value': value}],
                                 status=403)
            self.patch_image(image['id'], [{'op': 'remove',
                                            'path': '/' + key}], status=403)
        self.assertEqual(image, self.show(image['id']))

    def test_reserved_paths(self):
        image = self.new_image()
        for key in ('location', 'deleted', 'deleted_at', 'os_glance_x',
                    'os_glance_import_task'):
            self.patch_image(image['id'], [{'op': 'add', 'path': '/' + key,
                                            'value': 'x'}], status=403)
        self.assertEqual(image, self.show(image['id']))

    def test_bad_pointers(self):
        image = self.new_image(foo='x')
        for path in ('name', '', '/', '/name/', '//name', '/name//x',
                     '/name/extra', '/na~2me', '/na~me', '/ ', 5, None,
                     ['/name']):
            self.patch_image(image['id'], [{'op': 'replace', 'path': path,
                                            'value': 'x'}], status=400)
        # Escapes decode: ~1 is '/', ~0 is '~'.
        patched = self.patch_image(image['id'], [
            {'op': 'add', 'path': '/a~1b', 'value': '1'},
            {'op': 'add', 'path': '/c~0d', 'value': '2'}])
        self.assertEqual('1', patched['a/b'])
        self.assertEqual('2', patched['c~d'])

    def test_bad_operations(self):
        image = self.new_image(foo='x')
        for change in ({'path': '/foo', 'value': 'x'},
                       {'op': 'move', 'path': '/foo', 'value': 'x'},
                       {'op': 'test', 'path': '/foo', 'value': 'x'},
                       {'op': 'add', 'value': 'x'},
                       {'op': 'add', 'path': '/foo'},
                       {'op': 'replace', 'path': '/foo'}):
            self.patch_image(image['id'], [change], status=400)

    def test_value_validation(self):
        image = self.new_image(foo='x')
        for path, value in (('/foo', 5), ('/foo', None), ('/bar', True),
                            ('/foo', ['x']), ('/min_ram', -1),
                            ('/min_disk', -5), ('/min_ram', 'x'),
                            ('/visibility', 'bogus'), ('/disk_format', 'zz'),
                            ('/name', 'n' * 256), ('/tags', ['t' * 256]),
                            ('/tags', 'x'), ('/protected', 'true')):
            self.patch_image(image['id'], [{'op': 'replace', 'path': path,
                                            'value': value}], status=400)
        self.assertEqual(image, self.show(image['id']))

    def test_wrong_content_type(self):
        image = self.new_image()
        for media in ('application/json', 'text/plain',
                      'application/json-patch+json',
                      'application/openstack-images-v2.2-json-patch'):
            resp = self.request(
                'PATCH', '/v2/images/%s' % image['id'],
                data='[]', headers=self.headers(**{'Content-Type': media}))
            self.assertEqual(415, resp.status_code, media)
            accept = [m.strip() for m in
                      resp.headers['Accept-Patch'].split(',')]
            self.assertEqual(sorted([h.PATCH_V20, h.PATCH_V21]),
                             sorted(accept))
        resp = self.request('PATCH', '/v2/images/%s' % image['id'],
                            data='[]')
        self.assertEqual(415, resp.status_code)

    def test_body_must_be_a_list_of_objects(self):
        image = self.new_image()
        for body in ('{}', '{"op": "add", "path": "/a", "value": "b"}',
                     '"x"', '5', 'null', '[1]', '[["add"]]', '[null]',
                     '[{"op": "add"', ''):
            resp = self.request(
                'PATCH', '/v2/images/%s' % image['id'], data=body,
                headers=self.headers(**{'Content-Type': h.PATCH_V21}))
            self.assertEqual(400, resp.status_code, '%r: %s'
                             % (body, resp.text))

    def test_tags_replace(self):
        image = self.new_image(tags=['old'])
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/tags', 'value': ['a', 'b', 'a']}])
        self.assertEqual(['a', 'b'], sorted(patched['tags']))
        self.assertEqual(['a', 'b'], sorted(self.show(image['id'])['tags']))
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/tags', 'value': []}])
        self.assertEqual([], patched['tags'])

    def test_disk_format_only_while_queued(self):
        image = self.new_image(disk_format='raw', container_format='bare')
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'},
            {'op': 'replace', 'path': '/container_format', 'value': 'ovf'}])
        self.assertEqual('qcow2', patched['disk_format'])
        self.assertEqual('ovf', patched['container_format'])
        self.set_columns(image['id'], status='active', size=5)
        for key in ('disk_format', 'container_format'):
            self.patch_image(image['id'], [
                {'op': 'replace', 'path': '/' + key, 'value': 'raw'
                 if key == 'disk_format' else 'bare'}], status=403)
        shown = self.show(image['id'])
        self.assertEqual(('qcow2', 'ovf'), (shown['disk_format'],
                                            shown['container_format']))
        # Other attributes remain changeable on an active image.
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'fine'}])
        self.assertEqual('active', patched['status'])
        self.assertEqual(5, patched['size'])

    def test_owner_change_needs_admin(self):
        image = self.new_image()
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/owner',
                                        'value': self.other_project}],
                         status=403)
        patched = self.patch_image(
            image['id'], [{'op': 'replace', 'path': '/owner',
                           'value': self.other_project}],
            headers=self.admin_headers())
        self.assertEqual(self.other_project, patched['owner'])
        self.assertEqual(image['id'], self.show(
            image['id'], headers=self.other_headers())['id'])

    def test_patch_unknown_image(self):
        for image_id in (str(uuid.uuid4()), 'not-a-uuid'):
            self.patch_image(image_id, [{'op': 'replace', 'path': '/name',
                                         'value': 'x'}], status=404)


class TestImageDelete(h.ImageAPIMixin, base.SharedDaemonTest):

    def test_protected_then_unprotected(self):
        image = self.new_image(protected=True)
        path = '/v2/images/%s' % image['id']
        resp = self.request('DELETE', path)
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.patch_image(image['id'], [{'op': 'replace',
                                        'path': '/protected',
                                        'value': False}])
        resp = self.request('DELETE', path)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(b'', resp.content)
        self.assertEqual(404, self.request('GET', path).status_code)
        self.assertEqual(404, self.request('DELETE', path).status_code)
        self.assertEqual([], self.list_ids())
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                        'value': 'x'}], status=404)

    def test_delete_unknown(self):
        for image_id in (str(uuid.uuid4()), 'nope'):
            resp = self.request('DELETE', '/v2/images/%s' % image_id)
            self.assertEqual(404, resp.status_code)

    def test_delete_active_and_deactivated(self):
        for status in ('active', 'deactivated'):
            image = self.new_image(disk_format='raw',
                                   container_format='bare')
            self.set_columns(image['id'], status=status, size=1)
            resp = self.request('DELETE', '/v2/images/%s' % image['id'])
            self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual([], self.list_ids())


class TestImageTags(h.ImageAPIMixin, base.SharedDaemonTest):

    def tag_path(self, image_id, tag):
        return '/v2/images/%s/tags/%s' % (image_id,
                                          urllib.parse.quote(tag, safe=''))

    def test_put_and_delete(self):
        image = self.new_image()
        path = self.tag_path(image['id'], 'blue')
        for _ in range(2):
            resp = self.request('PUT', path)
            self.assertEqual(204, resp.status_code, resp.text)
            self.assertEqual(['blue'], self.show(image['id'])['tags'])
        self.assertEqual(204, self.request(
            'PUT', self.tag_path(image['id'], 'with space')).status_code)
        self.assertEqual(['blue', 'with space'],
                         sorted(self.show(image['id'])['tags']))
        self.assertEqual([image['id']], self.list_ids(q(tag='with space')))
        resp = self.request('DELETE', path)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(['with space'], self.show(image['id'])['tags'])
        resp = self.request('DELETE', path)
        self.assertEqual(404, resp.status_code, resp.text)

    def test_delete_missing_tag(self):
        image = self.new_image(tags=['a'])
        resp = self.request('DELETE', self.tag_path(image['id'], 'b'))
        self.assertEqual(404, resp.status_code)
        self.assertEqual(['a'], self.show(image['id'])['tags'])

    def test_tag_length(self):
        image = self.new_image()
        resp = self.request('PUT', self.tag_path(image['id'], 't' * 256))
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertEqual([], self.show(image['id'])['tags'])
        resp = self.request('PUT', self.tag_path(image['id'], 't' * 255))
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(['t' * 255], self.show(image['id'])['tags'])

    def test_tag_updates_updated_at(self):
        image = self.new_image()
        self.wait_past(image['updated_at'])
        self.request('PUT', self.tag_path(image['id'], 'x'))
        self.assertGreater(self.show(image['id'])['updated_at'],
                           image['updated_at'])

    def test_unknown_image(self):
        for image_id in (str(uuid.uuid4()), 'nope'):
            for method in ('PUT', 'DELETE'):
                resp = self.request(method, self.tag_path(image_id, 'x'))
                self.assertEqual(404, resp.status_code)

    def test_other_project(self):
        image = self.new_image(visibility='community', tags=['a'])
        for method, tag in (('PUT', 'b'), ('DELETE', 'a')):
            resp = self.request(method, self.tag_path(image['id'], tag),
                                headers=self.other_headers())
            self.assertEqual(403, resp.status_code, resp.text)
        private = self.new_image(visibility='private')
        resp = self.request('PUT', self.tag_path(private['id'], 'b'),
                            headers=self.other_headers())
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual(['a'], self.show(image['id'])['tags'])


class TestImageActions(h.ImageAPIMixin, base.SharedDaemonTest):

    def action(self, image_id, action, headers=None):
        return self.request('POST', '/v2/images/%s/actions/%s'
                            % (image_id, action), headers=headers)

    def test_queued_image(self):
        image = self.new_image()
        for action in ('deactivate', 'reactivate'):
            resp = self.action(image['id'], action)
            self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual('queued', self.show(image['id'])['status'])

    def test_active_round_trip(self):
        image = self.new_image(disk_format='raw', container_format='bare')
        self.set_columns(image['id'], status='active', size=1)
        for _ in range(2):
            resp = self.action(image['id'], 'deactivate')
            self.assertEqual(204, resp.status_code, resp.text)
            self.assertEqual('deactivated',
                             self.show(image['id'])['status'])
        self.assertEqual([image['id']], self.list_ids(q(status='deactivated')))
        for _ in range(2):
            resp = self.action(image['id'], 'reactivate')
            self.assertEqual(204, resp.status_code, resp.text)
            self.assertEqual('active', self.show(image['id'])['status'])

    def test_other_project_and_unknown(self):
        image = self.new_image(visibility='community')
        self.set_columns(image['id'], status='active')
        resp = self.action(image['id'], 'deactivate', self.other_headers())
        self.assertEqual(403, resp.status_code, resp.text)
        private = self.new_image(visibility='private')
        self.set_columns(private['id'], status='active')
        resp = self.action(private['id'], 'deactivate', self.other_headers())
        self.assertEqual(404, resp.status_code, resp.text)
        for image_id in (str(uuid.uuid4()), 'nope'):
            self.assertEqual(404, self.action(image_id,
                                              'deactivate').status_code)
        self.assertEqual('active', self.show(image['id'])['status'])

    def test_get_is_405(self):
        image = self.new_image()
        resp = self.request('GET', '/v2/images/%s/actions/deactivate'
                            % image['id'])
        self.assertEqual(405, resp.status_code)
        self.assertEqual('POST', resp.headers['Allow'])


class TestImageVisibility(h.ImageAPIMixin, base.SharedDaemonTest):
    """Project A (self.project) owns images; project B looks at them."""

    def request_as_b(self, method, image_id, **kwargs):
        return self.request(method, '/v2/images/%s' % image_id,
                            headers=self.other_headers(), **kwargs)

    def test_private_and_shared_are_invisible(self):
        for visibility in ('private', 'shared'):
            image = self.new_image(visibility=visibility, name='secret')
            resp = self.request_as_b('GET', image['id'])
            self.assertEqual(404, resp.status_code, visibility)
            resp = self.request_as_b('DELETE', image['id'])
            self.assertEqual(404, resp.status_code, visibility)
            self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                            'value': 'x'}],
                             headers=self.other_headers(), status=404)
            for query in ('', 'visibility=all', 'visibility=' + visibility,
                          'name=secret', 'id=' + image['id'],
                          'member_status=all', 'owner=' + self.project):
                self.assertNotIn(image['id'], self.list_ids(
                    query, headers=self.other_headers()), query)
            self.assertEqual('secret', self.show(image['id'])['name'])

    def test_community(self):
        image = self.new_image(visibility='community', name='comm')
        shown = self.show(image['id'], headers=self.other_headers())
        self.assertEqual('community', shown['visibility'])
        other = self.other_headers()
        self.assertNotIn(image['id'], self.list_ids(headers=other))
        self.assertNotIn(image['id'], self.list_ids('name=comm',
                                                    headers=other))
        self.assertIn(image['id'], self.list_ids('visibility=community',
                                                 headers=other))
        self.assertIn(image['id'], self.list_ids('visibility=all',
                                                 headers=other))
        self.assertNotIn(image['id'], self.list_ids('visibility=public',
                                                    headers=other))
        # The owner lists it by default.
        self.assertIn(image['id'], self.list_ids())
        # B can read but not change or delete it.
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                        'value': 'x'}], headers=other,
                         status=403)
        resp = self.request_as_b('DELETE', image['id'])
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual('comm', self.show(image['id'])['name'])

    def test_public(self):
        image = self.new_image(visibility='public', name='pub',
                               headers=self.admin_headers())
        self.assertEqual(self.project, image['owner'])
        other = self.other_headers()
        self.assertEqual('public', self.show(image['id'],
                                             headers=other)['visibility'])
        self.assertIn(image['id'], self.list_ids(headers=other))
        self.assertIn(image['id'], self.list_ids('visibility=public',
                                                 headers=other))
        self.assertNotIn(image['id'], self.list_ids('visibility=community',
                                                    headers=other))
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                        'value': 'x'}], headers=other,
                         status=403)
        resp = self.request_as_b('DELETE', image['id'])
        self.assertEqual(403, resp.status_code, resp.text)
        # The owner (a plain member) may not un-publish... it may change
        # other attributes and delete it.
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                        'value': 'mine'}])
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertNotIn(image['id'], self.list_ids(headers=other))

    def test_non_admin_cannot_publicize(self):
        resp = self.request('POST', '/v2/images',
                            json={'visibility': 'public'})
        self.assertEqual(403, resp.status_code, resp.text)
        image = self.new_image(visibility='private')
        self.patch_image(image['id'], [{'op': 'replace',
                                        'path': '/visibility',
                                        'value': 'public'}], status=403)
        self.assertEqual('private', self.show(image['id'])['visibility'])
        # Community is allowed to the owner.
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/visibility', 'value': 'community'}])
        self.assertEqual('community', patched['visibility'])
        # An administrator may publicize.
        patched = self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/visibility', 'value': 'public'}],
            headers=self.admin_headers())
        self.assertEqual('public', patched['visibility'])
        self.request('DELETE', '/v2/images/%s' % image['id'])

    def test_admin_sees_private_images(self):
        image = self.new_image(visibility='private')
        admin = self.headers(project=h.new_project(),
                             roles='admin,member,reader')
        self.assertEqual(image['id'], self.show(image['id'],
                                                headers=admin)['id'])
        self.assertIn(image['id'], self.list_ids('owner=' + self.project,
                                                 headers=admin))

    def test_reader_cannot_write(self):
        reader = self.headers(roles='reader')
        image = self.new_image()
        resp = self.request('POST', '/v2/images', json={}, headers=reader)
        self.assertEqual(403, resp.status_code, resp.text)
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                        'value': 'x'}], headers=reader,
                         status=403)
        resp = self.request('DELETE', '/v2/images/%s' % image['id'],
                            headers=reader)
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual([image['id']], self.list_ids(headers=reader))
