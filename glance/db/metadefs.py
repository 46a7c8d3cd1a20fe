"""Repository functions over the metadata definitions tables.

Each function takes an open connection (``session.reader()`` or
``session.writer()``) and returns plain dicts. Objects, properties and
tags share one set of functions: each is a row named uniquely within its
namespace. A duplicate name is ``exception.Duplicate`` whether it is
noticed by a look-up or by the unique constraint (a concurrent insert).
"""

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from glance.common import exception
from glance.db import metadef_models as m
from glance.db import remote

namespaces = m.namespaces
resource_types = m.resource_types
associations = m.associations
CHILDREN = {'object': m.objects, 'property': m.properties, 'tag': m.tags}

# Sort keys of namespace listings; nullable text sorts as ''.
NAMESPACE_SORT_KEYS = ('namespace', 'display_name', 'visibility', 'protected',
                       'owner', 'created_at', 'updated_at')
TAG_SORT_KEYS = ('name', 'created_at', 'updated_at')


def _one(conn, query):
    row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None


def _insert(conn, table, values, what):
    try:
        with conn.begin_nested():
            result = conn.execute(table.insert().values(values))
    except sa_exc.IntegrityError:
        raise exception.Duplicate('%s already exists.' % what)
    return result.inserted_primary_key[0]


def _update(conn, table, where, values, what):
    try:
        with conn.begin_nested():
            conn.execute(table.update().where(*where).values(values))
    except sa_exc.IntegrityError:
        raise exception.Duplicate('%s already exists.' % what)


# -- namespaces ---------------------------------------------------------------

def namespace_get(conn, name):
    return _one(conn, sa.select(namespaces).where(
        namespaces.c.namespace == name))


def _sort_column(key):
    column = namespaces.c[key]
    if key == 'display_name':
        column = sa.func.coalesce(column, '')
    return column


def namespace_list(conn, project_id=None, is_admin=False, visibility=None,
                   protected=None, resource_types_=None, sort_key='created_at',
                   sort_dir='desc', limit=None, marker=None):
    """Namespaces the caller may see, one page in (sort key, id) order.

    ``marker`` is the row of the last namespace of the previous page.
    """
    query = sa.select(namespaces)
    if not is_admin:
        query = query.where(sa.or_(namespaces.c.visibility == 'public',
                                   namespaces.c.owner == project_id))
    if visibility is not None:
        query = query.where(namespaces.c.visibility == visibility)
    if protected is not None:
        query = query.where(namespaces.c.protected == protected)
    if resource_types_:
        query = query.where(namespaces.c.id.in_(
            sa.select(associations.c.namespace_id).join(
                resource_types,
                resource_types.c.id == associations.c.resource_type_id)
            .where(resource_types.c.name.in_(resource_types_))))
    column = _sort_column(sort_key)
    descending = sort_dir == 'desc'
    if marker is not None:
        value = marker[sort_key]
        if sort_key == 'display_name' and value is None:
            value = ''
        after = (column < value) if descending else (column > value)
        same_id = (namespaces.c.id < marker['id']) if descending else (
            namespaces.c.id > marker['id'])
        query = query.where(sa.or_(after, sa.and_(column == value, same_id)))
    if descending:
        query = query.order_by(column.desc(), namespaces.c.id.desc())
    else:
        query = query.order_by(column.asc(), namespaces.c.id.asc())
    if limit is not None:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def namespace_create(conn, values):
    return _insert(conn, namespaces, values,
                   'Namespace %s' % values['namespace'])


def namespace_update(conn, namespace_id, values):
    _update(conn, namespaces, [namespaces.c.id == namespace_id], values,
            'Namespace %s' % values.get('namespace'))


def namespace_delete(conn, namespace_id):
    """The namespace and everything in it."""
    for kind in CHILDREN:
        child_delete_all(conn, kind, namespace_id)
    conn.execute(associations.delete().where(
        associations.c.namespace_id == namespace_id))
    conn.execute(namespaces.delete().where(namespaces.c.id == namespace_id))


# -- objects, properties, tags ------------------------------------------------

