"""Controller of /v2/images: parses HTTP, calls glance.domain.images.images."""

import datetime
import re
import urllib.parse

from oslo_config import cfg

from glance.common import exception
from glance.common import timeutils
from glance.common import wsgi
from glance.domain import schema
from glance.domain.images import images as service

CONF = cfg.CONF

CORE_KEYS = ('name', 'disk_format', 'container_format', 'visibility', 'size',
             'virtual_size', 'status', 'checksum', 'protected', 'min_ram',
             'min_disk', 'owner', 'os_hidden', 'os_hash_algo',
             'os_hash_value')
HIDDEN_PROPERTIES = ('os_glance_stage_host', 'os_glance_hash_op_host')
CREATE_READONLY = ('direct_url', 'self', 'file', 'schema', 'stores')
PATCH_READONLY = {'created_at', 'updated_at', 'status', 'checksum', 'size',
                  'virtual_size', 'direct_url', 'self', 'file', 'schema',
                  'id', 'os_hash_algo', 'os_hash_value'}
PATCH_RESERVED = {'location', 'deleted', 'deleted_at'}
PATCH_MEDIA = {
    'application/openstack-images-v2.1-json-patch': '2.1',
    'application/openstack-images-v2.0-json-patch': '2.0',
}
ACCEPT_PATCH = ('application/openstack-images-v2.0-json-patch, '
                'application/openstack-images-v2.1-json-patch')
SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
OP_FILTERS = ('name', 'id', 'status', 'container_format', 'disk_format')
TIME_FILTERS = ('created_at', 'updated_at')
COLUMN_FILTERS = {'owner': str, 'checksum': str, 'os_hash_value': str,
                  'os_hash_algo': str, 'virtual_size': int, 'size': int,
                  'min_ram': int, 'min_disk': int}
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# Most filter terms a list request may carry (see _check_filter_terms).
MAX_FILTER_TERMS = 100
_CONTROL = re.compile('[\x00-\x1f\x7f]')


class ImageView:
    """Renders images as the API shows them, with the options of one
    request read once."""

    def __init__(self):
        self.locations = CONF.show_multiple_locations
        self.direct_url = CONF.show_image_direct_url
        self.multi_store = bool(CONF.enabled_backends)

    def __call__(self, image):
        body = {k: ('' if v is None else v)
                for k, v in image['properties'].items()
                if k not in HIDDEN_PROPERTIES}
        get = image.get
        for key in CORE_KEYS:
            body[key] = get(key)
        image_id = image['id']
        body['id'] = image_id
        body['created_at'] = timeutils.isotime(image['created_at'])
        body['updated_at'] = timeutils.isotime(image['updated_at'])
        # Live ones only: not those glance-auditor found bad.
        locations = [loc for loc in image['locations']
                     if loc['status'] == 'active']
        if self.locations:
            body['locations'] = [{'url': loc['url'],
                                  'metadata': loc['metadata']}
                                 for loc in locations]
        if self.direct_url and locations:
            body['direct_url'] = locations[0]['url']
        body['tags'] = list(image['tags'])
        body['self'] = '/v2/images/' + image_id
        body['file'] = '/v2/images/%s/file' % image_id
        body['schema'] = '/v2/schemas/image'
        if self.multi_store:
            stores = [loc['metadata'].get('store') for loc in locations
                      if loc['metadata'].get('store')]
            if stores:
                body['stores'] = ','.join(stores)
        return body


def format_image(image):
    """The image as the API shows it."""
    return ImageView()(image)


