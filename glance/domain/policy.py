"""Authorization rules (oslo.policy) with the secure-RBAC defaults.

Rule names and default check strings are upstream's, so an operator's
policy.yaml keeps its meaning. Service functions call ``enforce`` once per
operation; a failure on an image the caller cannot see becomes 404.
"""

import ast
from collections.abc import Callable
from collections.abc import Mapping
import inspect
import re
import time
from typing import Any

from oslo_config import cfg
from oslo_policy import policy

from glance.common import exception

CONF = cfg.CONF

ADMIN = 'rule:context_is_admin'
OWNER_R = 'role:reader and project_id:%(project_id)s'
OWNER_M = 'role:member and project_id:%(project_id)s'
_VISIBLE = ('(project_id:%(project_id)s or project_id:%(member_id)s or '
            "'community':%(visibility)s or 'public':%(visibility)s or "
            "'shared':%(visibility)s)")
VISIBLE_R = 'role:reader and ' + _VISIBLE
VISIBLE_M = 'role:member and ' + _VISIBLE


# The older defaults each rule replaced, as upstream records them: with
# ``[oslo_policy] enforce_new_defaults = False`` a rule the policy file
# does not set allows what either check string allows.
_ROLES_REASON = ('Rules now tell readers, members and administrators '
                 'apart.')
_DEPRECATED = dict(
    [(n, ('rule:default', 'W', _ROLES_REASON)) for n in (
        'add_image', 'delete_image', 'get_image', 'get_images',
        'modify_image', 'communitize_image', 'download_image',
        'upload_image', 'delete_image_location', 'get_image_location',
        'set_image_location', 'add_member', 'delete_member', 'get_member',
        'get_members', 'modify_member', 'deactivate', 'reactivate')]
    + [(n, ('rule:default', 'X', _ROLES_REASON))
       for n in ('get_task', 'get_tasks', 'add_task')]
    + [(n, ('rule:metadef_default', 'X', _ROLES_REASON)) for n in (
        'get_metadef_namespace', 'get_metadef_namespaces',
        'get_metadef_object', 'get_metadef_objects',
        'list_metadef_resource_types', 'get_metadef_resource_type',
        'get_metadef_property', 'get_metadef_properties',
        'get_metadef_tag', 'get_metadef_tags')]
    + [(n, ('rule:manage_image_cache', 'X',
            'Each cache operation has a rule of its own.'))
       for n in ('cache_image', 'cache_list', 'cache_delete')]
    + [('stores_info_detail', ('rule:context_is_admin', '2025.1',
                               'Other services may read it too.')),
       ('default', ('rule:context_is_admin', 'Ussuri',
                    'A rule missing from the policy file takes its '
                    'default from the code, so the default rule allows '
                    'everyone; set it to "role:admin" to keep the older '
                    'behaviour.'))])


def _deprecated(name):
    old = _DEPRECATED.get(name)
    if old is None:
        return None
    check, since, reason = old
    return policy.DeprecatedRule(name=name, check_str=check,
                                 deprecated_reason=reason,
                                 deprecated_since=since)


def _rule(name, check, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'path': p, 'method': m} for m, p in operations],
        scope_types=['project'], deprecated_rule=_deprecated(name))


def _or_admin(check):
    return '%s or (%s)' % (ADMIN, check)


base_rules = [
    policy.RuleDefault('default', '', 'Rule used when no other applies.',
                       deprecated_rule=_deprecated('default')),
    policy.RuleDefault('context_is_admin', 'role:admin',
                       'Who counts as an administrator.'),
    policy.RuleDefault('service_api', 'role:service or role:admin',
                       'Calls reserved to other OpenStack services.'),
]

