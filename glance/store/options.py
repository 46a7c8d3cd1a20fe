"""Options of the store drivers.

Names and defaults follow upstream glance_store, except where a help text
says otherwise. Single-store mode reads driver options from
``[glance_store]``; multi-store mode reads them from one section per store
(``[fast]``, ``[os_glance_staging_store]`` ...), where they are registered
at start-up by ``register_backend_opts``.

The functions build fresh ``Opt`` objects on each call: one store group's
options never share state with another's, and registering the same
definitions twice (a reload, a second registry) is accepted by oslo.config.
"""

from oslo_config import cfg

MiB = 1024 * 1024

# [glance_store] filesystem_store_datadir, and the per-store default of the
# same option in multi-store (see registry: <parent of this>/<store name>).
DEFAULT_DATADIR = '/var/lib/glance/images'


def filesystem_opts(datadir_default=DEFAULT_DATADIR):
    return [
        cfg.StrOpt('filesystem_store_datadir', default=datadir_default,
                   help='Directory the filesystem store writes image data '
                        'to. Ignored when filesystem_store_datadirs is set. '
                        'In multi-store mode it defaults to a directory '
                        'named after the store next to [glance_store] '
                        'filesystem_store_datadir.'),
        cfg.MultiStrOpt('filesystem_store_datadirs', default=[],
                        help='Several directories for the filesystem store, '
                             'each as "path" or "path:priority" (integer, '
                             'default 0); repeat the option once per '
                             'directory. New data goes to the highest '
                             'priority directory with enough free space; '
                             'among directories of equal priority, the one '
                             'with the most free space.'),
        cfg.IntOpt('filesystem_store_file_perm', default=0,
                   help='Permissions of image files, written as octal '
                        'digits (e.g. 640). 0 keeps the default the umask '
                        'gives.'),
        cfg.IntOpt('filesystem_store_chunk_size', default=MiB, min=1,
                   help='Bytes read and written per system call when the '
                        'filesystem store moves image data. Upstream uses '
                        '64 KiB; 1 MiB is the default here because image '
                        'transfers are bulk streams: larger pieces mean '
                        'twenty times fewer system calls and green-thread '
                        'switches per image, and give hashing (which '
                        'releases the GIL on large buffers) enough work per '
                        'call. Downloads served by glance-api over plain '
                        'HTTP read only their first chunk this way; the '
                        'rest goes from the file to the socket with '
                        'sendfile.'),
    ]


def http_opts():
    return [
        cfg.BoolOpt('https_insecure', default=True,
                    help='Do not verify the certificate of HTTPS servers '
                         'the http store reads from. Upstream default '
                         '(True) kept for compatibility; set it to False '
                         'wherever possible.'),
        cfg.StrOpt('https_ca_certificates_file',
                   help='CA bundle used to verify HTTPS servers when '
                        'https_insecure is False; unset uses the system '
                        'bundle.'),
        cfg.DictOpt('http_proxy_information', default={},
                    help='Proxies of the http store as scheme:proxy-url '
                         'pairs, e.g. "http:proxy.example.org:3128,'
                         'https:proxy.example.org:3128".'),
    ]


def backend_opts():
    """Options of every store section in multi-store mode."""
    return [
        cfg.StrOpt('store_description',
                   help='Description of the store shown by '
                        'GET /v2/info/stores.'),
        cfg.IntOpt('weight', default=0,
                   help='Preference of this store: image locations are '
                        'ordered by descending store weight.'),
    ]


_DRIVER_OPTS = {
    'file': filesystem_opts,
    'http': http_opts,
}


def driver_opts(type_name, **kwargs):
    """Options of the driver ``type_name`` ([] for unknown types)."""
    factory = _DRIVER_OPTS.get(type_name)
    return factory(**kwargs) if factory else []


def _register(conf, opts, group):
    """Register ``opts`` in ``group``, keeping any same-named option.

    ``glance.common.config`` may already define an option of the same name
    in ``[glance_store]`` (filesystem_store_datadir does today): its
    definition wins and is not registered twice.
    """
    for opt in opts:
        try:
            conf.register_opt(opt, group=group)
        except cfg.DuplicateOptError:
            pass


def register_opts(conf):
    """Register the single-store driver options in ``[glance_store]``."""
    for type_name in _DRIVER_OPTS:
        _register(conf, driver_opts(type_name), 'glance_store')


def register_backend_opts(conf, name, type_name, reserved=False):
    """Register the options of the multi-store store ``name`` in [name].

    The data directory defaults to None there; the registry resolves it
    (see ``glance.store.registry``) so that it can depend on other options.
    Reserved stores (os_glance_*) are internal: no description or weight.
    """
    opts = [] if reserved else backend_opts()
    if type_name == 'file':
        opts += filesystem_opts(datadir_default=None)
    else:
        opts += driver_opts(type_name)
    _register(conf, opts, name)


def list_opts():
    """Store options per group, for oslo-config-generator.

    Per-store sections of multi-store have names only the operator knows
    (they take the [glance_store] driver options plus store_description
    and weight); the two reserved stores every multi-store deployment has
    are listed.
    """
    return [
        ('glance_store', filesystem_opts() + http_opts()),
        ('os_glance_staging_store', filesystem_opts(datadir_default=None)),
        ('os_glance_tasks_store', filesystem_opts(datadir_default=None)),
    ]
