"""glance.domain.policy: the secure-RBAC defaults of section 14."""

import os

import fixtures

from glance.common import exception
from glance.domain import policy
from glance.tests.unit import base

OWNER = base.ctx('p1', ('reader', 'member'))
OWNER_READER = base.ctx('p1', ('reader',))
OTHER = base.ctx('p2', ('reader', 'member'))
ADMIN = base.admin_ctx('p9')
NO_ROLES = base.ctx('p1', ())


def image(**kw):
    img = {'id': 'i1', 'owner': 'p1', 'visibility': 'private',
           'status': 'active', 'properties': {'os_distro': 'x'}}
    img.update(kw)
    return img


class TestRules(base.TestCase):

    def allowed(self, ctx, rule, img=None):
        return policy.check(ctx, rule,
                            policy.image_target(ctx, img or image()))

    def test_every_upstream_rule_registered(self):
        names = {r.name for r in policy.list_rules()}
        image_rules = {
            'default', 'context_is_admin', 'service_api', 'add_image',
            'get_image', 'get_images', 'modify_image', 'delete_image',
            'publicize_image', 'communitize_image', 'upload_image',
            'download_image', 'download_from_store', 'copy_image',
            'deactivate', 'reactivate', 'get_image_location',
            'set_image_location', 'delete_image_location',
            'add_image_location', 'fetch_image_location',
            'stores_info_detail', 'add_member', 'delete_member',
            'get_member', 'get_members', 'modify_member',
            'manage_image_cache', 'cache_image', 'cache_list',
            'cache_delete', 'cache_clean', 'cache_prune',
            'list_cached_nodes', 'tasks_api_access', 'get_task',
            'get_tasks', 'add_task', 'modify_task'}
        metadef_rules = {
            'metadef_default', 'metadef_admin', 'get_metadef_namespace',
            'get_metadef_namespaces', 'add_metadef_namespace',
            'modify_metadef_namespace', 'delete_metadef_namespace',
            'get_metadef_object', 'get_metadef_objects',
            'add_metadef_object', 'modify_metadef_object',
            'delete_metadef_object', 'get_metadef_property',
            'get_metadef_properties', 'add_metadef_property',
            'modify_metadef_property', 'remove_metadef_property',
            'get_metadef_tag', 'get_metadef_tags', 'add_metadef_tag',
            'add_metadef_tags', 'modify_metadef_tag', 'delete_metadef_tag',
            'delete_metadef_tags', 'list_metadef_resource_types',
            'get_metadef_resource_type',
            'add_metadef_resource_type_association',
            'remove_metadef_resource_type_association'}
        self.assertEqual(image_rules | metadef_rules, names)

    def test_member_rules(self):
        img = image(owner='p1', visibility='shared')
        owner = base.ctx('p1', ('member', 'reader'))
        member = base.ctx('p2', ('member', 'reader'))
        reader = base.ctx('p2', ('reader',))
        self.assertTrue(self.allowed(owner, 'add_member', img))
        self.assertFalse(self.allowed(member, 'add_member', img))
        self.assertFalse(self.allowed(owner, 'modify_member', img))
        self.assertTrue(self.allowed(member, 'modify_member', img))
        self.assertFalse(self.allowed(reader, 'modify_member', img))
        self.assertTrue(self.allowed(reader, 'get_members', img))
        self.assertFalse(self.allowed(member, 'delete_member', img))

    def test_filter_images_decides_like_check(self):
        # Decisions are shared between images with the same owner,
        # visibility and member: they must equal one check per image.
        caller = OWNER_READER
        found = [image(id='a', owner='p1', visibility='private'),
                 image(owner='p2', visibility='private'),
                 image(owner='p2', visibility='public'),
                 image(owner='p2', visibility='shared'),
                 image(owner='p1', visibility='private')]
        expected = [i for i in found if policy.check(
            caller, 'get_image', policy.image_target(caller, i))]
        self.assertEqual(expected,
                         policy.filter_images(caller, 'get_image', found))
        self.assertEqual(4, len(expected))

    def test_owner_member_rules(self):
        for rule in ('modify_image', 'delete_image', 'upload_image',
                     'deactivate', 'reactivate', 'communitize_image',
                     'get_image', 'download_image'):
            self.assertTrue(self.allowed(OWNER, rule), rule)
            self.assertTrue(self.allowed(ADMIN, rule), rule)
            self.assertFalse(self.allowed(OTHER, rule), rule)
            self.assertFalse(self.allowed(NO_ROLES, rule), rule)

    def test_reader_reads_only(self):
        self.assertTrue(self.allowed(OWNER_READER, 'get_image'))
        for rule in ('modify_image', 'delete_image', 'download_image',
                     'deactivate'):
            self.assertFalse(self.allowed(OWNER_READER, rule), rule)

    def test_publicize_admin_only(self):
        self.assertFalse(self.allowed(OWNER, 'publicize_image'))
        self.assertTrue(self.allowed(ADMIN, 'publicize_image'))

    def test_visible_images_readable_by_others(self):
        for vis in ('public', 'community', 'shared'):
            self.assertTrue(self.allowed(OTHER, 'get_image',
                                         image(visibility=vis)), vis)
            self.assertTrue(self.allowed(OTHER, 'download_image',
                                         image(visibility=vis)), vis)
            self.assertFalse(self.allowed(OTHER, 'modify_image',
                                          image(visibility=vis)), vis)

    def test_add_image(self):
        target = {'project_id': 'p1', 'owner': 'p1',
                  'visibility': 'private'}
        self.assertTrue(policy.check(OWNER, 'add_image', target))
        self.assertFalse(policy.check(OWNER_READER, 'add_image', target))
        other = {'project_id': 'p2', 'owner': 'p2', 'visibility': 'private'}
        self.assertFalse(policy.check(OWNER, 'add_image', other))
        self.assertTrue(policy.check(ADMIN, 'add_image', other))

    def test_get_images(self):
        self.assertTrue(policy.check(OWNER_READER, 'get_images',
                                     {'project_id': 'p1'}))
        self.assertFalse(policy.check(NO_ROLES, 'get_images',
                                      {'project_id': 'p1'}))

    def test_admin_role_case(self):
        ctx = base.ctx('p5', ('Admin',))
        self.assertTrue(ctx.is_admin)