image_rules = [
    _rule('add_image', _or_admin(OWNER_M + ' and project_id:%(owner)s'),
          'Create an image.', [('POST', '/v2/images')]),
    _rule('get_image', _or_admin(VISIBLE_R), 'Show an image.',
          [('GET', '/v2/images/{image_id}')]),
    _rule('get_images', _or_admin(OWNER_R), 'List images.',
          [('GET', '/v2/images')]),
    _rule('modify_image', _or_admin(OWNER_M), 'Update an image.',
          [('PATCH', '/v2/images/{image_id}'),
           ('PUT', '/v2/images/{image_id}/tags/{tag}'),
           ('DELETE', '/v2/images/{image_id}/tags/{tag}')]),
    _rule('delete_image', _or_admin(OWNER_M), 'Delete an image.',
          [('DELETE', '/v2/images/{image_id}')]),
    _rule('publicize_image', ADMIN, 'Make an image public.',
          [('PATCH', '/v2/images/{image_id}')]),
    _rule('communitize_image', _or_admin(OWNER_M),
          'Make an image a community image.',
          [('PATCH', '/v2/images/{image_id}')]),
    _rule('upload_image', _or_admin(OWNER_M), 'Upload image data.',
          [('PUT', '/v2/images/{image_id}/file')]),
    _rule('download_image', _or_admin(VISIBLE_M), 'Download image data.',
          [('GET', '/v2/images/{image_id}/file')]),
    _rule('deactivate', _or_admin(OWNER_M), 'Deactivate an image.',
          [('POST', '/v2/images/{image_id}/actions/deactivate')]),
    _rule('reactivate', _or_admin(OWNER_M), 'Reactivate an image.',
          [('POST', '/v2/images/{image_id}/actions/reactivate')]),
    _rule('download_from_store', _or_admin(VISIBLE_M),
          'Download image data from a chosen store.',
          [('GET', '/v2/images/{image_id}/file')]),
    _rule('copy_image', ADMIN, 'Copy image data to more stores.',
          [('POST', '/v2/images/{image_id}/import')]),
    _rule('get_image_location', _or_admin(OWNER_R),
          'Read the locations of an image.',
          [('GET', '/v2/images/{image_id}'),
           ('DELETE', '/v2/stores/{store_id}/{image_id}')]),
    _rule('set_image_location', _or_admin(OWNER_M),
          'Add or replace image locations through PATCH.',
          [('PATCH', '/v2/images/{image_id}')]),
    _rule('delete_image_location', ADMIN,
          'Remove a location (and its data) from an image.',
          [('PATCH', '/v2/images/{image_id}'),
           ('DELETE', '/v2/stores/{store_id}/{image_id}')]),
    _rule('add_image_location',
          'rule:service_api or (%s and project_id:%%(owner)s)' % OWNER_M,
          'Add a location to a queued image.',
          [('POST', '/v2/images/{image_id}/locations')]),
    _rule('fetch_image_location', 'rule:service_api',
          'List the locations of an image.',
          [('GET', '/v2/images/{image_id}/locations')]),
    _rule('stores_info_detail', ADMIN + ' or rule:service_api',
          'Show the stores with their drivers and settings.',
          [('GET', '/v2/info/stores/detail')]),
]

MEMBER_OR_OWNER_R = ('role:reader and (project_id:%(project_id)s or '
                     'project_id:%(member_id)s)')

member_rules = [
    _rule('add_member', _or_admin(OWNER_M), 'Share an image with a project.',
          [('POST', '/v2/images/{image_id}/members')]),
    _rule('delete_member', _or_admin(OWNER_M), 'Stop sharing an image.',
          [('DELETE', '/v2/images/{image_id}/members/{member_id}')]),
    # Without parentheses, as upstream writes it ("and" binds first).
    _rule('get_member', ADMIN + ' or ' + MEMBER_OR_OWNER_R, 'Show a member.',
          [('GET', '/v2/images/{image_id}/members/{member_id}')]),
    _rule('get_members', ADMIN + ' or ' + MEMBER_OR_OWNER_R,
          'List the members of an image.',
          [('GET', '/v2/images/{image_id}/members')]),
    _rule('modify_member',
          _or_admin('role:member and project_id:%(member_id)s'),
          'Accept or reject a shared image.',
          [('PUT', '/v2/images/{image_id}/members/{member_id}')]),
]

