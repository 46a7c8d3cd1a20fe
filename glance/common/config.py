"""Every option of the Image service except those of its store sections.

Names and defaults follow the upstream Image service so existing
``glance-api.conf`` files keep working. The store package declares the
options of its sections (the common one and, in multi-store, one per
store) and registers them when it is imported; the ``glance.api``
namespace of oslo-config-generator lists both, this module's first.
"""

import ipaddress
import multiprocessing
import os

from oslo_config import cfg
from oslo_log import log as logging

from glance import version

CONF = cfg.CONF


class _BracketsOptional(cfg.types.List):
    """A list written as usual or inside brackets, as upstream requires
    for some options (``enabled_import_methods = [glance-direct,
    web-download]``); items may be quoted."""

    def __call__(self, value):
        if isinstance(value, str):
            stripped = value.strip().rstrip(',')
            if stripped.startswith('[') and stripped.endswith(']'):
                value = stripped[1:-1]
        return super().__call__(value)


def _brackets_optional(opts, names):
    """Let the ListOpts ``names`` of ``opts`` be written in brackets."""
    for opt in opts:
        if opt.name in names:
            item_type = opt.type.item_type
            if isinstance(item_type, cfg.types.String):
                item_type.quotes = True
            opt.type = _BracketsOptional(item_type=item_type)


server_opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='Address the API server listens on.'),
    cfg.PortOpt('bind_port', default=9292,
                help='Port the API server listens on.'),
    cfg.IntOpt('bind_retry_timeout', default=30, min=0,
               help='Seconds glance-api keeps trying, at start, to listen '
                    'on bind_host:bind_port while another process holds '
                    'that address (a previous glance-api still stopping), '
                    'before it gives up with an error. 0 tries once.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Number of pending connections the listening socket '
                    'queues.'),
    cfg.IntOpt('tcp_keepidle', default=600,
               help='Seconds a connection stays idle before TCP keepalive '
                    'probes start (TCP_KEEPIDLE).'),
    cfg.IntOpt('workers', min=0,
               help='Number of pre-forked worker processes. Unset means the '
                    'number of CPUs; 0 serves requests in the parent process '
                    'without forking.'),
    cfg.IntOpt('max_header_line', default=16384, min=0,
               help='Longest request header line accepted, in bytes '
                    '(0 means unlimited).'),
    cfg.BoolOpt('http_keepalive', default=True,
                help='Keep client connections open between requests. When '
                     'false, every response closes its connection.'),
    cfg.IntOpt('client_socket_timeout', default=900, min=0,
               help='Seconds a client connection may stay silent before it '
                    'is closed (0 waits forever).'),
    cfg.IntOpt('wsgi_default_pool_size', default=10000, min=1,
               help='Green threads per worker process: the client '
                    'connections one worker holds at once, idle keep-alive '
                    'ones included, and so the '
                    'requests it serves at once.'),
    cfg.IntOpt('graceful_shutdown_timeout', default=10, min=0,
               help='Seconds a stopping (SIGTERM) or reloaded (SIGHUP) '
                    'worker lets in-flight requests finish. Requests '
                    'still running then are interrupted: an upload puts '
                    'its image back to queued and removes its partial '
                    'data, which takes up to 3 more seconds. Keep it 4 or '
                    'more below systemd\'s TimeoutStopSec (15 in the '
                    'shipped unit, as in Debian). 0 waits without bound.'),
    cfg.StrOpt('cert_file',
               help='PEM certificate (chain) of the server. With key_file, '
                    'the API is served over TLS (https) only.'),
    cfg.StrOpt('key_file',
               help='PEM private key of cert_file.'),
    cfg.StrOpt('ca_file',
               help='PEM CA certificates that sign client certificates. '
                    'When set (with cert_file and key_file), every client '
                    'must present a certificate signed by one of them.'),
]

