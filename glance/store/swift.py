"""The Swift store: image data as objects in OpenStack Object Storage.

Built on python-swiftclient (every request to Swift) and keystoneauth1
(identity v3 sessions); the options and location URIs are upstream's, so
an existing deployment's configuration and stored locations work as they
are.

Authentication (``swift_store_auth_version``):

* ``1``: Swift's own auth (tempauth, swauth): ``swift_store_user`` is
  ``account:user``, ``swift_store_key`` its key, ``swift_store_auth_address``
  the ``.../auth/v1.0`` URL.
* ``3``: Keystone: the user is ``project:user`` (domains from the
  references file, ``default`` otherwise), the storage URL comes from the
  catalog (``swift_store_region``, ``swift_store_endpoint_type``,
  ``swift_store_service_type``) unless ``swift_store_endpoint`` names it.

Credentials come from ``swift_store_config_file`` (sections named by
``default_swift_reference``, holding ``auth_address``, ``user``, ``key``,
``auth_version`` and the domain settings) or from the ``swift_store_*``
options. Locations:

* ``swift+config://<reference>/<container>/<object>`` when a references
  file is used;
* ``swift+http(s)://<user>:<key>@<auth address>/<container>/<object>``
  otherwise (the credentials URL-quoted, ``swift://`` meaning https), as
  upstream wrote them;
* multi-tenant (``swift_store_multi_tenant``):
  ``swift+http(s)://<storage URL>/<container>_<image id>/<image id>``, one
  container per image in the account of the user's project, read and
  written with the request's token.

Single-tenant stores use one container, or with
``swift_store_multiple_containers_seed`` N the container
``<container>_<first N characters of the image id>``.

Data: an image of at least ``swift_store_large_object_size`` (upstream's
"MB" of 1,024,000 bytes), or of unknown size, is written as segments
``<object>-00001``... of ``swift_store_large_object_chunk_size`` and a
static large object manifest. Each segment declares its true length, the
last one included (upstream declared a full segment for the last one too,
and Swift then waited for bytes that never came). Before each segment the
token is checked with a light request, so one that expired during a long
upload is renewed between segments (a request that started with a valid
token finishes). Whatever fails removes the segments already written.
Reads ask Swift for the range; ``swift_store_retry_get_count`` resumes a
read that broke with a ranged request from where it stopped. A read of
more than ``PIECE`` bytes asks for it in pieces of that size: while one is
sent on, the next ``READ_AHEAD`` are fetched by ranged GETs of their own
(one Swift proxy serves two GETs side by side nearly twice as fast as one).

Swift calls go through requests, which is green under eventlet's monkey
patching: no real threads are needed.
"""

import configparser
import dataclasses
import importlib
import json
import logging
import threading
import time
import uuid
from urllib import parse

import eventlet
from oslo_config import cfg

from glance.common import blocking
from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)
# swiftclient logs every request and answer at INFO (with the start of
# the token): only its warnings, unless the operator's logging says more.
logging.getLogger('swiftclient').setLevel(logging.WARNING)

# Upstream's "MB" of the large object options.
ONE_MB = 1000 * 1024
SEGMENT_DIGITS = 5
# Seconds to connect to Swift and to wait for each answer or read.
TIMEOUT = 60
READ_CHUNK = driver.CHUNK_SIZE
# Reads in pieces of PIECE bytes, READ_AHEAD of them fetched ahead of the
# one being sent (memory: READ_AHEAD pieces per download).
PIECE = 16 * 1024 * 1024
READ_AHEAD = 2
AUTH_VERSIONS = ('1', '3')
CONTAINER_SEED_MAX = 32
# Metadata marking the objects of one upload attempt.
UPLOAD_TAG = 'X-Object-Meta-Glance-Upload'
# Seconds a failed upload keeps trying to remove what it left.
REMOVE_LATER_FOR = 900


class _ReaderFailed(Exception):
    """Carries an exception the image reader raised while swiftclient was
    sending its bytes, so that the original one is raised in the end."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


@dataclasses.dataclass
class Credentials:
    """How to authenticate: one service account (or a token)."""
    auth_address: str | None
    user: str | None
    key: str | None
    auth_version: str
    user_domain_id: str | None = 'default'
    user_domain_name: str | None = None
    project_domain_id: str | None = 'default'
    project_domain_name: str | None = None

    def cache_key(self):
        return (self.auth_address, self.user, self.key, self.auth_version,
                self.user_domain_id, self.user_domain_name,
                self.project_domain_id, self.project_domain_name)


@dataclasses.dataclass
class Location:
    """A parsed swift location URI."""
    scheme: str
    address: str          # auth address, storage URL or reference
    container: str
    obj: str
    user: str | None = None
    key: str | None = None

    @classmethod
    def parse(cls, uri):
        scheme, sep, rest = (uri or '').partition('://')
        scheme = scheme.lower()
        if not sep or scheme not in SwiftStore.schemes:
            raise exceptions.BadStoreUri('Not a swift location: %s'
                                         % _display(uri))
        user = key = None
        head, at, tail = rest.rpartition('@')
        if at and '/' not in head.split(':', 1)[0].rstrip('/'):
            creds, rest = head, tail
            quoted_user, colon, quoted_key = creds.rpartition(':')
            if not colon:
                raise exceptions.BadStoreUri(
                    'Swift location credentials must be user:key (%s)'
                    % _display(uri))
            user, key = parse.unquote(quoted_user), parse.unquote(quoted_key)
        parts = rest.split('/')
        if len(parts) < 3 or not all(parts[-2:]) or not parts[0]:
            raise exceptions.BadStoreUri(
                'A swift location ends with /<container>/<object>: %s'
                % _display(uri))
        return cls(scheme, '/'.join(parts[:-2]), parts[-2], parts[-1],
                   user, key)

    def uri(self):
        creds = ''
        if self.user is not None:
            creds = '%s:%s@' % (parse.quote(self.user, safe=''),
                                parse.quote(self.key or '', safe=''))
        return '%s://%s%s/%s/%s' % (self.scheme, creds, self.address,
                                    self.container, self.obj)

    def http_url(self):
        """The address as an http(s) URL: ``swift://`` means https."""
        http = 'http' if self.scheme == 'swift+http' else 'https'
        return '%s://%s' % (http, self.address)


