"""Image data: upload to a store and download from it.

``upload`` moves an image queued -> saving, streams the request body into a
store while hashing it, then records size, hashes and the location and
moves it to active in one transaction. Any failure (client gone, store
full, size limit) removes what was written and puts the image back to
queued, so it can be uploaded again.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.domain import policy
from glance.domain.images import format_check
from glance.domain.images import hashing
from glance.domain.images import leases
from glance.domain.images import limits
from glance.domain.images import locations
from glance.domain.images import quota
from glance.domain.images import records
from glance.domain.images import rules
from glance.domain.images import signature
from glance.domain.images import store_acls
from glance.domain.images import stream
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


@session.replayable
def _start(ctx, image_id, size, lease):
    """queued -> saving, after the policy and state checks, taking
    ``lease``."""
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'upload_image',
                             for_update=True)
        if image['status'] != 'queued':
            raise exception.Conflict('Image status must be queued to upload '
                                     'data (it is %s).' % image['status'])
        try:
            rules.check_transition(image, 'saving')
        except exception.InvalidImageStatusTransition as e:
            raise exception.Conflict(str(e))
        if size is not None and size > CONF.image_size_cap:
            raise exception.RequestEntityTooLarge(
                'Image size %d exceeds the limit of %d bytes.'
                % (size, CONF.image_size_cap))
        room = quota.storage_room(conn, image)
        if room is not None and size is not None and size > room:
            raise exception.RequestEntityTooLarge(
                'Denying attempt to upload image because it exceeds the '
                'quota: the image would use %d bytes of the %d left.'
                % (size, room))
        if not db.image_update(conn, image_id, {
                'status': 'saving', 'updated_at': timeutils.now()},
                from_status='queued'):
            raise exception.Conflict('Image %s is being uploaded by another '
                                     'request.' % image_id)
        lease.take(conn, timeutils.now())
        image['room'] = room
        return image


@session.replayable
def _revert(image_id, lease):
    with session.writer() as conn:
        if not lease.end(conn):
            return      # taken over as dead: its taker reverted the image
        db.image_update(conn, image_id, {'status': 'queued', 'size': None,
                                         'virtual_size': None,
                                         'updated_at': timeutils.now()},
                        from_status='saving')


def upload(ctx, image_id, data, size=None, store_name=None):
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
    lease = leases.Lease(image_id, leases.UPLOAD)
    image = _start(ctx, image_id, size, lease)
    notifier.data_event('image.prepare', image, store.name)
    checker = format_check.FormatChecker()
    limit = CONF.image_size_cap
    if image['room'] is not None:
        limit = min(limit, image['room'])
    # The bytes are charged to the owner's quota as they arrive.
    meter = quota.Meter(lease.watch(data), image_id, 'saving')
    location = None
    try:
        # Renewed from here on: whatever fails before leaves the lease
        # to lapse, and the image is put back by recovery.
        lease.start()
        # The signature's certificate is fetched before any data is read.
        check = signature.check_for(ctx, image['properties'])
        verifier = check.verifier() if check is not None else None
        source = (meter if verifier is None
                  else signature.VerifyingReader(meter, verifier))
        reader = hashing.HashingReader(source, limit, expected=size,
                                       checker=checker)
        if size is not None:
            meter.charge(size)
        location, written, metadata = store.add(image_id, reader, size,
                                                 context=ctx)
        if size is not None and written != size:
            raise exception.BadRequest('Image data ended after %d of %d '
                                       'bytes.' % (written, size))
        checksum, multihash = reader.digests()
        if verifier is not None:
            verifier.verify()
        values = {'status': 'active', 'size': written,
                  'checksum': checksum,
                  'os_hash_algo': CONF.hashing_algorithm,
                  'os_hash_value': multihash, 'updated_at': timeutils.now()}
        with session.writer() as conn:
            # The content is judged by the formats the image has where it
            # becomes active, not by those it had when the upload began.
            current = db.image_get(conn, image_id, for_update=True)
            if current is not None and current['status'] == 'saving':
                values['virtual_size'] = checker.verdict(
                    current['disk_format'], current['container_format'])
            done = current is not None and db.image_update(
                conn, image_id, values, from_status='saving')
            if not done:
                raise exception.Conflict('Image %s was deleted during the '
                                         'upload.' % image_id)
            if not lease.end(conn):
                raise exception.Conflict('The upload of image %s was given '
                                         'up as dead.' % image_id)
            db.location_add(conn, image_id, location, metadata,
                            values['updated_at'])
    except BaseException as e:
        notifier.upload_failed(image_id, e)
        # A failure while committing may come after the commit: data the
        # image records is never removed.
        if location is not None and records.unrecorded(image_id, location):
            _delete_quietly(store, location, ctx)
        try:
            _revert(image_id, lease)
        except Exception:
            LOG.exception('Could not put image %s back to queued', image_id)
        raise
    finally:
        lease.stop()
    if image['visibility'] != 'private':
        # Readers of other projects, where the store keeps data per
        # project (multi-tenant swift).
        store_acls.sync(ctx, dict(image, locations=[{
            'url': location, 'metadata': metadata, 'status': 'active'}]))
    notifier.uploaded(dict(image, **values), store.name)


def _delete_quietly(store, location, ctx):
    try:
        store.delete(location, context=ctx)
    except Exception as e:
        LOG.warning('Could not delete %s: %s', location, e)


def download(ctx, image_id):
    """(image, open_data) for GET /file; open_data is None without data.

    ``open_data(offset, length)`` returns an iterator over the bytes;
    with ``notify=False`` (the image cache reading for its clients, who
    are notified of their own downloads) it sends no ``image.send``.
    """
    with session.reader() as conn:
        image = records.load(conn, ctx, image_id, 'download_image')
    if image['status'] == 'deactivated' and not ctx.is_admin:
        raise exception.Forbidden('The requested image has been '
                                  'deactivated. Image data download is '
                                  'forbidden.')
    live = [loc for loc in image['locations'] if loc['status'] == 'active']
    if not live:
        if any(loc['status'] == locations.AUDIT_FAILED
               for loc in image['locations']):
            # Never bytes that differ from the record.
            raise exception.ServiceUnavailable(
                'The data of image %s failed its integrity audit in every '
                'store holding it: it is not served until a good copy is '
                'restored.' % image_id)
        return image, None

    def open_data(offset=0, length=None, notify=True):
        refused = False
        unavailable = None
        for loc in live:
            store = registry.store_for_location(
                loc['url'], loc['metadata'].get('store'))
            try:
                chunks, total = store.get(loc['url'], offset, length,
                                          context=ctx)
            except exception.NotFound:
                LOG.warning('Data of image %s missing at %s', image_id,
                            loc['url'])
                continue
            except store_exc.RemoteServiceUnavailable as e:
                # Another location (store) may still serve the data.
                LOG.warning('Data of image %s not read from store %s: %s',
                            image_id, store.name, e.msg)
                unavailable = e
                continue
            except store_exc.LocationRefused as e:
                # Added before the URL filter refused it, or written to
                # the database directly: never fetched.
                LOG.warning('Data of image %s not read from %s: %s',
                            image_id, loc['url'], e.msg)
                refused = True
                continue
            if None not in (total, image['size']) and total != image['size']:
                chunks.close()
                LOG.error('Data of image %s at %s has %d bytes, not the %d '
                          'recorded: not served', image_id, loc['url'],
                          total, image['size'])
                continue
            return stream.DownloadStream(
                chunks, length if length is not None else image['size'],
                on_end=(lambda sent: notifier.image_sent(
                    ctx, image, sent.sent, sent.complete)) if notify
                else None)
        if unavailable is not None:
            raise unavailable
        if refused:
            # The URL and the reason stay in the log: locations are not
            # shown to every caller who may download.
            raise exception.Forbidden(
                'The data of image %s is at locations this service may not '
                'fetch from (see [import_filtering_opts] in its '
                'configuration).' % image_id)
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
        image = records.load(conn, ctx, image_id, 'get_image_location',
                             for_update=True)
        policy.enforce_image(ctx, 'delete_image_location', image)
        if image['status'] != 'active':
            raise exception.Conflict('It is not allowed to remove image data '
                                     'from store if image status is not '
                                     "'active'")
        live = [loc for loc in image['locations']
                if loc['status'] == 'active']
        # A copy the auditor found bad may go whatever else is left.
        found = [loc for loc in image['locations']
                 if loc['status'] in ('active', locations.AUDIT_FAILED)
                 and loc['metadata'].get('store') == store_id]
        if found and found[0]['status'] == 'active' and len(live) <= 1:
            raise exception.Forbidden('Cannot delete image data from the '
                                      'only store containing it. Consider '
                                      'deleting the image instead.')
        if not found:
            raise exception.NotFound('Image %s has no data in store %s.'
                                     % (image_id, store_id))
        registry.get_store(store_id).check_delete(found[0]['url'],
                                                  context=ctx)
        db.location_delete(conn, found[0]['id'], timeutils.now())
    _delete_quietly(registry.get_store(store_id), found[0]['url'], ctx)
