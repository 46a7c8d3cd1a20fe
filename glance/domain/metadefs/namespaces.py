"""Metadata definition namespaces: list, show, create (with embedded
content), update, delete, and the bulk removal of their objects,
properties or tags.

Creating a namespace with embedded content is one transaction: either
everything is stored or nothing is.
"""

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import metadefs as db
from glance.db import session
from glance.domain import policy
from glance.domain.metadefs import records as md

# The keys namespace listings may be sorted by.
SORT_KEYS = db.NAMESPACE_SORT_KEYS
EMBEDDED_RULES = {'resource_type_associations':
                  'add_metadef_resource_type_association',
                  'properties': 'add_metadef_property',
                  'objects': 'add_metadef_object',
                  'tags': 'add_metadef_tags'}
BULK_RULES = {'object': ('delete_metadef_namespace',),
              'property': ('delete_metadef_namespace',),
              'tag': ('delete_metadef_namespace', 'delete_metadef_tags')}


def list_namespaces(ctx, limit, marker=None, sort_key='created_at',
                    sort_dir='desc', visibility=None, protected=None,
                    resource_types=None):
    """(namespaces with their associations, whether the page was full)."""
    goal = md.target(ctx)
    policy.enforce(ctx, 'get_metadef_namespaces', goal)
    policy.enforce(ctx, 'list_metadef_resource_types', goal)
    with session.reader() as conn:
        marker_row = None
        if marker is not None:
            marker_row = db.namespace_get(conn, marker)
            if marker_row is None or not md.visible(ctx, marker_row):
                raise md.not_found(marker)
        rows = db.namespace_list(
            conn, project_id=ctx.project_id, is_admin=ctx.is_admin,
            visibility=visibility, protected=protected,
            resource_types_=resource_types, sort_key=sort_key,
            sort_dir=sort_dir, limit=limit, marker=marker_row)
        page_full = limit is not None and len(rows) == limit
        rows = [r for r in rows if policy.check(
            ctx, 'get_metadef_namespace', md.target(ctx, r))]
        associations = db.association_list(conn, [r['id'] for r in rows])
    for row in rows:
        row['resource_type_associations'] = associations[row['id']]
    return rows, page_full


def _with_prefix(prefix, name):
    return prefix + name if prefix else name


def _content(conn, ctx, namespace, resource_type=None):
    """The namespace with everything in it the caller may read; with
    ``resource_type``, property names carry that association's prefix."""
    found = dict(namespace)
    goal = md.target(ctx, namespace)
    ns_id = namespace['id']
    found['resource_type_associations'] = db.association_list(
        conn, [ns_id])[ns_id]
    prefix = None
    if resource_type is not None:
        for association in found['resource_type_associations']:
            if association['name'] == resource_type:
                prefix = association['prefix']
    if policy.check(ctx, 'get_metadef_properties', goal):
        found['properties'] = {
            _with_prefix(prefix, r['name']): md.property_view(r)
            for r in db.child_list(conn, 'property', ns_id)}
        for definition in found['properties'].values():
            definition.pop('name')
    if policy.check(ctx, 'get_metadef_objects', goal):
        found['objects'] = []
        for row in db.child_list(conn, 'object', ns_id):
            item = md.object_view(row)
            item['properties'] = {_with_prefix(prefix, k): v
                                  for k, v in item['properties'].items()}
            item['required'] = [_with_prefix(prefix, r)
                                for r in item['required']]
            found['objects'].append(item)
    if policy.check(ctx, 'get_metadef_tags', goal):
        found['tags'] = db.child_list(conn, 'tag', ns_id)
    return found


def get_namespace(ctx, name, resource_type=None):
    with session.reader() as conn:
        namespace = md.load(conn, ctx, name)
        return _content(conn, ctx, namespace, resource_type)


