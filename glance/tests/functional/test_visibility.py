"""Image visibility between projects and roles, through the real daemon.

Project A (``self.project``) owns images of every visibility; B is a
member of A's shared image; C is unrelated. Each of them acts as a reader
(role reader), a member (member,reader) or an administrator. The rules:
who may publish or open an image to the community, which images each one
reads and lists, and whether a refusal says 403 (the caller sees the
image) or 404 (it does not).
"""

import uuid

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

OCTET = {'Content-Type': 'application/octet-stream'}
RENAME = [{'op': 'replace', 'path': '/name', 'value': 'renamed'}]


class VisibilityMixin(h.ImageAPIMixin):

    def setUp(self):
        super().setUp()
        self.b = h.new_project()
        self.c = h.new_project()

    def as_(self, project, roles=None):
        return self.headers(project=project, roles=roles)

    def reader(self, project=None):
        return self.headers(project=project, roles='reader')

    def admin(self, project=None):
        return self.headers(project=project or h.new_project(),
                            roles='admin,member,reader')

    def share(self, image_id, member, accept=True):
        resp = self.request('POST', '/v2/images/%s/members' % image_id,
                            json={'member': member})
        self.assertEqual(200, resp.status_code, resp.text)
        if accept:
            resp = self.request(
                'PUT', '/v2/images/%s/members/%s' % (image_id, member),
                json={'status': 'accepted'}, headers=self.as_(member))
            self.assertEqual(200, resp.status_code, resp.text)

    def set_visibility(self, image_id, value, headers=None, status=200):
        return self.patch_image(image_id, [
            {'op': 'replace', 'path': '/visibility', 'value': value}],
            headers=headers, status=status)

    def write_calls(self, image_id):
        """(label, method, path, kwargs) of every call that changes an
        existing image."""
        path = '/v2/images/%s' % image_id
        patch = dict(data='[{"op": "replace", "path": "/name", '
                          '"value": "renamed"}]',
                     content_type=h.PATCH_V21)
        return [
            ('patch', 'PATCH', path, patch),
            ('delete', 'DELETE', path, {}),
            ('add tag', 'PUT', path + '/tags/new-tag', {}),
            ('delete tag', 'DELETE', path + '/tags/old-tag', {}),
            ('upload', 'PUT', path + '/file',
             dict(data=b'data', content_type=OCTET['Content-Type'])),
            ('deactivate', 'POST', path + '/actions/deactivate', {}),
            ('reactivate', 'POST', path + '/actions/reactivate', {}),
            ('add member', 'POST', path + '/members',
             dict(json={'member': h.new_project()})),
        ]

    def call(self, method, path, headers, data=None, json=None,
             content_type=None):
        headers = dict(headers)
        if content_type:
            headers['Content-Type'] = content_type
        return self.request(method, path, data=data, json=json,
                            headers=headers)

    def assert_writes_refused(self, image_id, headers, status, skip=()):
        before = self.show(image_id, headers=self.admin())
        for label, method, path, kwargs in self.write_calls(image_id):
            if label in skip:
                continue
            resp = self.call(method, path, headers, **kwargs)
            self.assertEqual(status, resp.status_code,
                             '%s: %s' % (label, resp.text))
        after = self.show(image_id, headers=self.admin())
        self.assertEqual(before, after)


