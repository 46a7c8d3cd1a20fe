"""Image metadata operations.

One function per API operation, each reading top to bottom: load, policy,
domain rules, state change, save. Errors are ``glance.common.exception``
classes; the WSGI layer maps them to HTTP.
"""

import uuid

from oslo_config import cfg
from oslo_log import log as logging

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.domain import policy
from glance.domain import tasks
from glance.domain.images import limits
from glance.domain.images import locations
from glance.domain.images import property_protections as protections
from glance.domain.images import quota
from glance.domain.images import records
from glance.domain.images import rules
from glance.domain.images import staging
from glance.domain.images import store_acls
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

BASE_ATTRIBUTES = {'id', 'name', 'visibility', 'protected', 'os_hidden',
                   'min_disk', 'min_ram', 'disk_format', 'container_format',
                   'owner', 'tags', 'checksum', 'created_at', 'size',
                   'virtual_size', 'status', 'updated_at', 'os_hash_algo',
                   'os_hash_value'}
READONLY_ATTRIBUTES = {'created_at', 'updated_at', 'status', 'checksum',
                       'os_hash_algo', 'os_hash_value', 'size',
                       'virtual_size'}
RESERVED_PROPERTIES = {'owner', 'locations', 'deleted', 'deleted_at',
                       'direct_url', 'self', 'file', 'schema', 'location'}
# Statuses in which data is on its way in: the formats stay as they are.
DATA_IN_FLIGHT = ('saving', 'uploading', 'importing')
SETTABLE_COLUMNS = {'name', 'visibility', 'protected', 'os_hidden',
                    'min_disk', 'min_ram', 'disk_format', 'container_format',
                    'owner'}


def _check_min(name, value):
    if value is not None and not 0 <= value <= rules.INT_MAX:
        raise exception.Invalid('Image %s must be between 0 and %d (%d '
                                'given)' % (name, rules.INT_MAX, value))


def _check_visibility_policy(ctx, visibility, target):
    if visibility == 'public':
        policy.enforce(ctx, 'publicize_image', target)
    elif visibility == 'community':
        policy.enforce(ctx, 'communitize_image', target)


@session.replayable
def get(ctx, image_id):
    with session.reader() as conn:
        return protections.readable(ctx, records.load(conn, ctx, image_id))


@session.replayable
def create(ctx, body):
    """Register a new image (status queued) from a validated request body."""
    extra = {k: v for k, v in body.items() if k not in BASE_ATTRIBUTES}
    for key in extra:
        if len(key) > 255:
            raise exception.Invalid('Image property names must be at most '
                                    '255 characters long: %s...' % key[:32])
        if key in RESERVED_PROPERTIES or key.startswith('os_glance'):
            raise exception.ReservedProperty(
                "Attribute '%s' is reserved." % key)
        _check_protection(ctx, key, 'create')
    owner = body.get('owner') or ctx.project_id
    visibility = body.get('visibility', 'shared')
    target = {'project_id': owner, 'owner': owner,
              'visibility': body.get('visibility', 'private')}
    if not policy.check(ctx, 'add_image', target):
        if owner != ctx.project_id:
            raise exception.Forbidden('You are not permitted to create '
                                      "images owned by '%s'." % owner)
        raise exception.Forbidden('You are not authorized to complete '
                                  'add_image action.')
    _check_visibility_policy(ctx, visibility, target)
    for key in READONLY_ATTRIBUTES & set(body):
        raise exception.ReadonlyProperty("Attribute '%s' is read-only." % key)
    tags = list(dict.fromkeys(body.get('tags') or []))
    quota.check_quota('image_tag_quota', len(tags), 'tags')
    quota.check_quota('image_property_quota', len(extra), 'image properties')
    _check_min('min_ram', body.get('min_ram'))
    _check_min('min_disk', body.get('min_disk'))
    for value in list(extra.values()) + list(extra) + tags + [
            body.get('name'), owner]:
        rules.check_text(value)
    limits.enforce(owner, image_count_total=1)
    now = timeutils.now()
    values = {
        # A UUID's canonical form: twins differing only in case are one
        # id, on every database (a MySQL collation would compare them
        # equal anyway).
        'id': (body.get('id') or str(uuid.uuid4())).lower(),
        'name': body.get('name'),
        'status': 'queued',
        'visibility': visibility,
        'protected': bool(body.get('protected', False)),
        'os_hidden': bool(body.get('os_hidden', False)),
        'min_disk': body.get('min_disk') or 0,
        'min_ram': body.get('min_ram') or 0,
        'disk_format': body.get('disk_format'),
        'container_format': body.get('container_format'),
        'owner': owner,
        'created_at': now,
        'updated_at': now,
        'deleted': False,
    }
    with session.writer(one_call=True) as conn:
        db.image_create(conn, values, extra, tags)
    notifier.image_event('image.create', dict(values, properties=extra,
                                              tags=tags))
    return protections.readable(
        ctx, dict(values, properties=extra, tags=tags, locations=[]))


