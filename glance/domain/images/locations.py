"""Image locations: the URLs where the data of an image lives.

Three ways in:

* JSON-patch operations on ``/locations`` (legacy, only with
  ``show_multiple_locations``): ``probe_patch`` reads the size of every
  location a patch adds before its transaction opens, then ``apply_patch``
  applies one operation inside the transaction of ``images.update``.
* ``POST /v2/images/{id}/locations``: see ``glance.imports.location_import``,
  which uses the checks of this module.
* ``GET /v2/images/{id}/locations`` (``list_locations``).

Locations an http(s) store reads must pass the URL filter of
``[import_filtering_opts]`` (no loopback, link-local, private or other
internal address unless the operator allows it, allowed schemes, hosts
and ports only): ``check_fetchable`` refuses the others with a 400 when
they are added, and the store checks again at every read (redirects
included), so a location that became refused, or was written to the
database directly, is never fetched.

A location removed through PATCH leaves its row deleted with status
``pending_delete`` until its data is gone: deleted right after the patch
commits, or left for the scrubber with ``delayed_delete``.
"""

import hashlib
import re
import threading

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.db import usage
from glance.domain import policy
from glance.domain.images import quota
from glance.domain.images import records
from glance.domain.images import rules
from glance.store import driver
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Schemes nobody may add: they would expose files of the service's host
# or credentials from its configuration.
RESTRICTED_SCHEMES = frozenset(['file', 'filesystem', 'swift+config'])
_INDEX = re.compile('[0-9]+')


def green():
    return eventlet.patcher.is_monkey_patched('thread')


def spawn(func, *args):
    """Run ``func`` in the background: a green thread under the eventlet
    daemon; a real thread under other WSGI servers (uWSGI, gunicorn),
    where no hub would ever run a green one."""
    if green():
        eventlet.spawn_n(func, *args)
    else:
        threading.Thread(target=func, args=args, daemon=True).start()


# The status glance-auditor (auditor_mark_bad_locations) gives a location
# whose data is missing or differs from the image's record: downloads skip
# it and the locations API does not list it; deleting the image deletes
# it and its data like a live one.
AUDIT_FAILED = 'audit_failed'


def live_locations(image):
    return [loc for loc in image['locations'] if loc['status'] == 'active']


# -- one location ------------------------------------------------------------

def _invalid(url, why):
    return exception.BadRequest('Invalid location %s: %s' % (url, why))


def usable_store(url, store_name=None):
    """The store that reads ``url``; 400 when no store may be given it."""
    if not isinstance(url, str) or not url:
        raise exception.BadRequest('Invalid location: the url must be a '
                                   'non-empty string.')
    try:
        rules.check_text(url)
    except exception.Invalid as e:
        raise exception.BadRequest('Invalid location: %s' % e.msg)
    if not isinstance(store_name, str):
        store_name = None
    try:
        scheme = driver.scheme_of(url)
    except store_exc.BadStoreUri:
        raise _invalid(url, 'it has no scheme')
    if scheme in RESTRICTED_SCHEMES:
        raise _invalid(url, '%s locations cannot be added' % scheme)
    try:
        return registry.store_for_location(url, store_name)
    except store_exc.UnknownScheme:
        raise _invalid(url, 'no store of this service reads %s:// URLs'
                       % scheme)


def check_fetchable(url, store_name=None):
    """The store that reads ``url``, once it agrees to fetch from it; 400
    when the URL filter of the store refuses it (an internal address, a
    scheme, host or port it does not allow). Resolves the URL's host: to
    be called outside transactions."""
    store = usable_store(url, store_name)
    vet = getattr(store, 'vet_location', None)
    if vet is not None:
        try:
            vet(url)
        except store_exc.StoreError as e:
            raise exception.BadRequest('Invalid location: %s' % e.msg)
    return store


def backend_size(url, store_name=None):
    """Size of the data at ``url`` as its store reports it; 400 unless the
    store may fetch from there (``check_fetchable``) and finds data there
    (more than zero bytes)."""
    store = check_fetchable(url, store_name)
    try:
        size = store.get_size(url)
    except exception.GlanceError as e:
        raise _invalid(url, e.msg)
    if not size or size <= 0:
        raise _invalid(url, 'the store finds no data there')
    return size


