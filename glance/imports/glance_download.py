"""The glance-download import method: an image of another region's Image
service, found in the caller's service catalog, copied with the caller's
token, metadata first (formats and chosen properties), then data."""

import json
import urllib.parse

from oslo_config import cfg

from glance.common import exception
from glance.common import http_client
from glance.common import url_filter

CONF = cfg.CONF
METADATA_LIMIT = 1024 * 1024


def endpoint(catalog, region, interface):
    """URL of the image service of ``region`` in a Keystone catalog (v3
    ``endpoints`` entries, or v2 ``<interface>URL`` ones)."""
    for service in catalog or ():
        if not isinstance(service, dict) or service.get('type') != 'image':
            continue
        for ep in service.get('endpoints') or ():
            where = ep.get('region') or ep.get('region_id') or ''
            if where.lower() != region.lower():
                continue
            if ep.get('interface') == interface and ep.get('url'):
                return ep['url'].rstrip('/')
            if ep.get('%sURL' % interface):
                return ep['%sURL' % interface].rstrip('/')
    raise exception.Invalid('No %s image endpoint for region %s in the '
                            'service catalog.' % (interface, region))


def _url(credentials, method, suffix=''):
    base = endpoint(credentials.get('catalog'), method['glance_region'],
                    method.get('glance_service_interface', 'public'))
    image = urllib.parse.quote(method['glance_image_id'])
    return '%s/v2/images/%s%s' % (base, image, suffix)


def _headers(credentials):
    token = credentials.get('token')
    return {'X-Auth-Token': token} if token else {}


def remote_image(credentials, method):
    """The remote image, which must be active."""
    reply = http_client.open_url(_url(credentials, method), METADATA_LIMIT,
                                 headers=_headers(credentials),
                                 check=url_filter.vet_url)
    try:
        image = json.loads(reply.read())
    except ValueError:
        raise exception.Invalid('The remote image service did not answer '
                                'JSON.')
    finally:
        reply.close()
    if not isinstance(image, dict) or image.get('status') != 'active':
        raise exception.Invalid('Remote image %s is not active.'
                                % method['glance_image_id'])
    return image


def local_changes(remote):
    """The columns and properties to take over from the remote image."""
    prefixes = tuple(CONF.glance_download_properties.extra_properties)
    props = {k: str(v) for k, v in remote.items()
             if prefixes and k.startswith(prefixes)
             and not k.startswith('os_glance')}
    return ({'disk_format': remote.get('disk_format'),
             'container_format': remote.get('container_format')}, props)


def open_data(credentials, method, remote):
    return http_client.open_url(_url(credentials, method, '/file'),
                                CONF.image_size_cap,
                                headers=_headers(credentials),
                                check=url_filter.vet_url)
