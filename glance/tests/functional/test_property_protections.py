"""Property protections: a rules file decides who may create, read,
update and delete which extra image properties.

Two daemons run the same kind of rules, one in the ``roles`` format and
one in the ``policies`` format (whose rule names a policy file defines).
Unreadable properties vanish from responses and cannot be filtered on;
refused writes are 403 and change nothing. Broken rules files stop the
daemon at start with an ``ERROR:`` line and a non-zero exit status.
"""

import datetime
import os
import shutil
import tempfile
import textwrap

import sqlalchemy as sa
import testtools
import yaml

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

ROLES_RULES = """
[^x_owner_.*]
create = admin,member
read = admin,member
update = admin,member
delete = admin,member

[^x_admin_.*]
create = admin
read = admin
update = admin
delete = admin

[^x_frozen_.*]
create = admin,member
read = @
update = !
delete = admin

[^x_open_.*]
create = @
read = @
update = @
delete = @

[^x_never_.*]
create = !
read = !
update = !
delete = !

[^x_case_.*]
create = ADMIN, Member
read = Reader ,  MEMBER
update = mEmBeR
delete =

[^x_split_.*]
create = member
read = reader
update = admin
delete = member

[^x_blind_.*]
create = member
read = admin
update = admin
delete = admin

[^x_unseen_.*]
create = admin
read = admin
update = admin
delete = member

[^x_first]
create = member
read = member,reader
update = member
delete = member

[^x_first_but_not_this]
create = admin
read = admin
update = admin
delete = admin

[os_glance.*]
create = !
read = !
update = !
delete = !

[.*]
create = admin
read = admin
update = admin
delete = admin
"""

POLICIES_RULES = """
[^x_owner_.*]
create = prop_writer
read = prop_reader
update = prop_writer
delete = prop_writer

[^x_admin_.*]
create = context_is_admin
read = context_is_admin
update = context_is_admin
delete = context_is_admin

[^x_frozen_.*]
create = prop_writer
read = default
update = prop_nobody
delete = context_is_admin

[^x_undefined_.*]
create = no_such_rule
read = default
update = no_such_rule
delete = no_such_rule

[^x_signs_.*]
create = @
read = @
update = !
delete = !

[^x_tuned_.*]
create = default
read = default
update = default
delete = default

[^x_blind_.*]
create = prop_writer
read = context_is_admin
update = context_is_admin
delete = prop_writer

[.*]
create = context_is_admin
read = context_is_admin
update = context_is_admin
delete = context_is_admin
"""

POLICIES_POLICY = {
    'prop_writer': 'role:member or role:admin',
    'prop_reader': 'role:reader or role:member or role:admin',
    'prop_nobody': '!',
    # The generated rule of a section may itself be overridden.
    '^x_tuned_.*:create': 'role:tuner',
}


BASE_KEYS = {
    'id', 'name', 'status', 'visibility', 'protected', 'os_hidden',
    'min_ram', 'min_disk', 'owner', 'disk_format', 'container_format',
    'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value',
    'tags', 'schema', 'self', 'file', 'created_at', 'updated_at',
    'locations', 'direct_url', 'stores'}


def extra(image):
    return {k: v for k, v in image.items() if k not in BASE_KEYS}


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text))
    return path


