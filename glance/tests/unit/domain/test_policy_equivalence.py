"""glance.domain.policy: the fast path decides as Enforcer.enforce does.

Every rule is decided both ways, on the same enforcer, for a grid of
callers and targets: first the built-in defaults, then a policy file
overriding them with every form of check an operator may write. The
property-protection rules that a policy file may override are included
the same way.
"""

import itertools
import os

import fixtures
from oslo_policy import policy as oslo_policy
import yaml

from glance import context
from glance.domain import policy
from glance.tests.unit import base


def _contexts():
    """Callers: each role alone and in the usual combinations, in and out
    of the owning project, with and without a project."""
    return {
        'admin': base.admin_ctx('p9'),
        'admin-capitalised': base.ctx('p9', ('Admin',)),
        'owner-member': base.ctx('p1', ('reader', 'member')),
        'owner-reader': base.ctx('p1', ('reader',)),
        'other-member': base.ctx('p2', ('reader', 'member')),
        'other-reader': base.ctx('p2', ('reader',)),
        'service': base.ctx('p3', ('service',)),
        'no-roles': base.ctx('p1', ()),
        'no-project': base.ctx(None, ('reader', 'member')),
        'publisher': base.ctx('p2', ('publisher', 'member', 'reader')),
        'publisher-observer': base.ctx('p2', ('publisher', 'observer')),
        'cloud-admin': base.ctx('p4', ('cloud_admin',)),
        'banned-owner': base.ctx('p1', ('reader', 'member', 'banned')),
        'system-admin': context.RequestContext(
            user_id='u9', roles=['admin', 'reader'], system_scope='all'),
    }


def _image(owner, visibility, **extra):
    image = {'id': 'i-%s-%s' % (owner, visibility), 'owner': owner,
             'visibility': visibility, 'status': 'active',
             'protected': False, 'min_ram': 0,
             'properties': {'os_distro': 'x'}}
    image.update(extra)
    return image


IMAGES = [
    _image(owner, visibility)
    for owner in ('p1', 'p2', None)
    for visibility in ('private', 'public', 'shared', 'community')
] + [
    _image('p1', 'private', deletable='yes', protected=True, min_ram=1),
    _image('p2', 'shared', deletable='no', needed_role='member',
           owner_user='u1'),
    _image('p1', 'public', needed_role='publisher', owner_user='u2'),
]

# Targets that are not images: namespaces, creation requests, none at all.
PLAIN_TARGETS = [
    {},
    {'project_id': 'p1', 'owner': 'p1', 'visibility': 'private'},
    {'project_id': 'p2', 'owner': 'p1', 'visibility': 'public'},
    {'project_id': 'p1', 'visibility': 'public'},
    {'project_id': None, 'visibility': 'private'},
    {'owner': 'p1'},
]


def _outcome(decide, *args):
    """True/False, or the class of the exception deciding raised."""
    try:
        return bool(decide(*args))
    except Exception as e:
        return type(e)


