"""Imports of data staged on another API node.

With ``worker_self_reference_url`` set, staging records which node holds
the staged data (``os_glance_stage_host``). A glance-direct import that
reaches another node is replayed against that one, as the caller, and its
answer returned.
"""

import json
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import http_client
from glance.domain.images import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Set on a replayed request: the node receiving it never replays it again.
PROXIED_HEADER = 'X-Glance-Import-Proxied'
TIMEOUT = 60


class Answer:
    """The remote node's response (it answers with our request id)."""

    def __init__(self, status, body, content_type=None):
        self.status = status
        self.body = body
        self.content_type = content_type


def elsewhere(image):
    """The URL of the node holding the image's staged data, when it is not
    this one."""
    host = image['properties'].get('os_glance_stage_host')
    mine = staging.self_url()
    if host and mine and host.rstrip('/') != mine.rstrip('/'):
        return host
    return None


def _import_url(host, image_id):
    """The import URL of ``image_id`` on the node ``host`` (its path kept,
    any user name, query or fragment left out)."""
    parsed = urllib.parse.urlsplit(host)
    return urllib.parse.urlunsplit((
        parsed.scheme, parsed.netloc.rpartition('@')[2],
        '%s/v2/images/%s/import' % (parsed.path.rstrip('/'), image_id),
        '', ''))


def replay(ctx, host, image_id, body):
    """POST the import to ``host``; its Answer, whatever its status (502
    when it answers badly, 504 when it cannot be reached).

    The peer is configured by the operator, so its URL is resolved but
    not filtered (an internal address is what a peer has); proxies of the
    environment apply as to every outbound request (``NO_PROXY`` lists
    peers that must be reached directly).
    """
    headers = {'Content-Type': 'application/json', PROXIED_HEADER: '1'}
    for name, value in (('X-Auth-Token', ctx.auth_token),
                        ('X-Project-Id', ctx.project_id),
                        ('X-User-Id', ctx.user_id),
                        ('X-Roles', ','.join(ctx.roles or ())),
                        ('X-Openstack-Request-Id', ctx.request_id)):
        if value:
            headers[name] = value
    try:
        with http_client.request(
                'POST', _import_url(host, image_id),
                check=http_client.resolve_url,
                body=json.dumps(body).encode('utf-8'), headers=headers,
                timeout=TIMEOUT, follow_redirects=False,
                require_success=False) as resp:
            return Answer(resp.status, resp.read(),
                          resp.getheader('Content-Type'))
    except http_client.BadAnswer as e:
        raise exception.BadGateway('Stage host %s answered badly: %s'
                                   % (host, e))
    except exception.BadRequest as e:
        LOG.warning('Stage host %s of image %s unavailable: %s', host,
                    image_id, e)
        raise exception.GatewayTimeout('Stage host is unavailable.')
