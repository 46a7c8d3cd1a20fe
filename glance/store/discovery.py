"""Finding the store drivers: the ``glance.store.drivers`` entry points.

Any installed distribution may publish a driver class (a
``glance.store.driver.Store``) in this group, under its type name. Nothing
else names drivers: the registry builds stores of the types found here,
and ``glance.store.options`` registers and lists the options of the
drivers found here. stevedore reads the group (and caches it per process
and on disk, keyed on ``sys.path``).
"""

import logging

from stevedore import extension
from stevedore import named

from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

NAMESPACE = 'glance.store.drivers'


def _load_failed(manager, entry_point, error):
    raise exceptions.BadStoreConfiguration(
        'Cannot load store driver %s (%s): %s'
        % (entry_point.name, entry_point.value, error))


def _log_load_failure(manager, entry_point, error):
    LOG.warning('Store driver %s (%s) cannot be loaded: %s',
                entry_point.name, entry_point.value, error)


def driver_class(type_name: str) -> type[driver.Store]:
    """The driver class of ``type_name``; BadStoreConfiguration when no
    entry point, several entry points or a broken one has that name."""
    # NamedExtensionManager rather than DriverManager: the latter cannot
    # be told to keep quiet about a missing entry point, which is a
    # configuration error reported here instead.
    found = named.NamedExtensionManager(
        NAMESPACE, names=[type_name], invoke_on_load=False,
        on_load_failure_callback=_load_failed,
        on_missing_entrypoints_callback=None).extensions
    if len(found) > 1:
        raise exceptions.BadStoreConfiguration(
            'Several %s entry points are named %r' % (NAMESPACE, type_name))
    if not found:
        raise exceptions.BadStoreConfiguration(
            'Unknown store type %r (no %s entry point)'
            % (type_name, NAMESPACE))
    return found[0].plugin


def driver_classes(strict: bool = True) -> dict[str, type[driver.Store]]:
    """Every installed driver by type name, in name order.

    ``strict``: a driver that cannot be loaded, or a type name published
    twice, is BadStoreConfiguration. Otherwise such a driver is left out
    (and logged): registering the options of the drivers that load must
    not depend on every installed plugin, and ``driver_class`` reports
    the problem when a configuration uses that type.
    """
    callback = _load_failed if strict else _log_load_failure
    found = {}
    duplicates = set()
    for ext in extension.ExtensionManager(
            NAMESPACE, invoke_on_load=False,
            on_load_failure_callback=callback).extensions:
        if ext.name in found and found[ext.name] is not ext.plugin:
            duplicates.add(ext.name)
        found[ext.name] = ext.plugin
    for name in sorted(duplicates):
        if strict:
            raise exceptions.BadStoreConfiguration(
                'Several %s entry points are named %r' % (NAMESPACE, name))
        LOG.warning('Several %s entry points are named %r; their options '
                    'are not registered', NAMESPACE, name)
        del found[name]
    return dict(sorted(found.items()))