class ImagesController:

    def create(self, req):
        body = req.json()
        for key in CREATE_READONLY:
            if key in body:
                raise exception.ReadonlyProperty("Attribute '%s' is "
                                                 "read-only." % key)
        schema.image_schema().validate(body)
        image = service.create(req.context, body)
        headers = {'Location': '/v2/images/%s' % image['id']}
        if CONF.enabled_import_methods:
            headers['OpenStack-image-import-methods'] = ','.join(
                CONF.enabled_import_methods)
        if CONF.enabled_backends:
            headers['OpenStack-image-store-ids'] = ','.join(
                CONF.enabled_backends)
        resp = wsgi.json_response(format_image(image), 201, headers)
        return resp

    def show(self, req, image_id):
        req.reject_body()
        return wsgi.json_response(format_image(
            service.get(req.context, image_id)))

    def index(self, req):
        params = parse_list_params(req.GET)
        found, page_full = service.list_images(req.context, **params)
        view = ImageView()
        body = {'images': [view(i) for i in found],
                'first': _page_link(req, drop_marker=True),
                'schema': '/v2/schemas/images'}
        if page_full and found:
            body['next'] = _page_link(req, marker=found[-1]['id'])
        return wsgi.json_response(body)

    def update(self, req, image_id):
        content_type = req.headers.get('Content-Type', '').split(';')[0]
        media_version = PATCH_MEDIA.get(content_type.strip().lower())
        if media_version is None:
            raise exception.UnsupportedMediaType(
                'Unsupported Content-Type %s' % (content_type or '(none)'),
                headers={'Accept-Patch': ACCEPT_PATCH})
        changes = [parse_change(c, media_version)
                   for c in req.json(expect=(list,))]
        image = service.update(req.context, image_id, changes)
        return wsgi.json_response(format_image(image))

    def delete(self, req, image_id):
        req.reject_body()
        service.delete(req.context, image_id)
        return wsgi.empty_response()


def _page_link(req, marker=None, drop_marker=False):
    items = [(k, v) for k, v in req.GET.items()
             if not (k == 'marker' and (drop_marker or marker))]
    if marker:
        items.append(('marker', marker))
    query = urllib.parse.urlencode(items)
    return '/v2/images' + ('?' + query if query else '')


# -- JSON patch ----------------------------------------------------------------

def parse_change(raw, media_version):
    """(op, path tokens, value, media version) from one patch operation."""
    if not isinstance(raw, dict):
        raise exception.BadRequest('Operations must be JSON objects.')
    if media_version == '2.1':
        op = raw.get('op')
        if op is None:
            raise exception.BadRequest("Unable to find 'op' in JSON Schema "
                                       'change')
        if op not in ('add', 'remove', 'replace'):
            raise exception.BadRequest("Invalid operation: '%s'" % op)
        if 'path' not in raw:
            raise exception.BadRequest("Unable to find 'path' in JSON Schema "
                                       'change')
        path = raw['path']
    else:
        ops = [k for k in ('add', 'remove', 'replace') if k in raw]
        if len(ops) != 1:
            raise exception.BadRequest('Operation objects must contain '
                                       'exactly one member named "add", '
                                       '"remove", or "replace".')
        op = ops[0]
        path = raw[op]
    tokens = parse_pointer(path)
    root = tokens[0]
    if root == 'locations':
        wanted = 1 if op == 'replace' else 2
    else:
        wanted = 1
    if len(tokens) != wanted:
        raise exception.BadRequest("Invalid JSON pointer for this resource: "
                                   "'%s'" % path)
    if root in PATCH_READONLY:
        raise exception.ReadonlyProperty("Attribute '%s' is read-only."
                                         % root)
    if len(root) > 255:
        raise exception.BadRequest('Image property names must be at most 255 '
                                   'characters long.')
    if root in PATCH_RESERVED or root.startswith('os_glance'):
        raise exception.ReservedProperty("Attribute '%s' is reserved."
                                         % root)
    value = None
    if op in ('add', 'replace'):
        if 'value' not in raw:
            raise exception.BadRequest("Unable to find 'value' in JSON Schema "
                                       'change')
        value = raw['value']
        if root == 'locations' and len(tokens) == 2:
            schema.image_schema().validate({root: [value]})
        else:
            schema.image_schema().validate({root: value})
    return op, tokens, value, media_version


