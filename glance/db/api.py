"""Repository functions over the image tables.

Each function takes an open connection from ``session.reader()`` or
``session.writer()`` and works with plain dicts: an image is the row of
``images`` plus ``properties`` (name -> value) and ``tags`` (list).
SQLAlchemy Core keeps a page of images to three queries.
"""

import collections
import copy
import json
import operator

import sqlalchemy as sa

from glance.common import exception
from glance.db import models
from glance.db import read_cache
from glance.db import remote

images = models.images
props = models.image_properties
tags_t = models.image_tags
members = models.image_members
locations = models.image_locations

IMAGE_COLUMNS = [c.name for c in images.columns]
NULLABLE_SORT_KEYS = {'name', 'container_format', 'disk_format', 'size',
                      'updated_at', 'virtual_size', 'min_ram', 'min_disk'}


def _row_to_image(row, keys=IMAGE_COLUMNS):
    image = dict(zip(keys, row))
    image['properties'] = {}
    image['tags'] = []
    image['locations'] = []
    return image


def _children(image_ids):
    """One query for the properties, tags and locations of some images."""
    def rows(table, kind, *columns):
        cols = [sa.literal_column("'%s'" % kind).label('kind'),
                table.c.image_id, table.c.id]
        cols += [c.label('c%d' % i) for i, c in enumerate(columns)]
        cols += [sa.null().label('c%d' % i)
                 for i in range(len(columns), 3)]
        return sa.select(*cols).where(table.c.image_id.in_(image_ids),
                                      table.c.deleted == sa.false())
    return sa.union_all(
        rows(props, 'p', props.c.name, props.c.value),
        rows(tags_t, 't', tags_t.c.value),
        rows(locations, 'l', locations.c.value, locations.c.meta_data,
             locations.c.status),
    )


_CHILDREN_ONE = _children([sa.bindparam('image_id')])
_row_id = operator.itemgetter(2)
_GET = sa.select(images).where(images.c.id == sa.bindparam('image_id'))
_GET_LIVE = _GET.where(images.c.deleted == sa.false())


def _get_with_children(live):
    """An image and its properties, tags and locations in one statement
    (one round trip; for PostgreSQL): the image's columns, then those of
    one child per row (NULL when it has none)."""
    children = _CHILDREN_ONE.subquery('c')
    query = sa.select(images, *children.c).select_from(
        images.outerjoin(children, sa.true())).where(
            images.c.id == sa.bindparam('image_id'))
    if live:
        query = query.where(images.c.deleted == sa.false())
    return query


_GET_WHOLE = _get_with_children(live=False)
_GET_WHOLE_LIVE = _get_with_children(live=True)
_N_IMAGE = len(IMAGE_COLUMNS)


_CHILDREN_BY_COUNT = {}


def _children_of(count):
    """The children query for ``count`` ids, built once per count: plain
    bind parameters cost far less per call than an expanding IN."""
    query = _CHILDREN_BY_COUNT.get(count)
    if query is None:
        query = _children([sa.bindparam('i%d' % n) for n in range(count)])
        if len(_CHILDREN_BY_COUNT) < 64:
            _CHILDREN_BY_COUNT[count] = query
    return query


def _attach(conn, found):
    """Load properties, tags and locations of the images in ``found``."""
    if not found:
        return
    if len(found) == 1:
        result = conn.execute(_CHILDREN_ONE, {'image_id': next(iter(found))})
    else:
        result = conn.execute(_children_of(len(found)), {
            'i%d' % n: image_id for n, image_id in enumerate(found)})
    _add_children(found, result.all())


def _add_children(found, rows):
    # Unordered (a sort in SQL costs more): tags and locations keep the
    # order they were added in, their row ids.
    for kind, image_id, row_id, c0, c1, c2 in sorted(rows, key=_row_id):
        image = found[image_id]
        if kind == 'p':
            image['properties'][c0] = c1
        elif kind == 't':
            image['tags'].append(c0)
        else:
            image['locations'].append(
                {'id': row_id, 'url': c0, 'status': c2,
                 'metadata': json.loads(c1 or '{}')})


