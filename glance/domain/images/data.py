"""Image data: upload to a store and download from it.

``upload`` moves an image queued -> saving, streams the request body into a
store while hashing it, then records size, hashes and the location and
moves it to active in one transaction. Any failure (client gone, store
full, size limit) removes what was written and puts the image back to
queued, so it can be uploaded again.
"""

import hashlib

import eventlet
from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging

from glance import notifier
from glance.common import exception
from glance.db import api as db
from glance.db import models
from glance.db import session
from glance.domain.images import format_check
from glance.domain.images import images
from glance.domain.images import limits
from glance.domain import policy
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
# Data is hashed in real threads (hashlib releases the GIL), md5 and the
# multihash each in its own, in batches of at least this many bytes while
# the next batch arrives: one batch of slack keeps the socket, both hashes
# and the store busy at the same time.
HASH_BATCH = 2 * 1024 * 1024
# Below this, hashing in place costs less than the hand-off.
TPOOL_MIN = 256 * 1024


def _update(digest, chunks):
    for data in chunks:
        digest.update(data)


class HashingReader:
    """A file-like reader that hashes, counts and bounds what it passes."""

    def __init__(self, source, limit, expected=None, checker=None):
        self.source = source
        self.checker = checker
        self.limit = limit
        self.expected = expected
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multihash = hashlib.new(CONF.hashing_algorithm)
        self.count = 0
        self._batch = []
        self._batch_size = 0
        self._hashing = ()

    def _wait_hashing(self):
        hashing, self._hashing = self._hashing, ()
        for thread in hashing:
            thread.wait()

    def _flush(self):
        """Hand the batch to real threads once the previous one is done."""
        batch, size = self._batch, self._batch_size
        self._batch, self._batch_size = [], 0
        self._wait_hashing()
        if size >= TPOOL_MIN:
            self._hashing = [eventlet.spawn(tpool.execute, _update, digest,
                                            batch)
                             for digest in (self.md5, self.multihash)]
        else:
            _update(self.md5, batch)
            _update(self.multihash, batch)

    def read(self, size=-1):
        data = self.source.read(size)
        if data:
            self.count += len(data)
            if self.count > self.limit:
                raise exception.RequestEntityTooLarge(
                    'Image exceeds the size limit or the storage quota '
                    '(%d bytes).' % self.limit)
            self._batch.append(data)
            self._batch_size += len(data)
            if self._batch_size >= HASH_BATCH:
                self._flush()
            if self.checker is not None:
                self.checker.feed(data)
        elif self.expected is not None and self.count != self.expected:
            raise exception.BadRequest(
                'Image data ended after %d of %d bytes.'
                % (self.count, self.expected))
        return data

    def digests(self):
        """(md5, multihash) hex digests, once the data is all read."""
        self._flush()
        self._wait_hashing()
        return self.md5.hexdigest(), self.multihash.hexdigest()


def _start(ctx, image_id, size):
    """queued -> saving, after the policy and state checks."""
    with session.writer() as conn:
        image = images.load(conn, ctx, image_id, 'upload_image',
                            for_update=True)
        if image['status'] != 'queued':
            raise exception.Conflict('Image status must be queued to upload '
                                     'data (it is %s).' % image['status'])
        try:
            images.check_transition(image, 'saving')
        except exception.InvalidImageStatusTransition as e:
            raise exception.Conflict(str(e))
        if size is not None and size > CONF.image_size_cap:
            raise exception.RequestEntityTooLarge(
                'Image size %d exceeds the limit of %d bytes.'
                % (size, CONF.image_size_cap))
        room = storage_room(conn, image)
        if room is not None and size is not None and size > room:
            raise exception.RequestEntityTooLarge(
                'Denying attempt to upload image because it exceeds the '
                'quota: the image would use %d bytes of the %d left.'
                % (size, room))
        if not db.image_update(conn, image_id, {
                'status': 'saving', 'updated_at': _now()},
                from_status='queued'):
            raise exception.Conflict('Image %s is being uploaded by another '
                                     'request.' % image_id)
        image['room'] = room
        return image


def parse_quota(text):
    """``user_storage_quota`` in bytes (0 means no quota)."""
    units = {'B': 1, 'KB': 1024, 'MB': 1024 ** 2, 'GB': 1024 ** 3,
             'TB': 1024 ** 4}
    text = (text or '0').strip().upper()
    for suffix in ('KB', 'MB', 'GB', 'TB', 'B'):
        if text.endswith(suffix):
            number, factor = text[:-len(suffix)].strip(), units[suffix]
            break
    else:
        number, factor = text, 1
    try:
        value = int(number)
    except ValueError:
        raise exception.Invalid('Invalid user_storage_quota %r' % text)
    return value * factor


def storage_room(conn, image):
    """Bytes the owner may still store, or None without a quota."""
    quota = parse_quota(CONF.user_storage_quota)
    if not quota or CONF.use_keystone_limits:
        return None
    used = db.storage_usage(conn, image['owner'], exclude=image['id'])
    return max(0, quota - used)