def parse_pointer(path):
    """Decode a restricted JSON pointer ("/a/b") into its tokens."""
    if not isinstance(path, str) or not path.startswith('/'):
        raise exception.BadRequest("Pointer `%s` does not start with '/'."
                                   % path)
    if path.endswith('/'):
        raise exception.BadRequest("Pointer `%s` end with '/'." % path)
    raw_tokens = path[1:].split('/')
    tokens = []
    for raw in raw_tokens:
        if not raw:
            raise exception.BadRequest('Pointer `%s` contains adjacent '
                                       "'/'." % path)
        if re.search(r'~(?![01])', raw):
            raise exception.BadRequest("Pointer `%s` contains '~' not part "
                                       'of a recognized escape sequence.'
                                       % path)
        token = raw.replace('~1', '/').replace('~0', '~').strip()
        if not token:
            raise exception.BadRequest('Pointer `%s` does not contain a '
                                       'valid token.' % path)
        tokens.append(token)
    return tokens


# -- list parameters -----------------------------------------------------------

def parse_list_params(query):
    """Keyword arguments of ``service.list_images`` from the query string."""
    for key, value in query.items():
        if _CONTROL.search(key) or _CONTROL.search(value):
            raise exception.BadRequest('Control characters are not allowed '
                                       'in query parameters.')
    params = {'filters': {'columns': {}, 'properties': {}, 'tags': []}}
    filters = params['filters']
    keys = query.getall('sort_key')
    dirs = query.getall('sort_dir')
    if 'sort' in query:
        if keys or dirs:
            raise exception.BadRequest('The `sort_key` and `sort_dir` query '
                                       'parameters are deprecated and cannot '
                                       'be used with the new `sort` '
                                       'parameter.')
        keys, dirs = [], []
        for item in query['sort'].split(','):
            key, _, direction = item.strip().partition(':')
            keys.append(key.strip())
            dirs.append(direction.strip() or 'desc')
    else:
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise exception.BadRequest('Number of sort dirs does not match '
                                       'the number of sort keys')
        if keys and len(dirs) <= 1:
            dirs = [dirs[0] if dirs else 'desc'] * len(keys)
        if not keys:
            keys = ['created_at']
            dirs = [dirs[0] if dirs else 'desc']
    for n, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise exception.BadRequest('Invalid sort key: %s. It should be '
                                       'one of the following: %s.'
                                       % (key, ', '.join(SORT_KEYS)))
        # Each key once: so there are never more than len(SORT_KEYS).
        if key in keys[:n]:
            raise exception.BadRequest('Sort key %s is given more than once.'
                                       % key)
    for direction in dirs:
        if direction not in ('asc', 'desc'):
            raise exception.BadRequest('Invalid sort direction: %s'
                                       % direction)
    params['sort_keys'] = keys
    params['sort_dirs'] = dirs
    params['limit'] = _limit(query.get('limit'))
    if 'marker' in query:
        # Image ids are stored in lower case.
        params['marker'] = query['marker'].lower()
    member_status = query.get('member_status', 'accepted')
    if member_status not in ('pending', 'accepted', 'rejected', 'all'):
        raise exception.BadRequest('Invalid status: %s' % member_status)
    params['member_status'] = member_status
    visibility = query.get('visibility')
    if visibility is not None and visibility not in (
            'public', 'private', 'shared', 'community', 'all'):
        raise exception.BadRequest('Invalid visibility value: %s'
                                   % visibility)
    params['visibility'] = visibility
    hidden = _bool_param(query, 'os_hidden', 'false')
    filters['columns']['os_hidden'] = ('eq', hidden)
    if 'protected' in query:
        filters['columns']['protected'] = (
            'eq', _bool_param(query, 'protected', None))
    filters['tags'] = query.getall('tag')
    for key in ('size_min', 'size_max'):
        if key in query:
            filters[key] = _int_param(key, query[key])
    skip = {'sort', 'sort_key', 'sort_dir', 'limit', 'marker',
            'member_status', 'visibility', 'os_hidden', 'protected', 'tag',
            'size_min', 'size_max'}
    for key in query:
        if key in skip:
            continue
        value = query[key]
        if key == 'changes-since':
            raise exception.BadRequest('The "changes-since" filter is no '
                                       'longer available on v2.')
        if key in OP_FILTERS:
            filters['columns'][key] = _op_value(
                key, value.lower() if key == 'id' else value)
        elif key in TIME_FILTERS:
            filters['columns'][key] = _time_filter(key, value)
        elif key in COLUMN_FILTERS:
            cast = COLUMN_FILTERS[key]
            filters['columns'][key] = (
                'eq', _int_param(key, value) if cast is int else value)
        else:
            filters['properties'][key] = value
    _check_filter_terms(query, filters)
    return params