api_opts = [
    cfg.StrOpt('public_endpoint',
               help='Base URL advertised in the versions document instead '
                    'of the URL of the request.'),
    cfg.StrOpt('worker_self_reference_url',
               help='URL other API workers use to reach this one.'),
    cfg.IntOpt('upload_lease_timeout', default=30, min=1,
               help='Seconds an upload (PUT /file) or a stage (PUT /stage) '
                    'holds its lease on the image without renewing it. A '
                    'live one renews it every quarter of this, however '
                    'slowly its data comes, and at least every second while '
                    'the database cannot be reached. When it lapses (the node '
                    'died, or lost the database) any node puts the image '
                    'back to queued and removes the partial data; on the '
                    'node of a dead holder this happens at once, at the '
                    'start of the service or of the replacing worker. Every '
                    'worker looks for dead holders at start and then every '
                    'third of this (a lapsed lease is taken over once seen '
                    'lapsed by two sweeps a quarter of this apart), and '
                    'for partial files nobody writes every five times '
                    'this. Expiries follow the clock of the database '
                    'server, not of the nodes.'),
    cfg.StrOpt('node_name',
               help='Name of this node in the leases it takes, which '
                    'should differ between hosts sharing a database '
                    '(default: the host name). A holder of the same node '
                    'name and machine id (/etc/machine-id) is known dead as '
                    'soon as its process is gone or the host rebooted; '
                    'others, and all of a host without a machine id, once '
                    'their lease lapses.'),
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help='Page size of list calls when the request sets none.'),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help='Largest page size a list call returns.'),
    cfg.BoolOpt('show_image_direct_url', default=False,
                help='Show the URL of the image data in its store as '
                     'direct_url.'),
    cfg.BoolOpt('show_multiple_locations', default=False,
                deprecated_for_removal=True,
                deprecated_reason='Use the location API instead.',
                help='Show every location of an image and allow changing '
                     'them through PATCH.'),
    cfg.IntOpt('image_size_cap', default=1099511627776, min=1,
               max=9223372036854775808,
               help='Largest image, in bytes, that may be stored.'),
    cfg.StrOpt('user_storage_quota', default='0',
               help='Storage a project may use across all its images, as '
                    'an integer with an optional B, KB, MB, GB or TB '
                    'suffix; 0 means unlimited. Each image counts its size '
                    'once per store holding it or being copied to, and '
                    'data being uploaded, staged or imported counts as it '
                    'arrives (413 once it would pass the quota). Not used '
                    'with use_keystone_limits.'),
    cfg.BoolOpt('use_keystone_limits', default=False,
                help='Enforce unified limits registered in Keystone.'),
    cfg.IntOpt('image_member_quota', default=128,
               help='Members an image may have; negative means unlimited.'),
    cfg.IntOpt('image_property_quota', default=128,
               help='Additional properties an image may have; negative '
                    'means unlimited.'),
    cfg.IntOpt('image_tag_quota', default=128,
               help='Tags an image may have; negative means unlimited.'),
    cfg.IntOpt('image_location_quota', default=10,
               help='Locations an image may have; negative means '
                    'unlimited.'),
    cfg.StrOpt('hashing_algorithm', default='sha512',
               help='hashlib algorithm used for os_hash_value.'),
    cfg.ListOpt('enabled_import_methods',
                default=['glance-direct', 'web-download', 'copy-image'],
                item_type=cfg.types.String(choices=[
                    'glance-direct', 'web-download', 'copy-image',
                    'glance-download']),
                help='Interoperable import methods offered to clients.'),
    cfg.StrOpt('node_staging_uri', default='file:///var/lib/glance/staging',
               help='file:// URL of the directory holding staged image '
                    'data.'),
    cfg.DictOpt('enabled_backends',
                help='Stores as name:type pairs, e.g. fast:file,cheap:file. '
                     'Setting it turns on multi-store.'),
    cfg.BoolOpt('allow_anonymous_access', default=False,
                help='With the keystone flavor, let requests without a '
                     'valid token read public data.'),
    cfg.IntOpt('max_request_id_length', default=64, min=0,
               help='Longest X-Openstack-Request-ID accepted from clients.'),
    cfg.StrOpt('property_protection_file',
               help='File of property protection rules.'),
    cfg.StrOpt('property_protection_rule_format', default='roles',
               choices=['roles', 'policies'],
               help='Whether protection rules name roles or policies.'),
    cfg.StrOpt('image_cache_dir',
               help='Directory of the local image cache; setting it turns '
                    'the cache on.'),
    cfg.StrOpt('image_cache_driver', default='centralized_db',
               choices=['centralized_db', 'xattr', 'sqlite'],
               ignore_case=True,
               help='Where the index of the image cache lives: '
                    'centralized_db, in the tables cached_images and '
                    'node_reference of the main database (one node row per '
                    'worker_self_reference_url); xattr, in extended '
                    'attributes of the cached files (the filesystem must '
                    'support user_xattr). sqlite is read as centralized_db.'),
    cfg.IntOpt('image_cache_max_size', default=10 * 1024 ** 3, min=0,
               help='Bytes the image cache is pruned down to, least '
                    'recently used first, by glance-cache-pruner and the '
                    'periodic work of glance-api.'),
    cfg.IntOpt('image_cache_stall_time', default=86400, min=0,
               help='Seconds after which glance-cache-cleaner removes an '
                    'unfinished cache file no process is writing.'),
    cfg.StrOpt('image_cache_sqlite_db', default='cache.db',
               deprecated_for_removal=True,
               help='File name, in image_cache_dir, of the per-node SQLite '
                    'index of upstream\'s sqlite cache driver: with '
                    'centralized_db (or sqlite, read as centralized_db) its '
                    'entries are taken into the main database once, and the '
                    'file renamed <name>.migrated.'),
    cfg.IntOpt('cache_prefetcher_interval', default=300, min=1,
               help='Seconds between two passes of the periodic cache work '
                    'in glance-api: images queued for caching are fetched, '
                    'entries of deleted, deactivated or changed images '
                    'removed, and the cache pruned to image_cache_max_size.'),
    cfg.BoolOpt('delayed_delete', default=False,
                help='Keep the data of deleted images for the scrubber '
                     '(status pending_delete).'),
    cfg.IntOpt('scrub_time', default=0, min=0,
               help='Seconds before the scrubber removes pending_delete '
                    'data.'),
    cfg.IntOpt('wakeup_time', default=300, min=1,
               help='Seconds between two runs of glance-scrubber --daemon.'),
    cfg.StrOpt('metadata_source_path', default='/etc/glance/metadefs/',
               help='Directory of metadata definition files.'),
    cfg.BoolOpt('do_secure_hash', default=True,
                help='Compute the checksum and os_hash_value of an image '
                     'whose location is added through POST '
                     '/v2/images/{image_id}/locations by reading its data; '
                     'when false, the validation data of the request (if '
                     'any) is recorded as is.'),
    cfg.IntOpt('http_retries', default=3, min=0,
               help='Times a failed read of image data from a location is '
                    'retried while its hashes are computed.'),
]

