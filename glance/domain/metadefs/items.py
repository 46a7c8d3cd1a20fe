"""Objects, properties and tags of a metadata definitions namespace.

All three are rows named uniquely within their namespace, so one set of
functions serves them, each reading: load the namespace (404 when hidden,
403 when policy refuses), look up the row, change it.
"""

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import metadefs as db
from glance.db import session
from glance.domain.metadefs import records as md

# The keys tag listings may be sorted by.
TAG_SORT_KEYS = db.TAG_SORT_KEYS
RULES = {
    'object': {'list': 'get_metadef_objects', 'get': 'get_metadef_object',
               'add': 'add_metadef_object', 'modify': 'modify_metadef_object',
               'delete': 'delete_metadef_object'},
    'property': {'list': 'get_metadef_properties',
                 'get': 'get_metadef_property',
                 'add': 'add_metadef_property',
                 'modify': 'modify_metadef_property',
                 'delete': 'remove_metadef_property'},
    'tag': {'list': 'get_metadef_tags', 'get': 'get_metadef_tag',
            'add': 'add_metadef_tag', 'modify': 'modify_metadef_tag',
            'delete': 'delete_metadef_tag'},
}


def _missing(kind, name, namespace):
    return exception.NotFound('No %s named %s in namespace %s.'
                              % (kind, name, namespace))


def _duplicate(kind, name, namespace):
    return exception.Duplicate('A %s named %s already exists in namespace '
                               '%s.' % (kind, name, namespace))


def _row(conn, kind, namespace, name):
    row = db.child_get(conn, kind, namespace['id'], name)
    if row is None:
        raise _missing(kind, name, namespace['namespace'])
    return row


def list_items(ctx, ns_name, kind, **page):
    """The rows of one kind; tags accept sort_key, sort_dir, limit and
    marker (a tag name)."""
    with session.reader() as conn:
        namespace = md.load(conn, ctx, ns_name, RULES[kind]['list'])
        marker = page.pop('marker', None)
        if marker is not None:
            page['marker'] = _row(conn, kind, namespace, marker)
        return db.child_list(conn, kind, namespace['id'], **page)


def get_item(ctx, ns_name, kind, name):
    with session.reader() as conn:
        namespace = md.load(conn, ctx, ns_name, RULES[kind]['get'])
        return _row(conn, kind, namespace, name)


def get_property(ctx, ns_name, name, resource_type=None):
    """A property; with ``resource_type`` the name given carries the
    prefix of that association, which is removed before the look-up."""
    with session.reader() as conn:
        namespace = md.load(conn, ctx, ns_name, RULES['property']['get'])
        if resource_type is not None:
            association = db.association_get(conn, namespace['id'],
                                             resource_type)
            if association is None:
                raise exception.NotFound(
                    'Resource type %s is not associated with namespace %s.'
                    % (resource_type, ns_name))
            prefix = association['prefix'] or ''
            if not name.startswith(prefix):
                raise exception.NotFound(
                    "Property %s does not start with the prefix '%s' of "
                    'resource type %s.' % (name, prefix, resource_type))
            name = name[len(prefix):]
        return _row(conn, 'property', namespace, name)


def create_item(ctx, ns_name, kind, values, rule=None):
    """Store ``values`` (columns but the namespace and timestamps)."""
    now = timeutils.now()
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, ns_name,
                                      rule or RULES[kind]['add'])
        if db.child_get(conn, kind, namespace['id'], values['name']):
            raise _duplicate(kind, values['name'], ns_name)
        db.child_create(conn, kind, dict(values, namespace_id=namespace['id'],
                                         created_at=now, updated_at=now))
        created = _row(conn, kind, namespace, values['name'])
    notifier.metadef_event('create', kind, ns_name, created)
    return created


def update_item(ctx, ns_name, kind, name, values):
    """Replace a row's columns; renaming onto another row is 409."""
    now = timeutils.now()
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, ns_name,
                                      RULES[kind]['modify'])
        row = _row(conn, kind, namespace, name)
        new_name = values['name']
        if new_name != name and db.child_get(conn, kind, namespace['id'],
                                             new_name):
            raise _duplicate(kind, new_name, ns_name)
        db.child_update(conn, kind, row['id'], dict(values, updated_at=now))
        updated = _row(conn, kind, namespace, new_name)
    notifier.metadef_event('update', kind, ns_name, updated, name)
    return updated


def delete_item(ctx, ns_name, kind, name):
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, ns_name,
                                      RULES[kind]['delete'])
        md.refuse_if_protected(namespace, 'its %s %s' % (kind, name))
        row = _row(conn, kind, namespace, name)
        db.child_delete(conn, kind, row['id'])
    notifier.metadef_event('delete', kind, ns_name, row)


def create_tags(ctx, ns_name, names, append=False):
    """Store several tags at once. Unless ``append``, they replace every
    tag the namespace had."""
    if len(set(names)) != len(names):
        raise exception.Duplicate('A tag is given twice in the request.')
    now = timeutils.now()
    with session.writer() as conn:
        namespace = md.load_for_write(conn, ctx, ns_name, 'add_metadef_tags')
        if not append:
            db.child_delete_all(conn, 'tag', namespace['id'])
        for name in names:
            if db.child_get(conn, 'tag', namespace['id'], name):
                raise _duplicate('tag', name, ns_name)
            db.child_create(conn, 'tag', {'name': name,
                                          'namespace_id': namespace['id'],
                                          'created_at': now,
                                          'updated_at': now})
        created = [_row(conn, 'tag', namespace, name) for name in names]
    for row in created:
        notifier.metadef_event('create', 'tag', ns_name, row)
    return created