def _check_metadata(value, key='metadata'):
    """Location metadata: objects, arrays and strings only."""
    if isinstance(value, dict):
        for name, item in value.items():
            rules.check_text(name)
            _check_metadata(item, name)
    elif isinstance(value, list):
        for item in value:
            _check_metadata(item, key)
    elif isinstance(value, str):
        rules.check_text(value)
    else:
        raise exception.BadRequest(
            'Invalid location metadata: %s is a %s; only objects, arrays '
            'and strings are allowed.' % (key, type(value).__name__))


def store_metadata(url, metadata):
    """``metadata`` naming the store of ``url`` in multi-store."""
    metadata = dict(metadata)
    if registry.get_registry().multi_store:
        name = metadata.get('store')
        try:
            store = registry.store_for_location(
                url, name if isinstance(name, str) else None)
        except store_exc.StoreError:
            return metadata
        metadata['store'] = store.name
    return metadata


def _checked(value, probes):
    """A new location from a patch value, validated: url, metadata, size."""
    url = value['url']
    metadata = value.get('metadata') or {}
    _check_metadata(metadata)
    usable_store(url, metadata.get('store'))
    size = probes.get(url)
    if isinstance(size, exception.GlanceError):
        raise size
    if size is None:
        # Not probed: the image changed since the probe (rare).
        size = backend_size(url, metadata.get('store'))
    return {'url': url, 'metadata': store_metadata(url, metadata),
            'size': size, 'status': 'active'}


# -- JSON patch ---------------------------------------------------------------

def probe_patch(ctx, image_id, changes):
    """{url: size or error} for the locations ``changes`` add.

    Store look-ups go over the network, which a write transaction must not
    wait on; ``apply_patch`` then takes the answers from here. Nothing is
    probed for callers who may not set the locations of the image.
    """
    wanted = []
    for op, path, value, _media in changes:
        if path[0] != 'locations' or op == 'remove':
            continue
        for loc in (value if op == 'replace' else [value]) or []:
            if isinstance(loc, dict) and isinstance(loc.get('url'), str):
                wanted.append((op, loc))
    if not wanted or not CONF.show_multiple_locations:
        return {}
    try:
        with session.reader() as conn:
            image = records.load(conn, ctx, image_id, 'set_image_location')
    except exception.GlanceError:
        return {}
    known = {loc['url'] for loc in live_locations(image)}
    probes = {}
    for op, loc in wanted:
        url = loc['url']
        if url in probes or (op == 'replace' and url in known):
            continue
        metadata = loc.get('metadata')
        store_name = metadata.get('store') if isinstance(metadata,
                                                         dict) else None
        try:
            probes[url] = backend_size(url, store_name)
        except exception.GlanceError as e:
            probes[url] = e
    return probes


def apply_patch(conn, ctx, image, op, path, value, probes):
    """Apply one ``/locations`` patch operation to ``image`` (loaded for
    update in ``conn``'s transaction) and write it. Returns the status the
    image now has in the database."""
    if not CONF.show_multiple_locations:
        raise exception.Forbidden('Image locations are not shown on this '
                                  'deployment, so they cannot be added, '
                                  'replaced or removed.')
    if op == 'remove':
        _remove(conn, ctx, image, path[1])
    elif op == 'add':
        _add(conn, ctx, image, path[1], value, probes)
    else:
        _replace(conn, ctx, image, value, probes)
    return image['status']


def _position(token, count, insert):
    """Index named by a path token ('-' is the end); 400 if out of range."""
    last = count if insert else count - 1
    if token == '-':
        return last
    if _INDEX.fullmatch(token) and int(token) <= last:
        return int(token)
    raise exception.BadRequest('Invalid position %s for %s a location: '
                               'the image has %d.'
                               % (token, 'adding' if insert else 'removing',
                                  count))