class ProtectionsTest(h.ImageAPIMixin, base.SharedDaemonTest):
    """A shared daemon with ``rules`` as its property protection file."""

    rules = ''
    rule_format = 'roles'
    policy = None

    @classmethod
    def setUpClass(cls):
        cls.rules_dir = tempfile.mkdtemp(prefix='glance-protections-')
        options = {
            'property_protection_file': write(cls.rules_dir,
                                              'protections.conf', cls.rules),
            'property_protection_rule_format': cls.rule_format,
        }
        if cls.policy is not None:
            options['oslo_policy.policy_file'] = write(
                cls.rules_dir, 'policy.yaml', yaml.safe_dump(cls.policy))
        cls.options = dict(cls.options, **options)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.rules_dir, True)

    # -- identities ---------------------------------------------------------

    def member(self):
        return self.headers(roles='member,reader')

    def reader(self):
        return self.headers(roles='reader')

    def admin(self):
        return self.headers(roles='admin,member,reader')

    # -- checks -------------------------------------------------------------

    def props(self, image_id, headers):
        """Extra properties of the image as ``headers`` sees them."""
        return extra(self.show(image_id, headers=headers))

    def assert_create(self, key, allowed, headers):
        resp = self.request('POST', '/v2/images',
                            json={'name': 'p', key: 'v'}, headers=headers)
        if allowed:
            self.assertEqual(201, resp.status_code, '%s: %s'
                             % (key, resp.text))
            return resp.json()['id']
        self.assertEqual(403, resp.status_code, '%s: %s' % (key, resp.text))
        return None

    def image_with(self, **props):
        """An image carrying ``props``, made by an administrator."""
        return self.new_image(headers=self.admin(), name='p',
                              **props)['id']

    def patch_as(self, image_id, changes, headers, status):
        return self.patch_image(image_id, changes, headers=headers,
                                status=status)


