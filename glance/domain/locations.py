"""Image locations: the URLs where the data of an image lives.

Three ways in:

* JSON-patch operations on ``/locations`` (legacy, only with
  ``show_multiple_locations``): ``probe_patch`` reads the size of every
  location a patch adds before its transaction opens, then ``apply_patch``
  applies one operation inside the transaction of ``images.update``.
* ``POST /v2/images/{id}/locations`` (``add_location``): checks, takes the
  image's import lock, records a ``location_import`` task and answers;
  a green thread then adds the location, hashes the data when asked to and
  makes the image active, or puts it back to queued.
* ``GET /v2/images/{id}/locations`` (``list_locations``).

A location removed through PATCH leaves its row deleted with status
``pending_delete`` until its data is gone: deleted right after the patch
commits, or left for the scrubber with ``delayed_delete``.
"""

import datetime
import hashlib
import re
import time
import urllib.parse
import uuid

import eventlet
from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import api as db
from glance.db import models
from glance.db import session
from glance.db import tasks as db_tasks
from glance.domain import image_data
from glance.domain import images
from glance.domain import policy
from glance.store import driver
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Schemes nobody may add: they would expose files of the service's host
# or credentials from its configuration.
RESTRICTED_SCHEMES = frozenset(['file', 'filesystem', 'swift+config'])
HASH_ALGOS = ('sha1', 'sha256', 'sha512', 'md5')
LOCK_PROPERTY = 'os_glance_import_task'
HASH_HOST_PROPERTY = 'os_glance_hash_op_host'
TASK_TYPE = 'location_import'
# Seconds between two looks at the image while hashing its data.
CANCEL_CHECK_INTERVAL = 1.0
_INDEX = re.compile('[0-9]+')


def _now():
    return models.utcnow().replace(microsecond=0)


def _live(image):
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


def backend_size(url, store_name=None):
    """Size of the data at ``url`` as its store reports it; 400 unless the
    store finds data there (more than zero bytes)."""
    store = usable_store(url, store_name)
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
            _check_metadata(item, name)
    elif isinstance(value, list):
        for item in value:
            _check_metadata(item, key)
    elif not isinstance(value, str):
        raise exception.BadRequest(
            'Invalid location metadata: %s is a %s; only objects, arrays '
            'and strings are allowed.' % (key, type(value).__name__))


def _store_metadata(url, metadata):
    """``metadata`` naming the store of ``url`` in multi-store."""
    metadata = dict(metadata)
    if registry.get_registry().multi_store:
        try:
            store = registry.store_for_location(url, metadata.get('store'))
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
    return {'url': url, 'metadata': _store_metadata(url, metadata),
            'size': size, 'status': 'active'}


# -- JSON patch ----------------------------------------------------------------

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
            image = images.load(conn, ctx, image_id, 'set_image_location')
    except exception.GlanceError:
        return {}
    known = {loc['url'] for loc in _live(image)}
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
    live = _live(image)
    pos = _position(token, len(live), insert=True)
    loc = _checked(value, probes)
    for old in live:
        if (old['url'], old['metadata']) == (loc['url'], loc['metadata']):
            raise exception.BadRequest('The image already has the location '
                                       '%s.' % loc['url'])
    _check_quotas(conn, image, len(live) + 1, [loc])
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
    live = _live(image)
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
                        'metadata': _store_metadata(v['url'], metadata)})
    else:
        new = [_checked(v, probes) for v in value]
    for loc in new:
        if sum(1 for other in new if (other['url'], other['metadata'])
               == (loc['url'], loc['metadata'])) > 1:
            raise exception.BadRequest('Location %s is given twice.'
                                       % loc['url'])
    _check_quotas(conn, image, len(new), [] if same else new)
    from_status = image['status']
    if not same:
        _fill(image, new_values, new[0]['size'])
    _write(conn, image, live, new)
    _save(conn, image, from_status)