notification_opts = [
    cfg.StrOpt('default_publisher_id', default='image.localhost',
               help='publisher_id of the notifications this service sends '
                    '(see [oslo_messaging_notifications] for where they '
                    'go).'),
    cfg.ListOpt('disabled_notifications', default=[],
                help='Notifications not to send: an event type '
                     '(image.create), a group (image: every image.* event, '
                     'image.member.* included; task; metadef_tag ...), or '
                     'a prefix ending in .* (image.member.*).'),
]

task_opts = [
    cfg.IntOpt('task_time_to_live', default=48, min=1,
               deprecated_group='DEFAULT',
               help='Hours a finished task (and its record under '
                    'GET /v2/tasks) is kept before it expires.'),
    cfg.IntOpt('stale_import_timeout', default=30, min=1,
               help='Seconds a running import may go without a sign of '
                    'life before it is presumed dead (its worker killed) '
                    'and reverted: the image goes back to queued and its '
                    'task fails. A running import gives a sign of life '
                    'every sixth of it; every worker looks for dead '
                    'imports at start and then as often, and removes '
                    'staged data left unused for that long.'),
]

registry_opts = [
    cfg.StrOpt('data_api', default='glance.db.api',
               help='Where the image metadata is read and written: '
                    'glance.db.api, the database of [database] connection '
                    '(upstream\'s glance.db.sqlalchemy.api means the same), '
                    'or glance.registry.client, the deprecated '
                    'glance-registry service at registry_host:registry_port '
                    '(upstream\'s glance.db.registry.api means the same).'),
    cfg.HostAddressOpt('registry_host', default='127.0.0.1',
                       help='Address of glance-registry, for data_api = '
                            'glance.registry.client.'),
    cfg.PortOpt('registry_port', default=9191,
                help='Port of glance-registry.'),
    cfg.StrOpt('registry_client_protocol', default='http',
               choices=['http', 'https'],
               help='Protocol glance-registry is reached with.'),
    cfg.StrOpt('registry_client_key_file',
               help='Client key (PEM) presented to glance-registry over '
                    'https.'),
    cfg.StrOpt('registry_client_cert_file',
               help='Client certificate (PEM) presented to '
                    'glance-registry over https.'),
    cfg.StrOpt('registry_client_ca_file',
               help='CA certificates (PEM) the certificate of '
                    'glance-registry is checked against; unset: the '
                    'system\'s.'),
    cfg.BoolOpt('registry_client_insecure', default=False,
                help='Do not check the certificate of glance-registry.'),
    cfg.IntOpt('registry_client_timeout', default=600, min=1,
               help='Seconds a call to glance-registry may take.'),
    cfg.ListOpt('allowed_rpc_exception_modules',
                default=['glance.common.exception', 'builtins',
                         'exceptions'],
                help='Modules whose exceptions an error answered by '
                     'glance-registry is raised again as in glance-api; '
                     'another becomes a 500 naming it.'),
    cfg.StrOpt('registry_shared_secret', secret=True,
               help='Secret glance-api and glance-registry share (sent in '
                    'the X-Registry-Secret header). glance-registry in the '
                    'default or trusted-auth flavor refuses calls without '
                    'it when set, and refuses to start on an address other '
                    'than loopback when unset.'),
    cfg.StrOpt('registry_auth_token', secret=True,
               help='Keystone token of an administrator that glance-api '
                    'sends to glance-registry in the keystone flavor; '
                    'unset: one is asked for from auth_url with admin_user, '
                    'admin_password and admin_tenant_name.'),
    cfg.StrOpt('auth_url',
               help='Keystone endpoint (v3) glance-api takes a token for '
                    'glance-registry from (keystone flavor).'),
    cfg.StrOpt('admin_user', help='Administrator whose token glance-api '
                                  'sends to glance-registry.'),
    cfg.StrOpt('admin_password', secret=True,
               help='Password of admin_user.'),
    cfg.StrOpt('admin_tenant_name', help='Project of admin_user.'),
]

