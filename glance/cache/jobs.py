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
from glance.common import daemon
from glance.common import exception
from glance.domain.images import data
from glance.store import registry

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


class CacheJob(daemon.Daemon):
    """A cache job as a process: one pass (``run_once``, for a shell or a
    systemd timer) or, with --daemon, a pass every
    ``cache_prefetcher_interval``."""

    job = ''
    uses_stores = False

    @property
    def name(self):
        return 'glance-cache-%s' % self.job

    @property
    def interval(self):
        return self.conf.cache_prefetcher_interval

    def prepare(self):
        """The cache directory, its index and (for the prefetcher) the
        stores must work; ValueError or RuntimeError say why not."""
        if not self.conf.image_cache_dir:
            raise ValueError('image_cache_dir is not set: there is no image '
                             'cache to work on. Set it in glance-api.conf '
                             'or glance-cache.conf.')
        the_cache = cache_mod.get(self.conf)
        problem = the_cache.layout.writable_problem()
        if problem:
            raise RuntimeError('The image cache directory cannot be used: '
                               '%s' % problem)
        the_cache.index.prepare()
        if self.uses_stores:
            registry.configure()

    def status(self):
        return '%s every %ss' % (self.job.capitalize(), self.interval)


class PrefetcherJob(CacheJob):
    job = 'prefetcher'
    uses_stores = True

    def run_pass(self):
        return prefetch()


class PrunerJob(CacheJob):
    job = 'pruner'

    def run_pass(self):
        return prune()


class CleanerJob(CacheJob):
    job = 'cleaner'

    def run_pass(self):
        return clean()