def _remove(conn, ctx, image, token):
    policy.enforce_image(ctx, 'delete_image_location', image)
    _check_status(image, ('active',), 'removed')
    live = _live(image)
    if len(live) <= 1:
        raise exception.Forbidden('Cannot remove the last location of an '
                                  'image: delete the image instead.')
    gone = live[_position(token, len(live), insert=False)]
    db.location_remove(conn, gone['id'], _now())
    image['locations'] = [loc for loc in live if loc is not gone]
    if not CONF.delayed_delete:
        eventlet.spawn_n(_delete_removed, image['id'], gone['id'])


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
            db.location_set_status(conn, location_id, 'deleted', _now())
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
    if 'checksum' in new and not _hex_of_size(new['checksum'], 16):
        raise exception.Conflict('checksum %s is not the hexadecimal md5 of '
                                 '16 bytes.' % new['checksum'])
    algo = supplied.get('os_hash_algo')
    if algo != CONF.hashing_algorithm:
        raise exception.Conflict('os_hash_algo must be %s, not %s.'
                                 % (CONF.hashing_algorithm, algo))
    size = hashlib.new(algo).digest_size
    if not _hex_of_size(supplied.get('os_hash_value'), size):
        raise exception.Conflict('os_hash_value %s is not a hexadecimal %s '
                                 'digest (%d bytes).'
                                 % (supplied.get('os_hash_value'), algo,
                                    size))
    return new


def _hex_of_size(value, size):
    try:
        return len(bytes.fromhex(value)) == size
    except (TypeError, ValueError):
        return False


def _check_quotas(conn, image, count, added):
    """``image_location_quota`` for ``count`` locations, and the owner's
    storage quota for the ``added`` ones (413)."""
    images.check_quota('image_location_quota', count, 'locations')
    quota = image_data.parse_quota(CONF.user_storage_quota)
    if not added or not quota or CONF.use_keystone_limits:
        return
    size = image['size'] or added[0]['size']
    used = db.storage_usage(conn, image['owner'])
    if used + size * len(added) > quota:
        raise exception.LimitExceeded(
            'Denying attempt to add a location: the image data (%d bytes) '
            'would exceed the storage quota of %d bytes (%d used).'
            % (size, quota, used))


def _fill(image, new_values, size):
    """Size from the store when unknown; a queued image becomes active
    with the validation data given."""
    if not image['size']:
        image['size'] = size
    if image['status'] == 'queued':
        image.update(new_values)
        images.check_transition(image, 'active')
        image['status'] = 'active'


def _write(conn, image, live, new):
    """Make the live locations of ``image`` the list ``new``, in order.

    Locations are listed in the order of their rows, so a reordered list
    rewrites the rows in place and only a longer one adds rows.
    """
    now = _now()
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
    values['updated_at'] = _now()
    if not db.image_update(conn, image['id'], values,
                           from_status=from_status):
        raise exception.Conflict('Image %s was changed by another request, '
                                 'retry.' % image['id'])


# -- GET and POST /v2/images/{id}/locations ------------------------------------

def list_locations(ctx, image_id):
    with session.reader() as conn:
        image = images.load(conn, ctx, image_id, 'fetch_image_location')
    return [{'url': loc['url'], 'metadata': loc['metadata']}
            for loc in _live(image)]


def add_location(ctx, image_id, url, validation_data=None):
    """Start adding ``url`` to a queued image; returns the task id.

    The location is added, and the data hashed, by a green thread after
    the request is answered (see ``_import``).
    """
    with session.writer() as conn:
        image = images.load(conn, ctx, image_id, 'add_image_location',
                            for_update=True)
        if image['status'] != 'queued':
            raise exception.Conflict('A location can be added only to a '
                                     'queued image (this one is %s).'
                                     % image['status'])
        _check_caller_may_add(ctx, url)
        usable_store(url)
        if validation_data:
            _check_hash_value(validation_data)
        missing = [k for k in ('disk_format', 'container_format')
                   if not image.get(k)]
        if missing:
            raise exception.Conflict('Set %s of the image before adding a '
                                     'location.' % ' and '.join(missing))
        now = _now()
        task_id = str(uuid.uuid4())
        _take_lock(conn, image, task_id, now)
        db_tasks.create(conn, {
            'id': task_id, 'type': TASK_TYPE, 'status': 'pending',
            'owner': ctx.project_id or '', 'image_id': image_id,
            'user_id': (ctx.user_id or '')[:64] or None,
            'request_id': (ctx.request_id or '')[:64] or None},
            {'image_id': image_id, 'loc_url': url,
             'validation_data': validation_data or {}}, now)
    eventlet.spawn_n(_import, task_id, image_id, url, validation_data or {})
    return task_id