cache_rules = [
    _rule('manage_image_cache', ADMIN, 'Manage the image cache.',
          [('GET', '/v2/cached_images'), ('GET', '/v2/queued_images')]),
    _rule('cache_image', ADMIN, 'Queue an image for caching.',
          [('PUT', '/v2/cache/{image_id}')]),
    _rule('cache_list', ADMIN, 'List cached and queued images.',
          [('GET', '/v2/cache')]),
    _rule('cache_delete', ADMIN, 'Remove images from the cache.',
          [('DELETE', '/v2/cache'), ('DELETE', '/v2/cache/{image_id}')]),
    _rule('cache_clean', ADMIN, 'Clean the image cache.',
          [('POST', '/v2/cache/clean')]),
    _rule('cache_prune', ADMIN, 'Prune the image cache.',
          [('POST', '/v2/cache/prune')]),
    _rule('list_cached_nodes', ADMIN, 'List the nodes caching an image.',
          [('GET', '/v2/cache/nodes/{image_id}')]),
]

task_rules = [
    _rule('tasks_api_access', ADMIN, 'Use the tasks API at all.',
          [('GET', '/v2/tasks'), ('POST', '/v2/tasks'),
           ('GET', '/v2/tasks/{task_id}')]),
    _rule('get_task', 'rule:default', 'Show a task.',
          [('GET', '/v2/tasks/{task_id}')]),
    _rule('get_tasks', 'rule:default', 'List tasks.', [('GET', '/v2/tasks')]),
    _rule('add_task', 'rule:default', 'Create a task.',
          [('POST', '/v2/tasks')]),
    _rule('modify_task', 'rule:default', 'Update a task.',
          [('POST', '/v2/tasks')]),
]

PUBLIC_NS_R = ('role:reader and (project_id:%(project_id)s or '
               "'public':%(visibility)s)")
_NS = '/v2/metadefs/namespaces/{namespace_name}'


def _metadef_read(name, description, path):
    return _rule(name, _or_admin(PUBLIC_NS_R), description, [('GET', path)])


def _metadef_write(name, description, method, path):
    return _rule(name, 'rule:metadef_admin', description, [(method, path)])


metadef_rules = [
    policy.RuleDefault('metadef_default', '',
                       'Rule for metadata definition reads.'),
    policy.RuleDefault('metadef_admin', 'rule:context_is_admin',
                       'Rule for metadata definition writes.'),
    _rule('get_metadef_namespaces', _or_admin(OWNER_R),
          'List namespaces.', [('GET', '/v2/metadefs/namespaces')]),
    _metadef_read('get_metadef_namespace', 'Show a namespace.', _NS),
    _metadef_write('add_metadef_namespace', 'Create a namespace.', 'POST',
                   '/v2/metadefs/namespaces'),
    _metadef_write('modify_metadef_namespace', 'Update a namespace.', 'PUT',
                   _NS),
    _metadef_write('delete_metadef_namespace', 'Delete a namespace.',
                   'DELETE', _NS),
    _metadef_read('get_metadef_objects', 'List objects.', _NS + '/objects'),
    _metadef_read('get_metadef_object', 'Show an object.',
                  _NS + '/objects/{object_name}'),
    _metadef_write('add_metadef_object', 'Create an object.', 'POST',
                   _NS + '/objects'),
    _metadef_write('modify_metadef_object', 'Update an object.', 'PUT',
                   _NS + '/objects/{object_name}'),
    _metadef_write('delete_metadef_object', 'Delete an object.', 'DELETE',
                   _NS + '/objects/{object_name}'),
    _metadef_read('get_metadef_properties', 'List properties.',
                  _NS + '/properties'),
    _metadef_read('get_metadef_property', 'Show a property.',
                  _NS + '/properties/{property_name}'),
    _metadef_write('add_metadef_property', 'Create a property.', 'POST',
                   _NS + '/properties'),
    _metadef_write('modify_metadef_property', 'Update a property.', 'PUT',
                   _NS + '/properties/{property_name}'),
    _metadef_write('remove_metadef_property', 'Delete a property.', 'DELETE',
                   _NS + '/properties/{property_name}'),
    _metadef_read('get_metadef_tags', 'List tags.', _NS + '/tags'),
    _metadef_read('get_metadef_tag', 'Show a tag.', _NS + '/tags/{tag_name}'),
    _metadef_write('add_metadef_tag', 'Create a tag.', 'POST',
                   _NS + '/tags/{tag_name}'),
    _metadef_write('add_metadef_tags', 'Create tags.', 'POST',
                   _NS + '/tags'),
    _metadef_write('modify_metadef_tag', 'Update a tag.', 'PUT',
                   _NS + '/tags/{tag_name}'),
    _metadef_write('delete_metadef_tag', 'Delete a tag.', 'DELETE',
                   _NS + '/tags/{tag_name}'),
    _metadef_write('delete_metadef_tags', 'Delete all tags.', 'DELETE',
                   _NS + '/tags'),
    _metadef_read('list_metadef_resource_types', 'List resource types.',
                  '/v2/metadefs/resource_types'),
    _metadef_read('get_metadef_resource_type',
                  'List the resource types of a namespace.',
                  _NS + '/resource_types'),
    _metadef_write('add_metadef_resource_type_association',
                   'Associate a resource type.', 'POST',
                   _NS + '/resource_types'),
    _metadef_write('remove_metadef_resource_type_association',
                   'Dissociate a resource type.', 'DELETE',
                   _NS + '/resource_types/{resource_type}'),
]


