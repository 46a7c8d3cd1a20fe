"""Image tags: ``PUT`` and ``DELETE /v2/images/{image_id}/tags/{tag}``.
(Tags set through an image PATCH go through ``images.update``.)"""

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import session
from glance.domain.images import quota
from glance.domain.images import records
from glance.domain.images import rules


@session.replayable
def add_tag(ctx, image_id, tag):
    """Tag an image (nothing changes when it has the tag already)."""
    rules.check_text(tag)
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'modify_image', for_update=True)
        if tag in image['tags']:
            return
        quota.check_quota('image_tag_quota', len(image['tags']) + 1, 'tags')
        _save_tags(conn, image, image['tags'] + [tag])
    notifier.image_event('image.update', image)


@session.replayable
def delete_tag(ctx, image_id, tag):
    """Remove a tag; 404 when the image does not have it."""
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'modify_image', for_update=True)
        if tag not in image['tags']:
            raise exception.NotFound('Tag %s not found.' % tag)
        _save_tags(conn, image, [t for t in image['tags'] if t != tag])
    notifier.image_event('image.update', image)


def _save_tags(conn, image, tags):
    """Replace the tags of a loaded image, in the database and in
    ``image`` (which then is the image as it is now)."""
    now = timeutils.now()
    db.image_set_tags(conn, image['id'], image['tags'], tags, now)
    db.image_update(conn, image['id'], {'updated_at': now})
    image.update(tags=tags, updated_at=now)