def child_list(conn, kind, namespace_id, sort_key='created_at',
               sort_dir='asc', limit=None, marker=None):
    table = CHILDREN[kind]
    query = sa.select(table).where(table.c.namespace_id == namespace_id)
    column = table.c[sort_key]
    descending = sort_dir == 'desc'
    if marker is not None:
        value = marker[sort_key]
        after = (column < value) if descending else (column > value)
        same_id = (table.c.id < marker['id']) if descending else (
            table.c.id > marker['id'])
        query = query.where(sa.or_(after, sa.and_(column == value, same_id)))
    order = (column.desc(), table.c.id.desc()) if descending else (
        column.asc(), table.c.id.asc())
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def child_get(conn, kind, namespace_id, name):
    table = CHILDREN[kind]
    return _one(conn, sa.select(table).where(
        table.c.namespace_id == namespace_id, table.c.name == name))


def child_create(conn, kind, values):
    table = CHILDREN[kind]
    return _insert(conn, table, values, 'A %s named %s in this namespace'
                   % (kind, values['name']))


def child_update(conn, kind, row_id, values):
    table = CHILDREN[kind]
    _update(conn, table, [table.c.id == row_id], values,
            'A %s named %s in this namespace' % (kind, values.get('name')))


def child_delete(conn, kind, row_id):
    table = CHILDREN[kind]
    conn.execute(table.delete().where(table.c.id == row_id))


def child_delete_all(conn, kind, namespace_id):
    table = CHILDREN[kind]
    conn.execute(table.delete().where(table.c.namespace_id == namespace_id))


# -- resource types and associations ------------------------------------------

def resource_type_list(conn):
    return [dict(r._mapping) for r in conn.execute(
        sa.select(resource_types).order_by(resource_types.c.name))]


def resource_type_get(conn, name):
    return _one(conn, sa.select(resource_types).where(
        resource_types.c.name == name))


def resource_type_create(conn, values):
    return _insert(conn, resource_types, values,
                   'Resource type %s' % values['name'])


def resource_type_update(conn, type_id, values):
    _update(conn, resource_types, [resource_types.c.id == type_id], values,
            'Resource type %s' % values.get('name'))


_ASSOCIATION_COLUMNS = (associations.c.namespace_id,
                        associations.c.resource_type_id,
                        resource_types.c.name, associations.c.prefix,
                        associations.c.properties_target,
                        associations.c.created_at, associations.c.updated_at)


def association_list(conn, namespace_ids):
    """{namespace id: [association, ...]} of some namespaces."""
    found = {i: [] for i in namespace_ids}
    if not namespace_ids:
        return found
    rows = conn.execute(
        sa.select(*_ASSOCIATION_COLUMNS).join(
            resource_types,
            resource_types.c.id == associations.c.resource_type_id)
        .where(associations.c.namespace_id.in_(namespace_ids))
        .order_by(associations.c.created_at, resource_types.c.name))
    for row in rows:
        found[row.namespace_id].append(dict(row._mapping))
    return found


def association_get(conn, namespace_id, type_name):
    return _one(conn, sa.select(*_ASSOCIATION_COLUMNS).join(
        resource_types,
        resource_types.c.id == associations.c.resource_type_id)
        .where(associations.c.namespace_id == namespace_id,
               resource_types.c.name == type_name))


def association_create(conn, values, type_name):
    _insert(conn, associations, values,
            'An association with resource type %s' % type_name)


def association_update(conn, namespace_id, type_id, values):
    _update(conn, associations,
            [associations.c.namespace_id == namespace_id,
             associations.c.resource_type_id == type_id], values,
            'An association')


def association_delete(conn, namespace_id, type_id):
    conn.execute(associations.delete().where(
        associations.c.namespace_id == namespace_id,
        associations.c.resource_type_id == type_id))


# -- whole catalog ------------------------------------------------------------

def delete_everything(conn):
    """Every metadef row, children first."""
    for table in (m.properties, m.objects, m.tags, associations, namespaces,
                  resource_types):
        conn.execute(table.delete())


# Each public function above also runs through glance-registry.
remote.export(globals())