def list_rules():
    return (base_rules + image_rules + member_rules + cache_rules
            + task_rules + metadef_rules)


_ENFORCER = None
_LOADED_AT = 0.0
# Rules made at start-up from configuration (property protections).
_EXTRA_RULES = []
# How often the policy file is looked at for changes, in seconds.
RELOAD_INTERVAL = 1.0


def get_enforcer():
    """The enforcer, its rules re-read when the policy file changed."""
    global _ENFORCER, _LOADED_AT
    if _ENFORCER is None:
        _ENFORCER = policy.Enforcer(CONF, use_conf=True)
        # Every default changed when roles came; saying so on each load of
        # the rules with enforce_new_defaults off would only flood the log.
        _ENFORCER.suppress_default_change_warnings = True
        _ENFORCER.register_defaults(list_rules() + _EXTRA_RULES)
    now = time.monotonic()
    if now - _LOADED_AT > RELOAD_INTERVAL:
        _ENFORCER.use_conf = True
        _ENFORCER.load_rules()
        _ENFORCER.use_conf = False
        _LOADED_AT = now
    return _ENFORCER


def register_extra(rules):
    """Rules beyond the built-in ones, overridable from the policy file."""
    _EXTRA_RULES[:] = rules
    reset()


def prepare() -> None:
    """Read the rules and make their closures now (when the application
    is built, before workers fork) rather than on the first request."""
    _rule_set(get_enforcer())


def reset():
    global _ENFORCER, _LOADED_AT, _RULE_SET
    _ENFORCER = None
    _LOADED_AT = 0.0
    _RULE_SET = None


# The fast path.
#
# Enforcer.enforce inspects the signature of every check node it calls and
# re-parses literal checks ('public':%(visibility)s) on every call: that
# cost more than the rest of a GET /v2/images/{id} request. Instead, each
# parsed rule tree of the enforcer is turned once into plain closures that
# decide exactly as enforce does for the checks oslo.policy's parser builds
# itself: @, !, not, and, or, rule:, role: and the generic kind:match checks
# ('literal':%(key)s, True:%(key)s, path.in.creds:value). Every other kind
# (http:, https:, a plugin's) is called the way oslo.policy calls it. What
# enforce does around the tree is done the same way too:
#
# * a name with no rule (at the top or after ``rule:``) takes the rule
#   named by ``[oslo_policy] policy_default_rule``, and denies when that
#   one is missing as well;
# * a rule registered with scope types refuses a token of another scope:
#   system-scoped when the credentials name a system, else domain-scoped
#   when they name a domain, else project-scoped;
# * the rules are the enforcer's after it loaded policy_file, the
#   policy_dirs files and the deprecated defaults (enforce_new_defaults).
#
# One difference is deliberate: in the rule of a property protection
# (``policies`` format), ``rule:name`` where no rule ``name`` exists
# denies, where enforce would decide the default rule, which allows
# everyone.
#
# Only oslo.policy's public interface is used: the classes of its built-in
# checks are learnt by parsing one sample of each form through
# Rules.from_dict, and and/or/not/rule nodes are oslo_policy.policy's own
# AndCheck, OrCheck, NotCheck and RuleCheck.

Decision = Callable[[Mapping[str, Any], Mapping[str, Any], str], bool]


