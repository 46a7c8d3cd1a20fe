"""What every metadata definitions operation shares: finding a namespace
the caller may see, policy with 404 masking, write permission and the
checks on names and text.

A namespace is visible to administrators, to its owner project and, when
public, to everybody. A namespace the caller cannot see, or may not read
by policy, is 404; a refused action on a namespace the caller can see is
403.
"""

import json
import re

from glance.common import exception
from glance.db import metadefs as db
from glance.domain import policy
from glance.domain.metadefs import schemas as metadef_schemas

MAX_NAME = 80
# Names travel in URL paths: no '/', nothing unprintable, no 4-byte
# characters (MySQL's utf8 cannot store them).
_BAD_NAME = re.compile('[/\x00-\x1f\x7f\ud800-\udfff\U00010000-\U0010ffff]')
_BAD_TEXT = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f'
                       '\ud800-\udfff\U00010000-\U0010ffff]')


def check_name(what, name):
    if not isinstance(name, str) or not name.strip():
        raise exception.Invalid('The %s name must be a non-empty string.'
                                % what)
    if len(name) > MAX_NAME:
        raise exception.Invalid('The %s name is longer than %d characters.'
                                % (what, MAX_NAME))
    if name != name.strip():
        raise exception.Invalid('The %s name %r starts or ends with '
                                'white space.' % (what, name))
    match = _BAD_NAME.search(name)
    if match:
        raise exception.Invalid('The %s name %r contains %r, which names '
                                'may not contain.' % (what, name,
                                                      match.group()))


def check_text(value):
    """Refuse text (at any depth of a JSON value) a database cannot store
    or that hides what it is."""
    if isinstance(value, str):
        match = _BAD_TEXT.search(value)
        if match:
            raise exception.Invalid('%r contains %r: control characters, '
                                    'unpaired surrogates and 4-byte '
                                    'characters are not allowed.'
                                    % (value[:80], match.group()))
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list):
        for item in value:
            check_text(item)


def target(ctx, namespace=None):
    if namespace is None:
        return {'project_id': ctx.project_id}
    return {'project_id': namespace['owner'],
            'visibility': namespace['visibility']}


def visible(ctx, namespace):
    return (ctx.is_admin or namespace['visibility'] == 'public'
            or (ctx.project_id is not None
                and namespace['owner'] == ctx.project_id))


def not_found(name):
    return exception.NotFound('Metadata definition namespace %s was not '
                              'found.' % name)


def load(conn, ctx, name, *rules):
    """The namespace ``name``: 404 when the caller cannot see it, 403
    when one of ``rules`` refuses."""
    namespace = db.namespace_get(conn, name)
    if namespace is None or not visible(ctx, namespace):
        raise not_found(name)
    goal = target(ctx, namespace)
    if not policy.check(ctx, 'get_metadef_namespace', goal):
        raise not_found(name)
    for rule in rules:
        policy.enforce(ctx, rule, goal)
    return namespace


def load_for_write(conn, ctx, name, *rules):
    """As ``load``, and the caller must own the namespace (or be an
    administrator) whatever the policy says."""
    namespace = load(conn, ctx, name, *rules)
    if not ctx.is_admin and namespace['owner'] != ctx.project_id:
        raise exception.Forbidden('Only the owner of namespace %s may '
                                  'change it.' % name)
    return namespace


def refuse_if_protected(namespace, what):
    if namespace['protected']:
        raise exception.Forbidden('Namespace %s is protected: %s cannot be '
                                  'deleted.' % (namespace['namespace'], what))


# -- stored forms -------------------------------------------------------------

def property_values(name, definition):
    """Columns of a ``metadef_properties`` row."""
    definition = {k: v for k, v in definition.items() if k != 'name'}
    return {'name': name, 'json_schema': json.dumps(definition)}


def property_view(row):
    """{name, ...definition} of a property row."""
    found = {'name': row['name']}
    found.update(json.loads(row['json_schema']))
    return found


def object_values(body):
    """Columns of a ``metadef_objects`` row; ``required`` is stored
    comma-joined as upstream does, so its entries may hold no comma."""
    return {'name': body['name'], 'description': body.get('description'),
            'required': ','.join(body.get('required') or []),
            'json_schema': json.dumps(body.get('properties') or {})}


def object_view(row):
    return {'name': row['name'], 'description': row['description'],
            'required': [r for r in (row['required'] or '').split(',') if r],
            'properties': json.loads(row['json_schema']),
            'created_at': row['created_at'], 'updated_at': row['updated_at']}


# -- checks of request bodies -------------------------------------------------

def check_properties(properties):
    for name in properties or {}:
        check_name('property', name)
    metadef_schemas.check_properties(properties)


def check_object(body):
    check_name('object', body['name'])
    check_text(body)
    check_properties(body.get('properties'))
    for entry in body.get('required') or []:
        if ',' in entry or not entry:
            raise exception.Invalid('Entries of "required" must be '
                                    'non-empty property names without '
                                    'commas: %r' % entry)


def check_association(body):
    check_name('resource type', body['name'])
    check_text(body)


def check_namespace(body):
    """Checks beyond the namespace schema, embedded content included."""
    check_name('namespace', body['namespace'])
    check_text(body)
    check_properties(body.get('properties'))
    seen = set()
    for item in body.get('objects') or []:
        if 'name' not in item:
            raise exception.Invalid('Every object needs a name.')
        check_object(item)
        if item['name'] in seen:
            raise exception.Duplicate('Object %s is given twice.'
                                      % item['name'])
        seen.add(item['name'])
    seen = set()
    for item in body.get('resource_type_associations') or []:
        if 'name' not in item:
            raise exception.Invalid('Every resource type association '
                                    'needs a name.')
        check_association(item)
        if item['name'] in seen:
            raise exception.Duplicate('Resource type %s is given twice.'
                                      % item['name'])
        seen.add(item['name'])
    seen = set()
    for item in body.get('tags') or []:
        if 'name' not in item:
            raise exception.Invalid('Every tag needs a name.')
        check_name('tag', item['name'])
        if item['name'] in seen:
            raise exception.Duplicate('Tag %s is given twice.'
                                      % item['name'])
        seen.add(item['name'])
