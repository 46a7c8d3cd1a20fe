"""Delayed delete: the data of pending_delete images is removed here.

With ``delayed_delete``, deleting an image only marks it pending_delete;
``glance-scrubber`` later deletes its data from the stores (once the image
has waited ``scrub_time`` seconds) and marks it deleted, or restores it
when asked to.
"""

import datetime

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def scrub_once():
    """Delete the data of every image that waited long enough; returns the
    ids of the images now deleted."""
    before = timeutils.now() - datetime.timedelta(seconds=CONF.scrub_time)
    with session.reader() as conn:
        waiting = db.pending_delete_images(conn, before)
    done = []
    for image_id in waiting:
        if _scrub_image(image_id):
            done.append(image_id)
    _scrub_removed_locations(before)
    return done


def _delete_data(image_id, loc):
    """Delete the data behind ``loc``; False (logged) when it failed."""
    try:
        registry.delete_location_data(loc)
    except Exception as e:
        LOG.error('Could not delete data of image %s at %s, will retry: %s',
                  image_id, loc['url'], e)
        return False
    return True


def _scrub_removed_locations(before):
    """The data of locations taken off images that are still there."""
    with session.reader() as conn:
        removed = db.removed_locations(conn, before)
    for loc in removed:
        if not _delete_data(loc['image_id'], loc):
            continue
        with session.writer() as conn:
            db.location_set_status(conn, loc['id'], 'deleted', timeutils.now())
        LOG.info('Scrubbed removed location of image %s', loc['image_id'])


def _scrub_image(image_id):
    with session.reader() as conn:
        pending = db.pending_locations(conn, image_id)
    for loc in pending:
        if not _delete_data(image_id, loc):
            return False
        with session.writer() as conn:
            db.location_delete(conn, loc['id'], timeutils.now())
    with session.writer() as conn:
        updated = db.image_update_deleted(conn, image_id, timeutils.now())
    if updated:
        LOG.info('Scrubbed image %s', image_id)
    return updated


def restore(image_id):
    """Bring a pending_delete image back to active."""
    with session.writer() as conn:
        if not db.image_restore(conn, image_id, timeutils.now()):
            raise exception.Conflict('Image %s is not pending_delete.'
                                     % image_id)
