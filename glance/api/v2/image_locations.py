"""Controller of /v2/images/{image_id}/locations (API 2.17)."""

from glance.common import exception
from glance.common import wsgi
from glance.domain.images import locations
from glance.imports import location_import

VALIDATION_KEYS = {'os_hash_algo', 'os_hash_value'}
MAX_URL = 255


class LocationsController:

    def create(self, req, image_id):
        url, validation_data = parse_location(req.json())
        location_import.add_location(req.context, image_id, url,
                                     validation_data)
        return wsgi.empty_response(202)

    def index(self, req, image_id):
        req.reject_body()
        return wsgi.json_response(locations.list_locations(req.context,
                                                           image_id))


def parse_location(body):
    """(url, validation data or None) from a POST body."""
    unknown = sorted(set(body) - {'url', 'validation_data'})
    if unknown:
        raise exception.BadRequest('Unexpected keys in the request body: %s'
                                   % ', '.join(unknown))
    url = body.get('url')
    if not isinstance(url, str) or not url.strip():
        raise exception.BadRequest("'url' must be a non-empty string.")
    if len(url) > MAX_URL:
        raise exception.BadRequest("'url' is longer than %d characters."
                                   % MAX_URL)
    data = body.get('validation_data')
    if data is None or data == {}:
        # Clients send an empty object when they have nothing to check.
        return url, None
    if not isinstance(data, dict) or set(data) != VALIDATION_KEYS:
        raise exception.BadRequest("'validation_data' must be an object "
                                   "with os_hash_algo and os_hash_value, "
                                   "and nothing else.")
    if data['os_hash_algo'] not in location_import.HASH_ALGOS:
        raise exception.BadRequest('os_hash_algo must be one of %s.'
                                   % ', '.join(location_import.HASH_ALGOS))
    if not isinstance(data['os_hash_value'], str):
        raise exception.BadRequest('os_hash_value must be a string.')
    return url, dict(data)