class TestImageTarget(base.TestCase):

    def test_aliases_and_properties(self):
        target = policy.image_target(OWNER, image())
        self.assertEqual('p1', target['project_id'])
        self.assertEqual('i1', target['image_id'])
        self.assertEqual('x', target['os_distro'])
        self.assertNotIn('properties', target)
        self.assertIsNone(target['member_id'])

    def test_member_id_for_shared_non_owner(self):
        self.assertEqual('p2', policy.image_target(
            OTHER, image(visibility='shared'))['member_id'])
        self.assertIsNone(policy.image_target(
            OWNER, image(visibility='shared'))['member_id'])
        self.assertIsNone(policy.image_target(
            OTHER, image(visibility='public'))['member_id'])


class TestEnforce(base.TestCase):

    def test_enforce(self):
        policy.enforce(ADMIN, 'publicize_image', {})
        e = self.assertRaises(exception.Forbidden, policy.enforce, OWNER,
                              'publicize_image', {})
        self.assertIn('publicize_image', e.msg)

    def test_invisible_image_masked_as_404(self):
        for rule in ('get_image', 'modify_image', 'delete_image'):
            self.assertRaises(exception.ImageNotFound,
                              policy.enforce_image, OTHER, rule, image())

    def test_visible_image_gives_403(self):
        e = self.assertRaises(exception.Forbidden, policy.enforce_image,
                              OTHER, 'modify_image',
                              image(visibility='public'))
        self.assertNotIsInstance(e, exception.NotFound)
        self.assertEqual(403, e.code)

    def test_reader_owner_gets_403(self):
        e = self.assertRaises(exception.Forbidden, policy.enforce_image,
                              OWNER_READER, 'delete_image', image())
        self.assertNotIsInstance(e, exception.NotFound)

    def test_allowed(self):
        policy.enforce_image(OWNER, 'modify_image', image())
        policy.enforce_image(ADMIN, 'delete_image', image(owner='zz'))


class TestPolicyFile(base.TestCase):

    def test_operator_override(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'policy.yaml')
        with open(path, 'w') as f:
            f.write('"publicize_image": "role:member"\n')
        policy.get_enforcer()   # registers [oslo_policy]
        self.config(policy_file=path, group='oslo_policy')
        policy.reset()
        self.assertTrue(policy.check(OWNER, 'publicize_image', {}))
        self.assertFalse(policy.check(OWNER_READER, 'publicize_image', {}))

    def test_enforcer_cached_until_reset(self):
        first = policy.get_enforcer()
        self.assertIs(first, policy.get_enforcer())
        policy.reset()
        self.assertIsNot(first, policy.get_enforcer())
