"""The periodic work of the image cache: prefetching queued images,
pruning to ``image_cache_max_size``, cleaning what should not be there.

Each pass is safe while glance-api serves: fills take the same per-image
lock as downloads, prune and clean each take a lock of their own, and an
entry removed while a client reads it stays readable through the
client's open file.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance import context
from glance.cache import cache as cache_mod
from glance.common import exception
from glance.domain.images import data

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def admin_context():
    return context.RequestContext(is_admin=True, roles=['admin'])


def prefetch_one(the_cache, image_id: str) -> bool:
    """Fetch one queued image into the cache; it leaves the queue when
    cached, gone, not active or without data."""
    try:
        image, open_data = data.download(admin_context(), image_id)
    except exception.NotFound:
        LOG.info('Queued image %s not found: dropped from the queue',
                 image_id)
        the_cache.dequeue(image_id)
        return False
    if open_data is None or not the_cache.cacheable(image):
        LOG.info('Queued image %s is %s%s: dropped from the queue',
                 image_id, image['status'],
                 '' if open_data else ', without data')
        the_cache.dequeue(image_id)
        return False
    if the_cache.usable(image) is not None:
        the_cache.dequeue(image_id)
        return True
    done = the_cache.fill_now(image, open_data)
    if done:
        the_cache.dequeue(image_id)
    return done


def prefetch(the_cache=None) -> int:
    """Fetch every queued image; returns how many are now cached."""
    the_cache = the_cache or cache_mod.get()
    cached = 0
    for image_id in the_cache.queued():
        try:
            if prefetch_one(the_cache, image_id):
                cached += 1
        except Exception as e:
            LOG.warning('Prefetching image %s failed: %s', image_id, e)
    return cached


def prune(the_cache=None):
    the_cache = the_cache or cache_mod.get()
    return the_cache.prune(CONF.image_cache_max_size)


def clean(the_cache=None, verify: bool = True):
    the_cache = the_cache or cache_mod.get()
    return the_cache.clean(CONF.image_cache_stall_time, verify=verify)


def periodic_pass(the_cache=None) -> None:
    """What glance-api does every ``cache_prefetcher_interval``."""
    the_cache = the_cache or cache_mod.get()
    for name, job in (('prefetch', prefetch),
                      ('clean', lambda c: clean(c, verify=False)),
                      ('prune', prune)):
        try:
            job(the_cache)
        except Exception as e:
            LOG.warning('Cache %s failed: %s', name, e)
