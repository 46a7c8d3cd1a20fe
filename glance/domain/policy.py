"""Authorization rules (oslo.policy) with the secure-RBAC defaults.

Rule names and default check strings are upstream's, so an operator's
policy.yaml keeps its meaning. Service functions call ``enforce`` once per
operation; a failure on an image the caller cannot see becomes 404.
"""

import ast
import functools
import re
import time

from oslo_config import cfg
from oslo_policy import _checks
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


def _rule(name, check, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'path': p, 'method': m} for m, p in operations],
        scope_types=['project'])


def _or_admin(check):
    return '%s or (%s)' % (ADMIN, check)


base_rules = [
    policy.RuleDefault('default', '', 'Rule used when no other applies.'),
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
    _rule('get_member', _or_admin(MEMBER_OR_OWNER_R), 'Show a member.',
          [('GET', '/v2/images/{image_id}/members/{member_id}')]),
    _rule('get_members', _or_admin(MEMBER_OR_OWNER_R),
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


def reset():
    global _ENFORCER, _LOADED_AT
    _ENFORCER = None
    _LOADED_AT = 0.0


def _evaluate(enforcer, rule, target, creds, name):
    """Evaluate a parsed oslo.policy rule tree.

    Equivalent to Enforcer.enforce for project-scoped rules, without its
    per-node signature inspection, which cost more than the rest of a
    GET /v2/images/{id} request.
    """
    # Exact types: the checks are ABCs and isinstance() on them is slow.
    kind = type(rule)
    if kind is _checks.OrCheck:
        for sub in rule.rules:
            if _evaluate(enforcer, sub, target, creds, name):
                return True
        return False
    if kind is _checks.AndCheck:
        for sub in rule.rules:
            if not _evaluate(enforcer, sub, target, creds, name):
                return False
        return True
    if kind is _checks.NotCheck:
        return not _evaluate(enforcer, rule.rule, target, creds, name)
    if kind is _checks.RuleCheck:
        sub = enforcer.rules.get(rule.match)
        return sub is not None and _evaluate(enforcer, sub, target, creds,
                                             rule.match)
    if kind is _checks.GenericCheck:
        literal = _literal(rule.kind)
        if literal is not _NOT_LITERAL:
            # 'public':%(visibility)s and the like, without oslo.policy
            # parsing the literal again on every call.
            try:
                return rule.match % target == literal
            except KeyError:
                return False
    return bool(rule(target, creds, enforcer, name))


_NOT_LITERAL = object()


@functools.lru_cache(maxsize=256)
def _literal(text):
    """str() of the Python literal ``text``, or _NOT_LITERAL."""
    try:
        return str(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return _NOT_LITERAL


def creds(ctx):
    return {'roles': ctx.roles, 'project_id': ctx.project_id,
            'user_id': ctx.user_id, 'is_admin': ctx.is_admin}


def check(ctx, rule, target):
    """True when ``rule`` allows ``ctx`` on ``target``."""
    enforcer = get_enforcer()
    parsed = enforcer.rules.get(rule)
    if parsed is None:
        parsed = enforcer.rules.get('default')
        if parsed is None:
            return False
    return _evaluate(enforcer, parsed, target, creds(ctx), rule)


_TARGET_KEY = re.compile(r'%\(([^)]+)\)s')
_MISSING = object()


def _target_keys(enforcer, rule, seen=()):
    """The target keys a rule's decision depends on; None when a check of
    unknown kind may look at anything."""
    kind = type(rule)
    if kind in (_checks.OrCheck, _checks.AndCheck):
        keys = set()
        for sub in rule.rules:
            found = _target_keys(enforcer, sub, seen)
            if found is None:
                return None
            keys |= found
        return keys
    if kind is _checks.NotCheck:
        return _target_keys(enforcer, rule.rule, seen)
    if kind is _checks.RuleCheck:
        sub = enforcer.rules.get(rule.match)
        if sub is None or rule.match in seen:
            return set()
        return _target_keys(enforcer, sub, seen + (rule.match,))
    if kind in (_checks.TrueCheck, _checks.FalseCheck):
        return set()
    if kind in (_checks.RoleCheck, _checks.GenericCheck):
        return set(_TARGET_KEY.findall(rule.match)) | set(
            _TARGET_KEY.findall(rule.kind))
    return None


def filter_images(ctx, rule, found):
    """The images of ``found`` that ``rule`` allows, deciding once per
    distinct combination of the target values the rule looks at."""
    enforcer = get_enforcer()
    parsed = enforcer.rules.get(rule) or enforcer.rules.get('default')
    if parsed is None:
        return []
    keys = _target_keys(enforcer, parsed)
    caller = creds(ctx)
    decided = {}
    shown = []
    for image in found:
        target = image_target(ctx, image)
        if keys is None:
            allowed = _evaluate(enforcer, parsed, target, caller, rule)
        else:
            memo = tuple(target.get(k, _MISSING) for k in sorted(keys))
            allowed = decided.get(memo)
            if allowed is None:
                allowed = decided[memo] = _evaluate(enforcer, parsed, target,
                                                    caller, rule)
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