class TestRolesFormat(ProtectionsTest):
    rules = ROLES_RULES

    def test_create(self):
        cases = [
            ('x_owner_a', True, True),
            ('x_admin_a', True, False),
            ('x_frozen_a', True, True),
            ('x_open_a', True, True),
            ('x_never_a', False, False),
            ('x_case_a', True, True),
            ('x_split_a', False, True),
            ('unmatched_a', True, False),
        ]
        for key, admin, member in cases:
            # An admin without the member role for x_split_.
            self.assert_create(key, admin, self.headers(roles='admin'))
            self.assert_create(key, member, self.member())
            # A reader may create no image at all, whatever the property.
            self.assert_create(key, False, self.reader())

    def test_read(self):
        image_id = self.image_with(x_owner_a='1', x_admin_a='2',
                                   x_frozen_a='3', x_open_a='4',
                                   x_case_a='5', unmatched='6')
        self.set_property(image_id, 'x_never_a', '7')
        self.set_property(image_id, 'x_split_a', '8')
        # x_never_a: nobody; x_case_a and x_split_a: not the admin role.
        self.assertEqual(
            {'x_owner_a': '1', 'x_admin_a': '2', 'x_frozen_a': '3',
             'x_open_a': '4', 'unmatched': '6'},
            self.props(image_id, self.headers(roles='admin')))
        self.assertEqual(
            {'x_owner_a': '1', 'x_admin_a': '2', 'x_frozen_a': '3',
             'x_open_a': '4', 'x_case_a': '5', 'unmatched': '6',
             'x_split_a': '8'},
            self.props(image_id, self.admin()))
        self.assertEqual({'x_owner_a': '1', 'x_frozen_a': '3',
                          'x_open_a': '4', 'x_case_a': '5',
                          'x_split_a': '8'},
                         self.props(image_id, self.member()))
        reader_view = {'x_frozen_a': '3', 'x_open_a': '4', 'x_case_a': '5',
                       'x_split_a': '8'}
        self.assertEqual(reader_view, self.props(image_id, self.reader()))
        # The same in listings.
        listed = [i for i in self.list_images(
            'owner=' + self.project, headers=self.reader())['images']
            if i['id'] == image_id][0]
        self.assertEqual(reader_view, extra(listed))

    def test_write_only_property(self):
        # The member may create it but not read it back: the responses
        # leave it out.
        resp = self.request('POST', '/v2/images',
                            json={'x_blind_a': 'v', 'x_open_a': 'o'},
                            headers=self.member())
        self.assertEqual(201, resp.status_code, resp.text)
        image = resp.json()
        self.assertNotIn('x_blind_a', image)
        self.assertEqual('o', image['x_open_a'])
        patched = self.patch_as(image['id'], [
            {'op': 'replace', 'path': '/x_open_a', 'value': 'p'}],
            self.member(), 200)
        self.assertNotIn('x_blind_a', patched)
        self.assertEqual({'x_blind_a': 'v', 'x_open_a': 'p'},
                         self.props(image['id'], self.admin()))

    def test_hidden_properties_cannot_be_filtered_on(self):
        image_id = self.image_with(x_admin_secret='s3', x_open_k='v')
        self.assertEqual([image_id], self.list_ids(
            'x_admin_secret=s3&owner=' + self.project, headers=self.admin()))
        for who in (self.member(), self.reader()):
            self.assertEqual([], self.list_ids(
                'x_admin_secret=s3&owner=' + self.project, headers=who))
            # Not even to find it is absent.
            self.assertEqual([], self.list_ids(
                'x_admin_secret=wrong&owner=' + self.project, headers=who))
            self.assertEqual([image_id], self.list_ids(
                'x_open_k=v&owner=' + self.project, headers=who))

    def test_update(self):
        image_id = self.image_with(x_owner_a='1', x_frozen_a='2',
                                   x_open_a='3', x_admin_a='4',
                                   x_case_a='5', x_split_a='6')
        member = self.member()
        for key in ('x_owner_a', 'x_open_a', 'x_case_a'):
            for op in ('replace', 'add'):
                patched = self.patch_as(image_id, [
                    {'op': op, 'path': '/' + key, 'value': op}], member, 200)
                self.assertEqual(op, patched[key])
        # Update refused (the property is readable: 403).
        for key in ('x_frozen_a', 'x_split_a'):
            for op in ('replace', 'add'):
                self.patch_as(image_id, [{'op': op, 'path': '/' + key,
                                          'value': 'no'}], member, 403)
        self.patch_as(image_id, [{'op': 'replace', 'path': '/x_frozen_a',
                                  'value': 'no'}], self.admin(), 403)
        patched = self.patch_as(image_id, [
            {'op': 'replace', 'path': '/x_split_a', 'value': 'yes'}],
            self.headers(roles='admin,reader'), 200)
        self.assertEqual('yes', patched['x_split_a'])
        # A property it cannot read does not exist for the caller.
        self.patch_as(image_id, [{'op': 'replace', 'path': '/x_admin_a',
                                  'value': 'no'}], member, 409)
        # A refused change leaves the whole request unapplied.
        self.patch_as(image_id, [
            {'op': 'replace', 'path': '/name', 'value': 'changed'},
            {'op': 'replace', 'path': '/x_owner_a', 'value': 'changed'},
            {'op': 'replace', 'path': '/x_frozen_a', 'value': 'no'}],
            member, 403)
        self.assertEqual({'x_owner_a': 'add', 'x_frozen_a': '2',
                          'x_open_a': 'add', 'x_admin_a': '4',
                          'x_case_a': 'add', 'x_split_a': 'yes'},
                         self.props(image_id, self.admin()))
        self.assertEqual('p', self.show(image_id)['name'])

    def test_create_through_patch(self):
        image_id = self.new_image(headers=self.member())['id']
        member = self.member()
        self.patch_as(image_id, [{'op': 'add', 'path': '/x_owner_new',
                                  'value': 'v'}], member, 200)
        for key in ('x_admin_new', 'x_never_new', 'unmatched_new'):
            self.patch_as(image_id, [{'op': 'add', 'path': '/' + key,
                                      'value': 'v'}], member, 403)
        self.patch_as(image_id, [{'op': 'add', 'path': '/x_admin_new',
                                  'value': 'v'}], self.admin(), 200)
        self.assertEqual({'x_owner_new': 'v', 'x_admin_new': 'v'},
                         self.props(image_id, self.admin()))

    def test_delete(self):
        image_id = self.image_with(x_owner_a='1', x_frozen_a='2',
                                   x_open_a='3', x_admin_a='4',
                                   x_case_a='5', x_split_a='6')
        member = self.member()
        for key in ('x_owner_a', 'x_open_a', 'x_split_a'):
            self.patch_as(image_id, [{'op': 'remove', 'path': '/' + key}],
                          member, 200)
        # Refused: frozen (admin only), case (empty: nobody).
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_frozen_a'}],
                      member, 403)
        for who in (member, self.admin()):
            self.patch_as(image_id, [{'op': 'remove', 'path': '/x_case_a'}],
                          who, 403)
        # Unreadable: as if absent.
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_admin_a'}],
                      member, 409)
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_frozen_a'}],
                      self.admin(), 200)
        self.assertEqual({'x_admin_a': '4', 'x_case_a': '5'},
                         self.props(image_id, self.admin()))

    def test_add_over_an_unreadable_property_is_an_update(self):
        # x_blind_: the member may create it but neither read nor update
        # it. An add on the existing one is an update, refused, and the
        # refusal does not say the property exists.
        image_id = self.image_with(x_blind_a='admin')
        member = self.member()
        for media, change in (
                (h.PATCH_V21, {'op': 'add', 'path': '/x_blind_a',
                               'value': 'm'}),
                (h.PATCH_V20, {'add': '/x_blind_a', 'value': 'm'})):
            resp = self.patch_image(image_id, [change], headers=member,
                                    media=media, status=403)
            self.assertIn('x_blind_a', resp.text)
            self.assertNotIn('update', resp.text)
            self.assertNotIn('exist', resp.text)
        self.assertEqual({'x_blind_a': 'admin'},
                         self.props(image_id, self.admin()))
        # A new one is a creation, which the member may do.
        self.patch_as(image_id, [{'op': 'add', 'path': '/x_blind_b',
                                  'value': 'm'}], member, 200)
        # x_split_: the admin role alone may update but not read it; the
        # add then overwrites.
        self.set_property(image_id, 'x_split_a', 'old')
        patched = self.patch_as(image_id, [
            {'op': 'add', 'path': '/x_split_a', 'value': 'new'}],
            self.headers(roles='admin'), 200)
        self.assertNotIn('x_split_a', patched)
        self.assertEqual({'x_blind_a': 'admin', 'x_blind_b': 'm',
                          'x_split_a': 'new'},
                         self.props(image_id, self.admin()))

    def test_remove_of_an_unreadable_property_is_as_if_absent(self):
        # The delete rule of x_unseen_ allows members, who cannot read
        # it: the removal neither reveals nor deletes it.
        image_id = self.image_with(x_admin_a='1', x_unseen_a='s')
        for key in ('x_unseen_a', 'x_admin_a', 'x_unseen_absent'):
            resp = self.patch_as(image_id, [{'op': 'remove',
                                             'path': '/' + key}],
                                 self.member(), 409)
            self.assertIn('%s does not exist' % key, resp.text)
        self.assertEqual({'x_admin_a': '1', 'x_unseen_a': 's'},
                         self.props(image_id, self.admin()))
        # A caller who reads it removes it.
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_unseen_a'}],
                      self.headers(roles='admin,member,reader'), 200)
        self.assertEqual({'x_admin_a': '1'},
                         self.props(image_id, self.admin()))

    def test_first_matching_section_wins(self):
        # x_first_but_not_this matches [^x_first] first: member rules.
        image_id = self.assert_create('x_first_but_not_this', True,
                                      self.member())
        self.assertEqual('v', self.show(
            image_id, headers=self.member())['x_first_but_not_this'])

    def test_base_attributes_and_tags_are_not_protected(self):
        # [.*] allows nothing to members, yet they set every base
        # attribute and tags.
        body = {'name': 'n', 'disk_format': 'raw', 'container_format': 'bare',
                'min_ram': 1, 'min_disk': 1, 'protected': False,
                'os_hidden': False, 'visibility': 'private', 'tags': ['t']}
        image = self.new_image(headers=self.member(), **body)
        for key, value in body.items():
            self.assertEqual(value, image[key], key)
        patched = self.patch_as(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'm'},
            {'op': 'replace', 'path': '/min_ram', 'value': 2},
            {'op': 'replace', 'path': '/visibility', 'value': 'shared'},
            {'op': 'replace', 'path': '/tags', 'value': ['u']}],
            self.member(), 200)
        self.assertEqual(('m', 2, 'shared', ['u']),
                         (patched['name'], patched['min_ram'],
                          patched['visibility'], patched['tags']))

    def test_os_glance_properties_are_not_governed(self):
        # A user may never set them, whatever the file says...
        resp = self.request('POST', '/v2/images',
                            json={'os_glance_x': 'v'}, headers=self.admin())
        self.assertEqual(403, resp.status_code, resp.text)
        # ... and those the service records are read by whoever reads the
        # image, although the file's [os_glance.*] and [.*] say nobody.
        image_id = self.image_with()
        self.set_property(image_id, 'os_glance_failed_import', 'store1')
        for who in (self.reader(), self.member(), self.admin()):
            self.assertEqual('store1', self.show(
                image_id, headers=who)['os_glance_failed_import'])
        self.assertEqual([image_id], self.list_ids(
            'os_glance_failed_import=store1&owner=' + self.project,
            headers=self.reader()))

    def test_refusal_names_the_property(self):
        resp = self.request('POST', '/v2/images', json={'x_admin_z': 'v'},
                            headers=self.member())
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertIn('x_admin_z', resp.text)
        self.assertEqual([], self.list_ids('owner=' + self.project,
                                           headers=self.admin()))

    # -- direct database access ---------------------------------------------

    def set_property(self, image_id, name, value):
        """A property row nobody could have created through the API."""
        engine = sa.create_engine(self.db.url)
        try:
            with engine.begin() as conn:
                table = sa.Table('image_properties', sa.MetaData(),
                                 autoload_with=conn)
                now = datetime.datetime.utcnow().replace(microsecond=0)
                conn.execute(table.insert().values(
                    image_id=image_id, name=name, value=value,
                    created_at=now, updated_at=now, deleted=False))
        finally:
            engine.dispose()