noauth_opts = [
    cfg.StrOpt('project_id', default='admin',
               help='Project that requests without identity headers act '
                    'as, in the default (no Keystone) paste flavor. Images '
                    'such requests create are owned by it.'),
    cfg.StrOpt('user_id', default='admin',
               help='User of requests without identity headers.'),
    cfg.ListOpt('roles', default=['admin', 'member', 'reader'],
                help='Roles of requests without identity headers.'),
    cfg.ListOpt('header_roles', default=['member', 'reader'],
                help='Roles given to a request that names a project in '
                     'X-Project-Id but sends no X-Roles.'),
]

image_format_opts = [
    cfg.ListOpt('container_formats',
                default=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                         'compressed'],
                deprecated_group='DEFAULT',
                help='Container formats images may declare.'),
    cfg.ListOpt('disk_formats',
                default=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw',
                         'qcow2', 'vdi', 'iso', 'ploop'],
                deprecated_group='DEFAULT',
                help='Disk formats images may declare.'),
    cfg.BoolOpt('require_image_format_match', default=True,
                help='Refuse data whose content does not match the '
                     'disk_format of the image.'),
    cfg.ListOpt('gpt_safety_checks_nonfatal', default=[],
                help='Safety checks of disks with a partition table (such '
                     'as mbr) whose failure is only logged.'),
    cfg.ListOpt('vmdk_allowed_types',
                default=['streamOptimized', 'monolithicSparse'],
                help='VMDK create types accepted; others (flat and split '
                     'disks, whose extents live in other files) are '
                     'refused.'),
]

