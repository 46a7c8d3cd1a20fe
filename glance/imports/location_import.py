"""POST /v2/images/{id}/locations: the location_import task.

``add_location`` checks the request, takes the image's import lock,
records a ``location_import`` task and returns; a background thread then
adds the location, hashes the data when asked to and makes the image
active, or puts it back to queued, and releases the lock.
"""

import hashlib
import time
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import blocking
from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.db import tasks as db_tasks
from glance.domain import tasks
from glance.domain.images import hashing
from glance.domain.images import locations
from glance.domain.images import records
from glance.domain.images import rules
from glance.domain.images import staging
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

HASH_ALGOS = ('sha1', 'sha256', 'sha512', 'md5')
HASH_HOST_PROPERTY = 'os_glance_hash_op_host'
TASK_TYPE = 'location_import'
# Seconds between two looks at the image while hashing its data.
CANCEL_CHECK_INTERVAL = 1.0


def add_location(ctx, image_id, url, validation_data=None):
    """Start adding ``url`` to a queued image; returns the task id.

    The location is added, and the data hashed, by a green thread after
    the request is answered (see ``_import``).
    """
    # The URL filter resolves names: not inside the transaction. Its
    # refusal comes after the checks of the image and the caller.
    try:
        locations.check_fetchable(url)
        refusal = None
    except exception.GlanceError as e:
        refusal = e
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'add_image_location',
                            for_update=True)
        if image['status'] != 'queued':
            raise exception.Conflict('A location can be added only to a '
                                     'queued image (this one is %s).'
                                     % image['status'])
        _check_caller_may_add(ctx, url)
        locations.usable_store(url)
        if refusal is not None:
            raise refusal
        if validation_data:
            _check_hash_value(validation_data)
        missing = [k for k in ('disk_format', 'container_format')
                   if not image.get(k)]
        if missing:
            raise exception.Conflict('Set %s of the image before adding a '
                                     'location.' % ' and '.join(missing))
        now = timeutils.now()
        task_id = tasks.create(conn, ctx, TASK_TYPE, image_id, {
            'image_id': image_id, 'loc_url': url,
            'validation_data': validation_data or {}}, now)
        tasks.take_lock(conn, image, task_id, now)
    tasks.notify('task.create', task_id)
    locations.spawn(_import, task_id, image_id, url, validation_data or {})
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
    if not locations.hex_of_size(validation_data['os_hash_value'], size):
        raise exception.BadRequest('os_hash_value must be the hexadecimal '
                                   '%s digest (%d bytes).' % (algo, size))


class _Cancelled(Exception):
    pass


def _import(task_id, image_id, url, validation_data):
    """The location_import task: add the location, hash, activate."""
    location_id = None
    try:
        with session.writer() as conn:
            db_tasks.update(conn, task_id, {'status': 'processing'}, timeutils.now())
        tasks.notify_started(task_id)
        size = locations.backend_size(url)
        hashing = CONF.do_secure_hash
        with session.writer() as conn:
            image = _locked(conn, image_id, task_id)
            locations.check_quotas(conn, image,
                                   len(locations.live_locations(image)) + 1,
                                   [{'size': size}])
            now = timeutils.now()
            location_id = db.location_add(
                conn, image_id, url, locations.store_metadata(url, {}), now)
            values = {'size': image['size'] or size, 'updated_at': now}
            if hashing and validation_data:
                values['status'] = 'importing'
                host = staging.self_url()
                if host:
                    records.set_properties(conn, image,
                                         {HASH_HOST_PROPERTY: host}, now)
            else:
                values['status'] = 'active'
                if hashing:
                    # Active at once; the hash follows, still in the task.
                    values['os_hash_algo'] = CONF.hashing_algorithm
                if validation_data:
                    values['os_hash_algo'] = validation_data['os_hash_algo']
                    values['os_hash_value'] = validation_data[
                        'os_hash_value']
            rules.check_transition(image, values['status'])
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
        tasks.finish(task_id, 'failure', message=str(e))
        tasks.release(image_id, task_id)
        return
    if hashing and not validation_data:
        _hash_active(image_id, url)
    tasks.finish(task_id, 'success', result={'image_id': image_id})
    tasks.release(image_id, task_id)


def _locked(conn, image_id, task_id):
    image = db.image_get(conn, image_id, for_update=True)
    if image is None:
        raise exception.NotFound('Image %s was deleted.' % image_id)
    if image['properties'].get(tasks.LOCK_PROPERTY) != task_id:
        raise exception.Conflict('Task %s no longer holds the lock of '
                                 'image %s.' % (task_id, image_id))
    if image['status'] != 'queued':
        raise exception.Conflict('Image %s is %s, no longer queued.'
                                 % (image_id, image['status']))
    return image


def _activate(image_id, checksum, algo, digest):
    with session.writer() as conn:
        image = db.image_get(conn, image_id, for_update=True)
        now = timeutils.now()
        if image is None or not db.image_update(conn, image_id, {
                'status': 'active', 'checksum': checksum,
                'os_hash_algo': algo, 'os_hash_value': digest,
                'updated_at': now}, from_status='importing'):
            raise _Cancelled('Image %s was deleted or changed while its '
                             'data was hashed.' % image_id)
        records.set_properties(conn, image, {HASH_HOST_PROPERTY: None}, now)


def _revert(image_id, location_id):
    """Back to queued, if the task got that far and the image is still
    importing (nothing else touched it). The location goes, except an
    http(s) one, which stays on the queued image as upstream keeps it.
    The data at the location is not the service's and stays."""
    if location_id is None:
        return
    try:
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is None or image['status'] != 'importing':
                return
            now = timeutils.now()
            url = next((loc['url'] for loc in image['locations']
                        if loc['id'] == location_id), '')
            if not url.lower().startswith(('http://', 'https://')):
                db.location_delete(conn, location_id, now)
            db.image_update(conn, image_id, {
                'status': 'queued', 'size': None, 'virtual_size': None,
                'checksum': None, 'os_hash_algo': None,
                'os_hash_value': None, 'updated_at': now},
                from_status='importing')
            records.set_properties(conn, image, {HASH_HOST_PROPERTY: None}, now)
    except Exception:
        LOG.exception('Could not put image %s back to queued', image_id)


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
                'os_hash_value': digest, 'updated_at': timeutils.now()})
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
    green = locations.green()
    try:
        for chunk in chunks:
            if green and len(chunk) >= hashing.TPOOL_MIN:
                # hashlib releases the GIL: the hub keeps serving.
                blocking.call(_update, hashes, chunk)
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
