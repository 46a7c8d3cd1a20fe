"""The background part of an image import (the ``api_image_import`` task).

``run`` moves the image to importing, brings its data into the staging
area (web-download, copy-image; glance-direct staged it before), then
copies the staged data to each target store, hashing it and checking its
format on the way, and makes the image active. On failure everything the
task did is undone: the image goes back to queued (an active image being
copied stays active), its new locations and the staged data are removed
and the stores that did not get the data are listed in
``os_glance_failed_import``.

A task that stops giving signs of life (its worker died) is reverted the
same way by ``reap``, which every worker runs now and then.
"""

import datetime
import os
import time

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance import context
from glance import notifier
from glance.common import blocking
from glance.common import exception
from glance.common import http_client
from glance.common import timeutils
from glance.common import url_filter
from glance.db import api as db
from glance.db import session
from glance.db import tasks as db_tasks
from glance.domain import tasks
from glance.domain.images import format_check
from glance.domain.images import hashing
from glance.domain.images import limits
from glance.domain.images import locations
from glance.domain.images import quota
from glance.domain.images import records
from glance.domain.images import rules
from glance.domain.images import signature
from glance.domain.images import staging
from glance.imports import glance_download
from glance.imports import plugins
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

TASK_TYPE = 'api_image_import'
IMPORTING = 'os_glance_importing_to_stores'
FAILED = 'os_glance_failed_import'
MIB = 1024 * 1024
# Most bytes _Progress reads from a source at once.
PIECE = 64 * 1024
# Image columns an import plugin may change.
PLUGIN_COLUMNS = ('disk_format', 'container_format', 'size', 'virtual_size')


class Aborted(Exception):
    """The image was deleted or the task lost its lock."""


def _split(value):
    return [s for s in (value or '').split(',') if s]


def _join(names):
    """The comma-separated store list; '' once empty (clients wait for
    the property to be present and empty)."""
    return ','.join(sorted(set(names)))


def _load_locked(conn, image_id, task_id):
    image = db.image_get(conn, image_id, for_update=True)
    if image is None:
        raise Aborted('Image %s was deleted during the import.' % image_id)
    if image['properties'].get(tasks.LOCK_PROPERTY) != task_id:
        raise Aborted('Task %s lost the import lock of image %s.'
                      % (task_id, image_id))
    return image


def stale_after():
    """Seconds without a sign of life after which an import's worker is
    presumed dead."""
    return CONF.task.stale_import_timeout


def heartbeat():
    """Seconds between two signs of life of a running import."""
    return stale_after() / 6