paste_deploy_opts = [
    cfg.StrOpt('flavor',
               help='Paste pipeline flavor: none for the default, '
                    'keystone, fakeauth.'),
    cfg.StrOpt('config_file',
               help='Paste configuration file; by default the file named '
                    'after the last --config-file with -paste.ini, or '
                    'glance-api-paste.ini in the configuration directories.'),
    cfg.BoolOpt('allow_unauthenticated_remote', default=False,
                help='Serve a flavor that does not authenticate its callers '
                     '(none, the default, or fakeauth: every request acts '
                     'as the [noauth] administrator, or as whoever its '
                     'headers name) on an address other than loopback. '
                     'Without it glance-api refuses to start (exit status '
                     '1) when bind_host is 0.0.0.0, :: or any address not '
                     'in 127.0.0.0/8 or ::1 with such a flavor: set '
                     'flavor = keystone and [keystone_authtoken], or '
                     'bind_host = 127.0.0.1.'),
]

database_opts = [
    cfg.StrOpt('connection', secret=True,
               default='sqlite:////var/lib/glance/glance.sqlite',
               help='SQLAlchemy URL of the database.'),
    cfg.IntOpt('connection_recycle_time', default=3600,
               help='Seconds after which a pooled connection is replaced.'),
    cfg.IntOpt('max_pool_size', default=5,
               help='Connections kept open per worker (not SQLite).'),
    cfg.IntOpt('max_overflow', default=50,
               help='Extra connections a worker may open beyond the pool.'),
    cfg.IntOpt('pool_timeout', default=30,
               help='Seconds to wait for a free pooled connection.'),
    cfg.StrOpt('mysql_driver', default='mysqlclient',
               choices=['mysqlclient', 'pymysql'],
               help='Python driver for MariaDB/MySQL, whichever a '
                    'mysql://, mysql+pymysql:// or mysql+mysqldb:// '
                    'connection names: mysqlclient (C, its waits on the '
                    'server made cooperative; some 15 % more requests '
                    'per second than PyMySQL and a lower tail) or pymysql '
                    '(pure Python). Without mysqlclient installed, '
                    'PyMySQL is used.'),
    cfg.IntOpt('connection_debug', default=0, min=0, max=100,
               help='Log SQL statements: 50 for statements, 100 for rows.'),
    cfg.IntOpt('sqlite_busy_timeout', default=30000, min=0,
               help='Milliseconds an SQLite writer waits for the lock held '
                    'by another worker before the request fails with 503.'),
    cfg.IntOpt('max_retries', default=10, min=-1,
               help='Connection attempts at start (glance-api, '
                    'glance-scrubber, glance-manage) after the first one '
                    'fails because the database server cannot be reached; '
                    '-1 tries for ever. After max_retries x retry_interval '
                    'seconds the command exits with status 1, naming the '
                    'database. Refused credentials or an unknown database '
                    'fail at once.'),
    cfg.IntOpt('retry_interval', default=10, min=0,
               help='Seconds between connection attempts at start.'),
    cfg.BoolOpt('use_db_reconnect', default=False,
                help='Retry requests whose connection to the database is '
                     'lost or cannot be opened (up to db_max_retries). '
                     'Off, such a request fails at once with 503 and the '
                     'next one reconnects.'),
    cfg.IntOpt('db_retry_interval', default=1, min=0,
               help='Seconds before the first retry of a database '
                    'transaction.'),
    cfg.BoolOpt('db_inc_retry_interval', default=True,
                help='Double the wait after each retry of a transaction, '
                     'up to db_max_retry_interval.'),
    cfg.IntOpt('db_max_retry_interval', default=10, min=0,
               help='Longest wait in seconds between retries of a '
                    'transaction when db_inc_retry_interval is set.'),
    cfg.IntOpt('db_max_retries', default=20, min=-1,
               help='Retries of a transaction aborted by a deadlock, a lock '
                    'wait timeout, a serialization or Galera certification '
                    'failure (and, with use_db_reconnect, a lost '
                    'connection) before the request fails with 503; -1 '
                    'retries for ever. Only a whole transaction is '
                    'replayed, and a connection lost while committing a '
                    'write is never retried (the commit may have taken '
                    'place).'),
]