class EquivalenceTest(base.TestCase):

    def rule_names(self, enforcer):
        """Every rule, one name per distinct check tree: rules whose trees
        print the same decide the same (enforce is slow enough to matter
        here). Checks of plugin classes may look at the rule's name, so
        rules holding them are all kept."""
        names = sorted({r.name for r in policy.list_rules()}
                       | set(enforcer.rules))
        self.assertTrue(set(enforcer.rules) >= set(names))
        chosen = {}
        for name in names:
            tree = str(enforcer.rules[name])
            key = (tree, name) if 'glance_test' in tree else tree
            chosen.setdefault(key, name)
        return sorted(chosen.values())

    def assert_equivalent(self, names=None):
        """Every rule (or those of ``names``), caller and target: the fast
        path's decision (through ``check`` and ``filter_images``) is
        Enforcer.enforce's."""
        enforcer = policy.get_enforcer()
        names = names or self.rule_names(enforcer)
        compared = 0
        allowed = 0
        for (label, ctx), name in itertools.product(
                sorted(_contexts().items()), names):
            targets = [('image %s' % i['id'], policy.image_target(ctx, i))
                       for i in IMAGES]
            targets += [('target %r' % t, t) for t in PLAIN_TARGETS]
            expected_images = []
            raised = False
            for what, target in targets:
                # The context itself, as upstream passes it.
                expected = _outcome(enforcer.enforce, name, dict(target),
                                    ctx, False)
                got = _outcome(policy.check, ctx, name, dict(target))
                self.assertEqual(
                    expected, got, 'rule %s (%s), caller %s, %s'
                    % (name, enforcer.rules.get(name), label, what))
                compared += 1
                allowed += expected is True
                raised = raised or expected not in (True, False)
                if what.startswith('image') and expected is True:
                    expected_images.append(what[len('image '):])
            if raised:
                continue
            shown = policy.filter_images(ctx, name, IMAGES)
            self.assertEqual(expected_images, [i['id'] for i in shown],
                             'filter_images, rule %s, caller %s'
                             % (name, label))
        # Both answers occur often: the grid is not trivially one-sided.
        self.assertGreater(allowed, compared // 10)
        self.assertLess(allowed, compared - compared // 10)
        return compared

    def write_policy(self, rules):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'policy.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(rules, f)
        policy.get_enforcer()   # registers the [oslo_policy] options
        self.config(policy_file=path, group='oslo_policy')
        policy.reset()
        return path


class TestDefaults(EquivalenceTest):

    def test_default_rules(self):
        self.assertGreater(self.assert_equivalent(), 4000)

    def test_credentials_are_the_context_policy_values(self):
        # What enforce makes of a context: its policy values, with
        # ``system`` set from ``system_scope``.
        ctx = context.RequestContext(
            user_id='u', roles=['admin'], system_scope='all',
            domain_id='d1', service_roles=['service'], is_admin=True)
        expected = dict(ctx.to_policy_values())
        expected['system'] = 'all'
        self.assertEqual(expected, policy.creds(ctx))
        self.assertNotIn('is_admin', policy.creds(ctx))
        plain = base.ctx('p1', ('reader',))
        self.assertEqual(dict(plain.to_policy_values()),
                         policy.creds(plain))


# Every form of check, over the built-in rule names, custom ones and the
# rule of a property protection.
OVERRIDES = {
    # rule: and a generic check of a credential against a literal.
    'context_is_admin': 'role:cloud_admin or is_admin:True',
    # and, or, not, nesting, literal and %(...)s checks.
    'get_image': "rule:context_is_admin or (role:reader and "
                 "(project_id:%(project_id)s or 'public':%(visibility)s) "
                 "and not role:banned)",
    # A custom rule referenced by another one.
    'image_publisher': 'role:publisher and not role:observer',
    'publicize_image': 'rule:image_publisher',
    # Nobody, everybody, and the empty rule (everybody too).
    'get_images': '!',
    'modify_image': '@',
    'get_task': '',
    # A check oslo.policy cannot read denies.
    'upload_image': 'nonsense',
    # A property of the image.
    'delete_image': "rule:context_is_admin or (role:member and "
                    "project_id:%(project_id)s and 'yes':%(deletable)s)",
    # project_id against another target key.
    'add_image': 'role:reader and project_id:%(owner)s',
    # A credential equal to a target value, and a role named by the target.
    'download_image': 'user_id:%(owner_user)s or role:%(needed_role)s',
    # Literals that are not strings.
    'deactivate': 'True:%(protected)s',
    'reactivate': '1:%(min_ram)s',
    # not over an or.
    'copy_image': 'not (role:member or role:reader)',
    # A list in the credentials (the roles), matched item by item.
    'get_member': 'roles:reader',
    # A path into the credentials that leads nowhere.
    'get_members': 'roles.name:reader or project_id.id:%(project_id)s',
    # Several target keys in one match.
    'delete_member': "'p1-private':%(owner)s-%(visibility)s",
    # A target value of None.
    'modify_member': 'role:member and project_id:%(member_id)s',
    # The default rule, which other rules name.
    'default': 'role:admin',
    'cache_image': 'rule:service_api and not rule:context_is_admin',
    # A rule of a property protection, overridden.
    '^x_.*:create': 'role:member and not rule:context_is_admin',
    # A literal oslo.policy cannot evaluate: both raise.
    'cache_list': '1a:%(visibility)s',
    # Chains of rules.
    'metadef_admin': 'rule:image_publisher or rule:context_is_admin',
    'get_metadef_namespace': 'rule:get_image',
}


class TestPolicyFile(EquivalenceTest):

    def setUp(self):
        super().setUp()
        policy.register_extra([
            oslo_policy.RuleDefault('^x_.*:create', 'rule:default'),
            oslo_policy.RuleDefault('^x_.*:read', 'rule:get_image'),
        ])

    def test_overrides(self):
        self.write_policy(OVERRIDES)
        enforcer = policy.get_enforcer()
        self.assertEqual('!', str(enforcer.rules['get_images']))
        self.assertIn('^x_.*:create', enforcer.rules)
        self.assertGreater(self.assert_equivalent(), 4000)

    def test_rule_of_a_missing_rule_takes_the_default_rule(self):
        self.write_policy({'publicize_image': 'rule:no_such_rule',
                           'default': 'role:member'})
        enforcer = policy.get_enforcer()
        for ctx, allowed in ((base.ctx('p1', ('member',)), True),
                             (base.ctx('p1', ('reader',)), False)):
            self.assertEqual(allowed, enforcer.enforce(
                'publicize_image', {}, ctx))
            self.assertEqual(allowed,
                             policy.check(ctx, 'publicize_image', {}))

    def test_property_protection_naming_a_missing_rule_denies(self):
        # The one deliberate difference: enforce decides the default rule
        # for rule:<undefined> (here allowing everyone); a property
        # protection naming a policy no file defines denies instead.
        self.write_policy({'^x_.*:create': 'rule:no_such_rule',
                           'default': '@'})
        enforcer = policy.get_enforcer()
        owner = base.ctx('p1', ('reader', 'member'))
        self.assertTrue(enforcer.enforce('^x_.*:create', {}, owner))
        self.assertFalse(policy.check(owner, '^x_.*:create', {}))
        # Not through a rule it names: that one is an ordinary rule.
        self.write_policy({'^x_.*:create': 'rule:publicize_image',
                           'publicize_image': 'rule:no_such_rule',
                           'default': '@'})
        self.assertTrue(policy.check(owner, '^x_.*:create', {}))

    def test_unknown_rule_name_takes_the_default_rule(self):
        self.write_policy({'default': 'role:member'})
        member = base.ctx('p1', ('member',))
        reader = base.ctx('p1', ('reader',))
        enforcer = policy.get_enforcer()
        for ctx in (member, reader):
            self.assertEqual(
                enforcer.enforce('no_such_rule', {}, policy.creds(ctx)),
                policy.check(ctx, 'no_such_rule', {}))
        self.assertTrue(policy.check(member, 'no_such_rule', {}))
        self.assertFalse(policy.check(reader, 'no_such_rule', {}))


class _TakesRuleName(oslo_policy.Check):
    """A plugin's check: allows when the rule decided is named ``match``."""

    def __call__(self, target, creds, enforcer, current_rule=None):
        return current_rule == self.match


class _Legacy(oslo_policy.Check):
    """A plugin's check of the older three-argument form: allows when the
    target's ``project_id`` is ``match``."""

    def __call__(self, target, creds, enforcer):
        return target.get('project_id') == self.match


oslo_policy.register('glance_test_rule_name', _TakesRuleName)
oslo_policy.register('glance_test_legacy', _Legacy)


class TestPluginChecks(EquivalenceTest):
    """Checks of classes the fast path does not know are called the way
    oslo.policy calls them, with the name of the rule being decided."""

    def test_plugin_checks(self):
        rules = {
            'get_image': 'glance_test_rule_name:get_image',
            'image_publisher': 'glance_test_rule_name:publicize_image',
            'publicize_image': 'rule:image_publisher',
            'delete_image': 'glance_test_legacy:p1 or not '
                            'glance_test_rule_name:get_image',
        }
        self.write_policy(rules)
        owner = base.ctx('p1', ('reader', 'member'))
        self.assertTrue(policy.check(owner, 'get_image', {}))
        # Through rule:, the name is still the rule being decided.
        self.assertTrue(policy.check(owner, 'publicize_image', {}))
        self.assertFalse(policy.check(owner, 'image_publisher', {}))
        self.assertGreater(self.assert_equivalent(sorted(rules)), 200)