def _check_caller_may_add(ctx, url):
    """Without the service role (user or service token), only http(s)
    locations, and only where an http store reads them (403)."""
    roles = {r.lower() for r in list(ctx.roles or ())
             + list(ctx.service_roles or ())}
    if 'service' in roles:
        return
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ('http', 'https'):
        raise exception.Forbidden('Only http and https locations may be '
                                  'added by callers without the service '
                                  'role.')
    if not any(s.type_name == 'http'
               for s in registry.get_registry().stores()):
        raise exception.Forbidden('Locations may be added by callers '
                                  'without the service role only when an '
                                  'http store is enabled.')


def _check_hash_value(validation_data):
    algo = validation_data['os_hash_algo']
    size = hashlib.new(algo).digest_size
    if not _hex_of_size(validation_data['os_hash_value'], size):
        raise exception.BadRequest('os_hash_value must be the hexadecimal '
                                   '%s digest (%d bytes).' % (algo, size))


def _expiry(now):
    return now + datetime.timedelta(hours=CONF.task.task_time_to_live)


def _take_lock(conn, image, task_id, now):
    """Make ``task_id`` the holder of the image's import lock (409 while
    another live task holds it; a stale holder is failed)."""
    props = image['properties']
    holder = props.get(LOCK_PROPERTY)
    if holder and not db_tasks.fail_if_stale(
            conn, holder, now, 'Expired lock preempted', _expiry(now)):
        raise exception.Conflict('Image %s has active task %s.'
                                 % (image['id'], holder))
    db.image_set_properties(conn, image['id'], props,
                            dict(props, **{LOCK_PROPERTY: task_id}), now)


def _set_properties(conn, image, changes, now):
    """Set (value) or drop (None) some properties of a loaded image."""
    new = dict(image['properties'])
    for key, value in changes.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    db.image_set_properties(conn, image['id'], image['properties'], new,
                            now)
    image['properties'] = new


def _finish_task(task_id, status, result=None, message=None):
    now = _now()
    with session.writer() as conn:
        db_tasks.update(conn, task_id, {'status': status,
                                        'expires_at': _expiry(now)}, now,
                        result=result, message=message)


class _Cancelled(Exception):
    pass


def _import(task_id, image_id, url, validation_data):
    """The location_import task: add the location, hash, activate."""
    location_id = None
    try:
        with session.writer() as conn:
            db_tasks.update(conn, task_id, {'status': 'processing'}, _now())
        size = backend_size(url)
        hashing = CONF.do_secure_hash
        with session.writer() as conn:
            image = _locked(conn, image_id, task_id)
            _check_quotas(conn, image, len(_live(image)) + 1,
                          [{'size': size}])
            now = _now()
            location_id = db.location_add(conn, image_id, url,
                                          _store_metadata(url, {}), now)
            values = {'size': image['size'] or size, 'updated_at': now}
            if hashing and validation_data:
                values['status'] = 'importing'
                host = CONF.worker_self_reference_url or CONF.public_endpoint
                if host:
                    _set_properties(conn, image, {HASH_HOST_PROPERTY: host},
                                    now)
            else:
                values['status'] = 'active'
                if validation_data:
                    values['os_hash_algo'] = validation_data['os_hash_algo']
                    values['os_hash_value'] = validation_data[
                        'os_hash_value']
            images.check_transition(image, values['status'])
            if not db.image_update(conn, image_id, values,
                                   from_status='queued'):
                raise exception.Conflict('Image %s changed during the '
                                         'task.' % image_id)
        if hashing and validation_data:
            algo = validation_data['os_hash_algo']
            checksum, digest = _hash_data(image_id, url, algo)
            if digest != validation_data['os_hash_value'].lower():
                raise exception.Invalid(
                    'The %s digest of the data at %s is %s, not the %s '
                    'given.' % (algo, url, digest,
                                validation_data['os_hash_value']))
            _activate(image_id, checksum, algo, digest)
    except Exception as e:
        LOG.warning('Task %s (location %s of image %s) failed: %s',
                    task_id, url, image_id, e)
        _revert(image_id, location_id)
        _finish_task(task_id, 'failure', message=str(e))
        _release(image_id, task_id)
        return
    _finish_task(task_id, 'success', result={'image_id': image_id})
    _release(image_id, task_id)
    if hashing and not validation_data:
        _hash_active(image_id, url)