wsgi_opts = [
    cfg.IntOpt('task_pool_threads', default=16, min=1,
               help='Threads per process for background tasks.'),
    cfg.StrOpt('python_interpreter',
               help='Python interpreter that runs the wrapper applying '
                    'process limits to qemu-img. Unset: the one running '
                    'the service, which is right for glance-api but not '
                    'under uWSGI, whose processes run the uwsgi binary: '
                    'set it there (e.g. /usr/bin/python3 or the '
                    "virtualenv's python)."),
]


class _Network(cfg.types.String):
    """A network in CIDR notation, kept as written once it parses."""

    def __init__(self):
        super().__init__(type_name='network value')

    def __call__(self, value):
        value = super().__call__(value)
        ipaddress.ip_network(value, strict=False)
        return value


import_filtering_opts = [
    cfg.ListOpt('allowed_schemes', default=['http', 'https'],
                help='URL schemes web-download (and every other import '
                     'that fetches a URL) and the locations the http store '
                     'reads may use; the options of this group filter '
                     'both, for every caller. When set, '
                     'disallowed_schemes is ignored. Only http and https '
                     'can be fetched, whatever this list says.'),
    cfg.ListOpt('disallowed_schemes', default=[],
                help='URL schemes refused; used only when allowed_schemes '
                     'is empty.'),
    cfg.ListOpt('allowed_hosts', default=[],
                help='Hosts (names or IP addresses, as written in the URL) '
                     'that may be fetched from. When set, disallowed_hosts '
                     'is ignored. An IP address listed here may be fetched '
                     'from even when it is internal (see '
                     'allowed_internal_networks); a name listed here does '
                     'not make the internal addresses it resolves to '
                     'acceptable.'),
    cfg.ListOpt('disallowed_hosts', default=[],
                help='Hosts refused; used only when allowed_hosts is '
                     'empty. An IP address listed here is also refused '
                     'when a name resolves to it.'),
    cfg.ListOpt('allowed_ports', default=[80, 443],
                item_type=cfg.types.Integer(min=1, max=65535),
                help='Ports that may be connected to; a URL without a port '
                     'uses 80 (http) or 443 (https). When set, '
                     'disallowed_ports is ignored.'),
    cfg.ListOpt('disallowed_ports', default=[],
                item_type=cfg.types.Integer(min=1, max=65535),
                help='Ports refused; used only when allowed_ports is '
                     'empty.'),
    cfg.ListOpt('allowed_internal_networks', default=[],
                item_type=_Network(),
                help='Networks (CIDR, e.g. 10.20.0.0/16 or fd00:1::/64) '
                     'that may be fetched from although they are not '
                     'public. Every address a URL host resolves to, at '
                     'every redirect, is refused when it is loopback, '
                     'link-local (including 169.254.169.254 and other '
                     'metadata addresses), private, shared (100.64.0.0/10), '
                     'unspecified, multicast or reserved, IPv6 '
                     'equivalents and IPv4 addresses embedded in IPv6 '
                     'included, unless it is in one of these networks or '
                     'is an IP address listed in allowed_hosts. List here '
                     'the networks of internal image servers that http '
                     'locations point to.'),
]


glance_download_opts = [
    cfg.ListOpt('extra_properties',
                default=['hw_', 'trait:', 'os_distro', 'os_secure_boot',
                         'os_type'],
                help='Properties (names starting with one of these) copied '
                     'from the remote image by the glance-download import; '
                     'os_glance* properties are never copied.'),
]

