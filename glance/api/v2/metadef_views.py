"""How metadata definitions look in API responses, and the query
parameters their listings share."""

import urllib.parse

from oslo_config import cfg

from glance.common import exception
from glance.common import timeutils

CONF = cfg.CONF

NS_PATH = '/v2/metadefs/namespaces'
# Characters of names kept as they are in links (':' appears in nearly
# every namespace name).
_SAFE = ":@!$&'()*+,;="


def quote(name):
    return urllib.parse.quote(name, safe=_SAFE)


def namespace_link(name):
    return '%s/%s' % (NS_PATH, quote(name))


def _stamps(body, row):
    body['created_at'] = timeutils.isotime(row['created_at'])
    body['updated_at'] = timeutils.isotime(row['updated_at'])
    return body


def association_view(row):
    body = {'name': row['name']}
    for key in ('prefix', 'properties_target'):
        if row.get(key) is not None:
            body[key] = row[key]
    return _stamps(body, row)


def resource_type_view(row):
    return _stamps({'name': row['name']}, row)


def tag_view(row):
    return _stamps({'name': row['name']}, row)


def object_view(namespace, item):
    body = {'name': item['name']}
    if item.get('description') is not None:
        body['description'] = item['description']
    body['required'] = item['required']
    body['properties'] = item['properties']
    _stamps(body, item)
    body['self'] = '%s/objects/%s' % (namespace_link(namespace),
                                      quote(item['name']))
    body['schema'] = '/v2/schemas/metadefs/object'
    return body


def namespace_view(ns):
    """A namespace; its content only where the service filled it in and
    it is not empty."""
    body = {'namespace': ns['namespace']}
    for key in ('display_name', 'description', 'visibility', 'protected',
                'owner'):
        if ns.get(key) is not None:
            body[key] = ns[key]
    _stamps(body, ns)
    if ns.get('resource_type_associations'):
        body['resource_type_associations'] = [
            association_view(a) for a in ns['resource_type_associations']]
    if ns.get('properties'):
        body['properties'] = ns['properties']
    if ns.get('objects'):
        body['objects'] = [object_view(ns['namespace'], o)
                           for o in ns['objects']]
    if ns.get('tags'):
        body['tags'] = [{'name': t['name']} for t in ns['tags']]
    body['self'] = namespace_link(ns['namespace'])
    body['schema'] = '/v2/schemas/metadefs/namespace'
    return body


# -- query parameters ---------------------------------------------------------

def limit_param(query, default=True):
    value = query.get('limit')
    if value is None:
        if not default:
            return None
        return min(CONF.limit_param_default, CONF.api_limit_max)
    try:
        limit = int(value)
    except ValueError:
        raise exception.BadRequest('limit must be an integer, not %r.'
                                   % value)
    if limit < 0:
        raise exception.BadRequest('limit must not be negative.')
    return min(CONF.api_limit_max, limit)


def sort_params(query, keys, default_key, default_dir):
    key = query.get('sort_key', default_key)
    if key not in keys:
        raise exception.BadRequest('Invalid sort key: %s. It should be one '
                                   'of: %s.' % (key, ', '.join(keys)))
    direction = query.get('sort_dir', default_dir)
    if direction not in ('asc', 'desc'):
        raise exception.BadRequest("Invalid sort direction: %s. It should "
                                   "be 'asc' or 'desc'." % direction)
    return key, direction


def bool_param(query, key):
    value = query.get(key)
    if value is None:
        return None
    if value.lower() not in ('true', 'false'):
        raise exception.BadRequest("Invalid value for %s: %s. It should be "
                                   "'true' or 'false'." % (key, value))
    return value.lower() == 'true'
