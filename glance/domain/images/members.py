"""Image sharing: the members of shared images.

The owner adds and removes member projects; a member accepts or rejects
the image for its own listing. Members of images the caller cannot see
are 404, as is a membership the caller may not look at.
"""

from oslo_config import cfg

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import members as db
from glance.db import session
from glance.domain import policy
from glance.domain.images import quota
from glance.domain.images import records
from glance.domain.images import rules
from glance.domain.images import store_acls

CONF = cfg.CONF

STATUSES = ('pending', 'accepted', 'rejected')


def _require_shared(image):
    if image['visibility'] != 'shared':
        raise exception.Forbidden('Only shared images have members.')


def _may_see(ctx, image, row):
    """Owners and admins see every membership, a member only its own."""
    return (ctx.is_admin or image['owner'] == ctx.project_id
            or row['member'] == ctx.project_id)


def _lookup(conn, ctx, image, member_id):
    policy.enforce_image(ctx, 'get_member', image)
    row = db.member_get(conn, image['id'], member_id)
    if row is None or not _may_see(ctx, image, row):
        raise exception.NotFound('Member %s not found for image %s.'
                                 % (member_id, image['id']))
    return row


@session.replayable
def list_members(ctx, image_id):
    with session.reader() as conn:
        image = records.load(conn, ctx, image_id, 'get_members')
        _require_shared(image)
        if ctx.is_admin or image['owner'] == ctx.project_id:
            return db.member_list(conn, image_id)
        return db.member_list(conn, image_id, ctx.project_id)


@session.replayable
def get_member(ctx, image_id, member_id):
    with session.reader() as conn:
        image = records.load(conn, ctx, image_id)
        try:
            _require_shared(image)
            return _lookup(conn, ctx, image, member_id)
        except exception.Forbidden:
            raise exception.NotFound('Member %s not found for image %s.'
                                     % (member_id, image_id))


@session.replayable
def add_member(ctx, image_id, member_id):
    rules.check_text(member_id)
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'add_member',
                            for_update=True)
        _require_shared(image)
        if db.member_get(conn, image_id, member_id) is not None:
            raise exception.Duplicate('Member %s already associated with '
                                      'image %s.' % (member_id, image_id))
        quota.check_quota('image_member_quota',
                           db.member_count(conn, image_id) + 1,
                           'image members')
        now = timeutils.now()
        member = db.member_create(conn, image_id, member_id, now)
    store_acls.sync(ctx, image)
    notifier.member_event('image.member.create', member)
    return member


@session.replayable
def update_member(ctx, image_id, member_id, status):
    if status not in STATUSES:
        raise exception.Invalid('Invalid status: %s. Status must be one of '
                                '%s.' % (status, ', '.join(STATUSES)))
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'modify_member',
                            for_update=True)
        _require_shared(image)
        row = _lookup(conn, ctx, image, member_id)
        now = timeutils.now()
        db.member_update(conn, row['id'], status, now)
    member = dict(row, status=status, updated_at=now)
    notifier.member_event('image.member.update', member)
    return member


@session.replayable
def delete_member(ctx, image_id, member_id):
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, 'delete_member',
                            for_update=True)
        _require_shared(image)
        row = _lookup(conn, ctx, image, member_id)
        db.member_delete(conn, row['id'],
                         timeutils.now())
    store_acls.sync(ctx, image)
    notifier.member_event('image.member.delete', row, deleted=True)
