"""The versions document (GET / and GET /versions)."""

import json

import webob
import webob.dec
from oslo_config import cfg

CONF = cfg.CONF

# Whether the API pipeline serves the image cache (a caching flavor):
# set when the pipeline is built.
_caching = {'on': False}


def set_caching(on: bool) -> None:
    _caching['on'] = bool(on)


def cache_versions() -> bool:
    """The cache API versions (2.14, 2.16, 2.18) are advertised when a
    cache is configured and a caching flavor serves it."""
    return bool(CONF.image_cache_dir) and _caching['on']


def version_entries():
    """(id, status) pairs in the order upstream emits them."""
    entries = []
    caching = cache_versions()
    if caching:
        entries += [('v2.18', 'CURRENT'), ('v2.17', 'SUPPORTED'),
                    ('v2.16', 'SUPPORTED'), ('v2.15', 'SUPPORTED'),
                    ('v2.14', 'SUPPORTED')]
    else:
        entries.append(('v2.15', 'SUPPORTED'))
    if CONF.enabled_backends:
        entries += [('v2.%d' % n, 'SUPPORTED') for n in range(13, 7, -1)]
    else:
        entries.append(('v2.9', 'SUPPORTED'))
    if not caching:
        entries.append(('v2.17', 'CURRENT'))
    entries += [('v2.%d' % n, 'SUPPORTED') for n in range(7, -1, -1)]
    return entries


def allowed_tokens():
    return {'v2'} | {vid for vid, _ in version_entries()}


def versions_response(req, status=300):
    base = CONF.public_endpoint or req.application_url
    href = base.rstrip('/') + '/v2/'
    body = {'versions': [
        {'id': vid, 'status': st, 'links': [{'rel': 'self', 'href': href}]}
        for vid, st in version_entries()]}
    resp = webob.Response(status=status, content_type='application/json',
                          charset='UTF-8')
    resp.body = json.dumps(body).encode('utf-8')
    return resp


@webob.dec.wsgify
def versions_app(req):
    return versions_response(req)


def app_factory(global_conf, **local_conf):
    return versions_app


def create_resource(global_conf=None, **local_conf):
    """The versions application under the paste path upstream's paste
    files name: ``glance.api.versions:create_resource``."""
    return app_factory(global_conf, **local_conf)
