"""The options of the store sections, gathered from the drivers.

Each driver declares its own options (``Store.config_opts``); this module
knows only where they go:

* ``[glance_store]``: which stores are used (``selection_opts``) and the
  options of every installed driver. Single-store reads its stores'
  options there; multi-store reads ``filesystem_store_datadir`` there (the
  parent of the file stores that set no directory).
* ``[<store name>]`` of multi-store: ``store_description``, ``weight``
  (``backend_opts``) and the options of the store's driver, registered by
  the registry once it knows the section names (``register_backend_opts``).
* ``[os_glance_staging_store]`` and ``[os_glance_tasks_store]``, the
  reserved internal stores: the options of the file driver.

The functions build fresh ``Opt`` objects on each call: one store group's
options never share state with another's, and registering the same
definitions twice (a reload, a second registry) is accepted by
oslo.config.
"""

from oslo_config import cfg

from glance.common import config
from glance.store import discovery

STAGING_STORE = 'os_glance_staging_store'
TASKS_STORE = 'os_glance_tasks_store'
RESERVED_STORES = (STAGING_STORE, TASKS_STORE)
# The driver of the reserved stores.
RESERVED_TYPE = 'file'

OptList = list[tuple[str | None, list[cfg.Opt]]]


def selection_opts() -> list[cfg.Opt]:
    """[glance_store] options that choose the stores, of both modes."""
    return [
        cfg.ListOpt('stores', default=['file', 'http'],
                    help='Store drivers enabled in single-store mode.'),
        cfg.StrOpt('default_store', default='file',
                   help='Store new image data goes to in single-store '
                        'mode.'),
        cfg.StrOpt('default_backend',
                   help='Store new image data goes to in multi-store mode.'),
    ]


def backend_opts() -> list[cfg.Opt]:
    """Options of every store section in multi-store mode."""
    return [
        cfg.StrOpt('store_description',
                   help='Description of the store shown by '
                        'GET /v2/info/stores.'),
        cfg.IntOpt('weight', default=0,
                   help='Preference of this store: image locations are '
                        'ordered by descending store weight.'),
    ]


def _unique(opts: list[cfg.Opt]) -> list[cfg.Opt]:
    """``opts`` without a second option of a name already there (two
    drivers may share an option; the first definition is listed)."""
    seen: dict[str, cfg.Opt] = {}
    for opt in opts:
        seen.setdefault(opt.dest, opt)
    return list(seen.values())


def list_opts(strict: bool = True) -> OptList:
    """Store options per group, for oslo-config-generator.

    Per-store sections of multi-store have names only the operator knows
    (they take the [glance_store] driver options plus store_description
    and weight); the two reserved stores every multi-store deployment has
    are listed. ``strict`` as in ``discovery.driver_classes``.
    """
    drivers = discovery.driver_classes(strict=strict)
    groups: OptList = [('glance_store', _unique(selection_opts() + [
        opt for cls in drivers.values() for opt in cls.config_opts()]))]
    reserved = drivers.get(RESERVED_TYPE)
    if reserved is not None:
        groups += [(name, reserved.config_opts(backend_section=True))
                   for name in RESERVED_STORES]
    return groups


def list_api_opts() -> OptList:
    """Every option of glance-api, for the ``glance.api`` namespace of
    oslo-config-generator: the ground floor's (``glance.common.config``)
    followed by the store drivers'."""
    return config.list_opts() + list_opts()


def _register(conf: cfg.ConfigOpts, opts: list[cfg.Opt], group: str) -> None:
    """Register ``opts`` in ``group``, keeping any same-named option that
    is already there (the same definition registered before, or another
    driver's option of that name)."""
    for opt in opts:
        try:
            conf.register_opt(opt, group=group)
        except cfg.DuplicateOptError:
            pass


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register what ``list_opts`` lists: the [glance_store] options of
    every driver that loads, and the reserved stores' sections."""
    for group, opts in list_opts(strict=False):
        _register(conf, opts, group)


def register_backend_opts(conf: cfg.ConfigOpts, name: str, type_name: str,
                          reserved: bool = False) -> None:
    """Register the options of the multi-store store ``name`` in [name].

    Reserved stores (os_glance_*) are internal: no description or weight.
    """
    opts = [] if reserved else backend_opts()
    opts += discovery.driver_class(type_name).config_opts(
        backend_section=True)
    _register(conf, opts, name)