@session.replayable
def list_images(ctx, filters, marker=None, limit=None, sort_keys=None,
                sort_dirs=None, member_status='accepted', visibility=None):
    """A page of images and whether the database filled the page."""
    policy.enforce(ctx, 'get_images', {'project_id': ctx.project_id,
                                       'owner': ctx.project_id})
    if not all(protections.allowed(ctx, key, 'read')
               for key in filters.get('properties', ())):
        # Filtering on a property one cannot read would reveal it.
        return [], False
    with session.reader() as conn:
        marker_image = None
        if marker is not None:
            try:
                uuid.UUID(marker)
                marker_image = db.image_get(conn, marker)
            except ValueError:
                marker_image = None
            if marker_image is None or not records.visible(
                    conn, ctx, marker_image):
                raise exception.Invalid('Invalid marker. Image %s could not '
                                        'be found.' % marker)
        found = db.image_list(conn, ctx, filters, marker=marker_image,
                              limit=limit,
                              sort_keys=sort_keys or ['created_at'],
                              sort_dirs=sort_dirs or ['desc'],
                              member_status=member_status,
                              visibility=visibility)
    page_full = limit is not None and len(found) == limit
    shown = policy.filter_images(ctx, 'get_image', found)
    return [protections.readable(ctx, i) for i in shown], page_full


@session.replayable
def update(ctx, image_id, changes):
    """Apply JSON-patch ``changes`` (op, path tokens, value) in one save."""
    probes = _location_probes(ctx, image_id, changes)
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'modify_image',
                             for_update=True)
        old_props = dict(image['properties'])
        old_tags = list(image['tags'])
        old_status = image['status']
        old_visibility = image['visibility']
        # Properties the caller may not read are as good as absent to it.
        hidden = set(old_props) - set(
            protections.readable(ctx, image)['properties'])
        for op, path, value, media_version in changes:
            name = path[0]
            if name == 'locations':
                old_status = _location_change(conn, ctx, image, op, path,
                                              value, probes)
            elif op == 'remove':
                if name in BASE_ATTRIBUTES or name in SETTABLE_COLUMNS:
                    raise exception.Forbidden('Properties %s may not be '
                                              'removed.' % name)
                if name not in image['properties'] or name in hidden:
                    raise exception.Conflict('Property %s does not exist.'
                                             % name)
                _check_protection(ctx, name, 'delete')
                del image['properties'][name]
            else:
                if op == 'replace' and (_missing_extra(image, name)
                                        or name in hidden):
                    raise exception.Conflict('Property %s does not exist.'
                                             % name)
                if (op == 'add' and media_version == '2.0'
                        and _exists(image, name) and name not in hidden):
                    raise exception.Conflict('Property %s already present.'
                                             % name)
                if name not in BASE_ATTRIBUTES and name != 'tags':
                    # Setting a property that exists is an update, also
                    # when the caller cannot read it; that refusal does
                    # not tell it exists.
                    exists = name in image['properties']
                    _check_protection(ctx, name,
                                      'update' if exists else 'create',
                                      'set' if name in hidden else None)
                    hidden.discard(name)
                _set(ctx, image, name, value)
        if set(image['properties']) - set(old_props):
            # The service's own os_glance* properties do not count.
            quota.check_quota('image_property_quota', len(
                [k for k in image['properties']
                 if not k.startswith('os_glance')]), 'image properties')
        if not changes:
            return protections.readable(ctx, image)
        now = timeutils.now()
        values = {k: image[k] for k in SETTABLE_COLUMNS}
        values['updated_at'] = now
        if not db.image_update(conn, image_id, values,
                               from_status=old_status):
            raise exception.Conflict('Image %s was changed by another '
                                     'request, retry.' % image_id)
        db.image_set_properties(conn, image_id, old_props,
                                image['properties'], now)
        db.image_set_tags(conn, image_id, old_tags, image['tags'], now)
    image['updated_at'] = now
    if image['visibility'] != old_visibility:
        store_acls.sync(ctx, image)
    notifier.image_event('image.update', image)
    return protections.readable(ctx, image)


def _check_protection(ctx, name, op, said=None):
    if not protections.allowed(ctx, name, op):
        raise exception.Forbidden('Not allowed to %s the property %s.'
                                  % (said or op, name))


def _location_probes(ctx, image_id, changes):
    # Store look-ups for new locations, before the transaction: it must
    # not wait on the network.
    return locations.probe_patch(ctx, image_id, changes)


