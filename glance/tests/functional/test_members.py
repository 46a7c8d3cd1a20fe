"""Image sharing through /v2/images/{id}/members against a running daemon.

Project A (``self.project``) owns the images; B and C are projects it
shares them with; D is a bystander. Every project acts with the roles a
test names (member,reader unless said otherwise), and every refusal is
checked to have left the memberships as they were.
"""

import json
import urllib.parse
import uuid

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

OCTET = {'Content-Type': 'application/octet-stream'}


class MembersMixin(h.ImageAPIMixin):

    def setUp(self):
        super().setUp()
        self.b = h.new_project()
        self.c = h.new_project()
        self.d = h.new_project()

    def as_(self, project, roles=None):
        return self.headers(project=project, roles=roles)

    def admin(self):
        """An administrator of a project unrelated to the image."""
        return self.headers(project=h.new_project(),
                            roles='admin,member,reader')

    def members_path(self, image_id, member=None):
        path = '/v2/images/%s/members' % image_id
        if member is not None:
            path += '/' + urllib.parse.quote(member, safe='')
        return path

    def add_member(self, image_id, member, headers=None, status=200):
        resp = self.request('POST', self.members_path(image_id),
                            json={'member': member}, headers=headers)
        self.assertEqual(status, resp.status_code, resp.text)
        return resp.json() if status == 200 else resp

    def set_status(self, image_id, member, value, headers=None, status=200):
        if headers is None:
            headers = self.as_(member)
        resp = self.request('PUT', self.members_path(image_id, member),
                            json={'status': value}, headers=headers)
        self.assertEqual(status, resp.status_code, resp.text)
        return resp.json() if status == 200 else resp

    def member_rows(self, image_id, headers=None):
        """{member id: status} as the list call shows it."""
        resp = self.request('GET', self.members_path(image_id),
                            headers=headers)
        self.assertEqual(200, resp.status_code, resp.text)
        return {m['member_id']: m['status'] for m in resp.json()['members']}

    def shared_image(self, *members, **body):
        body.setdefault('visibility', 'shared')
        image = self.new_image(**body)
        for member in members:
            self.add_member(image['id'], member)
        return image['id']


