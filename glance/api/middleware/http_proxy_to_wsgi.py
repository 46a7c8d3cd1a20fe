"""Forwarded / X-Forwarded-* headers (oslo.middleware), used when
``[oslo_middleware] enable_proxy_headers_parsing`` is true, so URLs in
responses (the versions document) name the proxy. Left out of the
pipeline otherwise."""

from oslo_config import cfg
from oslo_middleware import http_proxy_to_wsgi

CONF = cfg.CONF


def filter_factory(global_conf, **local_conf):
    CONF.register_opts(http_proxy_to_wsgi.OPTS, 'oslo_middleware')

    def make(app):
        if not CONF.oslo_middleware.enable_proxy_headers_parsing:
            return app
        return http_proxy_to_wsgi.HTTPProxyToWSGI(
            app, {'oslo_config_config': CONF})
    return make