def _check_filter_terms(query, filters):
    """400 when the filters of a list request have more than
    MAX_FILTER_TERMS terms: each property filter, tag, column filter and
    value of an ``in:`` list is one (the query grows with each)."""
    terms = len(filters['properties']) + len(filters['tags'])
    terms += sum(1 for key in ('size_min', 'size_max') if key in filters)
    # An in: list is one term (one expanding parameter); its values are
    # bounded on their own, as many as a page may hold (clients such as
    # Horizon ask for the images of a page by id=in:...).
    most_values = max(1000, CONF.api_limit_max)
    for key, (op, value) in filters['columns'].items():
        if key == 'os_hidden' and key not in query:
            continue
        terms += 1
        if op == 'in' and len(value) > most_values:
            raise exception.BadRequest('Too many values in the %s filter: '
                                       '%d, at most %d.'
                                       % (key, len(value), most_values))
    if terms > MAX_FILTER_TERMS:
        raise exception.BadRequest('Too many filters: %d terms (property '
                                   'filters, tags and column filters), at '
                                   'most %d.' % (terms, MAX_FILTER_TERMS))


def _limit(value):
    if value is None:
        return min(CONF.limit_param_default, CONF.api_limit_max)
    try:
        limit = int(value)
    except ValueError:
        raise exception.BadRequest('limit param must be an integer')
    if limit < 0:
        raise exception.BadRequest('limit param must be positive')
    return min(CONF.api_limit_max, limit)


def _int_param(key, value):
    try:
        number = int(value)
    except ValueError:
        raise exception.BadRequest('Invalid value for %s: %s must be an '
                                   'integer.' % (key, value))
    if not -2 ** 63 <= number < 2 ** 63:
        raise exception.BadRequest('Invalid value for %s: %s is out of '
                                   'range.' % (key, value))
    return number


def _bool_param(query, key, default):
    value = query.get(key, default)
    if value is not None:
        value = value.lower()
    if value not in ('true', 'false'):
        raise exception.BadRequest('Invalid value for %s: %s. It should be '
                                   "'true' or 'false'." % (key, value))
    return value == 'true'


def _op_value(key, raw):
    op, sep, value = raw.partition(':')
    if not sep:
        return 'eq', raw
    if op == 'eq':
        return 'eq', value
    if op == 'in':
        return 'in', _split_in(value)
    raise exception.BadRequest('Unable to filter on %s: invalid operator '
                               "'%s'." % (key, op))


def _split_in(value):
    """Comma-separated items; items containing commas are double-quoted."""
    items = []
    i = 0
    while i <= len(value):
        if value[i:i + 1] == '"':
            end = value.find('"', i + 1)
            if end == -1:
                raise exception.BadRequest('Invalid filter value %s. There '
                                           'is no comma after closing '
                                           'quotation mark.' % value)
            items.append(value[i + 1:end])
            i = end + 1
            if i < len(value) and value[i] != ',':
                raise exception.BadRequest('Invalid filter value %s. There '
                                           'is no comma after closing '
                                           'quotation mark.' % value)
            i += 1
        else:
            end = value.find(',', i)
            if end == -1:
                end = len(value)
            item = value[i:end]
            if '"' in item:
                raise exception.BadRequest('Invalid filter value %s. The '
                                           'quote is not closed.' % value)
            items.append(item)
            i = end + 1
    return items


def _time_filter(key, raw):
    op, sep, value = raw.partition(':')
    if op not in ('gt', 'gte', 'eq', 'neq', 'lt', 'lte'):
        op, value = 'eq', raw
    try:
        when = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError:
        raise exception.BadRequest('Invalid time format for %s: %s' % (key,
                                                                       raw))
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return op, when