def image_get(conn, image_id, include_deleted=False, for_update=False):
    """The image with ``image_id`` or None."""
    cacheable = not (include_deleted or for_update or _writing(conn))
    version = None
    if cacheable:
        cached, version = read_cache.lookup(conn, image_id, copy_image)
        if cached is not None:
            return cached
    if for_update or conn.dialect.name != 'postgresql':
        # The row locked alone (FOR UPDATE cannot take the outer join).
        # The one statement saves PostgreSQL a round trip (a fifth more
        # shows a second); MariaDB materialises the joined union, which
        # costs it more than the round trip.
        query = _GET if include_deleted else _GET_LIVE
        if for_update and conn.dialect.name != 'sqlite':
            query = query.with_for_update()
        row = conn.execute(query, {'image_id': image_id}).first()
        if row is None:
            return None
        image = _row_to_image(row)
        _attach(conn, {image['id']: image})
    else:
        query = _GET_WHOLE if include_deleted else _GET_WHOLE_LIVE
        rows = conn.execute(query, {'image_id': image_id}).all()
        if not rows:
            return None
        image = _row_to_image(rows[0][:_N_IMAGE])
        _add_children({image['id']: image}, [
            row[_N_IMAGE:] for row in rows if row[_N_IMAGE] is not None])
    if cacheable:
        read_cache.store(image_id, image, version, copy_image)
    return image


def copy_image(image):
    """A copy of an image dict that shares nothing mutable with it."""
    new = dict(image)
    new['properties'] = dict(image['properties'])
    new['tags'] = list(image['tags'])
    new['locations'] = [dict(loc, metadata=copy.deepcopy(loc['metadata']))
                        for loc in image['locations']]
    return new


def _copy_images(found):
    return [copy_image(image) for image in found]


def _writing(conn):
    """True inside a writer's transaction: what it reads may include its
    own changes, not committed yet, which the cache must neither serve
    stale nor keep."""
    return conn.get_execution_options().get('glance_write', False)


def image_create(conn, values, properties, tags):
    try:
        conn.execute(images.insert(), values)
    except sa.exc.IntegrityError:
        raise exception.Duplicate('Image with identifier %s already exists!'
                                  % values['id'])
    now = values['created_at']
    if properties:
        conn.execute(props.insert(), [
            {'image_id': values['id'], 'name': k, 'value': v,
             'created_at': now, 'updated_at': now, 'deleted': False}
            for k, v in properties.items()])
    if tags:
        conn.execute(tags_t.insert(), [
            {'image_id': values['id'], 'value': t, 'created_at': now,
             'updated_at': now, 'deleted': False} for t in tags])


# The SET clause comes from the parameters, so these statements are built
# (and compiled) once.
_UPDATE = images.update().where(images.c.id == sa.bindparam('w_id'),
                                images.c.deleted == sa.false())
_UPDATE_FROM = _UPDATE.where(images.c.status == sa.bindparam('w_status'))


def image_update(conn, image_id, values, from_status=None):
    """Update image columns; False when ``from_status`` no longer holds."""
    params = dict(values, w_id=image_id)
    if from_status is None:
        return conn.execute(_UPDATE, params).rowcount == 1
    params['w_status'] = from_status
    return conn.execute(_UPDATE_FROM, params).rowcount == 1


def image_set_properties(conn, image_id, old, new, now):
    """Make the live properties of an image exactly ``new``."""
    for name in set(old) - set(new):
        conn.execute(props.update().where(
            props.c.image_id == image_id, props.c.name == name).values(
            deleted=True, deleted_at=now, updated_at=now))
    for name, value in new.items():
        if name in old and old[name] == value:
            continue
        revived = conn.execute(props.update().where(
            props.c.image_id == image_id, props.c.name == name).values(
            value=value, deleted=False, deleted_at=None, updated_at=now))
        if revived.rowcount == 0:
            conn.execute(props.insert().values(
                image_id=image_id, name=name, value=value, created_at=now,
                updated_at=now, deleted=False))


def image_set_tags(conn, image_id, old, new, now):
    """Make the live tags of an image exactly ``new``."""
    gone = set(old) - set(new)
    if gone:
        conn.execute(tags_t.update().where(
            tags_t.c.image_id == image_id, tags_t.c.value.in_(gone),
            tags_t.c.deleted == sa.false()).values(
            deleted=True, deleted_at=now, updated_at=now))
    added = [t for t in new if t not in set(old)]
    if added:
        conn.execute(tags_t.insert(), [
            {'image_id': image_id, 'value': t, 'created_at': now,
             'updated_at': now, 'deleted': False} for t in added])