class TestPoliciesFormat(ProtectionsTest):
    rules = POLICIES_RULES
    rule_format = 'policies'
    policy = POLICIES_POLICY

    def test_create(self):
        cases = [
            ('x_owner_a', True, True, False),
            ('x_admin_a', True, False, False),
            ('x_frozen_a', True, True, False),
            ('x_undefined_a', False, False, False),
            ('unmatched', True, False, False),
        ]
        for key, admin, member, reader in cases:
            self.assert_create(key, admin, self.admin())
            self.assert_create(key, member, self.member())
            self.assert_create(key, reader, self.reader())

    def test_everyone_and_nobody(self):
        image_id = self.assert_create('x_signs_a', True, self.member())
        self.assertEqual({'x_signs_a': 'v'},
                         self.props(image_id, self.reader()))
        for who in (self.member(), self.admin()):
            self.patch_as(image_id, [{'op': 'replace', 'path': '/x_signs_a',
                                      'value': 'w'}], who, 403)
            self.patch_as(image_id, [{'op': 'remove', 'path': '/x_signs_a'}],
                          who, 403)
        self.assertEqual({'x_signs_a': 'v'},
                         self.props(image_id, self.admin()))

    def test_policy_file_overrides_a_section_rule(self):
        self.assert_create('x_tuned_a', False, self.admin())
        self.assert_create('x_tuned_a', True,
                           self.headers(roles='tuner,member,reader'))

    def test_read_update_delete(self):
        image_id = self.new_image(headers=self.admin(), x_owner_a='1',
                                  x_admin_a='2', x_frozen_a='3')['id']
        self.assertEqual({'x_owner_a': '1', 'x_frozen_a': '3'},
                         self.props(image_id, self.reader()))
        self.assertEqual({'x_owner_a': '1', 'x_admin_a': '2',
                          'x_frozen_a': '3'},
                         self.props(image_id, self.admin()))
        self.assertEqual([], self.list_ids(
            'x_admin_a=2&owner=' + self.project, headers=self.member()))
        self.assertEqual([image_id], self.list_ids(
            'x_admin_a=2&owner=' + self.project, headers=self.admin()))
        member = self.member()
        self.patch_as(image_id, [{'op': 'replace', 'path': '/x_owner_a',
                                  'value': 'm'}], member, 200)
        self.patch_as(image_id, [{'op': 'replace', 'path': '/x_owner_a',
                                  'value': 'r'}], self.reader(), 403)
        for who in (member, self.admin()):
            self.patch_as(image_id, [{'op': 'replace',
                                      'path': '/x_frozen_a', 'value': 'x'}],
                          who, 403)
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_frozen_a'}],
                      member, 403)
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_admin_a'}],
                      member, 409)
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_frozen_a'}],
                      self.admin(), 200)
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_owner_a'}],
                      member, 200)
        self.assertEqual({'x_admin_a': '2'},
                         self.props(image_id, self.admin()))

    def test_add_over_an_unreadable_property_is_an_update(self):
        # x_blind_: created by members, read and updated by admins only.
        image_id = self.new_image(headers=self.admin(),
                                  x_blind_a='admin')['id']
        member = self.member()
        resp = self.patch_as(image_id, [{'op': 'add', 'path': '/x_blind_a',
                                         'value': 'm'}], member, 403)
        self.assertNotIn('update', resp.text)
        # Unreadable, so absent for a removal although delete allows it.
        self.patch_as(image_id, [{'op': 'remove', 'path': '/x_blind_a'}],
                      member, 409)
        self.assertEqual({'x_blind_a': 'admin'},
                         self.props(image_id, self.admin()))
        self.patch_as(image_id, [{'op': 'add', 'path': '/x_blind_b',
                                  'value': 'm'}], member, 200)
        self.patch_as(image_id, [{'op': 'add', 'path': '/x_blind_a',
                                  'value': 'a'}], self.admin(), 200)
        self.assertEqual({'x_blind_a': 'a', 'x_blind_b': 'm'},
                         self.props(image_id, self.admin()))