def _location_change(conn, ctx, image, op, path, value, probes):
    """Apply one /locations operation; returns the status the image now
    has in the database (the conditional save below must expect it)."""
    return locations.apply_patch(conn, ctx, image, op, path, value, probes)


def _missing_extra(image, name):
    return name not in BASE_ATTRIBUTES and name not in image['properties']


def _exists(image, name):
    if name in BASE_ATTRIBUTES:
        return image.get(name) is not None
    return name in image['properties']


def _set(ctx, image, name, value):
    """Set one attribute or property, with the domain rules for it."""
    target = policy.image_target(ctx, image)
    if name == 'tags':
        tags = list(dict.fromkeys(value))
        quota.check_quota('image_tag_quota', len(tags), 'tags')
        for tag in tags:
            rules.check_text(tag)
        image['tags'] = tags
    elif name == 'owner':
        if not ctx.is_admin:
            raise exception.Forbidden("Attribute 'owner' can be only "
                                      "replaced by an administrator")
        rules.check_text(value)
        image['owner'] = value
    elif name == 'visibility':
        _check_visibility_policy(ctx, value, target)
        image['visibility'] = value
    elif name in ('container_format', 'disk_format'):
        if (image['status'] in DATA_IN_FLIGHT
                or image['properties'].get(tasks.LOCK_PROPERTY)):
            if value == image[name]:
                return
            # The format checks judge the data by these attributes.
            raise exception.Conflict(
                'Attribute %s cannot change while the image data is being '
                'uploaded, staged or imported (image status %s).'
                % (name, image['status']))
        if image['status'] != 'queued':
            raise exception.Forbidden('Attribute %s can be only replaced for '
                                      'a queued image.' % name)
        image[name] = value
    elif name in ('min_ram', 'min_disk'):
        _check_min(name, value)
        image[name] = value
    elif name in SETTABLE_COLUMNS:
        rules.check_text(value)
        image[name] = value
    else:
        rules.check_text(name)
        rules.check_text(value)
        image['properties'][name] = value


def delete(ctx, image_id):
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'delete_image',
                             for_update=True)
        if image['protected']:
            raise exception.ProtectedImageDelete(
                'Image %s is protected and cannot be deleted.' % image_id)
        status = 'deleted'
        if CONF.delayed_delete and image['locations']:
            status = 'pending_delete'
        try:
            rules.check_transition(image, status)
        except exception.InvalidImageStatusTransition as e:
            raise exception.Invalid(str(e))
        if status == 'deleted':
            _check_deletable(image['locations'])
        db.image_destroy(conn, image_id, status,
                         timeutils.now())
    notifier.image_deleted('image.delete', image, status)
    if status == 'deleted':
        for loc in image['locations']:
            _delete_data(loc, ctx)
    if image['status'] in ('uploading', 'importing'):
        # Staged data on this node goes now; on another node, its sweep
        # removes it.
        staging.delete_staged(image_id)


def _check_deletable(image_locations):
    """503, the image left as it is, when data to delete now is in a store
    this service does not drive yet (a deployment taken over): deleting
    the image would leave that data behind for good. (Under delayed
    delete the scrubber retries until the store can be reached.)"""
    for loc in image_locations:
        if loc['status'] == 'active':
            try:
                store = registry.store_for_location(
                    loc['url'], loc['metadata'].get('store'))
            except store_exc.StoreNotDriven:
                raise
            except store_exc.StoreError:
                continue
            # 409, the image left as it is, when the store would refuse
            # (RBD clones of its snapshot).
            store.check_delete(loc['url'])


def _delete_data(loc, ctx):
    try:
        # The request's context: a store writing with the caller's
        # credentials (multi-tenant swift) deletes with them too.
        registry.delete_location_data(loc, context=ctx)
    except Exception as e:
        LOG.warning('Could not delete image data at %s: %s', loc['url'], e)


def deactivate(ctx, image_id):
    _toggle(ctx, image_id, 'deactivate', 'active', 'deactivated')


def reactivate(ctx, image_id):
    _toggle(ctx, image_id, 'reactivate', 'deactivated', 'active')


@session.replayable
def _toggle(ctx, image_id, rule, from_status, to_status):
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, rule, for_update=True)
        if image['status'] == to_status:
            return
        if image['status'] != from_status:
            raise exception.Forbidden('Not allowed to %s image in status '
                                      "'%s'" % (rule, image['status']))
        values = {'status': to_status, 'updated_at': timeutils.now()}
        if not db.image_update(conn, image_id, values,
                               from_status=from_status):
            raise exception.Conflict('Image %s was changed by another '
                                     'request, retry.' % image_id)
    notifier.image_event('image.update', dict(image, **values))