def _check_status(image, allowed, action):
    if image['status'] not in allowed:
        raise exception.Conflict('Locations cannot be %s while the image is '
                                 '%s.' % (action, image['status']))


def _add(conn, ctx, image, token, value, probes):
    policy.enforce_image(ctx, 'set_image_location', image)
    _check_status(image, ('queued', 'active'), 'added')
    new_values = validation_values(image, [value])
    live = live_locations(image)
    pos = _position(token, len(live), insert=True)
    loc = _checked(value, probes)
    for old in live:
        if (old['url'], old['metadata']) == (loc['url'], loc['metadata']):
            raise exception.BadRequest('The image already has the location '
                                       '%s.' % loc['url'])
    check_quotas(conn, image, len(live) + 1, [loc])
    from_status = image['status']
    _fill(image, new_values, loc['size'])
    _write(conn, image, live, live[:pos] + [loc] + live[pos:])
    _save(conn, image, from_status)


def _replace(conn, ctx, image, value, probes):
    policy.enforce_image(ctx, 'set_image_location', image)
    _check_status(image, ('queued', 'active'), 'replaced')
    if not value:
        raise exception.Forbidden('Locations cannot be replaced by none: '
                                  'delete the image instead.')
    new_values = validation_values(image, value)
    live = live_locations(image)
    urls = sorted(v['url'] for v in value)
    same = urls == sorted(loc['url'] for loc in live)
    if live and not same:
        raise exception.BadRequest(
            'Original locations is not empty: only the metadata of the '
            'current locations (%s) may be replaced.'
            % ', '.join(loc['url'] for loc in live))
    if same:
        # Metadata only: the data behind these URLs is already accepted.
        new = []
        for v in value:
            metadata = v.get('metadata') or {}
            _check_metadata(metadata)
            new.append({'url': v['url'], 'status': 'active',
                        'metadata': store_metadata(v['url'], metadata)})
    else:
        new = [_checked(v, probes) for v in value]
    for loc in new:
        if sum(1 for other in new if (other['url'], other['metadata'])
               == (loc['url'], loc['metadata'])) > 1:
            raise exception.BadRequest('Location %s is given twice.'
                                       % loc['url'])
    check_quotas(conn, image, len(new), [] if same else new)
    from_status = image['status']
    if not same:
        _fill(image, new_values, new[0]['size'])
    _write(conn, image, live, new)
    _save(conn, image, from_status)


def _remove(conn, ctx, image, token):
    policy.enforce_image(ctx, 'delete_image_location', image)
    _check_status(image, ('active',), 'removed')
    live = live_locations(image)
    if len(live) <= 1:
        raise exception.Forbidden('Cannot remove the last location of an '
                                  'image: delete the image instead.')
    gone = live[_position(token, len(live), insert=False)]
    db.location_remove(conn, gone['id'], timeutils.now())
    image['locations'] = [loc for loc in live if loc is not gone]
    if not CONF.delayed_delete:
        spawn(_delete_removed, image['id'], gone['id'])


def _delete_removed(image_id, location_id):
    """Delete the data of a location taken off its image, once the
    transaction that took it off has ended: if it rolled back, the
    location is live again and its data stays."""
    try:
        with session.writer() as conn:
            # Waits for that transaction (row lock, or the SQLite lock).
            db.image_get(conn, image_id, include_deleted=True,
                         for_update=True)
            loc = db.location_get(conn, location_id)
        if loc is None or not loc['deleted'] or (
                loc['status'] != 'pending_delete'):
            return
        try:
            registry.delete_location_data(loc)
        except store_exc.StoreDeleteNotSupported:
            pass   # a read-only store: the data is not the service's
        with session.writer() as conn:
            db.location_set_status(conn, location_id, 'deleted',
                                   timeutils.now())
    except Exception:
        LOG.exception('Could not delete the data of location %s of image '
                      '%s', location_id, image_id)