class TestSettingVisibility(VisibilityMixin, base.SharedDaemonTest):

    def test_default_is_shared(self):
        for who in (self.headers(), self.admin(self.project), {}):
            image = self.new_image(headers=who)
            self.assertEqual('shared', image['visibility'])
            self.assertEqual('shared', self.show(image['id'],
                                                 headers=who)['visibility'])

    def test_public_needs_an_administrator(self):
        for who in (self.headers(), self.reader(),
                    self.headers(roles='member')):
            resp = self.request('POST', '/v2/images',
                                json={'visibility': 'public'}, headers=who)
            self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual([], self.list_ids('visibility=all&owner='
                                           + self.project))
        image = self.new_image(visibility='public',
                               headers=self.admin(self.project))
        self.assertEqual('public', image['visibility'])
        self.assertEqual(self.project, image['owner'])

    def test_only_an_administrator_publishes(self):
        image = self.new_image(visibility='private')
        for value in ('private', 'shared', 'community'):
            self.set_visibility(image['id'], value)
            self.set_visibility(image['id'], 'public', status=403)
            self.assertEqual(value, self.show(image['id'])['visibility'])
        # An administrator of any project may.
        patched = self.set_visibility(image['id'], 'public',
                                      headers=self.admin())
        self.assertEqual('public', patched['visibility'])
        # Going back from public needs no more than owning the image.
        self.assertEqual('private', self.set_visibility(
            image['id'], 'private')['visibility'])

    def test_community_is_for_owner_members(self):
        image = self.new_image(visibility='community')
        self.assertEqual('community', image['visibility'])
        other = self.new_image(visibility='private')
        self.assertEqual('community', self.set_visibility(
            other['id'], 'community')['visibility'])
        # A reader of the project may not.
        resp = self.request('POST', '/v2/images',
                            json={'visibility': 'community'},
                            headers=self.reader())
        self.assertEqual(403, resp.status_code, resp.text)
        third = self.new_image(visibility='private')
        self.set_visibility(third['id'], 'community', headers=self.reader(),
                            status=403)
        self.assertEqual('private', self.show(third['id'])['visibility'])

    def test_member_of_a_shared_image_cannot_change_it(self):
        image = self.new_image()
        self.share(image['id'], self.b)
        for value in ('community', 'public', 'private', 'shared'):
            self.set_visibility(image['id'], value,
                                headers=self.as_(self.b), status=403)
        self.assertEqual('shared', self.show(image['id'])['visibility'])

    def test_creating_for_another_project(self):
        resp = self.request('POST', '/v2/images',
                            json={'owner': self.b, 'visibility': 'private'})
        self.assertEqual(403, resp.status_code, resp.text)
        image = self.new_image(owner=self.b, visibility='community',
                               headers=self.admin())
        self.assertEqual(self.b, image['owner'])
        # The new owner controls it; the creating project has no hold.
        self.assertEqual('x', self.patch_image(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'x'}],
            headers=self.as_(self.b))['name'])
        self.patch_image(image['id'], RENAME, status=403)