def image_destroy(conn, image_id, status, now):
    """Soft-delete an image and everything hanging off it."""
    conn.execute(images.update().where(images.c.id == image_id).values(
        status=status, deleted=True, deleted_at=now, updated_at=now))
    for table in (props, tags_t, members):
        conn.execute(table.update().where(
            table.c.image_id == image_id,
            table.c.deleted == sa.false()).values(
            deleted=True, deleted_at=now, updated_at=now))
    # Also the locations glance-auditor marked bad: their data goes too.
    live = locations.update().where(locations.c.image_id == image_id,
                                    locations.c.deleted == sa.false(),
                                    locations.c.status.in_(
                                        ('active', 'audit_failed')))
    if status == 'pending_delete':
        # The scrubber deletes the data later (or it is restored).
        conn.execute(live.values(status='pending_delete', updated_at=now))
    else:
        conn.execute(live.values(status='deleted', deleted=True,
                                 deleted_at=now, updated_at=now))


def pending_delete_images(conn, before):
    """Images waiting for the scrubber, deleted before ``before``."""
    rows = conn.execute(sa.select(images.c.id).where(
        images.c.status == 'pending_delete',
        images.c.deleted_at <= before).order_by(images.c.deleted_at))
    return [row.id for row in rows]


def pending_locations(conn, image_id):
    rows = conn.execute(sa.select(
        locations.c.id, locations.c.value, locations.c.meta_data).where(
        locations.c.image_id == image_id,
        locations.c.status == 'pending_delete',
        locations.c.deleted == sa.false()))
    return [{'id': r.id, 'url': r.value,
             'metadata': json.loads(r.meta_data or '{}')} for r in rows]


def removed_locations(conn, before):
    """Locations removed from live images whose data waits for the
    scrubber, removed before ``before``."""
    rows = conn.execute(sa.select(
        locations.c.id, locations.c.image_id, locations.c.value,
        locations.c.meta_data).join(
        images, images.c.id == locations.c.image_id).where(
        locations.c.status == 'pending_delete',
        locations.c.deleted == sa.true(),
        locations.c.deleted_at <= before,
        images.c.status != 'pending_delete'))
    return [{'id': r.id, 'image_id': r.image_id, 'url': r.value,
             'metadata': json.loads(r.meta_data or '{}')} for r in rows]


def image_restore(conn, image_id, now):
    """pending_delete -> active, with the locations, properties and tags it
    had; False when the image is not pending_delete."""
    deleted_at = conn.execute(sa.select(images.c.deleted_at).where(
        images.c.id == image_id,
        images.c.status == 'pending_delete')).scalar()
    if deleted_at is None:
        return False
    conn.execute(images.update().where(images.c.id == image_id).values(
        status='active', deleted=False, deleted_at=None, updated_at=now))
    conn.execute(locations.update().where(
        locations.c.image_id == image_id,
        locations.c.status == 'pending_delete').values(
        status='active', updated_at=now))
    # Rows deleted together with the image come back with it.
    for table in (props, tags_t, members):
        conn.execute(table.update().where(
            table.c.image_id == image_id,
            table.c.deleted_at == deleted_at).values(
            deleted=False, deleted_at=None, updated_at=now))
    return True


def is_member(conn, image_id, project_id):
    return conn.execute(sa.select(members.c.id).where(
        members.c.image_id == image_id, members.c.member == project_id,
        members.c.deleted == sa.false())).first() is not None


# -- listing -----------------------------------------------------------------

# A listing query depends on the *shape* of the request (which filters,
# sort keys, marker, caller kind) and on values. Statements are built once
# per shape with named bind parameters, then reused with the values of
# each request: building and caching-key a SQLAlchemy statement costs more
# than running it on SQLite.

def _list_shape(ctx, filters, marker_terms, limit, keys, dirs,
                member_status, visibility):
    """(shape, params) of a listing request."""
    params = {}
    columns = []
    for key, (op, value) in sorted(filters.get('columns', {}).items()):
        if op == 'in':
            for n, item in enumerate(value):
                params['f_%s_%d' % (key, n)] = item
            columns.append((key, op, len(value)))
        else:
            params['f_%s' % key] = value
            columns.append((key, op, None))
    props_f = sorted(filters.get('properties', {}).items())
    for n, (name, value) in enumerate(props_f):
        params['pn%d' % n] = name
        params['pv%d' % n] = value
    for n, tag in enumerate(filters.get('tags', [])):
        params['tag%d' % n] = tag
    for key in ('size_min', 'size_max'):
        if key in filters:
            params[key] = filters[key]
    marker_nulls = None
    if marker_terms is not None:
        marker_nulls = tuple(v is None for v in marker_terms)
        for n, value in enumerate(marker_terms):
            if value is not None:
                params['m%d' % n] = value
    if limit is not None:
        params['limit'] = limit
    project = ctx.project_id
    if project is not None:
        params['project'] = project
    if visibility not in (None, 'all'):
        params['visibility'] = visibility
    if member_status != 'all':
        params['member_status'] = member_status
    shape = (bool(ctx.is_admin), project is None, visibility
             if visibility in (None, 'all') else 'one', member_status == 'all',
             tuple(columns), len(props_f), len(filters.get('tags', [])),
             'size_min' in filters, 'size_max' in filters, tuple(keys),
             tuple(dirs), marker_nulls, limit is None)
    return shape, params


