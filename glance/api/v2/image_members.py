"""Controller of /v2/images/{image_id}/members: parses HTTP, calls
glance.domain.images.members."""

from glance.common import exception
from glance.common import timeutils
from glance.common import wsgi
from glance.domain.images import members as service

MAX_MEMBER_ID = 255


def member_view(row):
    return {'member_id': row['member'], 'image_id': row['image_id'],
            'status': row['status'],
            'created_at': timeutils.isotime(row['created_at']),
            'updated_at': timeutils.isotime(row['updated_at']),
            'schema': '/v2/schemas/member'}


def _text(body, key, missing):
    if key not in body:
        raise exception.BadRequest(missing)
    value = body[key]
    if not isinstance(value, str):
        raise exception.BadRequest('%s must be a string.' % key.capitalize())
    return value


class MembersController:

    def index(self, req, image_id):
        req.reject_body()
        rows = service.list_members(req.context, image_id)
        return wsgi.json_response({'members': [member_view(r) for r in rows],
                                   'schema': '/v2/schemas/members'})

    def show(self, req, image_id, member_id):
        req.reject_body()
        return wsgi.json_response(member_view(
            service.get_member(req.context, image_id, member_id)))

    def create(self, req, image_id):
        member_id = _text(req.json(), 'member',
                          'Member to be added not specified.')
        if not member_id.strip():
            raise exception.BadRequest("Member can't be empty.")
        if len(member_id) > MAX_MEMBER_ID:
            raise exception.BadRequest('Member ids are at most %d '
                                       'characters long.' % MAX_MEMBER_ID)
        return wsgi.json_response(member_view(
            service.add_member(req.context, image_id, member_id)))

    def update(self, req, image_id, member_id):
        status = _text(req.json(), 'status', 'Status not specified.')
        return wsgi.json_response(member_view(
            service.update_member(req.context, image_id, member_id, status)))

    def delete(self, req, image_id, member_id):
        req.reject_body()
        service.delete_member(req.context, image_id, member_id)
        return wsgi.empty_response()
