"""Import plugins: steps run on the staged data of an import.

Plugins are entry points of the group ``glance.image_import.plugins``,
enabled by name and run in the order of ``[image_import_opts]
image_import_plugins``. Each is a module with ``run(image, path, roles)``
that may rewrite the staged file at ``path`` and returns the changes to
make to the image: any of ``disk_format``, ``container_format``,
``size``, ``virtual_size``, and ``properties`` (a dict to merge).
"""

import importlib

from oslo_config import cfg
from stevedore import named

from glance.common import exception

CONF = cfg.CONF
NAMESPACE = 'glance.image_import.plugins'
BUILTIN = {
    'no_op': 'glance.imports.plugins.no_op',
    'inject_image_metadata': 'glance.imports.plugins.inject_metadata',
    'image_decompression': 'glance.imports.plugins.decompression',
    'image_conversion': 'glance.imports.plugins.conversion',
}


def enabled():
    """The enabled plugins as (name, run function), in order."""
    names = list(CONF.image_import_opts.image_import_plugins)
    if not names:
        return []
    found = {}
    manager = named.NamedExtensionManager(NAMESPACE, names,
                                          invoke_on_load=False)
    for ext in manager:
        found[ext.name] = ext.plugin
    plugins = []
    for name in names:
        module = found.get(name)
        if module is None and name in BUILTIN:
            module = importlib.import_module(BUILTIN[name])
        if module is None:
            raise exception.Invalid('Unknown import plugin %s.' % name)
        plugins.append((name, module.run))
    return plugins