def _visibility_clause(is_admin, has_project, visibility, all_members):
    """Which images the caller may list (see the image sharing rules)."""
    project = sa.bindparam('project')
    clauses = []
    if visibility == 'one':
        clauses.append(images.c.visibility == sa.bindparam('visibility'))
    elif visibility is None:
        # Community images are listed only for their owner unless asked for.
        hide = images.c.visibility != 'community'
        if has_project:
            hide = sa.or_(hide, images.c.owner == project)
        clauses.append(hide)
    if is_admin:
        return clauses
    member_q = sa.select(members.c.id).where(
        members.c.image_id == images.c.id,
        members.c.deleted == sa.false())
    if has_project:
        member_q = member_q.where(members.c.member == project)
    if not all_members:
        member_q = member_q.where(
            members.c.status == sa.bindparam('member_status'))
    visible = [images.c.visibility.in_(('public', 'community')),
               sa.and_(images.c.visibility == 'shared',
                       sa.exists(member_q))]
    if has_project:
        visible.append(images.c.owner == project)
    clauses.append(sa.or_(*visible))
    return clauses


def _filter_clauses(columns, n_props, n_tags, size_min, size_max):
    clauses = []
    for key, op, count in columns:
        col = images.c[key]
        if op == 'in':
            clauses.append(col.in_([sa.bindparam('f_%s_%d' % (key, n))
                                    for n in range(count)]))
        else:
            clauses.append(_compare(col, op, sa.bindparam('f_%s' % key)))
    for n in range(n_props):
        clauses.append(sa.exists(sa.select(props.c.id).where(
            props.c.image_id == images.c.id,
            props.c.name == sa.bindparam('pn%d' % n),
            props.c.value == sa.bindparam('pv%d' % n),
            props.c.deleted == sa.false())))
    for n in range(n_tags):
        clauses.append(sa.exists(sa.select(tags_t.c.id).where(
            tags_t.c.image_id == images.c.id,
            tags_t.c.value == sa.bindparam('tag%d' % n),
            tags_t.c.deleted == sa.false())))
    if size_min:
        clauses.append(images.c.size >= sa.bindparam('size_min'))
    if size_max:
        clauses.append(images.c.size <= sa.bindparam('size_max'))
    return clauses


def _compare(col, op, value):
    return {'eq': col.__eq__, 'neq': col.__ne__, 'gt': col.__gt__,
            'gte': col.__ge__, 'lt': col.__lt__, 'lte': col.__le__}[op](value)


def _sort_terms(sort_keys, sort_dirs):
    """(expression, direction, marker getter) triples, NULLs first."""
    terms = []
    for key, direction in zip(sort_keys, sort_dirs):
        col = images.c[key]
        if key in NULLABLE_SORT_KEYS:
            flag = sa.case((col.is_(None), 0), else_=1)
            terms.append((flag, direction,
                          lambda m, k=key: 0 if m[k] is None else 1))
        terms.append((col, direction, lambda m, k=key: m[k]))
    return terms


def _after_marker(terms, marker_nulls):
    """Keyset condition selecting rows that sort after the marker, whose
    sort values are the bind parameters m0, m1..."""
    ors = []
    for i, (expr, direction, _getter) in enumerate(terms):
        if marker_nulls[i]:
            continue
        ands = []
        for n, (prev_expr, _, _) in enumerate(terms[:i]):
            ands.append(prev_expr.is_(None) if marker_nulls[n]
                        else prev_expr == sa.bindparam('m%d' % n))
        value = sa.bindparam('m%d' % i)
        ands.append(expr > value if direction == 'asc' else expr < value)
        ors.append(sa.and_(*ands))
    return sa.or_(*ors) if ors else sa.false()


