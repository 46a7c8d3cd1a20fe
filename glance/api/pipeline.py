"""The API pipeline of a paste flavor, completed with the filters the
service cannot do without.

Operators may rewrite the pipelines of ``glance-api-paste.ini``. Whatever
they write, every request gets a request id, goes through version
negotiation and carries a request context made the way the flavor expects
(keystonemiddleware then the context filter for ``keystone*`` flavors,
the fake authenticator then the context filter for ``fakeauth``, the
header-based context otherwise). A missing one is added, with a warning in
the log. Filters are recognised by their factory (its module, or its class
for the ``Class.factory`` paths of upstream's paste files), so a renamed
section still counts.

Upstream's paste files load unchanged: their factory paths resolve to
this package's filters, and the oslo.middleware filters they name for
CORS, proxy headers and request ids are replaced by this package's
(configured from glance-api.conf like the rest). Their pipelines have no
request id filter (upstream's context filters made the id): the one added
is logged at INFO, not as a warning. ``osprofiler.web`` filters become a
pass-through, with a warning, when osprofiler is not installed.

A name without a ``[filter:...]`` (or, last, ``[app:...]``) section, or
whose factory cannot be imported, is a configuration error.

Only the ``keystone*`` flavors authenticate their callers. Serving another
one on an address other than loopback is refused unless ``[paste_deploy]
allow_unauthenticated_remote`` says the operator wants it
(``check_exposure``).
"""

import importlib
import ipaddress
import socket
from typing import Any, Callable

from oslo_config import cfg
from oslo_log import log as logging

from glance.api import versions
from glance.api.middleware import profiler

LOG = logging.getLogger(__name__)

REQUEST_ID = 'glance.api.middleware.request_id'
VERSIONS = 'glance.api.middleware.version_negotiation'
CONTEXT = 'glance.api.middleware.context'
NOAUTH_CONTEXT = 'glance.api.middleware.unauthenticated_context'
AUTHTOKEN = 'keystonemiddleware.auth_token'
FAKEAUTH = 'glance.api.middleware.fakeauth'
CORS = 'glance.api.middleware.cors'
PROXY_HEADERS = 'glance.api.middleware.http_proxy_to_wsgi'
CACHE = 'glance.api.middleware.cache'
CACHE_MANAGE = 'glance.api.middleware.cache_manage'

# Other factories of the same filters: upstream's class factories, and
# the oslo.middleware filters this package's own replace.
ALIASES = {
    'glance.api.middleware.context.ContextMiddleware': CONTEXT,
    'glance.api.middleware.context.UnauthenticatedContextMiddleware':
        NOAUTH_CONTEXT,
    'glance.api.middleware.version_negotiation.VersionNegotiationFilter':
        VERSIONS,
    'glance.api.middleware.cache.CacheFilter': CACHE,
    'glance.api.middleware.cache_manage.CacheManageFilter': CACHE_MANAGE,
    'oslo_middleware.request_id': REQUEST_ID,
    'oslo_middleware.request_id.RequestId': REQUEST_ID,
    'oslo_middleware.cors': CORS,
    'oslo_middleware.cors.CORS': CORS,
    'oslo_middleware.http_proxy_to_wsgi': PROXY_HEADERS,
    'oslo_middleware.http_proxy_to_wsgi.HTTPProxyToWSGI': PROXY_HEADERS,
}
PROFILER = 'osprofiler.web'

# Name in the shipped paste file and paste options of each required filter.
SHIPPED = {
    REQUEST_ID: ('request_id', {}),
    VERSIONS: ('versionnegotiation', {}),
    CONTEXT: ('context', {}),
    NOAUTH_CONTEXT: ('unauthenticated-context', {}),
    AUTHTOKEN: ('authtoken', {'delay_auth_decision': 'true'}),
    FAKEAUTH: ('fakeauth', {}),
    CACHE: ('cache', {}),
    CACHE_MANAGE: ('cachemanage', {}),
}
# The cache filters read the context: filters that make it go before them.
CACHE_MODULES = (CACHE, CACHE_MANAGE)
# Filters that authenticate or build the context; version negotiation
# goes before the first of them.
IDENTITY_MODULES = {CONTEXT, NOAUTH_CONTEXT, AUTHTOKEN, FAKEAUTH}


class PipelineError(cfg.ConfigFileValueError):
    """A paste pipeline names something that cannot be loaded."""


def authenticates(flavor):
    """Whether the callers of paste flavor ``flavor`` prove who they are."""
    return bool(flavor) and flavor.startswith('keystone')


