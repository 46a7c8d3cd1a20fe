"""A representative part of the image API tests against MariaDB/MySQL and
PostgreSQL (skipped when the server does not answer).

The test classes are reached through their module so that this module
does not also collect (and run again) the SQLite originals.
"""

import json

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h
from glance.tests.functional import test_bad_input as bad
from glance.tests.functional import test_images_api as api


class _IntegerRange:
    """Integers the API accepts are stored and returned unchanged, or
    refused with a 4xx: never a database error."""

    def test_integer_columns_round_trip_or_4xx(self):
        for key in ('min_ram', 'min_disk'):
            for value in (2 ** 31 - 1, 2 ** 31, 2 ** 63):
                resp = self.request('POST', '/v2/images',
                                    json={key: value})
                self.assertLess(resp.status_code, 500, '%s=%s: %s'
                                % (key, value, resp.text[:200]))
                if resp.status_code == 201:
                    self.assertEqual(value, self.show(
                        resp.json()['id'])[key])
                else:
                    self.assertEqual(400, resp.status_code)
        self.assert_serving()

    def test_nul_and_long_keys_never_5xx(self):
        image = self.new_image()
        for change in ({'op': 'add', 'path': '/x', 'value': 'a\x00b'},
                       {'op': 'add', 'path': '/' + 'k' * 300,
                        'value': 'x'}):
            resp = self.request(
                'PATCH', '/v2/images/%s' % image['id'],
                data=json.dumps([change]),
                headers=self.headers(**{'Content-Type': h.PATCH_V21}))
            self.assertEqual(400, resp.status_code, resp.text[:200])
        self.assert_serving()


class _WholeImage:
    """An image read back whole (on PostgreSQL in one statement joining
    its properties, tags and locations): all of them, tags in the order
    given, and an image without any."""

    def patch_name(self, image_id, name):
        resp = self.request(
            'PATCH', '/v2/images/%s' % image_id,
            data=json.dumps([{'op': 'replace', 'path': '/name',
                              'value': name}]),
            headers=self.headers(**{'Content-Type': h.PATCH_V21}))
        self.assertEqual(200, resp.status_code, resp.text)

    def test_properties_tags_and_data_read_back(self):
        image = self.new_image(tags=['b', 'a', 'c'], p1='one', p2='two',
                               disk_format='raw', container_format='bare')
        shown = self.show(image['id'])
        self.assertEqual(['b', 'a', 'c'], shown['tags'])
        self.assertEqual(('one', 'two'), (shown['p1'], shown['p2']))
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=b'whole image',
                            headers=self.headers(**{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(b'whole image', resp.content)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(['b', 'a', 'c'], shown['tags'])
        bare = self.show(self.new_image(name='whole-bare')['id'])
        self.assertEqual([], bare['tags'])
        self.assertNotIn('p1', bare)
        # Listed whole too, each image with its own children, in order.
        self.patch_name(image['id'], 'whole-listed')
        self.patch_name(bare['id'], 'whole-listed')
        for direction in ('asc', 'desc'):
            resp = self.request('GET', '/v2/images?name=whole-listed&'
                                       'sort=id:%s' % direction)
            listed = {i['id']: i for i in resp.json()['images']}
            self.assertEqual(sorted(listed, reverse=direction == 'desc'),
                             [i['id'] for i in resp.json()['images']])
            self.assertEqual(['b', 'a', 'c'], listed[image['id']]['tags'])
            self.assertEqual('two', listed[image['id']]['p2'])
            self.assertEqual([], listed[bare['id']]['tags'])
            self.assertNotIn('p1', listed[bare['id']])
        resp = self.request('GET', '/v2/images/%s' % image['id'].replace(
            image['id'][-4:], '0000'))
        self.assertEqual(404, resp.status_code)


# -- MariaDB / MySQL ------------------------------------------------------------

class TestCreateMySQL(api.TestImageCreate):
    db_kind = 'mysql'


class TestListFiltersMySQL(api.TestImageListFilters):
    db_kind = 'mysql'


class TestListSortMySQL(api.TestImageListSort):
    db_kind = 'mysql'


class TestPaginationMySQL(api.TestImageListPagination):
    db_kind = 'mysql'


class TestPatchMySQL(api.TestImagePatch):
    db_kind = 'mysql'


class TestDeleteMySQL(api.TestImageDelete):
    db_kind = 'mysql'


class TestBadInputMySQL(_IntegerRange, _WholeImage, bad.TestBadInput):
    db_kind = 'mysql'


# -- PostgreSQL -----------------------------------------------------------------

class TestCreatePostgreSQL(api.TestImageCreate):
    db_kind = 'postgresql'


class TestListFiltersPostgreSQL(api.TestImageListFilters):
    db_kind = 'postgresql'


class TestListSortPostgreSQL(api.TestImageListSort):
    db_kind = 'postgresql'


class TestPaginationPostgreSQL(api.TestImageListPagination):
    db_kind = 'postgresql'


class TestPatchPostgreSQL(api.TestImagePatch):
    db_kind = 'postgresql'


class TestDeletePostgreSQL(api.TestImageDelete):
    db_kind = 'postgresql'


class TestBadInputPostgreSQL(_IntegerRange, _WholeImage,
                             bad.TestBadInput):
    db_kind = 'postgresql'


# The same extra checks on SQLite, for comparison.
class TestIntegerRangeSQLite(_IntegerRange, _WholeImage, h.ImageAPIMixin,
                             base.SharedDaemonTest):
    pass
