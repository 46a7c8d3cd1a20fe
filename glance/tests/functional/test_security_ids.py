"""One image per id, whatever its case.

Image ids are UUIDs, stored in their canonical lower-case form: an id
given in upper or mixed case on create is stored lower-cased, so its twin
of any project is a duplicate (409) on every database, as a MySQL
case-insensitive collation would have it. Requests may name an image in
any case. Run on SQLite, MariaDB/MySQL and PostgreSQL.
"""

import uuid

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h


class _OneImagePerId(h.ImageAPIMixin):

    def create(self, image_id, headers=None, status=201):
        resp = self.request('POST', '/v2/images',
                            json={'id': image_id, 'name': 'twin'},
                            headers=headers)
        self.assertEqual(status, resp.status_code, resp.text)
        return resp

    def all_ids(self, image_id):
        """The images of any project with this id, as an admin lists
        them."""
        return self.list_ids('id=%s' % image_id,
                             headers=self.admin_headers())

    def test_twin_in_another_case_is_refused(self):
        lower = str(uuid.uuid4())
        mixed = lower[:9] + lower[9:].upper()
        self.create(lower)
        for twin in (lower, lower.upper(), mixed):
            for who in (self.headers(), self.other_headers(),
                        self.headers(project=h.new_project(),
                                     roles='admin,member,reader')):
                resp = self.create(twin, headers=who, status=409)
                self.assertIn(lower, resp.text)
        self.assertEqual([lower], self.all_ids(lower))

    def test_id_given_in_upper_case_is_stored_lower_case(self):
        lower = str(uuid.uuid4())
        resp = self.create(lower.upper())
        self.assertEqual(lower, resp.json()['id'])
        self.assertTrue(resp.headers['Location'].endswith(
            '/v2/images/' + lower), resp.headers['Location'])
        self.create(lower, headers=self.other_headers(), status=409)
        self.assertEqual([lower], self.all_ids(lower))
        self.assertEqual([lower], self.all_ids(lower.upper()))

    def test_requests_name_an_image_in_any_case(self):
        lower = str(uuid.uuid4())
        self.create(lower)
        upper = lower.upper()
        self.assertEqual(lower, self.show(upper)['id'])
        # Writes through the upper-case path change the one image.
        patched = self.patch_image(upper, [
            {'op': 'replace', 'path': '/name', 'value': 'renamed'},
            {'op': 'add', 'path': '/k', 'value': 'v'}])
        self.assertEqual((lower, 'renamed', 'v'),
                         (patched['id'], patched['name'], patched['k']))
        resp = self.request('PUT', '/v2/images/%s/tags/t1' % upper)
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('POST', '/v2/images/%s/members' % upper,
                            json={'member': self.other_project})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(lower, resp.json()['image_id'])
        image = self.show(lower)
        self.assertEqual(('renamed', ['t1']), (image['name'], image['tags']))
        resp = self.request('GET', '/v2/images/%s/members' % upper)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([self.other_project],
                         [m['member_id'] for m in resp.json()['members']])
        # A page marker in upper case.
        second = self.new_image(name='second')['id']
        resp = self.request('GET', '/v2/images?sort_key=id&sort_dir=asc'
                            '&owner=%s&marker=%s' % (self.project,
                                                     min(lower, second)
                                                     .upper()))
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([max(lower, second)],
                         [i['id'] for i in resp.json()['images']])
        resp = self.request('DELETE', '/v2/images/%s' % upper)
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s' % lower)
        self.assertEqual(404, resp.status_code, resp.text)
        # The id of a deleted image is not given again, in any case.
        self.create(upper, status=409)


class TestOneImagePerId(_OneImagePerId, base.SharedDaemonTest):
    pass


class TestOneImagePerIdMySQL(_OneImagePerId, base.SharedDaemonTest):
    db_kind = 'mysql'


class TestOneImagePerIdPostgreSQL(_OneImagePerId, base.SharedDaemonTest):
    db_kind = 'postgresql'
