"""The configured stores: building them and finding the right one.

Drivers are the classes found by type name in the entry point group
``glance.store.drivers`` (``glance.store.discovery``); their options are
registered through ``glance.store.options``. Importing this module
registers the store options of the global configuration, as importing
``glance.common.config`` registers the others.

Two configurations, as upstream:

* single-store (``[DEFAULT] enabled_backends`` unset): ``[glance_store]
  stores`` lists driver types, each becoming a store named after its type
  whose options are read from ``[glance_store]``; ``default_store`` names
  the one uploads go to.
* multi-store: ``enabled_backends = name:type,...``; each store reads its
  options (driver options, ``store_description``, ``weight``) from the
  section ``[name]``, registered here at load time; ``[glance_store]
  default_backend`` is required. Names starting ``os_glance_`` are
  reserved. Options a section leaves None take the values the driver
  works out (``Store.backend_fallbacks``): a file store that sets no
  directory uses ``<parent of [glance_store] filesystem_store_datadir>/
  <store name>`` (``/var/lib/glance/<name>`` with the defaults, as
  upstream).

Both have the internal file stores ``os_glance_staging_store`` (import
staging) and, multi-store only, ``os_glance_tasks_store``, built on first
use. Their directory defaults to the staging area, the path of
``node_staging_uri``, so staged data is in the same place in both modes;
the tasks store defaults to ``os_glance_tasks_store`` inside it. In
multi-store, their ``[os_glance_*]`` sections may set another directory.
"""

import logging
import os

from oslo_config import cfg

from glance.common import config  # noqa: F401  (registers the options)
from glance.store import discovery
from glance.store import driver
from glance.store import exceptions
from glance.store import options

LOG = logging.getLogger(__name__)

NAMESPACE = discovery.NAMESPACE
# Location schemes of upstream's store drivers this service has no driver
# for yet, and the store type each belongs to. Their locations (from a
# deployment taken over) answer 503 naming the store, never 500.
UNDRIVEN_SCHEMES = {
    'swift': 'swift', 'swift+http': 'swift', 'swift+https': 'swift',
    'swift+config': 'swift', 'rbd': 'rbd', 's3': 's3', 's3+http': 's3',
    's3+https': 's3', 'vsphere': 'vmware', 'cinder': 'cinder'}
RESERVED_PREFIX = 'os_glance_'
STAGING_STORE = options.STAGING_STORE
TASKS_STORE = options.TASKS_STORE

# The driver class of a type name (glance-status checks them with it).
driver_class = discovery.driver_class

options.register_opts(cfg.CONF)


def staging_dir(conf):
    """Path of the staging area, from ``node_staging_uri``."""
    uri = conf.node_staging_uri or ''
    path = uri[len('file://'):] if uri.startswith('file://') else ''
    if not path.startswith('/'):
        raise exceptions.BadStoreConfiguration(
            'node_staging_uri must be file:///absolute/path, not %r' % uri)
    return path


class OptionView:
    """Attribute access to an option group, with substitutes.

    ``overrides`` replace values; ``fallbacks`` replace values that are
    None (options whose default depends on other options).
    """

    def __init__(self, group, overrides=None, fallbacks=None):
        self._group = group
        self._overrides = overrides or {}
        self._fallbacks = fallbacks or {}

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        value = getattr(self._group, name)
        if value is None:
            return self._fallbacks.get(name)
        return value