class TestListing(VisibilityMixin, base.SharedDaemonTest):
    """Who lists what, with every visibility present."""

    def setUp(self):
        super().setUp()
        admin_a = self.admin(self.project)
        self.private = self.new_image(visibility='private',
                                      name='a-private')['id']
        self.shared = self.new_image(name='a-shared')['id']
        self.pending = self.new_image(name='a-pending')['id']
        self.unshared = self.new_image(name='a-unshared')['id']
        self.community = self.new_image(visibility='community',
                                        name='a-community')['id']
        # Public images are seen by every project of the daemon: these
        # carry a tag unique to the test, and listings filter on it.
        self.tag = 'tag-' + uuid.uuid4().hex[:8]
        self.public = self.new_image(visibility='public', name='a-public',
                                     tags=[self.tag], headers=admin_a)['id']
        self.share(self.shared, self.b)
        self.share(self.pending, self.b, accept=False)
        self.b_own = self.new_image(visibility='private', name='b-own',
                                    headers=self.as_(self.b))['id']
        self.a_all = [self.private, self.shared, self.pending,
                      self.unshared, self.community]

    def ids(self, query, headers):
        """Listing ``query`` restricted to this test's projects."""
        found = set()
        for scope in ('owner=%s' % self.project, 'owner=%s' % self.b,
                      'tag=%s' % self.tag):
            found |= set(self.list_ids('&'.join(filter(None, (query,
                                                              scope))),
                                       headers=headers))
        return found

    def test_owner(self):
        for who in (self.headers(), self.reader()):
            self.assertEqual(set(self.a_all + [self.public]),
                             self.ids('', who))
            self.assertEqual({self.community},
                             self.ids('visibility=community', who))
            self.assertEqual(set(self.a_all + [self.public]),
                             self.ids('visibility=all', who))
            self.assertEqual({self.private},
                             self.ids('visibility=private', who))
            self.assertEqual({self.shared, self.pending, self.unshared},
                             self.ids('visibility=shared', who))

    def test_member_project(self):
        for who in (self.as_(self.b), self.reader(self.b)):
            self.assertEqual({self.shared, self.public, self.b_own},
                             self.ids('', who))
            self.assertEqual({self.shared, self.public, self.b_own,
                              self.community},
                             self.ids('visibility=all', who))
            self.assertEqual({self.shared, self.pending, self.public,
                              self.b_own, self.community},
                             self.ids('visibility=all&member_status=all',
                                      who))
            self.assertEqual({self.community},
                             self.ids('visibility=community', who))
            self.assertEqual({self.b_own},
                             self.ids('visibility=private', who))

    def test_unrelated_project(self):
        for who in (self.as_(self.c), self.reader(self.c)):
            self.assertEqual({self.public}, self.ids('', who))
            self.assertEqual({self.public}, self.ids('member_status=all',
                                                     who))
            self.assertEqual({self.public, self.community},
                             self.ids('visibility=all', who))
            self.assertEqual({self.community},
                             self.ids('visibility=community', who))
            self.assertEqual({self.public},
                             self.ids('visibility=public', who))
            for value in ('private', 'shared'):
                self.assertEqual(set(), self.ids('visibility=' + value, who))

    def test_community_image_of_its_own_owner_by_name(self):
        # Filters naming it do not bring a foreign community image in.
        query = 'name=a-community&owner=' + self.project
        self.assertEqual([], self.list_ids(query, headers=self.as_(self.c)))
        self.assertEqual([self.community], self.list_ids(
            query + '&visibility=community', headers=self.as_(self.c)))
        self.assertEqual([self.community], self.list_ids(query))

    def test_administrator_sees_everything(self):
        admin = self.admin()
        everything = set(self.a_all + [self.public, self.b_own])
        self.assertEqual(everything - {self.community},
                         self.ids('', admin))
        self.assertEqual(everything, self.ids('visibility=all', admin))
        self.assertEqual({self.private, self.b_own},
                         self.ids('visibility=private', admin))
        self.assertEqual({self.shared, self.pending, self.unshared},
                         self.ids('visibility=shared', admin))
        for image_id in everything:
            self.assertEqual(image_id, self.show(image_id,
                                                 headers=admin)['id'])

    def test_listing_needs_the_reader_role(self):
        for who in (self.headers(roles='observer'),
                    self.headers(roles='member')):
            resp = self.list_images(headers=who, status=403)
            self.assertNotIn(self.private, resp.text)