class TestMemberLifecycle(MembersMixin, base.SharedDaemonTest):

    def test_add_show_list_accept_remove(self):
        image_id = self.shared_image(name='to-share')
        added = self.add_member(image_id, self.b)
        self.assertEqual({'member_id', 'image_id', 'status', 'created_at',
                          'updated_at', 'schema'}, set(added))
        self.assertEqual(self.b, added['member_id'])
        self.assertEqual(image_id, added['image_id'])
        self.assertEqual('pending', added['status'])
        self.assertEqual('/v2/schemas/member', added['schema'])
        self.assertRegex(added['created_at'], h.TIME_RE)
        self.assertEqual(added['created_at'], added['updated_at'])

        resp = self.request('GET', self.members_path(image_id))
        self.assertEqual(200, resp.status_code, resp.text)
        body = resp.json()
        self.assertEqual('/v2/schemas/members', body['schema'])
        self.assertEqual([added], body['members'])
        for who in (self.headers(), self.as_(self.b)):
            resp = self.request('GET', self.members_path(image_id, self.b),
                                headers=who)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertEqual(added, resp.json())

        # Pending: B may read the image but does not list it by default.
        self.assertEqual('to-share', self.show(
            image_id, headers=self.as_(self.b))['name'])
        self.assertNotIn(image_id, self.list_ids(headers=self.as_(self.b)))

        accepted = self.set_status(image_id, self.b, 'accepted')
        self.assertEqual('accepted', accepted['status'])
        self.assertEqual(added['created_at'], accepted['created_at'])
        self.assertEqual({self.b: 'accepted'}, self.member_rows(image_id))
        self.assertEqual([image_id], self.list_ids(headers=self.as_(self.b)))

        resp = self.request('DELETE', self.members_path(image_id, self.b))
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(b'', resp.content)
        self.assertEqual({}, self.member_rows(image_id))
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            headers=self.as_(self.b))
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual([], self.list_ids('member_status=all',
                                           headers=self.as_(self.b)))
        resp = self.request('GET', self.members_path(image_id, self.b))
        self.assertEqual(404, resp.status_code, resp.text)

    def test_status_transitions(self):
        image_id = self.shared_image(self.b)
        for value in ('accepted', 'rejected', 'pending', 'rejected',
                      'rejected', 'accepted', 'accepted'):
            self.assertEqual(value, self.set_status(image_id, self.b,
                                                    value)['status'])
            self.assertEqual({self.b: value}, self.member_rows(image_id))

    def test_member_reads_in_every_state(self):
        image = self.new_image(visibility='shared', disk_format='raw',
                               container_format='bare')
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=b'shared bytes',
                            headers=self.headers(**OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        self.add_member(image['id'], self.b)
        for value in ('pending', 'rejected', 'accepted'):
            self.set_status(image['id'], self.b, value)
            self.assertEqual(image['id'], self.show(
                image['id'], headers=self.as_(self.b))['id'])
            resp = self.request('GET', '/v2/images/%s/file' % image['id'],
                                headers=self.as_(self.b))
            self.assertEqual(200, resp.status_code, value)
            self.assertEqual(b'shared bytes', resp.content)
        # A bystander can do neither.
        for path in ('/v2/images/%s', '/v2/images/%s/file'):
            resp = self.request('GET', path % image['id'],
                                headers=self.as_(self.d))
            self.assertEqual(404, resp.status_code, path)

    def test_readd_revives_as_pending(self):
        image_id = self.shared_image(self.b)
        self.set_status(image_id, self.b, 'accepted')
        resp = self.request('DELETE', self.members_path(image_id, self.b))
        self.assertEqual(204, resp.status_code, resp.text)
        again = self.add_member(image_id, self.b)
        self.assertEqual('pending', again['status'])
        self.assertEqual({self.b: 'pending'}, self.member_rows(image_id))
        self.assertNotIn(image_id, self.list_ids(headers=self.as_(self.b)))
        self.assertEqual([image_id], self.list_ids(
            'member_status=pending', headers=self.as_(self.b)))
        # Only one row for the pair in the database, live again.
        rows = self.db_members(image_id)
        self.assertEqual([(self.b, 'pending', False)], rows)

    def test_members_are_listed_oldest_first(self):
        image_id = self.shared_image()
        names = [self.c, self.b, 'zz-' + self.d, 'aa-' + self.d]
        for name in names:
            self.add_member(image_id, name)
        resp = self.request('GET', self.members_path(image_id))
        self.assertEqual(names, [m['member_id']
                                 for m in resp.json()['members']])

    def test_deleting_the_image_removes_memberships(self):
        image_id = self.shared_image(self.b, self.c)
        self.set_status(image_id, self.b, 'accepted')
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_code, resp.text)
        for who in (self.headers(), self.as_(self.b), self.admin()):
            resp = self.request('GET', self.members_path(image_id),
                                headers=who)
            self.assertEqual(404, resp.status_code, resp.text)
        for member in (self.b, self.c):
            self.assertEqual([], self.list_ids('member_status=all',
                                               headers=self.as_(member)))
        resp = self.request('POST', self.members_path(image_id),
                            json={'member': self.d})
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual(sorted([(self.b, 'accepted', True),
                                 (self.c, 'pending', True)]),
                         self.db_members(image_id))

    def test_member_ids_are_free_form(self):
        image_id = self.shared_image()
        odd = ['x' * 255, 'with space', 'dots.and-dashes_1', 'ünïcode']
        for member in odd:
            self.assertEqual(member, self.add_member(
                image_id, member)['member_id'])
        self.assertEqual(set(odd), set(self.member_rows(image_id)))
        for member in odd:
            resp = self.request('GET', self.members_path(image_id, member))
            self.assertEqual(200, resp.status_code, member)
            self.assertEqual(member, resp.json()['member_id'])

    def db_members(self, image_id):
        engine = sa.create_engine(self.db.url)
        try:
            with engine.connect() as conn:
                table = sa.Table('image_members', sa.MetaData(),
                                 autoload_with=conn)
                rows = conn.execute(sa.select(
                    table.c.member, table.c.status, table.c.deleted).where(
                    table.c.image_id == image_id).order_by(table.c.member))
                return [(r.member, r.status, bool(r.deleted)) for r in rows]
        finally:
            engine.dispose()