class TestBadRulesFiles(base.FunctionalTest):
    """The daemon refuses to start; nothing listens."""

    def setUp(self):
        # No running daemon: each test starts (and expects the end of) its
        # own.
        testtools.TestCase.setUp(self)
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def start_failing(self, rules=None, rule_format='roles', path=None):
        if path is None:
            path = write(self.workdir, 'protections.conf', rules)
        daemon = base.Daemon(
            self.workdir,
            'sqlite:///%s' % os.path.join(self.workdir, 'glance.sqlite'),
            options={'property_protection_file': path,
                     'property_protection_rule_format': rule_format})
        daemon.start(wait=False)
        self.addCleanup(daemon.stop)
        try:
            code = daemon.proc.wait(30)
        except Exception:
            self.fail('glance-api started with a broken rules file')
        output = daemon.output()
        self.assertNotEqual(0, code, output)
        self.assertFalse(base.server_answers(daemon.url))
        lines = [line for line in output.splitlines()
                 if line.startswith('ERROR: ')]
        self.assertEqual(1, len(lines), output)
        return lines[0]

    def test_missing_file(self):
        path = os.path.join(self.workdir, 'nowhere.conf')
        line = self.start_failing(path=path)
        self.assertIn('nowhere.conf', line)

    def test_missing_operation(self):
        line = self.start_failing("""
            [^x_.*]
            create = member
            read = member
            update = member
            """)
        self.assertIn('^x_.*', line)
        self.assertIn('delete', line)

    def test_bad_regular_expression(self):
        line = self.start_failing("""
            [x_(unclosed]
            create = member
            read = member
            update = member
            delete = member
            """)
        self.assertIn('x_(unclosed', line)

    def test_everyone_and_nobody(self):
        line = self.start_failing("""
            [.*]
            create = @,!
            read = @
            update = @
            delete = @
            """)
        self.assertIn('create', line)
        self.assertIn('@', line)

    def test_comma_in_policies_format(self):
        line = self.start_failing("""
            [.*]
            create = default,context_is_admin
            read = default
            update = default
            delete = default
            """, rule_format='policies')
        self.assertIn('create', line)
        self.assertIn('default,context_is_admin', line)

    def test_not_an_ini_file(self):
        self.start_failing('create = member\nread = member\n')

    def test_unknown_rule_format(self):
        line = self.start_failing("""
            [.*]
            create = @
            read = @
            update = @
            delete = @
            """, rule_format='acl')
        self.assertIn('acl', line)

    def test_a_good_file_starts(self):
        # The same harness with a valid file: the daemon serves, so the
        # failures above come from the files themselves.
        path = write(self.workdir, 'protections.conf', """
            [.*]
            create = @
            read = @
            update = @
            delete = @
            """)
        daemon = base.Daemon(
            self.workdir,
            'sqlite:///%s' % os.path.join(self.workdir, 'glance.sqlite'),
            options={'property_protection_file': path})
        daemon.manage('db', 'sync')
        daemon.start()
        self.addCleanup(daemon.stop)
        self.assertTrue(base.server_answers(daemon.url))
