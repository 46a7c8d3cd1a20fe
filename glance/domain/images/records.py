"""Image rows as the service functions use them: loaded as the caller may
see them (404 otherwise, then the policy rule of the operation), and their
properties replaced in one write."""

import uuid

from oslo_log import log as logging

from glance.common import exception
from glance.db import api as db
from glance.db import session
from glance.domain import policy

LOG = logging.getLogger(__name__)


def load(conn, ctx, image_id, rule=None, for_update=False):
    """The image, 404 when it does not exist or the caller cannot see it."""
    image = None
    try:
        uuid.UUID(image_id)
    except (ValueError, TypeError, AttributeError):
        pass
    else:
        image = db.image_get(conn, image_id, for_update=for_update)
    if image is None or not visible(conn, ctx, image):
        raise exception.ImageNotFound('No image found with ID %s' % image_id)
    policy.enforce_image(ctx, 'get_image', image)
    if rule is not None:
        policy.enforce_image(ctx, rule, image)
    return image


def unrecorded(image_id, url):
    """Whether data just written at ``url`` is known not to be recorded
    for the image, so that removing it loses nothing. After a failure at
    commit the commit may still have happened: in doubt (the database
    cannot be read) the data is kept, and the recovery of the write's
    lease removes it if it was never recorded."""
    try:
        with session.reader() as conn:
            return not db.location_recorded(conn, image_id, url)
    except Exception as e:
        LOG.warning('Kept %s: could not tell whether image %s records it: '
                    '%s', url, image_id, e)
        return False


def visible(conn, ctx, image):
    """Whether the caller may see ``image`` at all."""
    if ctx.is_admin or image['owner'] is None:
        return True
    if image['visibility'] in ('public', 'community'):
        return True
    if ctx.project_id is not None and image['owner'] == ctx.project_id:
        return True
    if image['visibility'] == 'shared' and ctx.project_id is not None:
        return db.is_member(conn, image['id'], ctx.project_id)
    return False


def set_properties(conn, image, changes, when):
    """Set (value) or drop (None) some properties of a loaded image."""
    new = dict(image['properties'])
    for key, value in changes.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    db.image_set_properties(conn, image['id'], image['properties'], new,
                            when)
    image['properties'] = new