class TestMemberAuthorization(MembersMixin, base.SharedDaemonTest):

    def test_owner_cannot_change_a_status(self):
        image_id = self.shared_image(self.b)
        for who in (self.headers(), self.headers(roles='reader')):
            self.set_status(image_id, self.b, 'accepted', headers=who,
                            status=403)
        self.assertEqual({self.b: 'pending'}, self.member_rows(image_id))

    def test_member_cannot_add_or_remove(self):
        image_id = self.shared_image(self.b, self.c)
        b = self.as_(self.b)
        self.add_member(image_id, self.d, headers=b, status=403)
        # B sees the image, so the refusal is a 403, whichever row.
        for member in (self.b, self.c):
            resp = self.request('DELETE', self.members_path(image_id, member),
                                headers=b)
            self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual({self.b: 'pending', self.c: 'pending'},
                         self.member_rows(image_id))

    def test_member_sees_only_its_own_row(self):
        image_id = self.shared_image(self.b, self.c)
        self.assertEqual({self.b: 'pending'},
                         self.member_rows(image_id, headers=self.as_(self.b)))
        self.assertEqual({self.c: 'pending'},
                         self.member_rows(image_id, headers=self.as_(self.c)))
        resp = self.request('GET', self.members_path(image_id, self.c),
                            headers=self.as_(self.b))
        self.assertEqual(404, resp.status_code, resp.text)
        # Nor may it change another member's status.
        self.set_status(image_id, self.c, 'accepted',
                        headers=self.as_(self.b), status=404)
        self.assertEqual({self.b: 'pending', self.c: 'pending'},
                         self.member_rows(image_id))

    def test_bystander_gets_404_everywhere(self):
        image_id = self.shared_image(self.b)
        d = self.as_(self.d)
        calls = [
            ('GET', self.members_path(image_id), None),
            ('POST', self.members_path(image_id), {'member': self.d}),
            ('GET', self.members_path(image_id, self.b), None),
            ('PUT', self.members_path(image_id, self.b),
             {'status': 'accepted'}),
            ('PUT', self.members_path(image_id, self.d),
             {'status': 'accepted'}),
            ('DELETE', self.members_path(image_id, self.b), None),
        ]
        for method, path, body in calls:
            resp = self.request(method, path, json=body, headers=d)
            self.assertEqual(404, resp.status_code,
                             '%s %s: %s' % (method, path, resp.text))
        self.assertEqual({self.b: 'pending'}, self.member_rows(image_id))

    def test_removed_member_loses_access(self):
        image_id = self.shared_image(self.b)
        self.set_status(image_id, self.b, 'accepted')
        resp = self.request('DELETE', self.members_path(image_id, self.b))
        self.assertEqual(204, resp.status_code, resp.text)
        b = self.as_(self.b)
        resp = self.request('GET', self.members_path(image_id), headers=b)
        self.assertEqual(404, resp.status_code, resp.text)
        self.set_status(image_id, self.b, 'accepted', headers=b, status=404)
        self.assertEqual({}, self.member_rows(image_id))

    def test_readers(self):
        image_id = self.shared_image(self.b)
        owner_reader = self.headers(roles='reader')
        member_reader = self.as_(self.b, roles='reader')
        # Both may look.
        self.assertEqual({self.b: 'pending'},
                         self.member_rows(image_id, headers=owner_reader))
        self.assertEqual({self.b: 'pending'},
                         self.member_rows(image_id, headers=member_reader))
        resp = self.request('GET', self.members_path(image_id, self.b),
                            headers=member_reader)
        self.assertEqual(200, resp.status_code, resp.text)
        # Neither may change anything.
        self.add_member(image_id, self.c, headers=owner_reader, status=403)
        resp = self.request('DELETE', self.members_path(image_id, self.b),
                            headers=owner_reader)
        self.assertEqual(403, resp.status_code, resp.text)
        self.set_status(image_id, self.b, 'accepted', headers=member_reader,
                        status=403)
        self.assertEqual({self.b: 'pending'}, self.member_rows(image_id))

    def test_no_role_at_all_reads_nothing(self):
        image_id = self.shared_image(self.b)
        for who in (self.headers(roles='observer'),
                    self.as_(self.b, roles='observer')):
            resp = self.request('GET', self.members_path(image_id),
                                headers=who)
            self.assertEqual(404, resp.status_code, resp.text)

    def test_admin_of_another_project_may_do_everything(self):
        image_id = self.shared_image(self.b)
        admin = self.admin()
        self.assertEqual({self.b: 'pending'},
                         self.member_rows(image_id, headers=admin))
        self.add_member(image_id, self.c, headers=admin)
        self.assertEqual('rejected', self.set_status(
            image_id, self.b, 'rejected', headers=admin)['status'])
        resp = self.request('DELETE', self.members_path(image_id, self.c),
                            headers=admin)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual({self.b: 'rejected'}, self.member_rows(image_id))

    def test_requests_without_identity_are_admin(self):
        image_id = self.shared_image(self.b)
        self.assertEqual({self.b: 'pending'},
                         self.member_rows(image_id, headers={}))
        self.set_status(image_id, self.b, 'accepted', headers={})
        self.assertEqual({self.b: 'accepted'}, self.member_rows(image_id))