class _Progress:
    """Wraps a reader: counts bytes, and every heartbeat() seconds
    records the progress in the task and checks the import may go on."""

    def __init__(self, source, task_id, image_id, what):
        self.source = source
        self.chunks = None if hasattr(source, 'read') else iter(source)
        self.task_id = task_id
        self.image_id = image_id
        self.what = what
        self.count = 0
        self.last = time.monotonic()

    def read(self, size=-1):
        if self.chunks is not None:
            data = next(self.chunks, b'')
        elif size is None or size < 0:
            data = self.source.read(size)
        else:
            # In pieces: a slow source still gives a sign of life between
            # two of them, not only once the whole chunk has arrived.
            pieces = []
            while size > 0:
                piece = self.source.read(min(size, PIECE))
                if not piece:
                    break
                pieces.append(piece)
                size -= len(piece)
                self._count(len(piece))
            return b''.join(pieces)
        self._count(len(data))
        return data

    def _count(self, length):
        self.count += length
        if time.monotonic() - self.last > heartbeat():
            self.last = time.monotonic()
            with session.reader() as conn:
                image = db.image_get(conn, self.image_id)
            if image is None or image['properties'].get(
                    tasks.LOCK_PROPERTY) != self.task_id:
                raise Aborted('Image %s was deleted or its import taken '
                              'over.' % self.image_id)
            tasks.progress(self.task_id, message='%s %d MiB' % (
                self.what, self.count // MIB))


def run(task_id, image_id, method, targets, all_must, roles=(),
        credentials=None):
    name = method['name']
    copying = name == 'copy-image'
    added = []
    try:
        tasks.progress(task_id)
        tasks.notify_started(task_id)
        owner = _begin(task_id, image_id, targets, copying)
        _check_quota(name, owner, image_id)
        # The data and the copies it is going to (targets listed by
        # _begin) count in the owner's byte limits.
        quota.check_held(image_id, 'active' if copying else 'importing')
        _stage(task_id, image_id, method, credentials or {})
        signed = None
        if not copying:
            _run_plugins(task_id, image_id, roles)
            quota.check_held(image_id, 'importing')
            signed = _signature_check(image_id, credentials or {})
        for index, store_name in enumerate(targets):
            last = index == len(targets) - 1
            activate = not copying and (last or not all_must)
            try:
                added.append(_to_store(task_id, image_id, store_name,
                                       activate, check=not copying,
                                       signed=signed,
                                       ctx=_context(credentials or {})))
            except (Aborted, exception.SignatureVerificationError):
                # The data is not the one signed: no store may have it.
                raise
            except Exception as e:
                if all_must:
                    raise
                LOG.warning('Import of image %s to store %s failed: %s',
                            image_id, store_name, e)
                _store_failed(task_id, image_id, store_name)
        staging.delete_staged(image_id)
        with session.reader() as conn:
            image = db.image_get(conn, image_id)
        if image is None or image['status'] != 'active':
            raise exception.Invalid('None of the uploads finished!')
    except Exception as e:
        LOG.warning('Import task %s of image %s failed: %s', task_id,
                    image_id, e)
        revert(task_id, image_id, copying, added)
        tasks.finish(task_id, 'failure', message=str(e))
    else:
        tasks.finish(task_id, 'success', result={'image_id': image_id})
    finally:
        tasks.release(image_id, task_id)


def _begin(task_id, image_id, targets, copying):
    """importing, with the target stores listed; returns the owner."""
    with session.writer() as conn:
        image = _load_locked(conn, image_id, task_id)
        when = timeutils.now()
        if not copying:
            rules.check_transition(image, 'importing')
            if not db.image_update(conn, image_id, {
                    'status': 'importing', 'updated_at': when},
                    from_status=image['status']):
                raise Aborted('Image %s changed under the import.'
                              % image_id)
        changes = {staging.STAGE_HOST_PROPERTY: None}
        names = [t for t in targets if t]
        if names:
            props = image['properties']
            changes[IMPORTING] = _join(_split(props.get(IMPORTING)) + names)
            failed = [s for s in _split(props.get(FAILED))
                      if s not in names]
            changes[FAILED] = _join(failed)
        records.set_properties(conn, image, changes, when)
        return image['owner']


def _check_quota(name, owner, image_id):
    if name == 'glance-direct':
        # The staged data already counts in image_size_total.
        limits.enforce(owner, image_size_total=0)
    else:
        limits.enforce(owner, image_stage_total=0, image_count_uploading=0)


def _stage(task_id, image_id, method, credentials):
    """Bring the data of the image into the staging area."""
    name = method['name']
    path = staging.staged_path(image_id)
    store = staging.staging_store()
    if name == 'glance-direct':
        if not os.path.exists(path):
            raise exception.Invalid('Image %s has no staged data.'
                                    % image_id)
        return
    if name == 'web-download':
        source = http_client.open_url(method['uri'], CONF.image_size_cap,
                                      check=url_filter.vet_url)
        size = source.size
    elif name == 'glance-download':
        remote = glance_download.remote_image(credentials, method)
        _apply_changes(task_id, image_id,
                       *glance_download.local_changes(remote))
        source = glance_download.open_data(credentials, method, remote)
        size = remote.get('size')
    elif name == 'copy-image':
        source, size = _existing_data(image_id)
        if os.path.exists(path):
            if os.path.getsize(path) == size:
                _close(source)
                return
            staging.delete_staged(image_id)
    else:
        raise exception.Invalid('Import method %s is not available.' % name)
    reader = _Progress(source, task_id, image_id, 'Downloaded')
    if name != 'copy-image':
        # Downloaded bytes count in the owner's quota as they arrive.
        reader = quota.Meter(reader, image_id, 'importing')
    try:
        if size is not None and name != 'copy-image':
            reader.charge(size)
        store.add(image_id, reader, size)
    finally:
        _close(source)


def _run_plugins(task_id, image_id, roles):
    """The enabled import plugins, each on the staged data in turn."""
    for name, plugin in plugins.enabled():
        with session.reader() as conn:
            image = db.image_get(conn, image_id)
        path = staging.staged_path(image_id)
        # File work and qemu-img: off the hub, in a real thread.
        changes = blocking.call(plugin, image, path, list(roles))
        if changes:
            _apply_changes(task_id, image_id, changes,
                           changes.get('properties', {}))
        tasks.progress(task_id, message='Import plugin %s done' % name)


def _apply_changes(task_id, image_id, columns, properties):
    """Set some columns and properties of the image being imported."""
    with session.writer() as conn:
        image = _load_locked(conn, image_id, task_id)
        when = timeutils.now()
        values = {k: columns[k] for k in PLUGIN_COLUMNS
                  if columns.get(k) is not None}
        if values:
            values['updated_at'] = when
            db.image_update(conn, image_id, values,
                            from_status=image['status'])
        props = {k: str(v) for k, v in properties.items()
                 if not k.startswith('os_glance')}
        if props:
            records.set_properties(conn, image, props, when)


def _close(source):
    close = getattr(source, 'close', None)
    if close is not None:
        close()


def _existing_data(image_id):
    """A reader of the data of an active image, and its size."""
    with session.reader() as conn:
        image = db.image_get(conn, image_id)
    for loc in locations.live_locations(image):
        try:
            store = registry.store_for_location(
                loc['url'], loc['metadata'].get('store'))
            chunks, size = store.get(loc['url'])
            return chunks, size
        except Exception as e:
            LOG.warning('Cannot read %s of image %s: %s', loc['url'],
                        image_id, e)
    raise exception.Invalid('No readable data for image %s.' % image_id)


def _signature_check(image_id, credentials):
    """The signature check the image's properties ask for, with the
    certificate read from the key manager as the caller; or None."""
    with session.reader() as conn:
        image = db.image_get(conn, image_id)
    if image is None:
        raise Aborted('Image %s was deleted during the import.' % image_id)
    return signature.check_for(_context(credentials), image['properties'])


def _context(credentials):
    """The caller's context, as far as the task knows it: a token,
    its project and catalog (for stores that write as the caller)."""
    ctx = context.RequestContext(auth_token=credentials.get('token'),
                                 project_id=credentials.get('project_id'))
    ctx.service_catalog = credentials.get('catalog') or []
    return ctx


def _to_store(task_id, image_id, store_name, activate, check, signed=None,
              ctx=None):
    """Copy the staged data to one store; returns (store, location).
    With ``signed`` (a signature check), the data must match the
    signature."""
    store = (registry.get_store(store_name) if store_name
             else registry.default_store())
    with session.reader() as conn:
        image = db.image_get(conn, image_id)
    chunks, size = staging.staging_store().get(
        staging.staged_url(image_id))
    checker = format_check.FormatChecker() if check else None
    source = _Progress(chunks, task_id, image_id, 'Copied')
    verifier = signed.verifier() if signed is not None else None
    if verifier is not None:
        source = signature.VerifyingReader(source, verifier)
    reader = hashing.HashingReader(source, CONF.image_size_cap,
                                   expected=size, checker=checker)
    notifier.data_event('image.prepare', image, store_name)
    location = None
    try:
        location, written, metadata = store.add(image_id, reader, size,
                                                 context=ctx)
        checksum, multihash = reader.digests()
        if verifier is not None:
            verifier.verify()
        with session.writer() as conn:
            image = _load_locked(conn, image_id, task_id)
            # Judged by the formats the image has where it becomes active.
            virtual_size = (checker.verdict(image['disk_format'],
                                            image['container_format'])
                            if checker else None)
            if image['checksum'] and image['checksum'] != checksum:
                raise exception.Invalid('Data copied to %s does not match '
                                        'the image checksum.' % store.name)
            when = timeutils.now()
            values = {'updated_at': when}
            if not image['checksum']:
                values.update(size=written, checksum=checksum,
                              os_hash_algo=CONF.hashing_algorithm,
                              os_hash_value=multihash,
                              virtual_size=virtual_size)
            if activate and image['status'] == 'importing':
                values['status'] = 'active'
            db.image_update(conn, image_id, values,
                            from_status=image['status'])
            db.location_add(conn, image_id, location, metadata, when)
            if store_name:
                left = [s for s in _split(image['properties'].get(IMPORTING))
                        if s != store_name]
                records.set_properties(conn, image, {IMPORTING: _join(left)},
                                     when)
    except BaseException as e:
        notifier.upload_failed(image_id, e)
        _close(chunks)
        # Data the image records (a commit that failed after it happened)
        # is never removed.
        if location is not None and records.unrecorded(image_id, location):
            _delete_quietly(store, location)
        raise
    notifier.uploaded(dict(image, **values), store_name, 'status' in values)
    return store_name, location


def _delete_quietly(store, location):
    try:
        store.delete(location)
    except Exception as e:
        LOG.warning('Could not delete %s: %s', location, e)


def _store_failed(task_id, image_id, store_name):
    with session.writer() as conn:
        image = _load_locked(conn, image_id, task_id)
        props = image['properties']
        left = [s for s in _split(props.get(IMPORTING)) if s != store_name]
        records.set_properties(conn, image, {
            IMPORTING: _join(left),
            FAILED: _join(_split(props.get(FAILED)) + [store_name])},
            timeutils.now())


def revert(task_id, image_id, copying, added=()):
    """Undo an import: remove what it added, list the stores it did not
    reach as failed, put a new image back to queued, drop staged data."""
    removed = []
    try:
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is None:
                return
            when = timeutils.now()
            added_urls = {url for _store, url in added}
            for loc in locations.live_locations(image):
                if loc['url'] in added_urls or (
                        not copying and image['status'] == 'importing'):
                    db.location_delete(conn, loc['id'], when)
                    removed.append(loc)
            props = image['properties']
            pending = _split(props.get(IMPORTING))
            failed = _split(props.get(FAILED)) + pending + [
                s for s, _url in added if s]
            if IMPORTING in props or failed:
                # Clients wait for an empty importing list.
                records.set_properties(conn, image, {
                    IMPORTING: '', FAILED: _join(failed)}, when)
            if not copying and image['status'] == 'importing':
                db.image_update(conn, image_id, {
                    'status': 'queued', 'size': None, 'virtual_size': None,
                    'checksum': None, 'os_hash_algo': None,
                    'os_hash_value': None, 'updated_at': when},
                    from_status='importing')
    except Exception:
        LOG.exception('Could not revert the import of image %s', image_id)
    for loc in removed:
        try:
            registry.delete_location_data(loc)
        except Exception as e:
            LOG.warning('Could not delete %s: %s', loc['url'], e)
    staging.delete_staged(image_id)


# -- recovery ---------------------------------------------------------------

def reap():
    """Fail and revert the imports whose worker died, and drop staged
    data nobody will import."""
    before = timeutils.now() - datetime.timedelta(seconds=stale_after())
    with session.reader() as conn:
        dead = db_tasks.stale(conn, before, (TASK_TYPE, 'import'))
    for task in dead:
        with session.writer() as conn:
            # One worker claims it: the update only matches while the task
            # is still as stale as it was read.
            claimed = db_tasks.claim_stale(conn, task, timeutils.now())
        if not claimed:
            continue
        LOG.warning('Import task %s of image %s stopped without finishing; '
                    'reverting it', task['id'], task['image_id'])
        method = ((task['input'] or {}).get('import_req') or {}).get(
            'method') or {}
        revert(task['id'], task['image_id'],
               method.get('name') == 'copy-image')
        _remove_unrecorded(task['image_id'])
        tasks.finish(task['id'], 'failure',
                     message='The import stopped (its worker went away) and '
                             'was reverted.')
        tasks.release(task['image_id'], task['id'])
    _sweep_staging(before)


def _remove_unrecorded(image_id):
    """Remove the data a dead import gave its final name in a store but
    did not record as a location (nothing else would, and it stands in
    the way of the next import), and its partial files. The dead task
    still holds the lock: no other import writes there meanwhile."""
    with session.reader() as conn:
        image = db.image_get(conn, image_id, include_deleted=True)
    if image is None:
        return
    keep = {loc['url'] for loc in image['locations']}
    for store in registry.get_registry().stores():
        remove = getattr(store, 'remove_unfinished', None)
        if remove is None:
            continue
        try:
            remove(image_id, keep)
        except Exception as e:
            LOG.warning('Could not remove what the import of image %s left '
                        'in store %s: %s', image_id, store.name, e)


def _sweep_staging(before):
    try:
        directory = staging.staging_store().paths[0]
        names = os.listdir(directory)
    except OSError:
        return
    for store in registry.get_registry().stores():
        if directory in (getattr(store, 'paths', None) or ()):
            # Staging shares a directory with a store: never sweep it.
            return
    limit = time.time() - stale_after()
    for name in names:
        if name.startswith('.'):
            # A partial file: removed once its writer is gone, whatever
            # its age (glance.domain.images.leases).
            continue
        path = os.path.join(directory, name)
        try:
            if not os.path.isfile(path) or os.path.getmtime(path) > limit:
                continue
        except OSError:
            continue
        image_id = name.split('.')[0]
        with session.reader() as conn:
            image = db.image_get(conn, image_id)
        busy = image is not None and (
            image['properties'].get(tasks.LOCK_PROPERTY)
            or image['status'] == 'uploading')
        if not busy:
            LOG.info('Removing orphaned staging file %s', path)
            try:
                os.unlink(path)
            except OSError:
                pass


def reaper_loop(stop):
    """Run ``reap`` at start and then every stale_after() seconds until
    ``stop`` (an eventlet Event) fires."""
    while not stop.ready():
        try:
            reap()
        except Exception:
            LOG.exception('Import recovery failed')
        with eventlet.Timeout(stale_after(), False):
            stop.wait()