class StoreRegistry:
    """The stores of one configuration, built and configured."""

    def __init__(self, conf=cfg.CONF):
        self.conf = conf
        self.multi_store = bool(conf.enabled_backends)
        options.register_opts(conf)
        self._stores = {}
        self._reserved = {}
        if self.multi_store:
            self._load_multi()
        else:
            self._load_single()
        # Heaviest first: the order of locations and of discovery.
        self._stores = dict(sorted(self._stores.items(),
                                   key=lambda item: -item[1].weight))

    def _build(self, name, type_name, opts, **kwargs):
        store = driver_class(type_name)(name, opts,
                                        multi_store=self.multi_store,
                                        **kwargs)
        store.configure()
        LOG.debug('Store %s (%s) ready, capabilities %s', name, type_name,
                  sorted(store.capabilities))
        return store

    def _load_single(self):
        group = self.conf.glance_store
        for type_name in dict.fromkeys(t.strip() for t in group.stores):
            self._stores[type_name] = self._build(type_name, type_name,
                                                  OptionView(group))
        self.default_name = group.default_store
        if self.default_name not in self._stores:
            raise exceptions.BadStoreConfiguration(
                '[glance_store] default_store %r is not in stores %s'
                % (self.default_name, list(group.stores)))

    def _load_multi(self):
        for name, type_name in self.conf.enabled_backends.items():
            name, type_name = name.strip(), (type_name or '').strip()
            if name.startswith(RESERVED_PREFIX):
                raise exceptions.BadStoreConfiguration(
                    'Store name %r: names starting with %s are reserved'
                    % (name, RESERVED_PREFIX))
            cls = driver_class(type_name)  # unknown types fail first
            options.register_backend_opts(self.conf, name, type_name)
            group = self.conf[name]
            fallbacks = cls.backend_fallbacks(self.conf.glance_store, name)
            self._stores[name] = self._build(
                name, type_name, OptionView(group, fallbacks=fallbacks),
                weight=group.weight, description=group.store_description)
        self.default_name = self.conf.glance_store.default_backend
        if not self.default_name:
            raise exceptions.BadStoreConfiguration(
                '[glance_store] default_backend must be set when '
                'enabled_backends is.')
        if self.default_name not in self._stores:
            raise exceptions.BadStoreConfiguration(
                '[glance_store] default_backend %r is not in '
                'enabled_backends' % self.default_name)
        for name in options.RESERVED_STORES:
            options.register_backend_opts(self.conf, name,
                                          options.RESERVED_TYPE,
                                          reserved=True)

    def _build_reserved(self, name):
        staging = staging_dir(self.conf)
        path = staging if name == STAGING_STORE else os.path.join(
            staging, TASKS_STORE)
        if self.multi_store:
            opts = OptionView(self.conf[name],
                              fallbacks={'filesystem_store_datadir': path})
        elif name == STAGING_STORE:
            # Single-store: [glance_store] file options, staging directory.
            opts = OptionView(self.conf.glance_store, overrides={
                'filesystem_store_datadir': path,
                'filesystem_store_datadirs': []})
        else:
            raise exceptions.StoreNotConfigured(
                '%s exists in multi-store mode only' % name)
        return self._build(name, options.RESERVED_TYPE, opts)

    # -- look-ups ----------------------------------------------------------

    def get_store(self, name):
        if name in self._stores:
            return self._stores[name]
        if name in options.RESERVED_STORES:
            return self.reserved_store(name)
        raise exceptions.StoreNotConfigured('Unknown store %r' % name)

    def reserved_store(self, name):
        if name not in self._reserved:
            self._reserved[name] = self._build_reserved(name)
        return self._reserved[name]

    def staging_store(self):
        return self.reserved_store(STAGING_STORE)

    def default_store(self):
        return self._stores[self.default_name]

    def stores(self):
        """The enabled (not reserved) stores, heaviest first."""
        return list(self._stores.values())

    def store_for_location(self, uri, store_name=None):
        """The store that holds ``uri``.

        ``store_name`` (the ``store`` of the location metadata) decides
        when it names an enabled store that reads this scheme. Otherwise
        the store owning the longest prefix of ``uri`` wins (a file store
        owns file://<its directories>/); among equals, the heaviest.
        """
        scheme = driver.scheme_of(uri)
        named = self._stores.get(store_name)
        if named is not None and scheme in named.schemes:
            return named
        candidates = [s for s in self._stores.values()
                      if scheme in s.schemes]
        if not candidates and scheme in UNDRIVEN_SCHEMES:
            named = ' %r' % store_name if isinstance(store_name, str) \
                else ''
            type_name = UNDRIVEN_SCHEMES[scheme]
            if type_name in discovery.driver_classes(strict=False):
                why = ('which is not configured here: the location is '
                       'kept as it is, its data cannot be read or deleted '
                       'until a %s store is' % type_name)
            else:
                why = ('which this service has no driver of its own for: '
                       'the location is kept as it is, its data cannot be '
                       'read or deleted until a store of type glance_store '
                       'serves it through upstream\'s %s driver'
                       % type_name)
            raise exceptions.StoreNotDriven(
                'The image data is in the %s store%s, %s.'
                % (type_name, named, why))
        if not candidates:
            raise exceptions.UnknownScheme(
                'No store handles %s:// locations' % scheme)
        return max(candidates, key=lambda s: s.match_location(uri))


_registry = None


def configure(conf=cfg.CONF):
    """(Re)build the process-wide registry from ``conf``, and return it."""
    global _registry
    _registry = StoreRegistry(conf)
    return _registry


def get_registry():
    return _registry if _registry is not None else configure()


def reset():
    global _registry
    _registry = None


def get_store(name):
    return get_registry().get_store(name)


def default_store():
    return get_registry().default_store()


def store_for_location(uri, store_name=None):
    return get_registry().store_for_location(uri, store_name)


def delete_location_data(location, context=None):
    """Delete the data behind an image location ({'url', 'metadata'});
    data that is already gone counts as deleted. ``context``: the
    request's, when a request deletes it."""
    store = store_for_location(location['url'],
                               location['metadata'].get('store'))
    try:
        store.delete(location['url'], context=context)
    except exceptions.NotFound:
        pass
