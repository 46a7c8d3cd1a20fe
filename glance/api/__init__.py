"""Paste factories: the URL map at the root and the flavor pipelines."""

from oslo_config import cfg
from paste import deploy  # noqa: F401  (paste.deploy loads the factories)

from glance.api import pipeline

CONF = cfg.CONF


class URLMap:
    """Dispatch on the longest matching path prefix, like paste.urlmap."""

    def __init__(self, mapping):
        self.mapping = sorted(mapping.items(), key=lambda kv: -len(kv[0]))

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '') or '/'
        for prefix, app in self.mapping:
            if prefix == '/':
                return app(environ, start_response)
            if path == prefix or path.startswith(prefix + '/'):
                environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME',
                                                     '') + prefix
                environ['PATH_INFO'] = path[len(prefix):]
                return app(environ, start_response)
        start_response('404 Not Found', [('Content-Type', 'text/plain')])
        return [b'404 Not Found\n\nThe resource could not be found.\n']


def root_app_factory(loader, global_conf, **local_conf):
    return URLMap({prefix.rstrip('/') or '/': loader.get_app(name)
                   for prefix, name in local_conf.items()})


def pipeline_factory(loader, global_conf, **local_conf):
    """The pipeline of the configured ``[paste_deploy] flavor``, with the
    filters every request needs added when an operator left them out."""
    flavor = CONF.paste_deploy.flavor or 'default'
    key = flavor if local_conf.get(flavor) else 'default'
    if key not in local_conf:
        raise pipeline.PipelineError(
            'No %r (or default) pipeline in the paste configuration %s'
            % (flavor, global_conf.get('__file__', '')))
    return pipeline.build(loader, global_conf, local_conf[key].split(),
                          flavor, key)
