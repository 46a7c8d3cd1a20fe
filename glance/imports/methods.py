"""POST /v2/images/{id}/import: interoperable image import.

``start_import`` checks the request, takes the image's import lock and
records an ``api_image_import`` task; ``flow.run`` then does the
work in the background. The methods: glance-direct (data staged before),
web-download (fetched from a URL), copy-image (an active image's data
copied to more stores).
"""

import uuid

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.common import url_filter
from glance.db import session
from glance.domain import tasks
from glance.domain.images import limits
from glance.domain.images import locations
from glance.domain.images import quota
from glance.domain.images import records
from glance.imports import flow
from glance.imports import proxy
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

TASK_TYPE = 'api_image_import'
METHODS = ('glance-direct', 'web-download', 'copy-image', 'glance-download')
# Status an image must have for each method.
REQUIRED_STATUS = {'glance-direct': 'uploading', 'web-download': 'queued',
                   'glance-download': 'queued', 'copy-image': 'active'}


def parse_request(body, header_store=None):
    """The import request as (method dict, stores, all_stores,
    all_stores_must_succeed); BadRequest for a malformed one."""
    if not isinstance(body, dict):
        raise exception.BadRequest('The import request must be a JSON '
                                   'object.')
    method = body.get('method')
    if not isinstance(method, dict) or 'name' not in method:
        raise exception.BadRequest('Import request requires a '
                                   "'method' with a 'name'.")
    name = method['name']
    if name not in CONF.enabled_import_methods or name not in METHODS:
        raise exception.BadRequest('Unknown import method name %r.'
                                   % (name,))
    for key in ('all_stores', 'all_stores_must_succeed'):
        if key in body and not isinstance(body[key], bool):
            raise exception.BadRequest('%s must be a boolean.' % key)
    stores = body.get('stores')
    if stores is not None and (not isinstance(stores, list) or not all(
            isinstance(s, str) for s in stores)):
        raise exception.BadRequest('stores must be a list of store ids.')
    if name == 'web-download' and not isinstance(method.get('uri'), str):
        raise exception.BadRequest('web-download needs the uri of the '
                                   'data.')
    if name == 'glance-download':
        if not method.get('glance_region'):
            raise exception.BadRequest('glance-download needs '
                                       'glance_region.')
        try:
            uuid.UUID(str(method.get('glance_image_id')))
        except ValueError:
            raise exception.BadRequest('glance-download needs the '
                                       'glance_image_id of the remote '
                                       'image: the image id does not look '
                                       'like a UUID.')
        method.setdefault('glance_service_interface', 'public')
    return (method, stores, body.get('all_stores', False),
            body.get('all_stores_must_succeed', True))


def _target_stores(method, image, stores, all_stores, header_store):
    """Names of the stores to import into ([None] in single-store)."""
    if not CONF.enabled_backends:
        # Store choices mean nothing with one store (clients such as
        # Tempest send all_stores anyway).
        if method['name'] == 'copy-image':
            raise exception.BadRequest('copy-image needs multi-store.')
        return [None]
    reg = registry.get_registry()
    writable = [s.name for s in reg.stores() if not s.read_only]
    if all_stores and (stores or header_store):
        raise exception.BadRequest('all_stores cannot be combined with a '
                                   'list of stores.')
    if stores and header_store:
        raise exception.BadRequest('Give stores in the body or in the '
                                   'X-Image-Meta-Store header, not both.')
    if all_stores:
        chosen = writable
    elif stores:
        chosen = list(dict.fromkeys(stores))
    elif header_store:
        chosen = [header_store]
    else:
        chosen = [reg.default_name]
    for name in chosen:
        if name not in writable:
            raise exception.Conflict('Store %s is not available for '
                                     'import.' % name)
    if method['name'] == 'copy-image':
        held = {loc['metadata'].get('store')
                for loc in locations.live_locations(image)}
        if all_stores:
            chosen = [s for s in chosen if s not in held]
        elif held & set(chosen):
            raise exception.BadRequest('Image %s already has data in '
                                       'store %s.' % (
                                           image['id'],
                                           sorted(held & set(chosen))[0]))
    return chosen


def start_import(ctx, image_id, body, header_store=None, proxied=False):
    """Check an import request and start it; the task id, None when there
    is nothing to do, or the Answer of the node holding the staged data
    when it is another one."""
    method, stores, all_stores, all_must = parse_request(body, header_store)
    name = method['name']
    if name == 'glance-direct' and not proxied:
        with session.reader() as conn:
            image = records.load(conn, ctx, image_id)
        host = proxy.elsewhere(image)
        if host:
            return proxy.replay(ctx, host, image_id, body)
    limits.enforce(ctx.project_id, image_size_total=0)
    # The task reads the certificate of a signed image from the key
    # manager with the caller's token.
    credentials = {'token': ctx.auth_token, 'project_id': ctx.project_id}
    # A store that writes with the caller's credentials (multi-tenant
    # swift) finds its account in the catalog.
    credentials['catalog'] = ctx.service_catalog
    if name == 'web-download':
        url_filter.check_url(method['uri'])
    elif name == 'glance-download':
        # The remote endpoint is looked up (and filtered) by the task: a
        # bad region or interface fails the task, as upstream.
        credentials['catalog'] = ctx.service_catalog
    rule = 'copy_image' if name == 'copy-image' else 'modify_image'
    with session.writer() as conn:
        image = records.load(conn, ctx, image_id, rule, for_update=True)
        if image['status'] != REQUIRED_STATUS[name]:
            raise exception.Conflict(
                'Image %s is %s; the %s import method needs it %s.'
                % (image_id, image['status'], name, REQUIRED_STATUS[name]))
        missing = [k for k in ('container_format', 'disk_format')
                   if not image.get(k)]
        if missing:
            raise exception.Conflict('Set %s of the image before importing '
                                     'it.' % ' and '.join(missing))
        if not all_must and not CONF.enabled_backends:
            raise exception.BadRequest('all_stores_must_succeed can be false '
                                       'only with multi-store.')
        targets = _target_stores(method, image, stores, all_stores,
                                 header_store)
        if not targets:
            return None
        quota.check_import(conn, image, name, targets)
        when = timeutils.now()
        task_id = tasks.create(conn, ctx, TASK_TYPE, image_id, {
            'image_id': image_id, 'import_req': body, 'backend': targets},
            when)
        tasks.take_lock(conn, image, task_id, when)
    tasks.notify('task.create', task_id)
    locations.spawn(flow.run, task_id, image_id, method, targets,
                    all_must, list(ctx.roles or ()), credentials)
    return task_id