def _parsed_types():
    sample = policy.Rules.from_dict({
        'allow': '@', 'deny': '!', 'role': 'role:sample',
        'generic': "'sample':%(sample)s"})
    return (type(sample['allow']), type(sample['deny']),
            type(sample['role']), type(sample['generic']))


_TRUE, _FALSE, _ROLE, _GENERIC = _parsed_types()
# '%(key)s' alone: the target's value as a string, without % formatting.
_ONE_KEY = re.compile(r'%\(([^()]*)\)s')


def _allow(target, creds, name):
    return True


def _deny(target, creds, name):
    return False


def _expander(match):
    """A function giving ``match % target``, as the checks compare it."""
    if '%' not in match:
        return lambda target: match
    one = _ONE_KEY.fullmatch(match)
    if one is not None:
        key = one.group(1)
        return lambda target: str(target[key])
    return match.__mod__


def _find(value, path, match):
    """True when ``match`` equals str() of what ``path`` leads to in
    ``value``; a list on the way matches when any of its items does."""
    if not path:
        return match == str(value)
    try:
        value = value[path[0]]
    except KeyError:
        return False
    if isinstance(value, list):
        return any(_find(item, path[1:], match) for item in value)
    return _find(value, path[1:], match)


def _lookup(rules: policy.Rules, name: str):
    """The check of rule ``name``, or of the default rule (Rules does
    that); None when neither exists."""
    try:
        return rules[name]
    except KeyError:
        return None


def token_scope(creds: Mapping[str, Any]) -> str:
    """The scope of the caller's token, as enforce tells it."""
    if creds.get('system'):
        return 'system'
    if creds.get('domain_id'):
        return 'domain'
    return 'project'


def _scope_enforced(enforcer: policy.Enforcer) -> bool:
    """oslo.policy before 5 refused a token of the wrong scope only with
    ``[oslo_policy] enforce_scope``; later ones always do."""
    try:
        return bool(enforcer.conf.oslo_policy.enforce_scope)
    except cfg.NoSuchOptError:
        return True


