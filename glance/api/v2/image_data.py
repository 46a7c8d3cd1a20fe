"""Controller of /v2/images/{image_id}/file: upload and download."""

import re
import typing

import webob
from oslo_config import cfg

from glance.common import exception
from glance.common import sendfile
from glance.common import wsgi
from glance.domain.images import data as service

CONF = cfg.CONF
RANGE = re.compile(r'^bytes=([0-9]*)-([0-9]*)$')
# More digits than this is past the end of any image.
MAX_POSITION_DIGITS = 18
ETAG_VALUE = re.compile(r'^[0-9a-fA-F]+$')


class ImageDataController:

    def upload(self, req, image_id):
        require_octet_stream(req)
        size = request_size(req)
        store = req.headers.get('X-Image-Meta-Store')
        service.upload(req.context, image_id, req.environ['wsgi.input'],
                       size, store)
        return wsgi.empty_response()

    def delete_from_store(self, req, store_id, image_id):
        req.reject_body()
        service.delete_from_store(req.context, store_id, image_id)
        return wsgi.empty_response()

    def download(self, req, image_id):
        req.reject_body()
        image, open_data = service.download(req.context, image_id)
        if open_data is None:
            return wsgi.empty_response(204)
        size = image['size'] or 0
        resp = webob.Response(content_type='application/octet-stream')
        resp.headers['Accept-Ranges'] = 'bytes'
        etag = entity_tag(image)
        if etag is not None:
            resp.headers['ETag'] = etag
        wanted = req.headers.get('Range')
        if wanted is not None and not _if_range_holds(
                req.headers.get('If-Range'), etag):
            wanted = None
        if wanted is None:
            resp.app_iter = sendfile.body(req.environ, open_data(0, None))
            resp.content_length = size
            if image['checksum']:
                resp.headers['Content-MD5'] = image['checksum']
            return resp
        start, count = _range(wanted, size)
        resp.app_iter = sendfile.body(req.environ, open_data(start, count))
        resp.status = 206
        resp.content_length = count
        resp.headers['Content-Range'] = 'bytes %d-%d/%d' % (
            start, start + count - 1, size)
        return resp


def entity_tag(image: dict) -> typing.Optional[str]:
    """The strong ETag of an image's data (quoted), from its multihash or
    else its MD5 checksum; None when it has neither. The data of an image
    never changes once stored, so either names one exact byte sequence."""
    value = image.get('os_hash_value') or image.get('checksum')
    if not value or not ETAG_VALUE.match(value):
        return None
    return '"%s"' % value


def _if_range_holds(condition: typing.Optional[str],
                    etag: typing.Optional[str]) -> bool:
    """Whether the Range may be served: there is no If-Range, or it names
    the current strong ETag. A date, a weak or another tag never holds:
    the whole data is sent instead (the download carries no
    Last-Modified to compare a date with)."""
    if condition is None:
        return True
    return etag is not None and condition.strip() == etag


def _position(digits):
    """A byte position; digits beyond any possible image size are cut to
    a number larger than every image, never parsed whole."""
    digits = digits.lstrip('0') or '0'
    if len(digits) > MAX_POSITION_DIGITS:
        return 10 ** MAX_POSITION_DIGITS
    return int(digits)


def _range(header, size):
    """(start, count) of a single byte range; 416 when it cannot be met."""
    header = header.strip()
    if ',' in header:
        raise exception.BadRequest('Only a single byte range such as '
                                   '"bytes=0-99" is supported.')
    unsatisfiable = exception.RangeNotSatisfiable(
        'Requested range not satisfiable.',
        headers={'Content-Range': 'bytes */%d' % size})
    match = RANGE.match(header)
    if not match or match.groups() == ('', ''):
        raise unsatisfiable
    first, last = match.groups()
    if first == '':
        count = min(_position(last), size)
        start = size - count
    else:
        start = _position(first)
        end = min(_position(last), size - 1) if last != '' else size - 1
        count = end - start + 1
    if start >= size or count <= 0:
        raise unsatisfiable
    return start, count


def require_octet_stream(req):
    content_type = req.headers.get('Content-Type', '').split(';')[0]
    if content_type.strip().lower() != 'application/octet-stream':
        raise exception.UnsupportedMediaType(
            'Content-Type must be application/octet-stream.')


def request_size(req):
    raw = req.headers.get('x-openstack-image-size')
    if raw is not None:
        try:
            size = int(raw)
        except ValueError:
            raise exception.BadRequest('x-openstack-image-size must be an '
                                       'integer.')
        if size < 0:
            raise exception.BadRequest('x-openstack-image-size must not be '
                                       'negative.')
        return size
    return req.content_length
