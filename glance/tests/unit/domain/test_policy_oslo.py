"""glance.domain.policy decides every policy file as oslo.policy does.

Each decision is made twice: by the evaluator (``policy.check``,
``policy.filter_images``) and by ``oslo_policy.policy.Enforcer.enforce``
given the request context itself, as upstream Glance passes it. Compared:

* a generated corpus of rules (every check kind oslo.policy parses,
  random nesting of not/and/or and parentheses, the list-of-lists form,
  references to existing, missing and default rules; fixed seed) against
  callers of every kind (roles, projects, users, domains, system scope,
  service roles, is_admin) and targets (owner match and mismatch, missing
  keys, dotted keys, values that are not strings);
* upstream's own defaults: an enforcer holding the rules recorded in
  data/upstream-rules.yaml (written by tools/upstream-policy-sample from
  upstream's glance/policies) against this service's, with no policy
  file, with upstream's full policy file (data/upstream-policy.yaml),
  with overrides, and with enforce_new_defaults on and off;
* policy_dirs, policy_default_rule and http: checks, with a real HTTP
  server answering them.
"""

import http.server
import itertools
import json
import os
import random
import threading
import urllib.parse

import fixtures
from oslo_config import cfg
from oslo_policy import policy as oslo_policy
import yaml

from glance import context
from glance.domain import policy
from glance.tests.unit import base

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')


def _ctx(**kwargs):
    kwargs.setdefault('user_id', 'u1')
    return context.RequestContext(**kwargs)


CALLERS = {
    'owner-member': _ctx(project_id='p1', roles=['reader', 'member']),
    'owner-reader': _ctx(project_id='p1', roles=['reader']),
    'owner-no-roles': _ctx(project_id='p1', roles=[]),
    'other-member': _ctx(project_id='p2', user_id='u2',
                         roles=['reader', 'member']),
    'admin': _ctx(project_id='p9', user_id='u9',
                  roles=['admin', 'member', 'reader']),
    'admin-capitalised': _ctx(project_id='p2', roles=['Admin', 'Reader']),
    'no-project': _ctx(project_id=None, roles=['reader', 'member']),
    'service': _ctx(project_id='p3', user_id='nova',
                    roles=['service'], service_roles=['service']),
    'service-token': _ctx(project_id='p1', roles=['member'],
                          service_roles=['service', 'admin'],
                          service_user_id='nova',
                          service_project_id='p3'),
    'domain-admin': _ctx(project_id=None, domain_id='d1',
                         roles=['admin', 'reader']),
    'system-admin': _ctx(project_id=None, system_scope='all',
                         roles=['admin', 'reader']),
    'is-admin-flag': _ctx(project_id='p1', roles=['reader'],
                          is_admin=True),
    'domains-named': _ctx(project_id='p2', roles=['member'],
                          user_domain_id='default',
                          project_domain_id='default',
                          is_admin_project=False),
    'publisher': _ctx(project_id='p2', roles=['publisher', 'observer']),
}


def _image(owner, visibility, **extra):
    image = {'id': 'i-%s-%s' % (owner, visibility), 'owner': owner,
             'visibility': visibility, 'status': 'active',
             'protected': False, 'min_ram': 0, 'size': 1024,
             'properties': {'os_distro': 'x'}}
    image.update(extra)
    return image


IMAGES = [
    _image('p1', 'private'),
    _image('p2', 'public', protected=True),
    _image('p2', 'shared', needed_role='member'),
    _image('p1', 'community', min_ram=1, tags=['a', 'b']),
    _image(None, 'public', needed_role='publisher'),
]

# Targets that are not images.
PLAIN_TARGETS = [
    {},
    {'owner': 'p1'},
    {'project_id': 'p1', 'visibility': 'public', 'is_admin': False},
    {'target.image.owner': 'p1', 'role.name': 'member',
     'image': {'owner': 'p1'}, 'domain_id': 'd1', 'user_id': 'u1'},
    {'project_id': None, 'owner': 1, 'protected': 'True', 'size': 1024.0,
     'member_id': None, 'empty': '', 'tags': ['a']},
]