def _now():
    return models.utcnow().replace(microsecond=0)


def _revert(image_id):
    with session.writer() as conn:
        db.image_update(conn, image_id, {'status': 'queued', 'size': None,
                                         'virtual_size': None,
                                         'updated_at': _now()},
                        from_status='saving')


def upload(ctx, image_id, stream, size=None, store_name=None):
    """Store the data of a queued image; the image becomes active."""
    if store_name and CONF.enabled_backends:
        if store_name not in CONF.enabled_backends:
            raise exception.BadRequest('Store for identifier %s not found.'
                                       % store_name)
        store = registry.get_store(store_name)
    else:
        store = registry.default_store()
    limits.enforce(ctx.project_id,
                   image_size_total=(size or 0) // limits.MIB,
                   image_count_uploading=0)
    image = _start(ctx, image_id, size)
    notifier.data_event('image.prepare', image, store.name)
    checker = format_check.FormatChecker(image['disk_format'])
    limit = CONF.image_size_cap
    if image['room'] is not None:
        limit = min(limit, image['room'])
    reader = HashingReader(stream, limit, expected=size, checker=checker)
    location = None
    try:
        location, written, metadata = store.add(image_id, reader, size)
        if size is not None and written != size:
            raise exception.BadRequest('Image data ended after %d of %d '
                                       'bytes.' % (written, size))
        virtual_size = checker.verdict()
        checksum, multihash = reader.digests()
        with session.writer() as conn:
            done = db.image_update(conn, image_id, {
                'status': 'active', 'size': written,
                'virtual_size': virtual_size,
                'checksum': checksum,
                'os_hash_algo': CONF.hashing_algorithm,
                'os_hash_value': multihash,
                'updated_at': _now()}, from_status='saving')
            if not done:
                raise exception.Conflict('Image %s was deleted during the '
                                         'upload.' % image_id)
            db.location_add(conn, image_id, location, metadata, _now())
    except BaseException as e:
        notifier.upload_failed(image_id, e)
        if location is not None:
            _delete_quietly(store, location)
        try:
            _revert(image_id)
        except Exception:
            LOG.exception('Could not put image %s back to queued', image_id)
        raise
    notifier.uploaded(image_id, store.name)


def _delete_quietly(store, location):
    try:
        store.delete(location)
    except Exception as e:
        LOG.warning('Could not delete %s: %s', location, e)


def download(ctx, image_id):
    """(image, open_data) for GET /file; open_data is None without data.

    ``open_data(offset, length)`` returns an iterator over the bytes.
    """
    with session.reader() as conn:
        image = images.load(conn, ctx, image_id, 'download_image')
    if image['status'] == 'deactivated' and not ctx.is_admin:
        raise exception.Forbidden('The requested image has been '
                                  'deactivated. Image data download is '
                                  'forbidden.')
    live = [loc for loc in image['locations'] if loc['status'] == 'active']
    if not live:
        return image, None

    def open_data(offset=0, length=None):
        for loc in live:
            store = registry.store_for_location(
                loc['url'], loc['metadata'].get('store'))
            try:
                chunks, total = store.get(loc['url'], offset, length)
            except exception.NotFound:
                LOG.warning('Data of image %s missing at %s', image_id,
                            loc['url'])
                continue
            if None not in (total, image['size']) and total != image['size']:
                chunks.close()
                LOG.error('Data of image %s at %s has %d bytes, not the %d '
                          'recorded: not served', image_id, loc['url'],
                          total, image['size'])
                continue
            return notifier.sending(ctx, image, chunks, length)
        raise exception.NotFound('Image data of %s not found in any store.'
                                 % image_id)
    return image, open_data


def delete_from_store(ctx, store_id, image_id):
    """Remove the data of an active image from one of several stores."""
    if not CONF.enabled_backends:
        raise exception.NotFound('Multi backend is not supported at this '
                                 'site.')
    if store_id not in CONF.enabled_backends:
        raise exception.Conflict('Unknown store %s.' % store_id)
    with session.writer() as conn:
        image = images.load(conn, ctx, image_id, 'get_image_location',
                            for_update=True)
        policy.enforce_image(ctx, 'delete_image_location', image)
        if image['status'] != 'active':
            raise exception.Conflict('It is not allowed to remove image data '
                                     'from store if image status is not '
                                     "'active'")
        live = [loc for loc in image['locations']
                if loc['status'] == 'active']
        if len(live) <= 1:
            raise exception.Forbidden('Cannot delete image data from the '
                                      'only store containing it. Consider '
                                      'deleting the image instead.')
        found = [loc for loc in live
                 if loc['metadata'].get('store') == store_id]
        if not found:
            raise exception.NotFound('Image %s has no data in store %s.'
                                     % (image_id, store_id))
        db.location_delete(conn, found[0]['id'], _now())
    _delete_quietly(registry.get_store(store_id), found[0]['url'])
