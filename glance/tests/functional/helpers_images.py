"""Shared helpers of the image API functional tests.

``ImageAPIMixin`` goes in front of ``base.SharedDaemonTest`` (or
``base.FunctionalTest``): it adds short-hands to create images, list ids,
build headers for a second project or an administrator, and to change
columns the API cannot set (status, size) straight in the test database.
"""

import datetime
import email.utils
import json
import re
import time
import uuid

import sqlalchemy as sa

PATCH_V21 = 'application/openstack-images-v2.1-json-patch'
PATCH_V20 = 'application/openstack-images-v2.0-json-patch'
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                     r'[0-9a-f]{12}$')
TIME_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
REQUEST_ID_RE = re.compile(r'^req-\S+$')


def new_project():
    return 'project-%s' % uuid.uuid4().hex[:8]


class ImageAPIMixin:

    # -- identities ---------------------------------------------------------

    def other_headers(self, project=None, roles=None, **extra):
        """Headers of a second, unrelated project (member, reader)."""
        if not getattr(self, '_other_project', None):
            self._other_project = new_project()
        return self.headers(project=project or self._other_project,
                            roles=roles, **extra)

    @property
    def other_project(self):
        self.other_headers()
        return self._other_project

    def admin_headers(self, **extra):
        """An administrator acting in the test's own project."""
        return self.headers(roles='admin,member,reader', **extra)

    # -- requests -----------------------------------------------------------

    def new_image(self, headers=None, **body):
        """POST /v2/images, asserting 201; the image JSON."""
        resp = self.request('POST', '/v2/images', json=body,
                            headers=headers)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def show(self, image_id, headers=None):
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            headers=headers)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def list_images(self, query='', headers=None, status=200):
        """GET /v2/images?<query>, asserting ``status``; the body."""
        path = '/v2/images' + ('?' + query if query else '')
        resp = self.request('GET', path, headers=headers)
        self.assertEqual(status, resp.status_code,
                         '%s -> %s' % (path, resp.text))
        return resp.json() if status == 200 else resp

    def list_ids(self, query='', headers=None):
        return [i['id'] for i in self.list_images(query, headers)['images']]

    def assert_ids(self, expected, query='', headers=None, ordered=False):
        found = self.list_ids(query, headers)
        if ordered:
            self.assertEqual(list(expected), found, query)
        else:
            self.assertEqual(sorted(expected), sorted(found), query)

    def assert_list_rejected(self, query, headers=None):
        resp = self.list_images(query, headers, status=400)
        return resp

    def patch_image(self, image_id, changes, headers=None, media=None,
                    status=200):
        headers = dict(self.headers() if headers is None else headers)
        headers['Content-Type'] = media or PATCH_V21
        resp = self.request('PATCH', '/v2/images/%s' % image_id,
                            data=json.dumps(changes), headers=headers)
        self.assertEqual(status, resp.status_code,
                         '%r -> %s' % (changes, resp.text))
        return resp.json() if status == 200 else resp

    def wait_past(self, stamp, timeout=10):
        """Wait until the daemon's clock is past ``stamp`` (a timestamp
        of the API, to the second): a change made from now on gets a
        later one. The sentinel is the Date of the daemon's answers."""
        after = datetime.datetime.strptime(
            stamp, '%Y-%m-%dT%H:%M:%SZ').replace(
                tzinfo=datetime.timezone.utc)
        deadline = time.monotonic() + timeout
        while True:
            resp = self.request('GET', '/versions', headers={})
            if email.utils.parsedate_to_datetime(
                    resp.headers['Date']) > after:
                return
            self.assertLess(time.monotonic(), deadline,
                            'the daemon\'s clock stays at %s' % stamp)
            time.sleep(0.02)

    def assert_serving(self):
        """The daemon still answers a create/show/list round trip."""
        image = self.new_image(name='still-alive')
        self.assertEqual('still-alive', self.show(image['id'])['name'])
        self.assertIn(image['id'], self.list_ids('name=still-alive'))
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code, resp.text)

    # -- direct database access ---------------------------------------------

    def set_columns(self, image_id, **values):
        """Update columns of one image row the API has no way to set."""
        engine = sa.create_engine(self.db.url)
        try:
            with engine.begin() as conn:
                table = sa.Table('images', sa.MetaData(),
                                 autoload_with=conn)
                result = conn.execute(table.update().where(
                    table.c.id == image_id).values(**values))
                self.assertEqual(1, result.rowcount)
        finally:
            engine.dispose()