def _display(uri):
    """``uri`` without its credentials, for messages and logs."""
    uri = uri or ''
    scheme, sep, rest = uri.partition('://')
    head, at, tail = rest.rpartition('@')
    if sep and at and '/' not in head.split(':', 1)[0]:
        return '%s://***@%s' % (scheme, tail)
    return uri


def _split_address(address):
    """(location scheme, address without its scheme) of an auth address
    or storage URL; no scheme means https, as upstream."""
    address = (address or '').strip().rstrip('/')
    lowered = address.lower()
    if lowered.startswith('http://'):
        return 'swift+http', address[len('http://'):]
    if lowered.startswith('https://'):
        return 'swift+https', address[len('https://'):]
    return 'swift+https', address


def _true(value):
    return str(value or '').strip().lower() in ('true', '1', 'yes', 'on')


class _SegmentReader:
    """File-like view of the next ``length`` bytes of the image reader
    (for swiftclient, which reads it and stops at ``length``).

    Reading the image may fail (the client went away, its data breaks a
    rule): the error is kept and swiftclient is handed an exception of
    its own kind, so the store can raise the original afterwards. A
    reader that ends before ``length`` is a SizeMismatch when the size
    was announced (Swift would otherwise wait for the missing bytes);
    with an unknown size the segment is simply shorter.
    """

    def __init__(self, chunks, length, announced):
        self._chunks = chunks
        self.remaining = length
        self.sent = 0
        self.ended = False
        self.error = None
        self._announced = announced

    def read(self, size=-1):
        if self.remaining <= 0 or self.ended:
            return b''
        # HTTP libraries ask for a few KiB at a time; handing them whole
        # pieces of the image (they send what they get) saves a call and
        # a copy per few KiB.
        if size is None or size < READ_CHUNK:
            size = READ_CHUNK
        size = min(size, self.remaining)
        try:
            data = self._chunks.take(size)
        except BaseException as e:
            self.error = e
            raise _ReaderFailed(e)
        if not data:
            self.ended = True
            if self._announced:
                self.error = exceptions.SizeMismatch(
                    'The image data ended %d bytes early.' % self.remaining)
                raise _ReaderFailed(self.error)
            return b''
        self.remaining -= len(data)
        self.sent += len(data)
        return data


class _Chunks:
    """Pieces of the image reader, split to the sizes asked for (views,
    not copies: a piece is split only at a segment's end)."""

    def __init__(self, reader):
        self._iter = driver.read_chunks(reader, READ_CHUNK)
        self._left = memoryview(b'')
        self.total = 0

    def take(self, size):
        if not self._left:
            self._left = memoryview(next(self._iter, b''))
        data, self._left = self._left[:size], self._left[size:]
        self.total += len(data)
        return data

    def at_end(self):
        if not self._left:
            self._left = memoryview(next(self._iter, b''))
        return not self._left