def validation_values(image, locs):
    """The checksum and hashes the ``validation_data`` of ``locs`` would
    set on the image; 409 when they contradict each other, the image or
    the service's hashing algorithm."""
    supplied = {}
    for loc in locs:
        for key, value in (loc.get('validation_data') or {}).items():
            if supplied.get(key, value) != value:
                raise exception.Conflict('Conflicting values for %s.' % key)
            supplied[key] = value
    new = {}
    for key, value in supplied.items():
        current = image.get(key)
        if value == current:
            continue
        if current:
            raise exception.Conflict("%s already has value '%s'; cannot set "
                                     "it to '%s'." % (key, current, value))
        new[key] = value
    if not new:
        return {}
    if image['status'] != 'queued':
        raise exception.Conflict("New value(s) for %s may only be provided "
                                 "when the image is queued."
                                 % ', '.join(sorted(new)))
    if 'checksum' in new and not hex_of_size(new['checksum'], 16):
        raise exception.Conflict('checksum %s is not the hexadecimal md5 of '
                                 '16 bytes.' % new['checksum'])
    algo = supplied.get('os_hash_algo')
    if algo != CONF.hashing_algorithm:
        raise exception.Conflict('os_hash_algo must be %s, not %s.'
                                 % (CONF.hashing_algorithm, algo))
    size = hashlib.new(algo).digest_size
    if not hex_of_size(supplied.get('os_hash_value'), size):
        raise exception.Conflict('os_hash_value %s is not a hexadecimal %s '
                                 'digest (%d bytes).'
                                 % (supplied.get('os_hash_value'), algo,
                                    size))
    return new


def hex_of_size(value, size):
    try:
        return len(bytes.fromhex(value)) == size
    except (TypeError, ValueError):
        return False


def check_quotas(conn, image, count, added):
    """``image_location_quota`` for ``count`` locations, and the owner's
    storage quota for the ``added`` ones (413)."""
    quota.check_quota('image_location_quota', count, 'locations')
    allowed = quota.parse_quota(CONF.user_storage_quota)
    if not added or not allowed or CONF.use_keystone_limits:
        return
    size = image['size'] or added[0]['size']
    used = usage.bytes_held(conn, image['owner'])
    if used + size * len(added) > allowed:
        raise exception.LimitExceeded(
            'Denying attempt to add a location: the image data (%d bytes) '
            'would exceed the storage quota of %d bytes (%d used).'
            % (size, allowed, used))


def _fill(image, new_values, size):
    """Size from the store when unknown; a queued image becomes active
    with the validation data given."""
    if not image['size']:
        image['size'] = size
    if image['status'] == 'queued':
        image.update(new_values)
        rules.check_transition(image, 'active')
        image['status'] = 'active'


def _write(conn, image, live, new):
    """Make the live locations of ``image`` the list ``new``, in order.

    Locations are listed in the order of their rows, so a reordered list
    rewrites the rows in place and only a longer one adds rows.
    """
    now = timeutils.now()
    for i, loc in enumerate(new):
        if i < len(live):
            old = live[i]
            if (old['url'], old['metadata']) != (loc['url'],
                                                 loc['metadata']):
                db.location_rewrite(conn, old['id'], loc['url'],
                                    loc['metadata'], now)
            loc['id'] = old['id']
        else:
            loc['id'] = db.location_add(conn, image['id'], loc['url'],
                                        loc['metadata'], now)
    for old in live[len(new):]:
        db.location_delete(conn, old['id'], now)
    image['locations'] = [{'id': loc['id'], 'url': loc['url'],
                           'metadata': loc['metadata'], 'status': 'active'}
                          for loc in new]


def _save(conn, image, from_status):
    values = {k: image[k] for k in ('status', 'size', 'checksum',
                                    'os_hash_algo', 'os_hash_value')}
    values['updated_at'] = timeutils.now()
    if not db.image_update(conn, image['id'], values,
                           from_status=from_status):
        raise exception.Conflict('Image %s was changed by another request, '
                                 'retry.' % image['id'])


# -- GET and POST /v2/images/{id}/locations -----------------------------------

def list_locations(ctx, image_id):
    with session.reader() as conn:
        image = records.load(conn, ctx, image_id, 'fetch_image_location')
    return [{'url': loc['url'], 'metadata': loc['metadata']}
            for loc in live_locations(image)]