class TestOnlySharedImages(MembersMixin, base.SharedDaemonTest):

    def assert_refused(self, image_id, existing=None):
        member = existing or self.b
        resp = self.request('POST', self.members_path(image_id),
                            json={'member': self.c})
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertIn('Only shared images have members', resp.text)
        resp = self.request('GET', self.members_path(image_id))
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('GET', self.members_path(image_id, member))
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.request('DELETE', self.members_path(image_id, member))
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('PUT', self.members_path(image_id, member),
                            json={'status': 'accepted'},
                            headers=self.admin())
        self.assertEqual(403, resp.status_code, resp.text)

    def test_private_community_public(self):
        for visibility in ('private', 'community', 'public'):
            image = self.new_image(visibility=visibility,
                                   headers=self.admin_headers())
            self.assert_refused(image['id'])

    def test_members_survive_a_visibility_change(self):
        image_id = self.shared_image(self.b)
        self.set_status(image_id, self.b, 'accepted')
        self.patch_image(image_id, [{'op': 'replace', 'path': '/visibility',
                                     'value': 'private'}])
        self.assert_refused(image_id, existing=self.b)
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            headers=self.as_(self.b))
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual([], self.list_ids('member_status=all',
                                           headers=self.as_(self.b)))
        self.set_status(image_id, self.b, 'rejected', status=404)
        # Shared again: the membership (and its status) is back.
        self.patch_image(image_id, [{'op': 'replace', 'path': '/visibility',
                                     'value': 'shared'}])
        self.assertEqual({self.b: 'accepted'}, self.member_rows(image_id))
        self.assertEqual([image_id], self.list_ids(headers=self.as_(self.b)))


class TestMemberListing(MembersMixin, base.SharedDaemonTest):
    """GET /v2/images as a member: member_status and visibility=shared."""

    def setUp(self):
        super().setUp()
        self.pending = self.shared_image(self.b, name='pending')
        self.accepted = self.shared_image(self.b, name='accepted')
        self.rejected = self.shared_image(self.b, name='rejected')
        self.set_status(self.accepted, self.b, 'accepted')
        self.set_status(self.rejected, self.b, 'rejected')
        self.unshared = self.shared_image(name='not-shared-with-b')
        self.mine = self.new_image(visibility='private',
                                   headers=self.as_(self.b))['id']
        self.bh = self.as_(self.b)

    def test_default_lists_accepted_only(self):
        self.assert_ids([self.accepted, self.mine], headers=self.bh)

    def test_member_status_filter(self):
        for value, expected in (
                ('accepted', [self.accepted]),
                ('pending', [self.pending]),
                ('rejected', [self.rejected]),
                ('all', [self.pending, self.accepted, self.rejected])):
            self.assert_ids(expected + [self.mine], 'member_status=' + value,
                            headers=self.bh)

    def test_visibility_shared(self):
        self.assert_ids([self.accepted], 'visibility=shared',
                        headers=self.bh)
        self.assert_ids([self.pending], 'visibility=shared&'
                        'member_status=pending', headers=self.bh)
        self.assert_ids([self.pending, self.accepted, self.rejected],
                        'visibility=shared&member_status=all',
                        headers=self.bh)
        self.assert_ids([self.mine], 'visibility=private', headers=self.bh)

    def test_status_change_moves_the_image(self):
        self.set_status(self.pending, self.b, 'accepted')
        self.set_status(self.accepted, self.b, 'rejected')
        self.assert_ids([self.pending, self.mine], headers=self.bh)
        self.assert_ids([self.accepted, self.rejected, self.mine],
                        'member_status=rejected', headers=self.bh)

    def test_owner_lists_its_shared_images_whatever_the_filter(self):
        ours = [self.pending, self.accepted, self.rejected, self.unshared]
        for value in ('accepted', 'pending', 'rejected', 'all'):
            self.assert_ids(ours, 'member_status=' + value)
        self.assert_ids(ours, 'visibility=shared')

    def test_other_filters_combine(self):
        self.assert_ids([self.pending], 'member_status=all&name=pending',
                        headers=self.bh)
        self.assert_ids([], 'member_status=all&name=not-shared-with-b',
                        headers=self.bh)
        self.assert_ids([self.pending, self.accepted, self.rejected],
                        'member_status=all&owner=' + self.project,
                        headers=self.bh)

    def test_bad_member_status(self):
        for value in ('bogus', '', 'ACCEPTED', 'accepted,pending'):
            self.assert_list_rejected('member_status=' +
                                      urllib.parse.quote(value),
                                      headers=self.bh)

    def test_bystander_lists_nothing_of_it(self):
        d = self.as_(self.d)
        for query in ('', 'member_status=all', 'visibility=shared&'
                      'member_status=all', 'visibility=all&member_status=all'):
            self.assertEqual([], self.list_ids(query, headers=d), query)