image_import_opts = [
    cfg.ListOpt('image_import_plugins', default=[],
                help='Plugins run, in this order, on the staged data of '
                     'every import but copy-image: image_conversion, '
                     'image_decompression, inject_image_metadata, no_op.'),
]

image_conversion_opts = [
    cfg.StrOpt('output_format', default='raw',
               choices=['raw', 'qcow2', 'vmdk'],
               help='Disk format the image_conversion plugin converts '
                    'imported images to.'),
    cfg.IntOpt('qemu_img_address_space', default=1024, min=1,
               help='Address space, in MiB, qemu-img may use when the '
                    'image_conversion plugin runs it (info, convert). An '
                    'image that needs more makes qemu-img fail and its '
                    'import with it, instead of exhausting the host.'),
]

inject_metadata_opts = [
    cfg.DictOpt('inject', default={},
                help='Properties the inject_image_metadata plugin sets on '
                     'imported images (key:value,...).'),
    cfg.ListOpt('ignore_user_roles', default=['admin'],
                help='Callers with one of these roles import without the '
                     'injected properties.'),
]


# The options upstream reads only in brackets ([a,b]).
_brackets_optional(api_opts, {'enabled_import_methods'})
_brackets_optional(import_filtering_opts, {
    'allowed_schemes', 'disallowed_schemes', 'allowed_hosts',
    'disallowed_hosts', 'allowed_ports', 'disallowed_ports'})
_brackets_optional(glance_download_opts, {'extra_properties'})
_brackets_optional(image_import_opts, {'image_import_plugins'})


def list_opts():
    """Options per group, as oslo-config-generator takes them."""
    return [
        (None, server_opts + api_opts + notification_opts
         + registry_opts),
        ('noauth', noauth_opts),
        ('image_format', image_format_opts),
        ('paste_deploy', paste_deploy_opts),
        ('database', database_opts),
        ('wsgi', wsgi_opts),
        ('import_filtering_opts', import_filtering_opts),
        ('task', task_opts),
        ('image_import_opts', image_import_opts),
        ('glance_download_properties', glance_download_opts),
        ('image_conversion', image_conversion_opts),
        ('inject_metadata_properties', inject_metadata_opts),
    ]


def register_opts(conf=CONF):
    for group, opts in list_opts():
        conf.register_opts(opts, group=group)


register_opts()
logging.register_options(CONF)


def default_workers():
    try:
        return multiprocessing.cpu_count()
    except NotImplementedError:
        return 1


DESCRIPTIONS = {
    'glance-api': 'The OpenStack Image API v2 server: a standalone daemon '
                  'with pre-forked eventlet workers. SIGTERM drains, SIGHUP '
                  'reloads the configuration and the paste pipeline.',
    'glance-cache-cleaner': 'Removes from the image cache of this node '
                            'what must not stay: files that failed '
                            'verification, unfinished files nobody writes, '
                            'files the index does not know, and entries '
                            'that are missing, truncated, corrupted or of '
                            'deleted, deactivated or changed images.',
    'glance-cache-prefetcher': 'Fetches the images queued for caching into '
                               'the image cache of this node.',
    'glance-cache-pruner': 'Removes the least recently used entries of the '
                           'image cache of this node until it holds at '
                           'most image_cache_max_size bytes.',
    'glance-manage': 'Database administration of the Image service.',
    'glance-registry': 'DEPRECATED: the internal service that reads and '
                       'writes image metadata for glance-api when its '
                       'data_api is glance.registry.client (POST /rpc, '
                       'port 9191). glance-api reaches the database '
                       'directly by default; use that instead.',
    'glance-scrubber': 'Deletes the data of images deleted with '
                       'delayed_delete (status pending_delete), once or '
                       'as a daemon, or restores one of them.',
    'glance-status': 'Checks to run after installing a new release and '
                     'before (re)starting the services: the database '
                     'schema, the store drivers, the policy file and '
                     'whether the API would be served unauthenticated '
                     'beyond loopback. Reads glance-api.conf as glance-api '
                     'does.',
}