class SwiftStore(driver.Store):

    type_name = 'swift'
    schemes = ('swift', 'swift+http', 'swift+https', 'swift+config')
    capabilities = frozenset({driver.READ, driver.WRITE, driver.SEEK})

    @classmethod
    def config_opts(cls, backend_section=False):
        return [
            cfg.StrOpt('swift_store_auth_address',
                       help='Identity URL the swift store authenticates at: '
                            'http://host:port/auth/v1.0 with auth version 1 '
                            '(tempauth), http://host:5000/v3 with 3. Ignored '
                            'when swift_store_config_file is set.'),
            cfg.StrOpt('swift_store_user',
                       help='account:user (auth 1) or project:user (auth 3) '
                            'of the swift store.'),
            cfg.StrOpt('swift_store_key', secret=True,
                       help='Key or password of swift_store_user.'),
            cfg.StrOpt('swift_store_auth_version', default='3',
                       help='Identity API of the swift store: 3 (Keystone) '
                            'or 1 (Swift tempauth/swauth). Upstream dropped '
                            '1; it is kept here for Swift clusters without '
                            'Keystone.'),
            cfg.BoolOpt('swift_store_auth_insecure', default=False,
                        help='Do not verify the HTTPS certificates of the '
                             'identity service and of Swift.'),
            cfg.StrOpt('swift_store_cacert',
                       help='CA bundle for the HTTPS certificates of the '
                            'identity service and of Swift.'),
            cfg.StrOpt('swift_store_region',
                       help='Region of the object-store endpoint in the '
                            'Keystone catalog (the first one when unset).'),
            cfg.StrOpt('swift_store_endpoint',
                       help='Storage URL to use instead of the one of the '
                            'catalog, e.g. https://swift.example.org/v1/'
                            'AUTH_<project id>.'),
            cfg.StrOpt('swift_store_endpoint_type', default='publicURL',
                       choices=['publicURL', 'adminURL', 'internalURL'],
                       help='Interface of the catalog endpoint.'),
            cfg.StrOpt('swift_store_service_type', default='object-store',
                       help='Service type of Swift in the catalog.'),
            cfg.StrOpt('swift_store_container', default='glance',
                       help='Container of the image objects (the prefix of '
                            'the container names with seeded or '
                            'multi-tenant containers).'),
            cfg.BoolOpt('swift_store_create_container_on_put',
                        default=False,
                        help='Create a missing container on upload; when '
                             'False an upload into a missing container '
                             'fails, naming it.'),
            cfg.IntOpt('swift_store_large_object_size', default=5 * 1024,
                       min=1,
                       help='Images of this size (in units of 1,024,000 '
                            'bytes, as upstream) or larger, and those of '
                            'unknown size, are stored as segments and a '
                            'static large object manifest.'),
            cfg.IntOpt('swift_store_large_object_chunk_size', default=200,
                       min=1,
                       help='Size of the segments of large images, in '
                            'units of 1,024,000 bytes.'),
            cfg.BoolOpt('swift_store_multi_tenant', default=False,
                        help='Store each image in a container of its own '
                             'in the Swift account of the project that '
                             'uploads it, with the request\'s token.'),
            cfg.IntOpt('swift_store_multiple_containers_seed', default=0,
                       min=0, max=CONTAINER_SEED_MAX,
                       help='With N > 0 (at most 32), images go to the '
                            'containers <swift_store_container>_<first N '
                            'characters of the image id>.'),
            cfg.ListOpt('swift_store_admin_tenants', default=[],
                        help='Projects granted write access (container '
                             'ACL) to the containers of a multi-tenant '
                             'store, set when an image\'s readers are.'),
            cfg.BoolOpt('swift_store_ssl_compression', default=True,
                        help='Accepted for compatibility; has no effect.'),
            cfg.IntOpt('swift_store_retry_get_count', default=0, min=0,
                       help='How many times a download that broke is '
                            'resumed with a ranged request from where it '
                            'stopped.'),
            cfg.IntOpt('swift_store_expire_soon_interval', default=60,
                       min=0,
                       help='Seconds before its expiry at which a Keystone '
                            'token is renewed before a request.'),
            cfg.BoolOpt('swift_store_use_trusts', default=True,
                        help='Accepted for compatibility (multi-tenant '
                             'trusts); the request\'s token is used.'),
            cfg.BoolOpt('swift_buffer_on_upload', default=False,
                        help='Accepted for compatibility; segments are '
                             'streamed, not buffered.'),
            cfg.StrOpt('swift_upload_buffer_dir',
                       help='Accepted for compatibility; unused.'),
            cfg.StrOpt('swift_store_config_file',
                       help='File of Swift credentials: sections named by '
                            'a reference, with auth_address, user, key, '
                            'auth_version and user_domain_id/name, '
                            'project_domain_id/name. New locations then '
                            'name the reference (swift+config://) instead '
                            'of holding the credentials.'),
            cfg.StrOpt('default_swift_reference', default='ref1',
                       help='Section of swift_store_config_file the store '
                            'authenticates with.'),
        ]

    # -- configuration ---------------------------------------------------

    def configure(self):
        opts = self.options
        try:
            importlib.import_module('swiftclient.client')
        except ImportError as e:
            raise exceptions.BadStoreConfiguration(
                'Store %s needs python-swiftclient: %s' % (self.name, e))
        self.container = opts.swift_store_container
        self.seed = opts.swift_store_multiple_containers_seed or 0
        self.multi_tenant = bool(opts.swift_store_multi_tenant)
        self.create_container = bool(
            opts.swift_store_create_container_on_put)
        self.large_object_size = opts.swift_store_large_object_size * ONE_MB
        self.segment_size = (opts.swift_store_large_object_chunk_size
                             * ONE_MB)
        self.retry_get_count = opts.swift_store_retry_get_count or 0
        self.expire_soon = opts.swift_store_expire_soon_interval or 0
        self.insecure = bool(opts.swift_store_auth_insecure)
        self.cacert = opts.swift_store_cacert
        self.endpoint = opts.swift_store_endpoint
        self.os_options = {
            'region_name': opts.swift_store_region,
            'endpoint_type': opts.swift_store_endpoint_type.replace(
                'URL', ''),
            'service_type': opts.swift_store_service_type}
        self.references = {}
        self.reference = None
        self._tokens = {}
        self._sessions = {}
        self._lock = threading.Lock()
        if not self.container:
            raise exceptions.BadStoreConfiguration(
                'Store %s: swift_store_container is empty' % self.name)
        if opts.swift_store_config_file:
            self.references = self._read_references(
                opts.swift_store_config_file)
            self.reference = opts.default_swift_reference
            if not self.multi_tenant and \
                    self.reference not in self.references:
                raise exceptions.BadStoreConfiguration(
                    'Store %s: default_swift_reference %r is not a section '
                    'of %s' % (self.name, self.reference,
                               opts.swift_store_config_file))
            self.credentials = self.references.get(self.reference)
        else:
            self.credentials = Credentials(
                opts.swift_store_auth_address, opts.swift_store_user,
                opts.swift_store_key,
                self._auth_version(opts.swift_store_auth_version,
                                   'swift_store_auth_version'))
        if self.multi_tenant:
            # Data is written with the users' tokens: nothing to check
            # now (a service account, if given, is not used for data).
            return
        missing = [name for name, value in (
            ('auth address', self.credentials.auth_address),
            ('user', self.credentials.user),
            ('key', self.credentials.key)) if not value]
        if missing:
            raise exceptions.BadStoreConfiguration(
                'Store %s: the swift %s %s not set (swift_store_* options '
                'or swift_store_config_file)' % (
                    self.name, ' and '.join(missing),
                    'is' if len(missing) == 1 else 'are'))
        self.scheme, self.auth_address = _split_address(
            self.credentials.auth_address)
        self._check_reachable()

    def _auth_version(self, value, where):
        value = str(value or '3').strip().lower().lstrip('v')
        value = {'1.0': '1', '3.0': '3'}.get(value, value)
        if value == '2' or value == '2.0':
            raise exceptions.BadStoreConfiguration(
                'Store %s: %s 2 (Keystone v2.0) is gone from Keystone; use 3'
                % (self.name, where))
        if value not in AUTH_VERSIONS:
            raise exceptions.BadStoreConfiguration(
                'Store %s: %s must be 1 or 3, not %r'
                % (self.name, where, value))
        return value

    def _read_references(self, path):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path) as f:
                parser.read_file(f)
        except (OSError, configparser.Error) as e:
            raise exceptions.BadStoreConfiguration(
                'Store %s: cannot read swift_store_config_file %s: %s'
                % (self.name, path, e))
        references = {}
        for ref in parser.sections():
            section = parser[ref]
            references[ref] = Credentials(
                section.get('auth_address'), section.get('user'),
                section.get('key'),
                self._auth_version(section.get('auth_version', '3'),
                                   'auth_version of [%s] in %s'
                                   % (ref, path)),
                section.get('user_domain_id', 'default'),
                section.get('user_domain_name'),
                section.get('project_domain_id', 'default'),
                section.get('project_domain_name'))
        return references

    def _check_reachable(self):
        """Authenticate, and look at the container: Swift down or
        refusing the credentials fails the start, naming the store."""
        try:
            conn = self._connection(self.credentials)
            try:
                if self.seed:
                    self._call('Authenticating', conn.head_account)
                else:
                    self._call('Looking at container %s' % self.container,
                               conn.head_container, self.container)
            finally:
                self._release(conn, self.credentials)
        except exceptions.NotFound:
            if not self.create_container:
                LOG.warning('Store %s: container %s does not exist and '
                            'swift_store_create_container_on_put is False: '
                            'uploads fail until it is created', self.name,
                            self.container)
        except exceptions.StoreError as e:
            raise exceptions.BadStoreConfiguration(
                'Store %s cannot use Swift: %s' % (self.name, e.msg))

    def properties(self):
        props = {
            'container': self.container,
            'large_object_size': self.large_object_size,
            'large_object_chunk_size': self.segment_size,
            'multi_tenant': self.multi_tenant,
            'create_container_on_put': self.create_container,
        }
        if not self.multi_tenant and self.credentials is not None:
            props['auth_version'] = self.credentials.auth_version
            props['auth_address'] = self.credentials.auth_address
        if self.reference:
            props['reference'] = self.reference
        return props

    def location_prefixes(self):
        prefixes = super().location_prefixes()
        if self.multi_tenant:
            return prefixes
        if self.reference:
            prefixes.append('swift+config://%s/%s' % (self.reference,
                                                      self.container))
        else:
            # ".../<container>" (also the start of seeded containers)
            prefixes.append(Location(
                self.scheme, self.auth_address, self.container, '',
                self.credentials.user, self.credentials.key).uri()[:-1])
        return prefixes

    # -- connections -----------------------------------------------------

    def _session(self, creds):
        """A keystoneauth1 session of ``creds`` (identity v3), shared by
        the store's requests; it renews the token before it expires."""
        key = creds.cache_key()
        with self._lock:
            sess = self._sessions.get(key)
            if sess is not None:
                return sess
        from keystoneauth1.identity import v3
        from keystoneauth1 import session as ks_session
        project, colon, user = (creds.user or '').rpartition(':')
        if not colon:
            raise exceptions.BadStoreConfiguration(
                'Store %s: the swift user must be project:user with auth '
                'version 3' % self.name)
        plugin = v3.Password(
            auth_url=creds.auth_address, username=user,
            password=creds.key, project_name=project,
            user_domain_id=creds.user_domain_id,
            user_domain_name=creds.user_domain_name,
            project_domain_id=creds.project_domain_id,
            project_domain_name=creds.project_domain_name)
        # Renewed when it expires within swift_store_expire_soon_interval
        # (keystoneauth's own margin is two minutes).
        plugin.MIN_TOKEN_LIFE_SECONDS = max(self.expire_soon,
                                            plugin.MIN_TOKEN_LIFE_SECONDS)
        verify = False if self.insecure else (self.cacert or True)
        sess = ks_session.Session(auth=plugin, verify=verify,
                                  timeout=TIMEOUT)
        with self._lock:
            return self._sessions.setdefault(key, sess)

    def _connection(self, creds=None, context=None, storage_url=None,
                    retries=1):
        """A swiftclient Connection; a token the store holds is reused."""
        from swiftclient import client as swift_client
        common = dict(retries=retries, insecure=self.insecure,
                      cacert=self.cacert, timeout=TIMEOUT,
                      starting_backoff=0.5, max_backoff=2)
        if creds is None:
            # Multi-tenant: the request's token, on its own account.
            token = getattr(context, 'auth_token', None)
            if not token:
                raise exceptions.StorageWriteDenied(
                    'Store %s stores data with the token of the request, '
                    'and there is none' % self.name)
            return swift_client.Connection(preauthurl=storage_url,
                                           preauthtoken=token, **common)
        if creds.auth_version == '3':
            options = dict(self.os_options)
            if self.endpoint:
                options['object_storage_url'] = self.endpoint
            conn = swift_client.Connection(
                session=self._session(creds), os_options=options,
                preauthurl=self.endpoint, **common)
            if self.endpoint:
                # swiftclient asks the session for a token only.
                conn.url = self.endpoint
            return conn
        url, token = self._tokens.get(creds.cache_key(), (None, None))
        return swift_client.Connection(
            authurl=creds.auth_address, user=creds.user, key=creds.key,
            auth_version='1', preauthurl=url, preauthtoken=token, **common)

    def _release(self, conn, creds):
        """Keep the token ``conn`` ended with, and close it."""
        if creds is not None and creds.auth_version == '1' and conn.token:
            self._tokens[creds.cache_key()] = (conn.url, conn.token)
        conn.close()

    def _credentials_of(self, loc):
        """The credentials a location is read with (None: a token)."""
        if loc.scheme == 'swift+config':
            creds = self.references.get(loc.address)
            if creds is None:
                raise exceptions.BadStoreUri(
                    'Swift location names reference %r, which %s has not'
                    % (loc.address, self.options.swift_store_config_file
                       or 'no swift_store_config_file'))
            return creds
        if loc.user is not None:
            base = self.credentials or Credentials(None, None, None, '3')
            return dataclasses.replace(
                base, auth_address=loc.http_url(), user=loc.user,
                key=loc.key)
        if self.multi_tenant:
            return None
        return self.credentials

    def _open(self, location, context, retries=1):
        """(parsed location, connection, credentials) of ``location``."""
        loc = Location.parse(location)
        creds = self._credentials_of(loc)
        storage_url = loc.http_url() if creds is None else None
        conn = self._connection(creds, context, storage_url, retries)
        return loc, conn, creds

    def _error(self, error, what):
        """The store exception for a swiftclient or keystoneauth error."""
        from keystoneauth1 import exceptions as ks_exc
        from swiftclient import exceptions as swift_exc
        if isinstance(error, exceptions.StoreError):
            return error
        if isinstance(error, swift_exc.ClientException):
            status = error.http_status
            text = '%s: Swift answered %s %s' % (
                what, status, (error.http_reason or '').strip())
            if status == 404:
                return exceptions.NotFound(text)
            if status == 409:
                return exceptions.Duplicate(text)
            if status == 413:
                return exceptions.StorageFull(text)
            if status == 416:
                return exceptions.InvalidRange(text)
            if status in (401, 403):
                return exceptions.StorageWriteDenied(
                    '%s: Swift refused the credentials of store %s (%s)'
                    % (what, self.name, status))
            if status is None:
                return exceptions.RemoteServiceUnavailable(
                    '%s: %s' % (what, error.msg))
            return exceptions.RemoteServiceUnavailable(text)
        if isinstance(error, ks_exc.Unauthorized):
            return exceptions.StorageWriteDenied(
                '%s: the identity service refused the credentials of store '
                '%s' % (what, self.name))
        if isinstance(error, ks_exc.EndpointNotFound):
            return exceptions.RemoteServiceUnavailable(
                '%s: no object-store endpoint in the catalog for store %s '
                '(swift_store_region, swift_store_endpoint_type)'
                % (what, self.name))
        if isinstance(error, ks_exc.ClientException):
            return exceptions.RemoteServiceUnavailable(
                '%s: identity service: %s' % (what, type(error).__name__))
        if isinstance(error, OSError) or _is_requests_error(error):
            return exceptions.RemoteServiceUnavailable(
                '%s: Swift of store %s unreachable (%s)'
                % (what, self.name, type(error).__name__))
        return None

    def _call(self, what, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as e:
            mapped = self._error(e, what)
            if mapped is None:
                raise
            raise mapped from e

    # -- naming ------------------------------------------------------------

    def _container_for(self, image_id):
        if self.multi_tenant:
            return '%s_%s' % (self.container, image_id)
        if self.seed:
            return '%s_%s' % (self.container, image_id[:self.seed])
        return self.container

    def _new_location(self, image_id, storage_url=None):
        container = self._container_for(image_id)
        if self.multi_tenant:
            scheme, address = _split_address(storage_url)
            return Location(scheme, address, container, image_id)
        if self.reference:
            return Location('swift+config', self.reference, container,
                            image_id)
        return Location(self.scheme, self.auth_address, container, image_id,
                        self.credentials.user, self.credentials.key)

    @staticmethod
    def _segment_name(obj, number):
        return '%s-%0*d' % (obj, SEGMENT_DIGITS, number)

    # -- write -----------------------------------------------------------

    def add(self, image_id, reader, size=None, *, context=None):
        if not self.is_capable(driver.WRITE):
            return super().add(image_id, reader, size, context=context)
        if not image_id or '/' in image_id:
            raise exceptions.BadStoreUri('Invalid image id %r' % image_id)
        if self.multi_tenant:
            storage_url = self._storage_url_of(context)
            creds = None
        else:
            storage_url, creds = None, self.credentials
        loc = self._new_location(image_id, storage_url)
        conn = self._connection(creds, context, storage_url, retries=0)
        what = 'Storing image %s in store %s' % (image_id, self.name)
        written_names = []
        # Marks the objects of this attempt: what a failed one left is
        # removed later only if no newer upload replaced it meanwhile.
        tag = {UPLOAD_TAG: uuid.uuid4().hex}
        try:
            self._prepare_container(conn, loc, what)
            try:
                conn.head_object(loc.container, loc.obj)
            except Exception as e:
                mapped = self._error(e, what)
                if not isinstance(mapped, exceptions.NotFound):
                    raise mapped or e
            else:
                raise exceptions.Duplicate(
                    'Store %s already has data for image %s'
                    % (self.name, image_id))
            # Segments an earlier attempt left (Swift was down when it
            # failed and could not be cleaned up then).
            self._delete_prefixed(conn, loc.container, loc.obj + '-', what)
            chunks = _Chunks(reader)
            if size is not None and size < self.large_object_size:
                written = self._put_whole(conn, loc, chunks, size,
                                          written_names, what, tag)
            else:
                written = self._put_segments(conn, loc, chunks, size,
                                             written_names, what, tag)
        except BaseException:
            left = []
            if written_names:
                left = self._remove_quietly(conn, loc.container,
                                            written_names)
            self._release(conn, creds)
            if left and creds is not None:
                self._remove_later(loc.container, left, tag[UPLOAD_TAG])
            raise
        self._release(conn, creds)
        LOG.debug('Wrote %d bytes of image %s to %s', written, image_id,
                  _display(loc.uri()))
        return loc.uri(), written, self.location_metadata()

    def _storage_url_of(self, context):
        if self.endpoint:
            return self.endpoint
        catalog = getattr(context, 'service_catalog', None) or []
        region = self.os_options['region_name']
        interface = self.os_options['endpoint_type']
        for service in catalog:
            if service.get('type') != self.options.swift_store_service_type:
                continue
            for endpoint in service.get('endpoints', []):
                if region and endpoint.get('region') != region and \
                        endpoint.get('region_id') != region:
                    continue
                if endpoint.get('interface', interface) != interface:
                    continue
                url = endpoint.get('url') or endpoint.get(
                    interface + 'URL')
                if url:
                    return url
        raise exceptions.RemoteServiceUnavailable(
            'Store %s: the request\'s service catalog has no %s endpoint '
            '(interface %s%s); set swift_store_endpoint' % (
                self.name, self.options.swift_store_service_type,
                interface, ', region %s' % region if region else ''))

    def _prepare_container(self, conn, loc, what):
        try:
            conn.head_container(loc.container)
            return
        except Exception as e:
            mapped = self._error(e, what)
            if not isinstance(mapped, exceptions.NotFound):
                raise mapped or e
        if not (self.create_container or self.multi_tenant):
            raise exceptions.RemoteServiceUnavailable(
                'Container %s does not exist in the Swift of store %s, and '
                'swift_store_create_container_on_put is False'
                % (loc.container, self.name))
        self._call(what, conn.put_container, loc.container)

    def _put(self, conn, container, name, body, what, length=None,
             **kwargs):
        """PUT one object; an error of the image reader is raised as it
        was, anything else as a store error."""
        response = {}
        try:
            if hasattr(body, 'read'):
                kwargs['chunk_size'] = READ_CHUNK
            conn.put_object(container, name, body, content_length=length,
                            response_dict=response, **kwargs)
        except Exception as e:
            failed = getattr(body, 'error', None)
            if failed is not None:
                raise failed
            cause = e
            while cause is not None and not isinstance(cause, _ReaderFailed):
                cause = cause.__cause__ or cause.__context__
            if cause is not None:
                raise cause.error
            mapped = self._error(e, what)
            if mapped is None:
                raise
            raise mapped from e
        failed = getattr(body, 'error', None)
        if failed is not None:
            raise failed
        return response.get('headers', {})

    def _put_whole(self, conn, loc, chunks, size, written_names, what,
                   tag):
        body = _SegmentReader(chunks, size, announced=True)
        written_names.append(loc.obj)
        self._put(conn, loc.container, loc.obj, body, what, length=size,
                  headers=tag)
        if not chunks.at_end():
            raise exceptions.SizeMismatch('More than the announced %d bytes.'
                                          % size)
        return size

    def _put_segments(self, conn, loc, chunks, size, written_names, what,
                      tag):
        manifest = []
        written = 0
        number = 0
        while True:
            if size is not None:
                length = min(self.segment_size, size - written)
                if length <= 0 and number:
                    break
            else:
                length = self.segment_size
                if number and chunks.at_end():
                    break
            number += 1
            name = self._segment_name(loc.obj, number)
            if number > 1:
                if conn.session is not None:
                    # The session's token: renewed when it expires within
                    # swift_store_expire_soon_interval.
                    conn.token = None
                # A light request renews a token that expired meanwhile
                # (swiftclient authenticates again on a 401), so the
                # segment itself starts with a valid one.
                self._call(what, conn.head_container, loc.container)
            body = _SegmentReader(chunks, length, announced=size is not None)
            written_names.append(name)
            # Unknown size: chunked transfer of at most one segment.
            headers = self._put(conn, loc.container, name, body, what,
                                length=length if size is not None else None,
                                headers=tag)
            if body.sent == 0 and size is None:
                # The reader ended exactly at a segment boundary.
                self._remove_quietly(conn, loc.container, [name])
                written_names.remove(name)
                break
            written += body.sent
            manifest.append({'path': '/%s/%s' % (loc.container, name),
                             'etag': (headers.get('etag') or '').strip('"')
                             or None,
                             'size_bytes': body.sent})
            if size is None and body.sent < length:
                break
        if size is not None and not chunks.at_end():
            raise exceptions.SizeMismatch('More than the announced %d bytes.'
                                          % size)
        if not manifest:
            # An empty image: a plain empty object (no zero-byte segment).
            written_names.append(loc.obj)
            self._put(conn, loc.container, loc.obj, b'', what, length=0,
                      headers=tag)
            return 0
        written_names.append(loc.obj)
        self._put(conn, loc.container, loc.obj, json.dumps(manifest), what,
                  headers=tag, query_string='multipart-manifest=put',
                  content_type='application/octet-stream')
        return written

    def _remove_quietly(self, conn, container, names):
        """Remove what a failed upload wrote; the names that could not
        be removed."""
        left = []
        for name in names:
            try:
                conn.delete_object(container, name)
            except Exception as e:
                mapped = self._error(e, 'Removing %s/%s' % (container, name))
                if not isinstance(mapped, exceptions.NotFound):
                    LOG.warning('Store %s: could not remove %s/%s left by '
                                'a failed upload: %s', self.name, container,
                                name, e)
                    left.append(name)
        return left

    def _remove_later(self, container, names, tag):
        """Keep trying, in the background, to remove what a failed
        upload left when Swift could not be reached: for
        REMOVE_LATER_FOR seconds, each object only while it still
        carries ``tag`` (a newer upload of the image may own the name).
        What is still left then goes with the image's next upload or
        delete."""
        def run():
            left, delay = list(names), 1.0
            deadline = time.monotonic() + REMOVE_LATER_FOR
            while left and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                conn = self._connection(self.credentials, retries=0)
                try:
                    left = [name for name in left
                            if not self._remove_tagged(conn, container,
                                                       name, tag)]
                except Exception as e:
                    LOG.debug('Store %s: Swift still away: %s', self.name, e)
                finally:
                    self._release(conn, self.credentials)
            if left:
                LOG.warning('Store %s: gave up removing %s of container %s '
                            '(their image\'s next upload or delete removes '
                            'them)', self.name, ', '.join(left), container)
            else:
                LOG.info('Store %s: removed what a failed upload left in '
                         'container %s once Swift answered again',
                         self.name, container)
        threading.Thread(target=run, daemon=True,
                         name='swift-remove-later').start()

    def _remove_tagged(self, conn, container, name, tag):
        """Remove ``name`` if it carries ``tag``; True once it is not
        ours to remove any more (gone, or another upload's)."""
        try:
            headers = conn.head_object(container, name)
        except Exception as e:
            if isinstance(self._error(e, name), exceptions.NotFound):
                return True
            raise
        if headers.get(UPLOAD_TAG.lower()) != tag:
            return True
        try:
            conn.delete_object(container, name)
        except Exception as e:
            if not isinstance(self._error(e, name), exceptions.NotFound):
                raise
        return True

    # -- read ------------------------------------------------------------

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        what = 'Reading %s' % _display(location)
        if length == 0:
            return (driver.ChunkIterator(iter(())),
                    self.get_size(location, context=context))
        loc, conn, creds = self._open(location, context,
                                      retries=max(1, self.retry_get_count))
        # The first piece; the rest, if any, once the total is known.
        first = PIECE if length is None else min(length, PIECE)
        try:
            headers, body = self._get_range(conn, loc, offset, first, what)
        except exceptions.InvalidRange:
            total = self.get_size(location, context=context)
            self._release(conn, creds)
            if offset == total:
                return driver.ChunkIterator(iter(())), total
            raise
        except BaseException:
            self._release(conn, creds)
            raise
        total = _total_size(headers)
        ranged = 'content-range' in headers
        if offset and not ranged:
            body.close()
            self._release(conn, creds)
            raise exceptions.RemoteServiceUnavailable(
                '%s: Swift ignored the range asked for' % what)
        expected = int(headers.get('content-length', 0))
        chunks = self._chunks(conn, loc, body, offset, expected, what)
        end = total if length is None else min(total or 0, offset + length)
        # Not with the request's token (multi-tenant): it may expire before
        # the last piece is asked for, where one GET would finish.
        if (ranged and creds is not None and total is not None
                and offset + expected < end):
            chunks = self._pieces(chunks, loc, creds, context,
                                  offset + expected, end, what)

        def close():
            chunks.close()
            body.close()
            self._release(conn, creds)
        return driver.ChunkIterator(chunks, close), total

    def _pieces(self, first, loc, creds, context, start, end, what):
        """The chunks of ``first``, then of ``start`` to ``end`` in pieces,
        each fetched by a ranged GET while those before it are sent."""
        pieces = driver.ReadAhead(
            lambda at, count: _start(self._piece, loc, creds, context, at,
                                     count, what),
            start, end, PIECE, READ_AHEAD, lambda fetching: fetching.kill())
        try:
            yield from first
            for piece, _ in pieces:
                yield from piece
        finally:
            pieces.close()

    def _piece(self, loc, creds, context, offset, count, what):
        """The chunks of ``count`` bytes from ``offset``, on a connection
        of their own (with the store's credentials: see ``get``)."""
        conn = self._connection(creds, context, None,
                                max(1, self.retry_get_count))
        try:
            headers, body = self._get_range(conn, loc, offset, count, what)
            try:
                if 'content-range' not in headers:
                    raise exceptions.RemoteServiceUnavailable(
                        '%s: Swift ignored the range asked for' % what)
                chunks = list(self._chunks(conn, loc, body, offset, count,
                                           what))
            finally:
                body.close()
        finally:
            self._release(conn, creds)
        got = sum(len(chunk) for chunk in chunks)
        if got != count:
            raise exceptions.RemoteServiceUnavailable(
                '%s: Swift sent %d bytes for a range of %d'
                % (what, got, count))
        return chunks

    def _get_range(self, conn, loc, offset, length, what):
        headers = {}
        if offset or length is not None:
            end = '' if length is None else offset + length - 1
            headers['Range'] = 'bytes=%d-%s' % (offset, end)
        return self._call(what, conn.get_object, loc.container, loc.obj,
                          resp_chunk_size=READ_CHUNK, headers=headers)

    def _chunks(self, conn, loc, body, offset, expected, what):
        """The body's pieces; a read that breaks is resumed up to
        swift_store_retry_get_count times from where it stopped."""
        got = 0
        retries = self.retry_get_count
        while True:
            try:
                for chunk in body:
                    got += len(chunk)
                    yield chunk
                if got >= expected:
                    return
                error = None
            except Exception as e:
                error = e
            if not retries:
                mapped = error and self._error(error, what)
                raise mapped or exceptions.RemoteServiceUnavailable(
                    '%s: the transfer ended after %d of %d bytes'
                    % (what, got, expected))
            retries -= 1
            LOG.info('%s broke after %d bytes (%s); resuming', what, got,
                     error)
            body.close()
            _headers, body = self._get_range(
                conn, loc, offset + got, expected - got, what)

    def get_size(self, location, *, context=None):
        loc, conn, creds = self._open(location, context)
        try:
            headers = self._call('Looking at %s' % _display(location),
                                 conn.head_object, loc.container, loc.obj)
        finally:
            self._release(conn, creds)
        return int(headers.get('content-length', 0))

    # -- access of other projects (multi-tenant) ------------------------

    def wants_acls(self):
        """True when other projects need container ACLs to read."""
        return self.multi_tenant

    def set_acls(self, location, *, public=False, read_projects=(),
                 context=None):
        """Set the read ACL of a multi-tenant image's container: every
        project when ``public``, else ``read_projects``; the write ACL
        grants swift_store_admin_tenants."""
        if not self.multi_tenant:
            return
        loc, conn, creds = self._open(location, context)
        read = '*:*' if public else ','.join(
            '%s:*' % project for project in read_projects)
        admins = self.options.swift_store_admin_tenants or ()
        write = ','.join('%s:*' % project for project in admins)
        if admins and not public:
            read = ','.join(filter(None, [read, write]))
        try:
            self._call('Setting the ACLs of container %s' % loc.container,
                       conn.post_container, loc.container,
                       {'X-Container-Read': read,
                        'X-Container-Write': write})
        finally:
            self._release(conn, creds)

    # -- delete ----------------------------------------------------------

    def _owned(self, loc):
        container = loc.container
        return container == self.container or container.startswith(
            self.container + '_')

    def delete(self, location, *, context=None):
        loc, conn, creds = self._open(location, context, retries=2)
        if not self._owned(loc):
            self._release(conn, creds)
            raise exceptions.BadStoreUri(
                '%s is outside the containers of store %s'
                % (_display(location), self.name))
        what = 'Deleting %s' % _display(location)
        try:
            headers = self._call(what, conn.head_object, loc.container,
                                 loc.obj)
            if _true(headers.get('x-static-large-object')):
                self._call(what, conn.delete_object, loc.container, loc.obj,
                           query_string='multipart-manifest=delete')
            else:
                manifest = headers.get('x-object-manifest')
                if manifest:
                    # An upstream dynamic large object: its segments are
                    # the objects named with the manifest's prefix.
                    seg_container, _, prefix = parse.unquote(
                        manifest).partition('/')
                    self._delete_prefixed(conn, seg_container, prefix, what)
                self._call(what, conn.delete_object, loc.container, loc.obj)
            # Segments an interrupted write or delete left behind.
            self._delete_prefixed(conn, loc.container, loc.obj + '-', what)
            if self.multi_tenant and \
                    loc.container == '%s_%s' % (self.container, loc.obj):
                self._delete_container(conn, loc.container)
        finally:
            self._release(conn, creds)

    def _delete_container(self, conn, container):
        """Remove the emptied container of a multi-tenant image; Swift's
        listing may show deleted objects for a moment (409)."""
        for attempt in range(5):
            try:
                conn.delete_container(container)
                return
            except Exception as e:
                mapped = self._error(e, 'Deleting container %s' % container)
                if isinstance(mapped, exceptions.NotFound):
                    return
                if not isinstance(mapped, exceptions.Duplicate) or \
                        attempt == 4:
                    LOG.warning('Store %s: container %s kept: %s',
                                self.name, container, e)
                    return
            time.sleep(0.2 * (attempt + 1))

    def _delete_prefixed(self, conn, container, prefix, what):
        _, listing = self._call(what, conn.get_container, container,
                                prefix=prefix, full_listing=True)
        for entry in listing:
            try:
                conn.delete_object(container, entry['name'])
            except Exception as e:
                mapped = self._error(e, what)
                if not isinstance(mapped, exceptions.NotFound):
                    raise mapped or e

    def remove_unfinished(self, image_id, keep=()):
        """After the death of an upload of ``image_id``: its segments and
        its object, unless a location in ``keep`` refers to them.
        Multi-tenant stores cannot (no token): they log it."""
        if self.multi_tenant or not self.is_capable(driver.WRITE):
            if self.multi_tenant:
                LOG.warning('Store %s: what a dead upload of image %s left '
                            'in its project\'s container is not removed '
                            '(multi-tenant)', self.name, image_id)
            return []
        container = self._container_for(image_id)
        kept = set()
        for uri in keep:
            try:
                loc = Location.parse(uri)
            except exceptions.BadStoreUri:
                continue
            if loc.container == container:
                kept.add(loc.obj)
        if image_id in kept:
            return []
        creds = self.credentials
        conn = self._connection(creds, retries=2)
        removed = []
        what = 'Removing what an upload of image %s left' % image_id
        try:
            try:
                _, listing = self._call(what, conn.get_container, container,
                                        prefix=image_id, full_listing=True)
            except exceptions.NotFound:
                return []
            names = [e['name'] for e in listing
                     if e['name'] == image_id
                     or e['name'].startswith(image_id + '-')]
            # The manifest first: no object ever refers to missing
            # segments.
            names.sort(key=lambda n: n != image_id)
            for name in names:
                try:
                    conn.delete_object(container, name)
                except Exception as e:
                    LOG.warning('Store %s: could not remove %s/%s: %s',
                                self.name, container, name, e)
                    continue
                removed.append('%s/%s' % (container, name))
        finally:
            self._release(conn, creds)
        if removed:
            LOG.info('Store %s: removed %s, left by an upload of image %s '
                     'that died', self.name, ', '.join(removed), image_id)
        return removed


class _Now:
    """Work done when it is waited for (where threads are not green)."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def wait(self):
        return self.function(*self.args)

    def kill(self):
        pass


def _start(function, *args):
    """``function(*args)`` in a green thread (something to ``wait()`` on
    or ``kill()``); where threads are not green, run when waited for."""
    if blocking.green():
        return eventlet.spawn(function, *args)
    return _Now(function, *args)


def _total_size(headers):
    content_range = headers.get('content-range', '')
    if content_range:
        total = content_range.rpartition('/')[2]
        return int(total) if total.isdigit() else None
    length = headers.get('content-length')
    return int(length) if length and length.isdigit() else None


def _is_requests_error(error):
    try:
        import requests
    except ImportError:
        return False
    return isinstance(error, requests.RequestException)
