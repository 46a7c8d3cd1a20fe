"""Options set in the configuration files that nothing here reads.

An operator's upstream ``glance-api.conf`` sets options this service has
no use for (the cache driver, swift or rbd stores, oslo.db tuning ...).
They are not an error: each is logged once as ignored, so the operator
knows it has no effect.

An option counts as used when it is registered (by this service or by a
library it loaded), listed by this service's options or those of the
libraries it configures from glance-api.conf (``LIBRARY_NAMESPACES``, the
namespaces of its sample configuration), is the old name of such an
option (``deprecated_name`` / ``deprecated_group``), or belongs to the
Keystone auth plugin an ``auth_type`` of the same section names.
"""

import collections
import glob
import os
import threading
from importlib import metadata
from typing import Iterable

from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# Libraries configured from glance-api.conf (oslo-config-generator
# namespaces; every one of etc/oslo-config-generator/glance-api.conf but
# this service's own). One that is not installed lists nothing.
LIBRARY_NAMESPACES = (
    'oslo.log', 'oslo.policy', 'oslo.middleware.cors',
    'oslo.middleware.healthcheck', 'oslo.middleware.http_proxy_to_wsgi',
    'keystonemiddleware.auth_token', 'oslo.limit', 'oslo.messaging',
    'castellan.config',
    # glance-auditor's and glance-updater's, read from glance-api.conf.
    'glance.integrity',
)

Key = tuple[str, str]           # (group, option name)

_reported: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


def _norm(name: str) -> str:
    return name.replace('-', '_')


def _opt_keys(group: str, opt: cfg.Opt) -> Iterable[Key]:
    group = group or 'DEFAULT'
    yield group, _norm(opt.name)
    for old in opt.deprecated_opts:
        yield (old.group or group), _norm(old.name or opt.name)


def registered(conf: cfg.ConfigOpts) -> set[Key]:
    """Every option ``conf`` knows of, old names included."""
    # oslo.config offers no way to list the options of a group without
    # reading their values (which may be wrong, and fail): its tables.
    keys = set()
    for opt_info in conf._opts.values():
        keys.update(_opt_keys('DEFAULT', opt_info['opt']))
    for name, group in conf._groups.items():
        for opt_info in group._opts.values():
            keys.update(_opt_keys(name, opt_info['opt']))
    return keys


def listed(opt_lists: Iterable) -> set[Key]:
    """The keys of ``[(group, [opt, ...]), ...]`` as list_opts gives."""
    keys = set()
    for group, opts in opt_lists:
        if isinstance(group, cfg.OptGroup):
            group = group.name
        for opt in opts:
            keys.update(_opt_keys(group or 'DEFAULT', opt))
    return keys


def library_options(namespaces: Iterable[str] = LIBRARY_NAMESPACES
                    ) -> set[Key]:
    """The options of the oslo-config-generator ``namespaces``."""
    wanted = set(namespaces)
    keys = set()
    for entry in metadata.entry_points(group='oslo.config.opts'):
        if entry.name in wanted:
            try:
                keys |= listed(entry.load()())
            except Exception as e:       # a library that does not load
                LOG.debug('Options of %s not listed: %s', entry.name, e)
    return keys


def auth_plugin_options(group: str, auth_type: str) -> set[Key]:
    """The options of Keystone auth plugin ``auth_type`` in ``group``."""
    from keystoneauth1 import loading
    try:
        opts = loading.get_auth_plugin_conf_options(auth_type)
    except Exception:
        return set()
    opts = opts + loading.get_auth_common_conf_options() \
        + loading.get_session_conf_options() \
        + loading.get_adapter_conf_options(include_deprecated=False)
    return listed([(group, opts)])


def files_of(conf: cfg.ConfigOpts) -> list[str]:
    """The configuration files ``conf`` read, in order."""
    files = list(conf.config_file or [])
    for directory in conf.config_dir and [conf.config_dir] or []:
        files.extend(sorted(glob.glob(os.path.join(directory, '*.conf'))))
    return [f for f in files if os.path.isfile(f)]


def set_in(path: str) -> dict[str, dict[str, list[str]]]:
    """{section: {option: [values]}} of the configuration file ``path``."""
    sections: dict = {}
    cfg.ConfigParser(path, sections).parse()
    return sections


def unused(conf: cfg.ConfigOpts, known: set[Key] = frozenset()
           ) -> dict[tuple[str, str], list[str]]:
    """{(file, section): [option, ...]} of the options set in the files
    of ``conf`` that are not used (``known`` adds to what counts as
    used)."""
    used = registered(conf) | set(known) | library_options()
    found = collections.OrderedDict()
    for path in files_of(conf):
        for section, values in set_in(path).items():
            auth_type = values.get('auth_type')
            section_used = used | (auth_plugin_options(section,
                                                       auth_type[-1])
                                   if auth_type else set())
            names = [name for name in values
                     if (section, _norm(name)) not in section_used]
            if names:
                found[(path, section)] = names
    return found


def report(conf: cfg.ConfigOpts, known: set[Key] = frozenset()) -> None:
    """Log, once per process, each option of the configuration files that
    is not used; never fails the caller."""
    try:
        found = unused(conf, known)
    except Exception as e:
        LOG.debug('Unused options not reported: %s', e)
        return
    for (path, section), names in found.items():
        with _lock:
            new = [n for n in names if (path, section, n) not in _reported]
            _reported.update((path, section, n) for n in new)
        if new:
            LOG.warning('Ignored, not used by this service: options of '
                        '[%s] in %s: %s', section, path, ', '.join(new))