class TestMemberBadInput(MembersMixin, base.SharedDaemonTest):

    def setUp(self):
        super().setUp()
        self.image_id = self.shared_image(self.b)

    def assert_unchanged(self):
        self.assertEqual({self.b: 'pending'}, self.member_rows(self.image_id))

    def post_raw(self, data, content_type='application/json'):
        return self.request('POST', self.members_path(self.image_id),
                            data=data, headers=self.headers(**{
                                'Content-Type': content_type}))

    def test_bad_member_ids(self):
        # Each refusal says what is wrong with the request.
        cases = [({}, 'not specified'), ({'member_id': self.c},
                                         'not specified'),
                 ({'member': ''}, 'empty'), ({'member': None}, 'string'),
                 ({'member': 5}, 'string'), ({'member': ['x']}, 'string'),
                 ({'member': {'id': 'x'}}, 'string'),
                 ({'member': True}, 'string'),
                 ({'member': 'm' * 256}, '255')]
        for body, reason in cases:
            resp = self.post_raw(json.dumps(body))
            self.assertEqual(400, resp.status_code,
                             '%r: %s' % (body, resp.text))
            self.assertIn(reason, resp.text, body)
        self.assert_unchanged()

    def test_non_object_bodies(self):
        for data in ('[]', '["%s"]' % self.c, '"%s"' % self.c, '5', 'null',
                     '{"member": ', 'member=' + self.c, ''):
            resp = self.post_raw(data)
            self.assertEqual(400, resp.status_code,
                             '%r: %s' % (data, resp.text))
        self.assert_unchanged()

    def test_add_twice(self):
        resp = self.add_member(self.image_id, self.b, status=409)
        self.assertIn(self.b, resp.text)
        self.set_status(self.image_id, self.b, 'accepted')
        self.add_member(self.image_id, self.b, status=409)
        self.assertEqual({self.b: 'accepted'},
                         self.member_rows(self.image_id))

    def test_bad_status(self):
        path = self.members_path(self.image_id, self.b)
        for body in ({}, {'status': 'bogus'}, {'status': ''},
                     {'status': 'ACCEPTED'}, {'status': None},
                     {'status': 1}, {'status': ['accepted']},
                     ['accepted'], 'accepted'):
            resp = self.request('PUT', path, json=body,
                                headers=self.as_(self.b))
            self.assertEqual(400, resp.status_code,
                             '%r: %s' % (body, resp.text))
            self.assertIn('status' if isinstance(body, dict) else 'body',
                          resp.text.lower(), body)
        self.assert_unchanged()

    def test_unknown_member(self):
        ghost = h.new_project()
        admin = self.admin()
        resp = self.request('GET', self.members_path(self.image_id, ghost))
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.request('DELETE', self.members_path(self.image_id,
                                                        ghost))
        self.assertEqual(404, resp.status_code, resp.text)
        for who in (self.as_(ghost), admin):
            self.set_status(self.image_id, ghost, 'accepted', headers=who,
                            status=404)
        self.assert_unchanged()

    def test_unknown_image(self):
        for image_id in (str(uuid.uuid4()), 'not-a-uuid'):
            for method, path, body in (
                    ('GET', self.members_path(image_id), None),
                    ('POST', self.members_path(image_id), {'member': 'x'}),
                    ('GET', self.members_path(image_id, self.b), None),
                    ('PUT', self.members_path(image_id, self.b),
                     {'status': 'accepted'}),
                    ('DELETE', self.members_path(image_id, self.b), None)):
                resp = self.request(method, path, json=body,
                                    headers=self.admin())
                self.assertEqual(404, resp.status_code,
                                 '%s %s: %s' % (method, path, resp.text))

    def test_methods_not_allowed(self):
        for method, path in (
                ('PUT', self.members_path(self.image_id)),
                ('DELETE', self.members_path(self.image_id)),
                ('POST', self.members_path(self.image_id, self.b)),
                ('PATCH', self.members_path(self.image_id, self.b))):
            resp = self.request(method, path, json={'member': self.c})
            self.assertEqual(405, resp.status_code,
                             '%s %s: %s' % (method, path, resp.text))
        self.assert_unchanged()