def parse_args(args=None, default_config_files=None, prog='glance-api',
               epilog=None, default_config_dirs=None):
    """Parse the command line of console script ``prog``; ``epilog`` ends
    its --help (the exit statuses)."""
    CONF(args=args, project='glance', prog=prog,
         version=version.VERSION,
         default_config_files=default_config_files,
         default_config_dirs=default_config_dirs,
         description=DESCRIPTIONS.get(prog), epilog=epilog)


IMAGE_IMPORT_CONFIG = 'glance-image-import.conf'


def _names_config_file(args):
    return any(arg == '--config-file' or arg.startswith('--config-file=')
               for arg in args or ())


def image_import_config(conf=CONF):
    """``glance-image-import.conf`` (the import plugins' options) when it
    exists where upstream keeps it: next to the first configuration file,
    or, with none, in the default configuration directories."""
    if conf.config_file:
        path = os.path.join(
            os.path.dirname(os.path.abspath(conf.config_file[0])),
            IMAGE_IMPORT_CONFIG)
        return path if os.path.isfile(path) else None
    found = cfg.find_config_files('glance', 'glance-image-import')
    return found[0] if found else None


def parse_api_args(args, epilog=None):
    """Parse glance-api's command line: ``glance-api.conf`` (the one named
    by --config-file, or the first of ~/.glance, ~/, /etc/glance, /etc),
    read after ``glance-image-import.conf`` when that exists (see
    ``image_import_config``), so that glance-api.conf wins."""
    parse_args(args, epilog=epilog)
    extra = image_import_config()
    if not extra or extra in [os.path.abspath(f) for f in
                              CONF.config_file or ()]:
        return
    if _names_config_file(args):
        parse_args(['--config-file', extra] + list(args or ()),
                   epilog=epilog)
    else:
        parse_args(args, epilog=epilog, default_config_files=(
            [extra] + list(CONF.config_file or ())))


def find_paste_config():
    """Path of the paste configuration, as upstream looks it up."""
    path = CONF.paste_deploy.config_file
    if not path:
        name = 'glance-api-paste.ini'
        if CONF.config_file:
            base = os.path.basename(CONF.config_file[-1])
            name = base.replace('.conf', '-paste.ini')
        path = name
    if not os.path.isabs(path):
        found = CONF.find_file(path)
        if found is None and CONF.config_file:
            candidate = os.path.join(
                os.path.dirname(os.path.abspath(CONF.config_file[-1])), path)
            if os.path.exists(candidate):
                found = candidate
        if found is None and os.path.exists(path):
            found = os.path.abspath(path)
        path = found
    if not path or not os.path.exists(path):
        raise RuntimeError('Unable to locate paste config file for '
                           'glance-api')
    return path


def load_paste_app(app_name='glance-api'):
    """Load the WSGI application for the configured flavor."""
    from paste import deploy
    flavor = CONF.paste_deploy.flavor
    if flavor:
        app_name = '%s-%s' % (app_name, flavor)
    path = find_paste_config()
    try:
        return deploy.loadapp('config:%s' % path, name=app_name)
    except LookupError as e:
        raise RuntimeError('Cannot load application %s from %s: %s'
                           % (app_name, path, e))


def set_config_defaults():
    """Defaults of library options that differ for the Image service."""
    from oslo_middleware import cors
    cors.set_defaults(
        allow_headers=['Content-MD5', 'X-Image-Meta-Checksum',
                       'X-Storage-Token', 'Accept-Encoding', 'X-Auth-Token',
                       'X-Identity-Status', 'X-Roles', 'X-Service-Catalog',
                       'X-User-Id', 'X-Tenant-Id', 'X-OpenStack-Request-ID'],
        expose_headers=['X-Image-Meta-Checksum', 'X-Auth-Token',
                        'X-Subject-Token', 'X-Service-Token',
                        'X-OpenStack-Request-ID'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])