def _owner(ctx, requested):
    owner = requested or ctx.project_id
    if owner is None:
        raise exception.Invalid('The namespace needs an owner: the '
                                'request names no project.')
    if owner != ctx.project_id and not ctx.is_admin:
        raise exception.Forbidden('You are not permitted to create or '
                                  "give away namespaces for project '%s'."
                                  % owner)
    return owner


def store_content(conn, namespace_id, body, now):
    """Insert the associations, properties, objects and tags of a new
    namespace; resource types unknown so far are created unprotected."""
    for item in body.get('resource_type_associations') or []:
        resource_type = db.resource_type_get(conn, item['name'])
        if resource_type is None:
            type_id = db.resource_type_create(
                conn, {'name': item['name'], 'protected': False,
                       'created_at': now, 'updated_at': now})
        else:
            type_id = resource_type['id']
        db.association_create(conn, {
            'namespace_id': namespace_id, 'resource_type_id': type_id,
            'prefix': item.get('prefix'),
            'properties_target': item.get('properties_target'),
            'created_at': now, 'updated_at': now}, item['name'])
    stamps = {'namespace_id': namespace_id, 'created_at': now,
              'updated_at': now}
    for name, definition in (body.get('properties') or {}).items():
        db.child_create(conn, 'property', dict(
            md.property_values(name, definition), **stamps))
    for item in body.get('objects') or []:
        db.child_create(conn, 'object', dict(md.object_values(item),
                                             **stamps))
    for item in body.get('tags') or []:
        db.child_create(conn, 'tag', dict(name=item['name'], **stamps))


def namespace_values(body, owner):
    return {'namespace': body['namespace'],
            'display_name': body.get('display_name'),
            'description': body.get('description'),
            'visibility': body.get('visibility') or 'private',
            'protected': bool(body.get('protected', False)),
            'owner': owner}


def create_namespace(ctx, body):
    goal = md.target(ctx)
    policy.enforce(ctx, 'add_metadef_namespace', goal)
    for key, rule in EMBEDDED_RULES.items():
        if body.get(key):
            policy.enforce(ctx, rule, goal)
    owner = _owner(ctx, body.get('owner'))
    md.check_namespace(body)
    now = timeutils.now()
    with session.writer() as conn:
        if db.namespace_get(conn, body['namespace']) is not None:
            raise exception.Duplicate('Namespace %s already exists.'
                                      % body['namespace'])
        values = dict(namespace_values(body, owner), created_at=now,
                      updated_at=now)
        namespace_id = db.namespace_create(conn, values)
        store_content(conn, namespace_id, body, now)
        created = _content(conn, ctx, dict(values, id=namespace_id))
    notifier.namespace_event('metadef_namespace.create', created)
    return created


def update_namespace(ctx, name, body):
    """Replace the namespace's own fields (not its content); omitted
    visibility, protected and owner fall back to their defaults."""
    md.check_name('namespace', body['namespace'])
    md.check_text(body)
    now = timeutils.now()
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, name,
                                      'modify_metadef_namespace')
        owner = _owner(ctx, body.get('owner'))
        new_name = body['namespace']
        if new_name != name and db.namespace_get(conn, new_name):
            raise exception.Duplicate('Namespace %s already exists.'
                                      % new_name)
        values = dict(namespace_values(body, owner), updated_at=now)
        db.namespace_update(conn, namespace['id'], values)
    updated = dict(namespace, **values)
    notifier.namespace_event('metadef_namespace.update', updated, name)
    return updated


def delete_namespace(ctx, name):
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, name,
                                      'delete_metadef_namespace')
        md.refuse_if_protected(namespace, 'it')
        db.namespace_delete(conn, namespace['id'])
    notifier.namespace_event('metadef_namespace.delete', namespace,
                             deleted=True)


def delete_content(ctx, name, kind):
    """Remove every object, property or tag (``kind``) of a namespace."""
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, name, *BULK_RULES[kind])
        md.refuse_if_protected(namespace, 'its content')
        db.child_delete_all(conn, kind, namespace['id'])
    notifier.namespace_event(notifier.CONTENT_EVENTS[kind], namespace)
