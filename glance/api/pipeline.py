"""The API pipeline of a paste flavor, completed with the filters the
service cannot do without.

Operators may rewrite the pipelines of ``glance-api-paste.ini``. Whatever
they write, every request gets a request id, goes through version
negotiation and carries a request context made the way the flavor expects
(keystonemiddleware then the context filter for ``keystone*`` flavors,
the fake authenticator then the context filter for ``fakeauth``, the
header-based context otherwise). A missing one is added, with a warning in
the log. Filters are recognised by the module of their factory, so a
renamed section still counts.

A name without a ``[filter:...]`` (or, last, ``[app:...]``) section, or
whose factory cannot be imported, is a configuration error.
"""

import importlib

from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

REQUEST_ID = 'glance.api.middleware.request_id'
VERSIONS = 'glance.api.middleware.version_negotiation'
CONTEXT = 'glance.api.middleware.context'
NOAUTH_CONTEXT = 'glance.api.middleware.unauthenticated_context'
AUTHTOKEN = 'keystonemiddleware.auth_token'
FAKEAUTH = 'glance.api.middleware.fakeauth'

# Name in the shipped paste file and paste options of each required filter.
SHIPPED = {
    REQUEST_ID: ('request_id', {}),
    VERSIONS: ('versionnegotiation', {}),
    CONTEXT: ('context', {}),
    NOAUTH_CONTEXT: ('unauthenticated-context', {}),
    AUTHTOKEN: ('authtoken', {'delay_auth_decision': 'true'}),
    FAKEAUTH: ('fakeauth', {}),
}
# Filters that authenticate or build the context; version negotiation
# goes before the first of them.
IDENTITY_MODULES = {CONTEXT, NOAUTH_CONTEXT, AUTHTOKEN, FAKEAUTH}


class PipelineError(cfg.ConfigFileValueError):
    """A paste pipeline names something that cannot be loaded."""


def identity_filters(flavor):
    """Modules of the filters that make the context, outermost first."""
    if flavor.startswith('keystone'):
        return [AUTHTOKEN, CONTEXT]
    if flavor == 'fakeauth':
        return [FAKEAUTH, CONTEXT]
    return [NOAUTH_CONTEXT]


def complete(modules, flavor):
    """Where to add missing required filters.

    ``modules`` lists the factory module of each filter, outermost first.
    Returns the completed list; entries that were added are the module
    names of ``SHIPPED``, ``modules`` itself is left alone.
    """
    result = list(modules)
    if REQUEST_ID not in result:
        result.insert(0, REQUEST_ID)
    wanted = identity_filters(flavor)
    for i, module in enumerate(wanted):
        if module in result:
            continue
        if i > 0:
            where = result.index(wanted[i - 1]) + 1
        elif len(wanted) > 1 and wanted[1] in result:
            where = result.index(wanted[1])
        else:
            where = len(result)
        result.insert(where, module)
    if VERSIONS not in result:
        first_identity = [i for i, m in enumerate(result)
                          if m in IDENTITY_MODULES]
        result.insert(first_identity[0] if first_identity else len(result),
                      VERSIONS)
    return result


def _context(loader, kind, name, global_conf, pipeline_name):
    where = global_conf.get('__file__') or 'the paste configuration'
    try:
        if kind == 'filter':
            return loader.filter_context(name, global_conf)
        return loader.app_context(name, global_conf)
    except LookupError as e:
        raise PipelineError(
            'Paste pipeline %r names the %s %r, which %s does not define '
            '(no [%s:%s] section): %s'
            % (pipeline_name, kind, name, where, kind, name, e))
    except ImportError as e:
        raise PipelineError('Paste pipeline %r: the %s %r cannot be loaded: '
                            '%s' % (pipeline_name, kind, name, e))


def build(loader, global_conf, names, flavor, pipeline_name):
    """The WSGI application of pipeline ``names`` (filters, then the app)."""
    if not names:
        raise PipelineError('Paste pipeline %r is empty' % pipeline_name)
    app = _context(loader, 'app', names[-1], global_conf,
                   pipeline_name).create()
    filters = [_context(loader, 'filter', name, global_conf, pipeline_name)
               for name in names[:-1]]
    modules = [getattr(ctx.object, '__module__', None) for ctx in filters]
    labels = list(names[:-1])
    makers = [ctx.create for ctx in filters]
    added = []
    for position, module in enumerate(complete(modules, flavor)):
        if position < len(modules) and modules[position] == module:
            continue
        name, options = SHIPPED[module]
        factory = importlib.import_module(module).filter_factory
        modules.insert(position, module)
        labels.insert(position, name)
        makers.insert(position,
                      lambda f=factory, o=options: f(global_conf, **o))
        added.append(name)
    for name in added:
        LOG.warning('Paste pipeline %r has no %s filter, which every '
                    'request needs: added it, the pipeline is now: %s',
                    pipeline_name, name, ' '.join(labels + names[-1:]))
    for make in reversed(makers):
        app = make()(app)
    return app