# Checks a rule is made of. Every kind oslo.policy parses but http:
# (tested apart, with a server to ask).
ATOMS = [
    '@', '!', 'role:admin', 'role:member', 'role:reader', 'role:ADMIN',
    'role:service', 'role:%(needed_role)s', 'role:%(missing)s',
    'rule:context_is_admin', 'rule:service_api', 'rule:no_such_rule',
    'rule:default', 'project_id:%(owner)s', 'project_id:%(project_id)s',
    'project_id:%(target.image.owner)s', 'project_id:%(member_id)s',
    'project_id:p1', 'user_id:%(user_id)s', 'user_id:u1',
    'is_admin:True', 'is_admin:%(is_admin)s', 'True:%(is_admin)s',
    'True:%(protected)s', 'False:%(protected)s', "'member':%(role.name)s",
    '1024:%(size)s', '0:%(min_ram)s', 'None:%(member_id)s',
    '"":%(empty)s', '"True":%(protected)s', "'public':%(visibility)s",
    "'shared':%(visibility)s",
    "'community':%(visibility)s", "'p1-private':%(owner)s-%(visibility)s",
    'system_scope:all', 'system:all', 'domain_id:d1',
    'domain_id:%(domain_id)s', 'project_domain_id:default',
    'user_domain_id:default', 'is_admin_project:False',
    'is_admin_project:True', 'service_roles:service',
    'service_roles:admin', 'service_user_id:nova', 'roles:reader',
    'roles:Reader', 'tags:a', "['a', 'b']:%(tags)s",
    # Checks oslo.policy cannot read, or cannot evaluate.
    'nonsense', 'role:', ':%(owner)s', '1a:%(visibility)s',
    'roles.name:reader',
]
# The registered rules a corpus file overrides too (scope types apply).
REGISTERED = ['context_is_admin', 'service_api', 'get_image', 'get_images',
              'add_image', 'publicize_image', 'modify_member',
              'get_metadef_namespace', 'metadef_admin', 'get_task']


class Corpus:
    """Random rules over ATOMS, from a fixed seed."""

    def __init__(self, seed, count):
        self.random = random.Random(seed)
        self.rules = {}
        for n in range(count):
            self.rules['r%04d' % n] = self.rule(n)
        for name in REGISTERED:
            self.rules[name] = self.text(2, len(self.rules))

    def atom(self, n):
        choose = self.random
        if n and choose.random() < 0.12:
            # An earlier rule: references never loop.
            return 'rule:r%04d' % choose.randrange(n)
        return choose.choice(ATOMS)

    def text(self, depth, n):
        choose = self.random
        if depth == 0 or choose.random() < 0.3:
            return self.atom(n)
        form = choose.randrange(5)
        if form == 0:
            return 'not ' + self.atom(n)
        if form == 1:
            return 'not (%s)' % self.text(depth - 1, n)
        parts = [self.text(depth - 1, n)
                 for _ in range(choose.randrange(2, 4))]
        ops = [choose.choice(('and', 'or')) for _ in parts[1:]]
        text = parts[0]
        for op, part in zip(ops, parts[1:]):
            text += ' %s %s' % (op, part)
        return '(%s)' % text if form == 2 else text

    def rule(self, n):
        choose = self.random
        if choose.random() < 0.06:
            # The older list-of-lists form: or of ands.
            return [[self.atom(n) for _ in range(choose.randrange(3))]
                    for _ in range(choose.randrange(3))]
        if choose.random() < 0.02:
            return ''
        return self.text(4, n)


def _outcome(decide, *args):
    """True/False, or the class of the exception deciding raised."""
    try:
        return bool(decide(*args))
    except Exception as e:
        return type(e)


class OsloTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        policy.get_enforcer()   # registers the [oslo_policy] options

    def write_policy(self, rules, name='policy.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            yaml.safe_dump(rules, f)
        self.config(policy_file=os.path.join(self.tmp, 'policy.yaml'),
                    group='oslo_policy')
        policy.reset()
        return path

    def compare(self, names, expected_enforcer=None, images=True):
        """Every rule of ``names`` for every caller and target: the
        evaluator's decision is enforce's (on ``expected_enforcer``, by
        default the evaluator's own enforcer). Returns the number of
        decisions and how many allowed."""
        enforcer = expected_enforcer or policy.get_enforcer()
        compared = allowed = 0
        for (label, ctx), name in itertools.product(
                sorted(CALLERS.items()), names):
            targets = [('image %s' % i['id'], policy.image_target(ctx, i))
                       for i in (IMAGES if images else [])]
            targets += [('target %r' % t, t) for t in PLAIN_TARGETS]
            shown = []
            raised = False
            for what, target in targets:
                expected = _outcome(enforcer.enforce, name, dict(target),
                                    ctx)
                got = _outcome(policy.check, ctx, name, dict(target))
                if expected != got:
                    self.fail('rule %s (%s), caller %s, %s: enforce %s, '
                              'evaluator %s' % (
                                  name, enforcer.rules.get(name), label,
                                  what, expected, got))
                compared += 1
                allowed += expected is True
                raised = raised or expected not in (True, False)
                if what.startswith('image') and expected is True:
                    shown.append(what[len('image '):])
            if images and not raised:
                self.assertEqual(
                    shown, [i['id'] for i in policy.filter_images(
                        ctx, name, IMAGES)],
                    'filter_images, rule %s, caller %s' % (name, label))
        return compared, allowed


class TestGeneratedCorpus(OsloTestCase):

    def test_generated_rules(self):
        corpus = Corpus(seed=20261207, count=2000)
        self.write_policy(corpus.rules)
        enforcer = policy.get_enforcer()
        self.assertEqual(str(oslo_policy.Rules.from_dict(
            {'r0001': corpus.rules['r0001']})['r0001']),
            str(enforcer.rules['r0001']))
        names = sorted(corpus.rules) + ['no_such_rule']
        compared, allowed = self.compare(names, images=False)
        self.assertGreater(compared, 100000)
        # Both answers are common: the corpus is not one-sided.
        self.assertGreater(allowed, compared // 10)
        self.assertLess(allowed, compared - compared // 10)

    def test_generated_rules_on_images(self):
        # Fewer rules, over image targets too, and filter_images.
        corpus = Corpus(seed=7, count=300)
        self.write_policy(corpus.rules)
        compared, allowed = self.compare(sorted(corpus.rules))
        self.assertGreater(compared, 30000)
        self.assertGreater(allowed, compared // 10)

    def test_corpus_covers_every_kind(self):
        corpus = Corpus(seed=20261207, count=2000)
        text = json.dumps(corpus.rules)
        for atom in ATOMS:
            self.assertIn(json.dumps(atom)[1:-1], text)
        self.assertTrue(any(isinstance(r, list)
                            for r in corpus.rules.values()))
        for word in ('not (', ' and ', ' or ', '(('):
            self.assertIn(word, text)


def _upstream_facts():
    with open(os.path.join(DATA, 'upstream-rules.yaml')) as f:
        return yaml.safe_load(f)


def _upstream_defaults():
    """Upstream's rule defaults, as recorded."""
    rules = []
    for name, fact in _upstream_facts().items():
        old = fact.get('deprecated')
        deprecated = None
        if old:
            deprecated = oslo_policy.DeprecatedRule(
                name=old['name'], check_str=old['check_str'],
                deprecated_reason='recorded', deprecated_since=old['since'])
        rules.append(oslo_policy.RuleDefault(
            name, fact['check_str'], scope_types=fact['scope_types'],
            deprecated_rule=deprecated))
    return rules


# Overrides an operator of upstream Glance may hold.
UPSTREAM_OVERRIDES = {
    'context_is_admin': 'role:admin or role:cloud_admin',
    'default': 'role:admin',
    'get_image': 'rule:context_is_admin or (role:reader and '
                 '(project_id:%(project_id)s or project_id:%(member_id)s or '
                 "'public':%(visibility)s) and not role:observer)",
    'publicize_image': 'role:publisher and not role:observer',
    'get_images': [['role:reader'], ['role:admin']],
    'add_image': '',
    'delete_image': '!',
    'modify_image': 'rule:undefined_rule',
    'download_image': 'role:%(needed_role)s or rule:context_is_admin',
    'manage_image_cache': 'role:member',
    'service_api': 'service_roles:service',
    'fetch_image_location': 'rule:service_api or system_scope:all',
    'metadef_default': 'role:reader',
    'stores_info_detail': 'domain_id:d1 or user_id:u1',
    'modify_member': 'True:%(protected)s or project_id:%(member_id)s',
}


class TestUpstreamDefaults(OsloTestCase):
    """This service's rules against upstream's, as recorded from
    upstream's glance/policies."""

    def upstream_enforcer(self):
        enforcer = oslo_policy.Enforcer(base.CONF, use_conf=True)
        enforcer.suppress_default_change_warnings = True
        enforcer.register_defaults(_upstream_defaults())
        enforcer.load_rules()
        return enforcer

    def test_rules_are_upstreams(self):
        facts = _upstream_facts()
        ours = {r.name: r for r in policy.list_rules()}
        self.assertEqual(sorted(facts), sorted(ours))
        for name, fact in facts.items():
            rule = ours[name]
            self.assertEqual(fact['check_str'], rule.check_str, name)
            self.assertEqual(fact['scope_types'], rule.scope_types, name)
            old = fact.get('deprecated')
            if old is None:
                self.assertIsNone(rule.deprecated_rule, name)
                continue
            self.assertEqual(
                (old['name'], old['check_str'], old['since']),
                (rule.deprecated_rule.name, rule.deprecated_rule.check_str,
                 rule.deprecated_rule.deprecated_since), name)

    def test_upstream_policy_file_is_the_defaults(self):
        with open(os.path.join(DATA, 'upstream-policy.yaml')) as f:
            full = yaml.safe_load(f)
        self.assertEqual(
            {n: f['check_str'] for n, f in _upstream_facts().items()}, full)

    def assert_decides_as_upstream(self):
        names = sorted(_upstream_facts()) + ['no_such_rule']
        compared, allowed = self.compare(names, self.upstream_enforcer())
        self.assertGreater(compared, 9000)
        self.assertGreater(allowed, compared // 20)
        return allowed

    def test_no_policy_file(self):
        self.assert_decides_as_upstream()

    def test_full_upstream_policy_file(self):
        with open(os.path.join(DATA, 'upstream-policy.yaml')) as f:
            self.write_policy(yaml.safe_load(f))
        self.assert_decides_as_upstream()

    def test_overrides(self):
        self.write_policy(UPSTREAM_OVERRIDES)
        self.assert_decides_as_upstream()

    def test_old_defaults(self):
        # enforce_new_defaults off: a rule the file does not set allows
        # what its deprecated default allowed too.
        self.write_policy({'default': 'role:member',
                           'metadef_default': 'role:reader',
                           'manage_image_cache': 'role:member',
                           'get_images': 'role:admin'})
        new = self.assert_decides_as_upstream()
        self.config(enforce_new_defaults=False, group='oslo_policy')
        policy.reset()
        old = self.assert_decides_as_upstream()
        self.assertGreater(old, new)
        member = CALLERS['other-member']
        image = policy.image_target(member, IMAGES[0])
        self.assertTrue(policy.check(member, 'delete_image', image))
        self.assertTrue(policy.check(member, 'cache_image', {}))
        # Set by the file: its check alone.
        self.assertFalse(policy.check(member, 'get_images', {}))


class TestPolicyOptions(OsloTestCase):

    def test_policy_default_rule(self):
        self.write_policy({'fallback': 'role:member', 'default': '!',
                           'uses_missing': 'rule:missing or role:admin'})
        self.config(policy_default_rule='fallback', group='oslo_policy')
        policy.reset()
        member = CALLERS['owner-member']
        reader = CALLERS['owner-reader']
        for name in ('no_such_rule', 'uses_missing'):
            self.assertTrue(policy.check(member, name, {}), name)
            self.assertFalse(policy.check(reader, name, {}), name)
        self.compare(['no_such_rule', 'uses_missing', 'fallback'])
        # A default rule that does not exist: nothing allows.
        self.config(policy_default_rule='absent', group='oslo_policy')
        policy.reset()
        self.assertFalse(policy.check(member, 'no_such_rule', {}))
        self.compare(['no_such_rule', 'uses_missing'])

    def test_policy_dirs(self):
        self.useFixture(fixtures.MonkeyPatch(
            'glance.domain.policy.RELOAD_INTERVAL', -1))
        self.write_policy({'get_images': 'role:admin'})
        policy_d = os.path.join(self.tmp, 'policy.d')
        os.mkdir(policy_d)
        extra = os.path.join(policy_d, 'extra.yaml')
        with open(extra, 'w') as f:
            yaml.safe_dump({'get_images': 'role:reader',
                            'publicize_image': 'role:publisher'}, f)
        self.config(policy_dirs=[policy_d], group='oslo_policy')
        policy.reset()
        reader = CALLERS['owner-reader']
        self.assertTrue(policy.check(reader, 'get_images', {}))
        self.assertTrue(policy.check(CALLERS['publisher'],
                                     'publicize_image', {}))
        self.compare(['get_images', 'publicize_image'])
        # Only the directory's file changes.
        with open(extra, 'w') as f:
            yaml.safe_dump({'get_images': '!'}, f)
        stat = os.stat(extra)
        os.utime(extra, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10 ** 9))
        self.assertFalse(policy.check(reader, 'get_images', {}))
        self.assertFalse(policy.check(CALLERS['publisher'],
                                      'publicize_image', {}))
        self.compare(['get_images', 'publicize_image'])

    def test_scope_types(self):
        # Registered rules are for project scope: system- and
        # domain-scoped tokens are refused whatever the check says.
        self.write_policy({'get_images': '@', 'custom': '@'})
        for label in ('system-admin', 'domain-admin'):
            caller = CALLERS[label]
            self.assertFalse(policy.check(caller, 'get_images', {}), label)
            self.assertTrue(policy.check(caller, 'custom', {}), label)
            self.assertTrue(policy.check(caller, 'context_is_admin', {}))
        self.assertTrue(policy.check(CALLERS['owner-reader'],
                                     'get_images', {}))
        self.compare(['get_images', 'custom', 'context_is_admin'])

    def test_enforce_scope_of_older_oslo_policy(self):
        # oslo.policy before 5 had [oslo_policy] enforce_scope, off by
        # default, and refused no token for its scope when it was off.
        self.conf.register_opt(cfg.BoolOpt('enforce_scope', default=False),
                               group='oslo_policy')
        self.write_policy({'get_images': '@'})
        self.assertTrue(policy.check(CALLERS['system-admin'],
                                     'get_images', {}))
        self.config(enforce_scope=True, group='oslo_policy')
        policy.reset()
        self.assertFalse(policy.check(CALLERS['system-admin'],
                                      'get_images', {}))


class _Answers(http.server.BaseHTTPRequestHandler):
    """A remote policy decider: True when the posted target is public and
    the rule decided is named in the path."""

    asked = []

    def do_POST(self):
        length = int(self.headers['Content-Length'])
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        target = json.loads(form['target'][0])
        credentials = json.loads(form['credentials'][0])
        rule = json.loads(form['rule'][0])
        self.asked.append((self.path, rule, credentials.get('project_id')))
        allowed = (target.get('visibility') == 'public'
                   and self.path.endswith('/' + rule))
        body = b'True' if allowed else b'False'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class TestHttpCheck(OsloTestCase):

    def test_http_check_is_asked(self):
        server = http.server.HTTPServer(('127.0.0.1', 0), _Answers)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = '//127.0.0.1:%d/decide' % server.server_port
        self.write_policy({
            'get_image': 'rule:context_is_admin or http:%s/get_image' % url,
            'remote': 'rule:remote_check',
            'remote_check': 'http:%s/remote' % url,
            'wrong_name': 'http:%s/other' % url,
        })
        del _Answers.asked[:]
        member = CALLERS['other-member']
        public = policy.image_target(member, IMAGES[1])
        private = policy.image_target(member, IMAGES[0])
        self.assertTrue(policy.check(member, 'get_image', public))
        self.assertFalse(policy.check(member, 'get_image', private))
        # Through rule:, the name posted is still the rule decided.
        self.assertTrue(policy.check(member, 'remote', public))
        self.assertFalse(policy.check(member, 'wrong_name', public))
        self.assertEqual(
            [('/decide/get_image', 'get_image', 'p2'),
             ('/decide/get_image', 'get_image', 'p2'),
             ('/decide/remote', 'remote', 'p2'),
             ('/decide/other', 'wrong_name', 'p2')], _Answers.asked)
        self.compare(['get_image', 'remote', 'wrong_name'])