def is_loopback(host):
    """Whether every address ``host`` names is a loopback address; False
    for the wildcards (0.0.0.0, ::) and names that do not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_UNSPEC,
                                   socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    if not infos:
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split('%')[0])
        mapped = getattr(address, 'ipv4_mapped', None)
        if not (address.is_loopback or (mapped and mapped.is_loopback)):
            return False
    return True


def exposure_problem(conf):
    """Why the API must not be served as configured (a message), or None.

    An unauthenticated flavor makes every caller an administrator (or
    whoever its headers name): acceptable on loopback, where only this
    machine reaches it, and elsewhere only when the operator says so.
    """
    flavor = conf.paste_deploy.flavor
    if (authenticates(flavor)
            or conf.paste_deploy.allow_unauthenticated_remote
            or is_loopback(conf.bind_host)):
        return None
    return ('Refusing to serve the paste flavor %r, which does not '
            'authenticate its callers (each request acts as an '
            'administrator or as whoever its headers name), on %s, which '
            'is not a loopback address. Either set [paste_deploy] flavor = '
            'keystone and configure [keystone_authtoken] (www_authenticate_'
            'uri, auth_url, auth_type = password, username, password, '
            'project_name, user_domain_name, project_domain_name), or '
            'bind_host = 127.0.0.1, or, if something in front of glance-api '
            'does the authentication, set [paste_deploy] '
            'allow_unauthenticated_remote = true.'
            % (flavor or 'none', conf.bind_host))


def check_exposure(conf):
    """RuntimeError (exit status 1 at start) when ``exposure_problem``
    finds one."""
    problem = exposure_problem(conf)
    if problem:
        raise RuntimeError(problem)


def identity_filters(flavor):
    """Modules of the filters that make the context, outermost first."""
    if flavor.startswith('keystone'):
        return [AUTHTOKEN, CONTEXT]
    if flavor == 'fakeauth':
        return [FAKEAUTH, CONTEXT]
    return [NOAUTH_CONTEXT]


def _before_cache(result):
    """Where a filter goes that must run before the cache filters: the
    position of the first of them, else the end."""
    found = [i for i, m in enumerate(result) if m in CACHE_MODULES]
    return found[0] if found else len(result)


def complete(modules, flavor):
    """Where to add missing required filters.

    ``modules`` lists the factory module of each filter, outermost first.
    Returns the completed list; entries that were added are the module
    names of ``SHIPPED``, ``modules`` itself is left alone. The cache
    filters read the context: a missing filter that makes it is added
    before them.
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
            where = _before_cache(result)
        result.insert(where, module)
    if VERSIONS not in result:
        first_identity = [i for i, m in enumerate(result)
                          if m in IDENTITY_MODULES]
        result.insert(first_identity[0] if first_identity else len(result),
                      VERSIONS)
    return result


def factory_kind(factory: Any) -> str | None:
    """What filter ``factory`` makes: the module of its factory, or the
    class of a ``Class.factory``, as a name of this module's constants
    when it is another factory of one of them."""
    owner = getattr(factory, '__self__', None)
    if isinstance(owner, type):
        kind = '%s.%s' % (owner.__module__, owner.__qualname__)
    else:
        kind = getattr(factory, '__module__', None)
    return ALIASES.get(kind, kind)


def _missing_module(error: ImportError) -> str:
    return (getattr(error, 'name', None) or '').split('.')[0]


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
        if kind == 'filter' and _missing_module(e) == 'osprofiler':
            return None
        raise PipelineError('Paste pipeline %r: the %s %r cannot be loaded: '
                            '%s' % (pipeline_name, kind, name, e))


def _filter(loader, name: str, global_conf: dict,
            pipeline_name: str) -> tuple[str | None, Callable[[], Any]]:
    """(kind, maker of the filter) of the filter section ``name``."""
    ctx = _context(loader, 'filter', name, global_conf, pipeline_name)
    if ctx is None:
        return PROFILER, lambda: profiler.filter_factory(global_conf)
    kind = factory_kind(ctx.object)
    own = getattr(ctx.object, '__module__', '') or ''
    if kind in (REQUEST_ID, CORS, PROXY_HEADERS) \
            and not own.startswith('glance.'):
        factory = importlib.import_module(kind).filter_factory
        local_conf = dict(ctx.local_conf)
        return kind, lambda: factory(global_conf, **local_conf)
    return kind, ctx.create


def build(loader, global_conf, names, flavor, pipeline_name):
    """The WSGI application of pipeline ``names`` (filters, then the app)."""
    if not names:
        raise PipelineError('Paste pipeline %r is empty' % pipeline_name)
    app = _context(loader, 'app', names[-1], global_conf,
                   pipeline_name).create()
    filters = [_filter(loader, name, global_conf, pipeline_name)
               for name in names[:-1]]
    modules = [kind for kind, _make in filters]
    labels = list(names[:-1])
    makers = [make for _kind, make in filters]
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
        # Upstream's paste files have no request id filter: their own is
        # no reason for a warning.
        log = LOG.info if name == SHIPPED[REQUEST_ID][0] else LOG.warning
        log('Paste pipeline %r has no %s filter, which every request '
            'needs: added it, the pipeline is now: %s',
            pipeline_name, name, ' '.join(labels + names[-1:]))
    identity = [i for i, m in enumerate(modules) if m in IDENTITY_MODULES]
    cached = [i for i, m in enumerate(modules) if m in CACHE_MODULES]
    if cached and identity and cached[0] < identity[-1]:
        LOG.warning('Paste pipeline %r has a cache filter before the filters '
                    'that make the request context: downloads pass it '
                    'uncached. Put cache and cachemanage after context.',
                    pipeline_name)
    versions.set_caching(CACHE in modules)
    for make in reversed(makers):
        app = make()(app)
    return app
