"""Index drivers of the image cache, by ``image_cache_driver`` name."""

from oslo_config import cfg

from glance.cache.drivers import centralized_db
from glance.cache.drivers import xattr

CONF = cfg.CONF

DRIVERS = {
    'centralized_db': centralized_db.CentralizedDbIndex,
    'xattr': xattr.XattrIndex,
    # Upstream's per-node SQLite index is deprecated: its deployments
    # move to the main database, as upstream's own migration does.
    'sqlite': centralized_db.CentralizedDbIndex,
}


def load(layout, conf=CONF):
    """The index of the configured driver over ``layout``."""
    return DRIVERS[conf.image_cache_driver.lower()](layout)
