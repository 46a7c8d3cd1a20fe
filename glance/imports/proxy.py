"""Imports of data staged on another API node.

With ``worker_self_reference_url`` set, staging records which node holds
the staged data (``os_glance_stage_host``). A glance-direct import that
reaches another node is replayed against that one, as the caller, and its
answer returned.
"""

import http.client
import json
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
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


def replay(ctx, host, image_id, body):
    """POST the import to ``host``; its Answer (502/504 when it cannot
    be reached)."""
    parsed = urllib.parse.urlsplit(host)
    cls = (http.client.HTTPSConnection if parsed.scheme == 'https'
           else http.client.HTTPConnection)
    headers = {'Content-Type': 'application/json', PROXIED_HEADER: '1'}
    for name, value in (('X-Auth-Token', ctx.auth_token),
                        ('X-Project-Id', ctx.project_id),
                        ('X-User-Id', ctx.user_id),
                        ('X-Roles', ','.join(ctx.roles or ())),
                        ('X-Openstack-Request-Id', ctx.request_id)):
        if value:
            headers[name] = value
    path = '%s/v2/images/%s/import' % (parsed.path.rstrip('/'), image_id)
    conn = cls(parsed.hostname, parsed.port, timeout=TIMEOUT)
    try:
        conn.request('POST', path, json.dumps(body), headers)
        resp = conn.getresponse()
        return Answer(resp.status, resp.read(),
                      resp.getheader('Content-Type'))
    except (TimeoutError, ConnectionError, OSError) as e:
        LOG.warning('Stage host %s of image %s unavailable: %s', host,
                    image_id, e)
        raise exception.GatewayTimeout('Stage host is unavailable.')
    except http.client.HTTPException as e:
        raise exception.BadGateway('Stage host %s answered badly: %s'
                                   % (host, e))
    finally:
        conn.close()