def _locked(conn, image_id, task_id):
    image = db.image_get(conn, image_id, for_update=True)
    if image is None:
        raise exception.NotFound('Image %s was deleted.' % image_id)
    if image['properties'].get(LOCK_PROPERTY) != task_id:
        raise exception.Conflict('Task %s no longer holds the lock of '
                                 'image %s.' % (task_id, image_id))
    if image['status'] != 'queued':
        raise exception.Conflict('Image %s is %s, no longer queued.'
                                 % (image_id, image['status']))
    return image


def _activate(image_id, checksum, algo, digest):
    with session.writer() as conn:
        image = db.image_get(conn, image_id, for_update=True)
        now = _now()
        if image is None or not db.image_update(conn, image_id, {
                'status': 'active', 'checksum': checksum,
                'os_hash_algo': algo, 'os_hash_value': digest,
                'updated_at': now}, from_status='importing'):
            raise _Cancelled('Image %s was deleted or changed while its '
                             'data was hashed.' % image_id)
        _set_properties(conn, image, {HASH_HOST_PROPERTY: None}, now)


def _revert(image_id, location_id):
    """Back to queued without the location, if the task got that far and
    the image is still importing (nothing else touched it). The data at
    the location is not the service's and stays."""
    if location_id is None:
        return
    try:
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is None or image['status'] != 'importing':
                return
            now = _now()
            db.location_delete(conn, location_id, now)
            db.image_update(conn, image_id, {
                'status': 'queued', 'size': None, 'virtual_size': None,
                'checksum': None, 'os_hash_algo': None,
                'os_hash_value': None, 'updated_at': now},
                from_status='importing')
            _set_properties(conn, image, {HASH_HOST_PROPERTY: None}, now)
    except Exception:
        LOG.exception('Could not put image %s back to queued', image_id)


def _release(image_id, task_id):
    """Drop the import lock if ``task_id`` still holds it."""
    try:
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is not None and image['properties'].get(
                    LOCK_PROPERTY) == task_id:
                _set_properties(conn, image, {LOCK_PROPERTY: None}, _now())
    except Exception:
        LOG.exception('Could not release the lock of image %s', image_id)


def _hash_active(image_id, url):
    """Hashes of an image made active without them; failures are only
    logged (the image stays active without hashes)."""
    algo = CONF.hashing_algorithm
    try:
        checksum, digest = _hash_data(image_id, url, algo)
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is None or image['checksum'] or image['os_hash_value']:
                return
            db.image_update(conn, image_id, {
                'checksum': checksum, 'os_hash_algo': algo,
                'os_hash_value': digest, 'updated_at': _now()})
    except Exception as e:
        LOG.warning('Could not compute the hashes of image %s from %s: %s',
                    image_id, url, e)


def _hash_data(image_id, url, algo):
    """(md5, ``algo``) hex digests of the data at ``url``; a failed read
    is retried up to ``http_retries`` times; stops when the image is
    deleted."""
    attempt = 0
    while True:
        try:
            return _hash_once(image_id, url, algo)
        except _Cancelled:
            raise
        except Exception as e:
            if attempt >= CONF.http_retries:
                raise
            attempt += 1
            LOG.warning('Reading %s for image %s failed (%s); retry %d of '
                        '%d', url, image_id, e, attempt, CONF.http_retries)


def _update(hashes, data):
    for h in hashes:
        h.update(data)


def _hash_once(image_id, url, algo):
    store = registry.store_for_location(url)
    chunks, _total = store.get(url)
    hashes = (hashlib.md5(usedforsecurity=False), hashlib.new(algo))
    checked = time.monotonic()
    try:
        for chunk in chunks:
            if len(chunk) >= image_data.TPOOL_MIN:
                # hashlib releases the GIL: the hub keeps serving.
                tpool.execute(_update, hashes, chunk)
            else:
                _update(hashes, chunk)
            if time.monotonic() - checked > CANCEL_CHECK_INTERVAL:
                _check_alive(image_id)
                checked = time.monotonic()
    finally:
        chunks.close()
    _check_alive(image_id)
    return hashes[0].hexdigest(), hashes[1].hexdigest()


def _check_alive(image_id):
    with session.reader() as conn:
        image = db.image_get(conn, image_id)
    if image is None or image['status'] not in ('importing', 'active'):
        raise _Cancelled('Image %s was deleted while its data was hashed.'
                         % image_id)