class TestReadAndWriteRules(VisibilityMixin, base.SharedDaemonTest):

    def setUp(self):
        super().setUp()
        self.images = {}
        for visibility in ('private', 'shared', 'community', 'public'):
            self.images[visibility] = self.new_image(
                visibility=visibility, name=visibility, tags=['old-tag'],
                disk_format='raw', container_format='bare',
                headers=self.admin(self.project))['id']
            resp = self.request('PUT', '/v2/images/%s/file'
                                % self.images[visibility], data=b'bytes',
                                headers=self.headers(**OCTET))
            self.assertEqual(204, resp.status_code, resp.text)

    def test_unrelated_project_reads_public_and_community_only(self):
        for who in (self.as_(self.c), self.reader(self.c)):
            for visibility, image_id in self.images.items():
                resp = self.request('GET', '/v2/images/%s' % image_id,
                                    headers=who)
                expected = 200 if visibility in ('public',
                                                 'community') else 404
                self.assertEqual(expected, resp.status_code, visibility)

    def test_invisible_images_are_404_for_every_call(self):
        who = self.as_(self.c)
        for visibility in ('private', 'shared'):
            image_id = self.images[visibility]
            self.assert_writes_refused(image_id, who, 404)
            for path in ('', '/file', '/members', '/members/' + self.c):
                resp = self.request('GET', '/v2/images/%s%s'
                                    % (image_id, path), headers=who)
                self.assertEqual(404, resp.status_code,
                                 '%s %s: %s' % (visibility, path, resp.text))

    def test_visible_foreign_images_are_403_for_writes(self):
        for visibility in ('community', 'public'):
            self.assert_writes_refused(self.images[visibility],
                                       self.as_(self.c), 403)
        self.share(self.images['shared'], self.b, accept=False)
        self.assert_writes_refused(self.images['shared'], self.as_(self.b),
                                   403)

    def test_member_of_another_project_with_admin_elsewhere(self):
        # Admin is a role of the request, not of the image: an admin
        # request from C may write; a member request from C may not.
        image_id = self.images['private']
        self.assertEqual('renamed', self.patch_image(
            image_id, RENAME, headers=self.admin(self.c))['name'])
        self.patch_image(image_id, RENAME, headers=self.as_(self.c),
                         status=404)

    def test_readers_read_but_do_not_write(self):
        reader = self.reader()
        for visibility, image_id in self.images.items():
            self.assertEqual(visibility, self.show(image_id,
                                                   headers=reader)['name'])
            # The image is the reader's own: refusals are 403.
            self.assert_writes_refused(image_id, reader, 403)
        self.assertEqual(set(self.images.values()), set(self.list_ids(
            'visibility=all&owner=' + self.project, headers=reader)))
        resp = self.request('POST', '/v2/images', json={'name': 'r'},
                            headers=reader)
        self.assertEqual(403, resp.status_code, resp.text)
        # Downloading takes the member role.
        resp = self.request('GET', '/v2/images/%s/file'
                            % self.images['private'], headers=reader)
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s/file'
                            % self.images['private'])
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(b'bytes', resp.content)

    def test_no_reader_role_sees_nothing(self):
        # Without reader even the owner project cannot look, and a
        # failed read is a 404.
        for who in (self.headers(roles='observer'),
                    self.headers(roles='member')):
            for image_id in self.images.values():
                resp = self.request('GET', '/v2/images/%s' % image_id,
                                    headers=who)
                self.assertEqual(404, resp.status_code, resp.text)
        self.assert_writes_refused(self.images['private'],
                                   self.headers(roles='observer'), 404)

    def test_owner_member_may_write(self):
        image_id = self.images['community']
        self.assertEqual('renamed', self.patch_image(image_id,
                                                     RENAME)['name'])
        resp = self.request('PUT', '/v2/images/%s/tags/new' % image_id)
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            headers=self.admin())
        self.assertEqual(404, resp.status_code, resp.text)

    def test_administrator_writes_anything(self):
        admin = self.admin()
        for visibility, image_id in self.images.items():
            self.assertEqual('renamed', self.patch_image(
                image_id, RENAME, headers=admin)['name'])
            resp = self.request('DELETE', '/v2/images/%s' % image_id,
                                headers=admin)
            self.assertEqual(204, resp.status_code, visibility)

    def test_image_without_owner(self):
        # Rows written by older releases may lack an owner: readable by
        # everyone when shared, only by administrators when private.
        for visibility in ('shared', 'private'):
            self.set_columns(self.images[visibility], owner=None)
        c = self.as_(self.c)
        shown = self.show(self.images['shared'], headers=c)
        self.assertIsNone(shown['owner'])
        self.patch_image(self.images['shared'], RENAME, headers=c,
                         status=403)
        resp = self.request('GET', '/v2/images/%s' % self.images['private'],
                            headers=c)
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertNotIn(self.images['private'], self.list_ids(
            'visibility=all', headers=c))
        self.assertEqual(self.images['private'], self.show(
            self.images['private'], headers=self.admin())['id'])

    def test_image_without_owner_is_not_listed(self):
        # Readable is not listed: only public, community, own and
        # shared-with-me images are.
        self.set_columns(self.images['shared'], owner=None)
        c = self.as_(self.c)
        self.assertEqual(self.images['shared'], self.show(
            self.images['shared'], headers=c)['id'])
        for query in ('', 'visibility=shared&member_status=all',
                      'visibility=all&member_status=all'):
            self.assertNotIn(self.images['shared'],
                             self.list_ids(query, headers=c), query)