class _RuleSet:
    """The rule trees of one oslo.policy ``Rules`` object, as closures.

    Closures are made on first use, keyed by the identity of the check
    node they stand for (checks are not hashable), and hold that node so
    its identity stays unique while they exist.
    """

    def __init__(self, enforcer: policy.Enforcer,
                 strict: frozenset = frozenset()) -> None:
        self.enforcer = enforcer
        self.rules = enforcer.rules
        # Names whose rule: references to missing rules deny.
        self.strict = strict
        self.decisions = {}
        self.by_name = {}
        self.registered = enforcer.registered_rules

    def decision(self, check, strict: bool = False) -> Decision:
        key = (id(check), strict)
        made = self.decisions.get(key)
        if made is None or made[0] is not check:
            made = self.decisions[key] = (check, self._make(check, strict))
        return made[1]

    def named(self, name: str) -> Decision:
        """The decision of rule ``name`` as enforce makes it: the default
        rule when there is no such rule, the scope of the token checked
        against the scope types the rule was registered with."""
        rules = self.rules
        check = rules.get(name)
        if check is None and rules:
            check = _lookup(rules, name)
        registered = self.registered.get(name)
        made = self.by_name.get(name)
        if made is None or made[0] is not check or made[1] is not registered:
            made = self.by_name[name] = (
                check, registered, self._named(name, check, registered))
        return made[2]

    def _named(self, name, check, registered) -> Decision:
        if check is None:
            return _deny
        decision = self.decision(check, name in self.strict)
        if (registered is None or not registered.scope_types
                or not _scope_enforced(self.enforcer)):
            return decision
        scopes = tuple(registered.scope_types)
        if scopes == ('project',):
            def project_scoped(target, creds, name):
                if creds.get('system') or creds.get('domain_id'):
                    return False
                return decision(target, creds, name)
            return project_scoped

        def scoped(target, creds, name):
            if token_scope(creds) not in scopes:
                return False
            return decision(target, creds, name)
        return scoped

    def _make(self, check, strict) -> Decision:
        kind = type(check)
        if kind is _TRUE:
            return _allow
        if kind is _FALSE:
            return _deny
        if kind is policy.OrCheck:
            return self._any([self.decision(sub, strict)
                              for sub in check.rules])
        if kind is policy.AndCheck:
            return self._all([self.decision(sub, strict)
                              for sub in check.rules])
        if kind is policy.NotCheck:
            inner = self.decision(check.rule, strict)
            return lambda target, creds, name: not inner(target, creds,
                                                         name)
        if kind is policy.RuleCheck:
            return self._reference(check.match, strict)
        if kind is _ROLE:
            return self._role(check.match)
        if kind is _GENERIC:
            made = self._generic(check.kind, check.match)
            if made is not None:
                return made
        return self._foreign(check)

    @staticmethod
    def _any(subs):
        if len(subs) == 2:
            first, second = subs
            return lambda target, creds, name: (
                first(target, creds, name) or second(target, creds, name))

        def any_of(target, creds, name):
            for sub in subs:
                if sub(target, creds, name):
                    return True
            return False
        return any_of

    @staticmethod
    def _all(subs):
        if len(subs) == 2:
            first, second = subs
            return lambda target, creds, name: (
                first(target, creds, name) and second(target, creds, name))

        def all_of(target, creds, name):
            for sub in subs:
                if not sub(target, creds, name):
                    return False
            return True
        return all_of

    def _reference(self, referenced, strict):
        # Looked up on each call, as enforce does (the rules may change in
        # place when a policy_dirs file does); the closure of the last
        # node found is kept.
        rules = self.rules
        last = [None, _deny]

        def reference(target, creds, name):
            check = rules.get(referenced)
            if check is None:
                if strict:
                    return False
                check = _lookup(rules, referenced)
                if check is None:
                    return False
            if check is not last[0]:
                last[:] = [check, self.decision(check)]
            return last[1](target, creds, name)
        return reference

    @staticmethod
    def _role(match):
        if '%' not in match:
            wanted = match.lower()

            def fixed_role(target, creds, name):
                if 'roles' not in creds:
                    return False
                return wanted in [r.lower() for r in creds['roles']]
            return fixed_role
        expand = _expander(match)

        def role(target, creds, name):
            try:
                wanted = expand(target)
            except KeyError:
                return False
            if 'roles' not in creds:
                return False
            return wanted.lower() in [r.lower() for r in creds['roles']]
        return role

    @staticmethod
    def _generic(kind, match):
        """``'literal':%(key)s`` or ``path.in.creds:%(key)s``; None when
        the kind is neither (oslo.policy then raises, and so do we)."""
        expand = _expander(match)
        try:
            literal = str(ast.literal_eval(kind))
        except ValueError:
            literal = None
        except Exception:
            return None
        if literal is not None:
            def same_literal(target, creds, name):
                try:
                    return expand(target) == literal
                except KeyError:
                    return False
            return same_literal
        path = kind.split('.')
        if len(path) > 1:
            def in_creds(target, creds, name):
                try:
                    wanted = expand(target)
                except KeyError:
                    return False
                return _find(creds, path, wanted)
            return in_creds
        key = path[0]

        def cred_equals(target, creds, name):
            try:
                wanted = expand(target)
                value = creds[key]
            except KeyError:
                return False
            if isinstance(value, list):
                for item in value:
                    if wanted == str(item):
                        return True
                return False
            return wanted == str(value)
        return cred_equals

    def _foreign(self, check):
        enforcer = self.enforcer
        # oslo.policy passes the rule name only to checks whose __call__
        # takes it.
        if len(inspect.getfullargspec(check.__call__).args) > 4:
            return lambda target, creds, name: bool(
                check(target, creds, enforcer, name))
        return lambda target, creds, name: bool(
            check(target, creds, enforcer))

    def target_keys(self, check, seen=()):
        """The target keys a decision of ``check`` depends on; None when a
        check of a foreign class may look at anything."""
        kind = type(check)
        if kind in (policy.OrCheck, policy.AndCheck):
            keys = set()
            for sub in check.rules:
                found = self.target_keys(sub, seen)
                if found is None:
                    return None
                keys |= found
            return keys
        if kind is policy.NotCheck:
            return self.target_keys(check.rule, seen)
        if kind is policy.RuleCheck:
            sub = _lookup(self.rules, check.match)
            if sub is None or check.match in seen:
                return set()
            return self.target_keys(sub, seen + (check.match,))
        if kind in (_TRUE, _FALSE):
            return set()
        if kind in (_ROLE, _GENERIC):
            return set(_TARGET_KEY.findall(check.match)) | set(
                _TARGET_KEY.findall(check.kind))
        return None