class TestMemberQuota(MembersMixin, base.SharedDaemonTest):
    options = {'image_member_quota': 2}

    def test_quota(self):
        image_id = self.shared_image(self.b, self.c)
        resp = self.add_member(image_id, self.d, status=413)
        self.assertIn('2', resp.text)
        self.assertEqual({self.b, self.c}, set(self.member_rows(image_id)))
        # An administrator is held to it too.
        self.add_member(image_id, self.d, headers=self.admin(), status=413)
        # Removing one makes room; a removed member does not count.
        resp = self.request('DELETE', self.members_path(image_id, self.c))
        self.assertEqual(204, resp.status_code, resp.text)
        self.add_member(image_id, self.d)
        self.add_member(image_id, self.c, status=413)
        self.assertEqual({self.b, self.d}, set(self.member_rows(image_id)))

    def test_quota_is_per_image(self):
        first = self.shared_image(self.b, self.c)
        second = self.shared_image(self.b, self.c)
        self.add_member(first, self.d, status=413)
        self.add_member(second, self.d, status=413)


class TestMemberQuotaUnlimited(MembersMixin, base.SharedDaemonTest):
    options = {'image_member_quota': -1}

    def test_negative_is_unlimited(self):
        image_id = self.shared_image()
        names = ['m%03d' % i for i in range(140)]
        for name in names:
            self.add_member(image_id, name)
        self.assertEqual(set(names), set(self.member_rows(image_id)))


class TestMemberQuotaZero(MembersMixin, base.SharedDaemonTest):
    options = {'image_member_quota': 0}

    def test_zero_forbids_sharing(self):
        image_id = self.shared_image()
        self.add_member(image_id, self.b, status=413)
        self.assertEqual({}, self.member_rows(image_id))


class TestMemberSchemas(MembersMixin, base.SharedDaemonTest):

    def test_member_schema(self):
        resp = self.request('GET', '/v2/schemas/member')
        self.assertEqual(200, resp.status_code, resp.text)
        schema = resp.json()
        self.assertEqual('member', schema['name'])
        self.assertEqual({'member_id', 'image_id', 'created_at',
                          'updated_at', 'status', 'schema'},
                         set(schema['properties']))
        self.assertEqual(['pending', 'accepted', 'rejected'],
                         schema['properties']['status']['enum'])
        self.assertTrue(schema['properties']['schema']['readOnly'])
        self.assertNotIn('additionalProperties', schema)

    def test_members_schema(self):
        resp = self.request('GET', '/v2/schemas/members')
        self.assertEqual(200, resp.status_code, resp.text)
        schema = resp.json()
        self.assertEqual('members', schema['name'])
        self.assertEqual({'members', 'schema'}, set(schema['properties']))
        self.assertEqual('array', schema['properties']['members']['type'])
        member = self.request('GET', '/v2/schemas/member').json()
        self.assertEqual(member, schema['properties']['members']['items'])
        self.assertEqual([{'rel': 'describedby', 'href': '{schema}'}],
                         schema['links'])

    def test_member_json_matches_the_schema(self):
        import jsonschema
        schema = self.request('GET', '/v2/schemas/members').json()
        image_id = self.shared_image(self.b, self.c)
        resp = self.request('GET', self.members_path(image_id))
        jsonschema.validate(resp.json(), schema)
        for member in resp.json()['members']:
            jsonschema.validate(member, schema['properties']['members'][
                'items'])

    def test_readers_of_any_project_may_read_schemas(self):
        for who in (self.as_(self.d, roles='reader'), {}):
            for name in ('member', 'members'):
                resp = self.request('GET', '/v2/schemas/' + name,
                                    headers=who)
                self.assertEqual(200, resp.status_code, resp.text)