def _list_query(shape, terms):
    (is_admin, no_project, visibility, all_members, columns, n_props,
     n_tags, size_min, size_max, _keys, _dirs, marker_nulls,
     no_limit) = shape
    query = sa.select(images).where(images.c.deleted == sa.false(),
                                    images.c.status != 'killed')
    query = query.where(*_visibility_clause(is_admin, not no_project,
                                            visibility, all_members))
    query = query.where(*_filter_clauses(columns, n_props, n_tags,
                                         size_min, size_max))
    if marker_nulls is not None:
        query = query.where(_after_marker(terms, marker_nulls))
    query = query.order_by(*[e.asc() if d == 'asc' else e.desc()
                             for e, d, _ in terms])
    if not no_limit:
        query = query.limit(sa.bindparam('limit', type_=sa.Integer))
    if list(_keys[:2]) == ['created_at', 'id'] and _dirs[0] == _dirs[1]:
        # MySQL and MariaDB otherwise intersect the single-column indexes
        # and sort every visible row to return the first few: 0.3-0.5 s
        # a page on 100,000 images, against under 1 ms reading
        # ix_images_list in order.
        for dialect in ('mysql', 'mariadb'):
            query = query.with_hint(
                images, 'USE INDEX FOR ORDER BY (ix_images_list)', dialect)
    return query


def _with_children(query, terms):
    """PostgreSQL: the page of ``query`` and the properties, tags and
    locations of its images in one statement (one round trip instead of
    two): each image's columns and its place in the page, then one child
    per row (NULL when it has none), in page order."""
    order = [e.asc() if d == 'asc' else e.desc() for e, d, _ in terms]
    page = query.add_columns(
        sa.func.row_number().over(order_by=order).label('glance_rank')
    ).subquery('page')
    children = _children([page.c.id]).lateral('c')
    return sa.select(page, *children.c).select_from(
        page.outerjoin(children, sa.true())).order_by(page.c.glance_rank)


# The statements of the most recently used shapes, least recent first.
_LIST_QUERIES = collections.OrderedDict()
_LIST_QUERIES_MAX = 256


def _list_query_of(shape, terms, whole=False):
    """The statement of ``shape`` (``whole``: with the children, see
    _with_children), from the LRU of _LIST_QUERIES_MAX shapes (or built
    and added to it, pushing out the least recent)."""
    key = (shape, whole)
    query = _LIST_QUERIES.get(key)
    if query is not None:
        try:
            _LIST_QUERIES.move_to_end(key)
        except KeyError:
            pass        # pushed out by another thread meanwhile
        return query
    query = _list_query(shape, terms)
    if whole:
        query = _with_children(query, terms)
    _LIST_QUERIES[key] = query
    while len(_LIST_QUERIES) > _LIST_QUERIES_MAX:
        _LIST_QUERIES.popitem(last=False)
    return query


def image_list(conn, ctx, filters, marker=None, limit=None,
               sort_keys=('created_at',), sort_dirs=('desc',),
               member_status='accepted', visibility=None):
    """A page of images the caller may see, with properties and tags."""
    keys, dirs = list(sort_keys), list(sort_dirs)
    for tie in ('created_at', 'id'):
        if tie not in keys:
            keys.append(tie)
            dirs.append(dirs[0])
    terms = _sort_terms(keys, dirs)
    marker_terms = None
    if marker is not None:
        marker_terms = [getter(marker) for _e, _d, getter in terms]
    shape, params = _list_shape(ctx, filters, marker_terms, limit, keys,
                                dirs, member_status, visibility)
    # The query and its parameters say everything the answer depends on.
    key = None if _writing(conn) else ('list', shape,
                                       tuple(sorted(params.items())))
    try:
        hash(key)
    except TypeError:
        key = None
    version = None
    if key is not None:
        cached, version = read_cache.lookup(conn, key, _copy_images)
        if cached is not None:
            return cached
    found = {}
    ordered = []
    if conn.dialect.name == 'postgresql':
        # One round trip (MariaDB has no LATERAL).
        query = _list_query_of(shape, terms, whole=True)
        children = []
        for row in conn.execute(query, params).all():
            image_id = row[0]
            if image_id not in found:
                image = found[image_id] = _row_to_image(row[:_N_IMAGE])
                ordered.append(image)
            if row[_N_IMAGE + 1] is not None:
                children.append(row[_N_IMAGE + 1:])
        _add_children(found, children)
    else:
        query = _list_query_of(shape, terms)
        for row in conn.execute(query, params).all():
            image = _row_to_image(row)
            found[image['id']] = image
            ordered.append(image)
        _attach(conn, found)
    if key is not None:
        read_cache.store(key, ordered, version, _copy_images)
    return ordered


