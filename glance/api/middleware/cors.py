"""CORS (oslo.middleware) configured from glance-api.conf ``[cors]``.

With no ``allowed_origin`` configured the filter would answer nothing, so
it is left out of the pipeline instead of costing every request.
"""

from oslo_config import cfg
from oslo_middleware import cors

CONF = cfg.CONF


def filter_factory(global_conf, **local_conf):
    CONF.register_opts(cors.CORS_OPTS, 'cors')

    def make(app):
        if not CONF.cors.allowed_origin:
            return app
        return cors.CORS(app, {'oslo_config_config': CONF})
    return make
