"""The cache management API's service functions (``/v2/cache`` and the
older ``cachemanage`` paths). Each checks its policy rule first, then
that this node has a cache (404 otherwise, as upstream). They act on the
cache of the node that receives the request.
"""

import uuid

from oslo_config import cfg

from glance.cache import cache as cache_mod
from glance.cache import jobs
from glance.cache import worker
from glance.cache.drivers import centralized_db
from glance.common import exception
from glance.db import api as db
from glance.db import session
from glance.domain import policy
from glance.domain.images import records

CONF = cfg.CONF
CLEAR_TARGETS = ('', 'cache', 'queue')


def _id(image_id: str) -> str:
    """A path's image id as the cache names its files; 404 for anything
    that is not an image id."""
    try:
        return str(uuid.UUID(image_id))
    except (ValueError, TypeError, AttributeError):
        raise exception.NotFound('No image found with ID %s' % image_id)


def _cache(ctx, rule, target=None):
    policy.enforce(ctx, rule, target or {})
    if not cache_mod.enabled():
        raise exception.NotFound('Caching via API is not supported at this '
                                 'site.')
    return cache_mod.get()


def state(ctx) -> dict:
    """GET /v2/cache."""
    the_cache = _cache(ctx, 'cache_list')
    return {'cached_images': [e.record()
                              for e in the_cache.cached_entries()],
            'queued_images': the_cache.queued()}


def queue(ctx, image_id: str) -> None:
    """PUT /v2/cache/{image_id}: queue and fetch in the background."""
    the_cache = _cache(ctx, 'cache_image')
    with session.reader() as conn:
        image = records.load(conn, ctx, image_id)
    if image['status'] != 'active':
        raise exception.BadRequest('Only images with status active can be '
                                   'targeted for queueing')
    the_cache.queue(image['id'])
    worker.wake()


def delete(ctx, image_id: str) -> None:
    """DELETE /v2/cache/{image_id}: the entry and the queue entry."""
    the_cache = _cache(ctx, 'cache_delete')
    image_id = _id(image_id)
    cached = the_cache.is_cached(image_id)
    queued = image_id in the_cache.queued()
    if not cached and not queued:
        with session.reader() as conn:
            if db.image_get(conn, image_id) is None:
                raise exception.NotFound('Image %s not found.' % image_id)
    the_cache.evict(image_id)
    the_cache.dequeue(image_id)


def clear(ctx, target: str) -> dict:
    """DELETE /v2/cache with x-image-cache-clear-target."""
    target = (target or '').strip().lower()
    if target not in CLEAR_TARGETS:
        raise exception.BadRequest(
            'If x-image-cache-clear-target is given, it must be "cache" or '
            '"queue", not %r.' % target)
    the_cache = _cache(ctx, 'cache_delete')
    done = {}
    if target in ('', 'cache'):
        done['cached'] = the_cache.delete_all_cached()
    if target in ('', 'queue'):
        done['queued'] = the_cache.dequeue_all()
    return done


def nodes(ctx, image_id: str) -> list:
    """GET /v2/cache/nodes/{image_id}."""
    _cache(ctx, 'list_cached_nodes')
    if CONF.image_cache_driver.lower() == 'xattr':
        raise exception.Conflict('Information about the nodes caching an '
                                 'image is only kept by the centralized_db '
                                 'driver.')
    with session.reader() as conn:
        image = records.load(conn, ctx, image_id)
    return centralized_db.CentralizedDbIndex(None).nodes_of(image['id'])


def clean(ctx) -> dict:
    """POST /v2/cache/clean."""
    return jobs.clean(_cache(ctx, 'cache_clean'))


def prune(ctx) -> dict:
    """POST /v2/cache/prune."""
    files, size = jobs.prune(_cache(ctx, 'cache_prune'))
    return {'total_files_pruned': files, 'total_bytes_pruned': size}


# -- the older paths of the cachemanage filter ------------------------------

def legacy_cached(ctx) -> list:
    the_cache = _cache(ctx, 'manage_image_cache')
    return [e.record() for e in the_cache.cached_entries()]


def legacy_queued(ctx) -> list:
    return _cache(ctx, 'manage_image_cache').queued()


def legacy_delete_cached(ctx, image_id: str) -> None:
    _cache(ctx, 'manage_image_cache').evict(_id(image_id))


def legacy_delete_all_cached(ctx) -> int:
    return _cache(ctx, 'manage_image_cache').delete_all_cached()


def legacy_queue(ctx, image_id: str) -> None:
    """Queued without looking at the image: the prefetcher does."""
    _cache(ctx, 'manage_image_cache').queue(_id(image_id))


def legacy_dequeue(ctx, image_id: str) -> None:
    _cache(ctx, 'manage_image_cache').dequeue(_id(image_id))


def legacy_dequeue_all(ctx) -> int:
    return _cache(ctx, 'manage_image_cache').dequeue_all()