def image_count_by_owner(conn, owner):
    return conn.execute(sa.select(sa.func.count()).select_from(images).where(
        images.c.owner == owner, images.c.deleted == sa.false(),
        images.c.status.notin_(('killed', 'pending_delete', 'deleted'))
    )).scalar()


def location_add(conn, image_id, url, metadata, now):
    """Append a live location to an image; returns its row id."""
    result = conn.execute(locations.insert().values(
        image_id=image_id, value=url, meta_data=json.dumps(metadata or {}),
        status='active', created_at=now, updated_at=now, deleted=False))
    return result.inserted_primary_key[0]


def images_gone(conn, image_ids):
    """Those of ``image_ids`` with no row, or deleted for good (not
    pending_delete, whose data the scrubber still needs)."""
    image_ids = list(image_ids)
    kept = set()
    for start in range(0, len(image_ids), 500):
        batch = image_ids[start:start + 500]
        kept.update(row[0] for row in conn.execute(
            sa.select(images.c.id).where(
                images.c.id.in_(batch),
                sa.or_(images.c.deleted == sa.false(),
                       images.c.status != 'deleted'))))
    return [i for i in image_ids if i not in kept]


def location_urls_live(conn, urls):
    """Those of ``urls`` that a live location records."""
    urls = list(urls)
    found = set()
    for start in range(0, len(urls), 500):
        found.update(row[0] for row in conn.execute(
            sa.select(locations.c.value).where(
                locations.c.value.in_(urls[start:start + 500]),
                locations.c.deleted == sa.false())))
    return found


def location_recorded(conn, image_id, url):
    """Whether ``url`` is a live location of the image."""
    return conn.execute(sa.select(locations.c.id).where(
        locations.c.image_id == image_id, locations.c.value == url,
        locations.c.deleted == sa.false()).limit(1)).first() is not None


def location_delete(conn, location_id, now):
    conn.execute(locations.update().where(locations.c.id == location_id)
                 .values(status='deleted', deleted=True, deleted_at=now,
                         updated_at=now))


def image_update_deleted(conn, image_id, now):
    """pending_delete -> deleted once the scrubber removed the data."""
    return conn.execute(images.update().where(
        images.c.id == image_id, images.c.status == 'pending_delete').values(
        status='deleted', updated_at=now)).rowcount == 1


def storage_usage(conn, owner, exclude=None):
    """Bytes stored for ``owner``: each image's size once per location."""
    live = sa.select(sa.func.count()).select_from(locations).where(
        locations.c.image_id == images.c.id,
        locations.c.deleted == sa.false(),
        locations.c.status == 'active').scalar_subquery()
    query = sa.select(sa.func.coalesce(sa.func.sum(images.c.size * live), 0)
                      ).where(images.c.owner == owner,
                              images.c.deleted == sa.false(),
                              images.c.status.notin_(
                                  ('killed', 'pending_delete', 'deleted')))
    if exclude is not None:
        query = query.where(images.c.id != exclude)
    return int(conn.execute(query).scalar() or 0)


def location_rewrite(conn, location_id, url, metadata, now):
    """Give a live location row another url and metadata (locations keep
    the order of their rows, so reordering rewrites rows)."""
    conn.execute(locations.update().where(locations.c.id == location_id)
                 .values(value=url, meta_data=json.dumps(metadata or {}),
                         updated_at=now))


def location_remove(conn, location_id, now):
    """Take a location off its image, its data still to be deleted: the
    row is deleted with status pending_delete until the data is gone."""
    conn.execute(locations.update().where(locations.c.id == location_id)
                 .values(status='pending_delete', deleted=True,
                         deleted_at=now, updated_at=now))


def location_get(conn, location_id):
    """One location row, deleted or not, as a dict; None if unknown."""
    row = conn.execute(sa.select(
        locations.c.id, locations.c.image_id, locations.c.value,
        locations.c.meta_data, locations.c.status, locations.c.deleted)
        .where(locations.c.id == location_id)).first()
    if row is None:
        return None
    return {'id': row.id, 'image_id': row.image_id, 'url': row.value,
            'metadata': json.loads(row.meta_data or '{}'),
            'status': row.status, 'deleted': row.deleted}


def location_set_status(conn, location_id, status, now):
    conn.execute(locations.update().where(locations.c.id == location_id)
                 .values(status=status, updated_at=now))


# Each public function above also runs through glance-registry.
remote.export(globals())
