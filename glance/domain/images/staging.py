"""PUT /v2/images/{id}/stage: data kept in the staging area until an
import (glance-direct) moves it to the stores.

The image goes queued -> uploading while its data arrives and stays
uploading once staged; any failure removes the staged file and puts the
image back to queued.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.domain.images import hashing
from glance.domain.images import leases
from glance.domain.images import limits
from glance.domain.images import quota
from glance.domain.images import records
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

STAGE_HOST_PROPERTY = 'os_glance_stage_host'


def self_url():
    """The URL other API nodes reach this one at (empty when unset):
    recorded with the data staged here."""
    return CONF.worker_self_reference_url or CONF.public_endpoint or ''


def staging_store():
    return registry.get_registry().staging_store()


def staged_path(image_id):
    """Where the staged data of an image lives (it may not exist)."""
    return os.path.join(staging_store().paths[0], image_id)


def staged_url(image_id):
    return 'file://' + staged_path(image_id)


def delete_staged(image_id):
    """Remove the staged data of an image, if any."""
    try:
        os.unlink(staged_path(image_id))
    except FileNotFoundError:
        pass
    except OSError as e:
        LOG.warning('Could not remove staged data of image %s: %s',
                    image_id, e)


def stage(ctx, image_id, stream, size=None):
    if 'glance-direct' not in CONF.enabled_import_methods:
        raise exception.NotFound("'glance-direct' method is not available "
                                 "at this site.")
    limits.enforce(ctx.project_id,
                   image_stage_total=(size or 0) // limits.MIB,
                   image_count_uploading=0)
    if size is not None and size > CONF.image_size_cap:
        raise exception.RequestEntityTooLarge(
            'Image size %d exceeds the limit of %d bytes.'
            % (size, CONF.image_size_cap))
    lease = leases.Lease(image_id, leases.STAGE)
    _start(ctx, image_id, lease)
    published = None
    # Staged bytes count in the owner's quota as they arrive.
    meter = quota.Meter(lease.watch(stream), image_id, 'uploading')
    reader = hashing.HashingReader(meter, CONF.image_size_cap,
                                   expected=size)
    try:
        # Renewed from here on: whatever fails before leaves the lease
        # to lapse, and the image is put back by recovery.
        lease.start()
        if size is not None:
            meter.charge(size)
        _location, written, _meta = staging_store().add(image_id, reader,
                                                        size)
        published = _identity(staged_path(image_id))
        with session.writer() as conn:
            image = db.image_get(conn, image_id, for_update=True)
            if image is None or image['status'] != 'uploading':
                raise exception.Conflict('Image %s was deleted or changed '
                                         'while it was staged.' % image_id)
            if not lease.end(conn):
                raise exception.Conflict('The stage of image %s was given '
                                         'up as dead.' % image_id)
            when = timeutils.now()
            db.image_update(conn, image_id, {'size': written,
                                             'updated_at': when})
            host = self_url()
            if host:
                records.set_properties(conn, image,
                                       {STAGE_HOST_PROPERTY: host}, when)
    except store_exc.Duplicate:
        _revert(image_id, lease, remove=False)
        raise exception.Conflict('Image %s already has data on staging.'
                                 % image_id)
    except BaseException:
        _revert(image_id, lease, published=published)
        raise
    finally:
        lease.stop()


@session.replayable
def _start(ctx, image_id, lease):
    """queued -> uploading, after the policy and state checks, taking
    ``lease``."""
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'modify_image',
                             for_update=True)
        if image['status'] != 'queued':
            raise exception.Conflict('Image %s is %s: only a queued image '
                                     'can be staged.' % (image_id,
                                                         image['status']))
        if os.path.exists(staged_path(image_id)):
            raise exception.Conflict('Image %s already has data on '
                                     'staging.' % image_id)
        if not db.image_update(conn, image_id, {
                'status': 'uploading', 'updated_at': timeutils.now()},
                from_status='queued'):
            raise exception.Conflict('Image %s is being staged by another '
                                     'request.' % image_id)
        lease.take(conn, timeutils.now())


def _identity(path):
    """(device, inode) of the file at ``path``, or None."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _revert(image_id, lease, remove=True, published=None):
    """Put the image back to queued and remove its staged data, unless
    the lease was taken over (its taker did that); then only the file
    this request published, ``published`` ((device, inode) or None), is
    removed if still there: it would block any new stage of the image."""
    try:
        with session.writer() as conn:
            if not lease.end(conn):
                if published is not None:
                    _delete_own_staged(image_id, published)
                return
            if remove:
                delete_staged(image_id)
            db.image_update(conn, image_id, {'status': 'queued', 'size': None,
                                             'updated_at': timeutils.now()},
                            from_status='uploading')
    except Exception:
        LOG.exception('Could not put image %s back to queued', image_id)


def _delete_own_staged(image_id, published):
    """Remove the staged file of ``image_id`` if it is still the one
    this request published (and not the data of a later stage)."""
    if _identity(staged_path(image_id)) == published:
        LOG.warning('The stage of image %s was given up as dead after its '
                    'data was staged: removing that data', image_id)
        delete_staged(image_id)