_TARGET_KEY = re.compile(r'%\(([^)]+)\)s')
_RULE_SET = None


def _rule_set(enforcer: policy.Enforcer) -> _RuleSet:
    """The closures of the enforcer's current rules (made anew when a
    changed policy file gave it new ones)."""
    global _RULE_SET
    made = _RULE_SET
    if (made is None or made.rules is not enforcer.rules
            or made.enforcer is not enforcer):
        made = _RULE_SET = _RuleSet(
            enforcer, frozenset(r.name for r in _EXTRA_RULES))
    return made


def decide(enforcer: policy.Enforcer, name: str,
           target: Mapping[str, Any], creds: Mapping[str, Any]) -> bool:
    """True when rule ``name`` of ``enforcer`` (or its default rule when
    there is no such rule) allows ``creds`` on ``target``.

    The decision of ``enforcer.enforce(name, target, creds)`` for
    credentials as ``creds()`` makes them, at a fraction of its cost.
    """
    return _rule_set(enforcer).named(name)(target, creds, name)


def creds(ctx) -> dict:
    """The credentials rules are decided on: the context's policy values
    (the keys of oslo.context's to_policy_values, built here without its
    mapping class, which is slow to read), with ``system`` set from
    ``system_scope`` as enforce sets it."""
    values = {
        'user_id': ctx.user_id, 'user_domain_id': ctx.user_domain_id,
        'system_scope': ctx.system_scope, 'domain_id': ctx.domain_id,
        'project_id': ctx.project_id,
        'project_domain_id': ctx.project_domain_id, 'roles': ctx.roles,
        'is_admin_project': ctx.is_admin_project,
        'service_user_id': ctx.service_user_id,
        'service_user_domain_id': ctx.service_user_domain_id,
        'service_project_id': ctx.service_project_id,
        'service_project_domain_id': ctx.service_project_domain_id,
        'service_roles': ctx.service_roles}
    if ctx.system_scope:
        values['system'] = ctx.system_scope
    return values


def check(ctx, rule: str, target: Mapping[str, Any]) -> bool:
    """True when ``rule`` allows ``ctx`` on ``target``."""
    return decide(get_enforcer(), rule, target, creds(ctx))


_MISSING = object()


def filter_images(ctx, rule: str, found: list) -> list:
    """The images of ``found`` that ``rule`` allows, deciding once per
    distinct combination of the target values the rule looks at."""
    enforcer = get_enforcer()
    made = _rule_set(enforcer)
    decision = made.named(rule)
    parsed = _lookup(made.rules, rule) if made.rules else None
    keys = None if parsed is None else made.target_keys(parsed)
    keys = None if keys is None else sorted(keys)
    caller = creds(ctx)
    decided = {}
    shown = []
    for image in found:
        target = image_target(ctx, image)
        if keys is None:
            allowed = decision(target, caller, rule)
        else:
            memo = tuple(target.get(k, _MISSING) for k in keys)
            allowed = decided.get(memo)
            if allowed is None:
                allowed = decided[memo] = decision(target, caller, rule)
        if allowed:
            shown.append(image)
    return shown


def image_target(ctx, image):
    target = dict(image.get('properties') or {})
    target.update(image)
    del target['properties']
    target['project_id'] = image.get('owner')
    target['image_id'] = image.get('id')
    member = None
    if image.get('visibility') == 'shared' and ctx.project_id != image.get(
            'owner'):
        member = ctx.project_id
    target['member_id'] = member
    return target


def enforce_image(ctx, rule, image):
    """Check ``rule`` on an existing image with 404 masking."""
    target = image_target(ctx, image)
    if check(ctx, rule, target):
        return
    if rule == 'get_image' or not check(ctx, 'get_image', target):
        raise exception.ImageNotFound('No image found with ID %s'
                                      % image['id'])
    raise exception.Forbidden("You are not authorized to complete %s "
                              "action." % rule)


def enforce(ctx, rule, target):
    if not check(ctx, rule, target):
        raise exception.Forbidden("You are not authorized to complete %s "
                                  "action." % rule)
