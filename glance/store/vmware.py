"""The VMware store: image data as files in vSphere datastores.

The options and locations are upstream's. A location is
``vsphere://<server>/folder<image dir>/<image id>?dcPath=<datacenter>
&dsName=<datastore>``; ``<server>`` is ``vmware_server_host`` as
configured (upstream always talks to port 443 and writes no port; a
``host:port`` here is kept in the locations written).

Two ways of talking to the server, as a vCenter or an ESX host offers:

* the vSphere API (SOAP on ``/sdk``) through pyVmomi: login, finding each
  datacenter of ``vmware_datastores`` by its inventory path and its
  datastore by name, their free space, and deleting a file (a
  ``FileManager`` task whose state is polled every
  ``vmware_task_poll_interval`` seconds);
* the datastore's HTTP file access, ``/folder/<path>?dcPath=..&dsName=..``,
  for the data: PUT to write (``Content-Length`` when the size is known,
  chunked otherwise), GET (with Range) and HEAD to read. These requests
  carry the API session's cookie, ``vmware_soap_session``: the server
  answers 401 without a live session.

A session that ended (idle timeout, server restart, an administrator
terminating it) is replaced by a new login, which is tried up to
``vmware_api_retry_count`` times: an API call answered
``NotAuthenticated`` and a file request answered 401 are made again once
with the new session. Before a PUT the session is checked, since a body
that has been read cannot be sent again.

``vmware_datastores`` lines are ``<datacenter path>:<datastore
name>[:<weight>]``; new data goes to the heaviest datastore, among equals
the one with the most free space, skipping those without room for an
image of known size.

pyVmomi and requests speak through Python sockets, green under eventlet's
monkey patching: no real threads are needed. Each process logs in for
itself on first use (a session's connections are not shared across the
fork into workers).
"""

import logging
import os
import ssl
import threading
import time
import warnings
from urllib import parse

from oslo_config import cfg

from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

SCHEME = 'vsphere'
COOKIE = 'vmware_soap_session'
# Seconds to connect and to wait for each answer or read.
TIMEOUT = 60
READ_CHUNK = driver.CHUNK_SIZE
# Bytes handed to the socket at a time when sending a body.
BLOCK = 64 * 1024
DEFAULT_PORT = 443


def _pyvmomi():
    try:
        from pyVim import connect
        from pyVmomi import vim
        from pyVmomi import vmodl
    except ImportError as e:
        raise exceptions.BadStoreConfiguration(
            'The vmware store needs pyvmomi: %s' % e)
    return connect, vim, vmodl


def _requests():
    import requests
    return requests


def _http_session():
    """A requests session whose connections are kept between requests
    and send bodies in pieces of BLOCK bytes (urllib3 sends 16 KiB at a
    time otherwise, a green switch each)."""
    requests = _requests()

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs['blocksize'] = BLOCK
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount('https://', Adapter(pool_connections=4, pool_maxsize=16))
    return session


class Datastore:
    """One line of ``vmware_datastores``, and what the server says of it."""

    def __init__(self, datacenter, name, weight):
        self.datacenter = datacenter
        self.name = name
        self.weight = weight

    @classmethod
    def parse(cls, line):
        parts = [p.strip() for p in (line or '').split(':')]
        weight = 0
        if len(parts) == 3:
            try:
                weight = int(parts[2])
            except ValueError:
                parts = None
        if not parts or len(parts) not in (2, 3) or not all(parts[:2]):
            raise exceptions.BadStoreConfiguration(
                'vmware_datastores: %r is not <datacenter path>:<datastore '
                'name>[:<weight>]' % line)
        return cls(parts[0], parts[1], weight)

    def __str__(self):
        return '%s:%s' % (self.datacenter, self.name)


class VsphereLocation:
    """The parts of a ``vsphere://`` location."""

    def __init__(self, host, path, datacenter, datastore):
        self.host, self.path = host, path
        self.datacenter, self.datastore = datacenter, datastore

    @classmethod
    def parse(cls, uri):
        split = parse.urlsplit(uri or '')
        query = parse.parse_qs(split.query)
        if (split.scheme.lower() != SCHEME or not split.netloc
                or not split.path.startswith('/folder/')
                or len(split.path) <= len('/folder/')
                or not query.get('dcPath') or not query.get('dsName')):
            raise exceptions.BadStoreUri(
                'A vsphere location is vsphere://<server>/folder/<path>'
                '?dcPath=<datacenter>&dsName=<datastore>')
        return cls(split.netloc, parse.unquote(split.path[len('/folder'):]),
                   query['dcPath'][0], query['dsName'][0])

    def _query(self):
        return parse.urlencode({'dcPath': self.datacenter,
                                'dsName': self.datastore})

    def uri(self):
        return '%s://%s/folder%s?%s' % (
            SCHEME, self.host, parse.quote(self.path), self._query())

    def https_url(self):
        return 'https://%s/folder%s?%s' % (self.host, parse.quote(self.path),
                                           self._query())

    def datastore_path(self):
        """``[<datastore>] <path>``, the name the vSphere API uses."""
        return '[%s] %s' % (self.datastore, self.path.lstrip('/'))


class _Session:
    """One process's login to the server."""

    def __init__(self, si, content):
        self.si = si
        self.content = content
        self.datacenters = {}

    @property
    def cookie(self):
        return self.si._stub.GetSessionId() or ''


class VMwareStore(driver.Store):

    type_name = 'vmware'
    schemes = (SCHEME,)
    capabilities = frozenset({driver.READ, driver.WRITE, driver.SEEK})

    @classmethod
    def config_opts(cls, backend_section=False):
        return [
            cfg.StrOpt('vmware_server_host',
                       help='The vCenter or ESX host whose datastores hold '
                            'the images: its name or IP address, with '
                            ':port when it is not 443 (the API and the '
                            'datastore files are both reached over '
                            'HTTPS there).'),
            cfg.StrOpt('vmware_server_username',
                       help='User name of the vSphere login.'),
            cfg.StrOpt('vmware_server_password', secret=True,
                       help='Password of the vSphere login.'),
            cfg.IntOpt('vmware_api_retry_count', default=10, min=1,
                       help='Attempts to log in (again) when the server '
                            'cannot be reached or a session has ended, '
                            'one second apart.'),
            cfg.IntOpt('vmware_task_poll_interval', default=5, min=1,
                       help='Seconds between two looks at the state of a '
                            'server task (deleting a file).'),
            cfg.StrOpt('vmware_store_image_dir',
                       default='/openstack_glance',
                       help='Directory of the datastores the images are '
                            'written to.'),
            cfg.BoolOpt('vmware_insecure', default=False,
                        deprecated_name='vmware_api_insecure',
                        help="Do not verify the server's certificate "
                             '(vmware_ca_file is then ignored).'),
            cfg.StrOpt('vmware_ca_file',
                       help="CA bundle that verifies the server's "
                            'certificate; unset uses the system bundle.'),
            cfg.MultiStrOpt('vmware_datastores', default=[],
                            help='Datastores images are written to, one '
                                 'per line: <datacenter path>:<datastore '
                                 'name>[:<weight>]. New data goes to the '
                                 'heaviest one with room for it, among '
                                 'equals the one with the most free '
                                 'space.'),
        ]

    # -- configuration -------------------------------------------------------

    def configure(self):
        opts = self.options
        self.connect, self.vim, self.vmodl = _pyvmomi()
        missing = [name for name in ('vmware_server_host',
                                     'vmware_server_username',
                                     'vmware_server_password')
                   if not getattr(opts, name)]
        if not opts.vmware_datastores:
            missing.append('vmware_datastores')
        if missing:
            raise exceptions.BadStoreConfiguration(
                'Store %s: %s must be set' % (self.name, ', '.join(missing)))
        self.host = opts.vmware_server_host.strip().rstrip('/')
        split = parse.urlsplit('//' + self.host)
        try:
            self.port = split.port or DEFAULT_PORT
        except ValueError:
            self.port = None
        if not split.hostname or self.port is None or '/' in self.host:
            raise exceptions.BadStoreConfiguration(
                'Store %s: vmware_server_host must be a host name or '
                'address, with :port if not 443 (not %r)'
                % (self.name, opts.vmware_server_host))
        self.hostname = split.hostname
        self.username = opts.vmware_server_username
        self._password = opts.vmware_server_password
        self.insecure = opts.vmware_insecure
        self.ca_file = None if self.insecure else opts.vmware_ca_file
        if self.ca_file and not os.path.isfile(self.ca_file):
            raise exceptions.BadStoreConfiguration(
                'Store %s: vmware_ca_file %s is not a file'
                % (self.name, self.ca_file))
        self.retries = opts.vmware_api_retry_count
        self.poll_interval = opts.vmware_task_poll_interval
        image_dir = '/' + (opts.vmware_store_image_dir or '').strip('/')
        if image_dir == '/':
            raise exceptions.BadStoreConfiguration(
                'Store %s: vmware_store_image_dir must name a directory'
                % self.name)
        self.image_dir = image_dir
        self.datastores = [Datastore.parse(line)
                           for line in opts.vmware_datastores]
        self._lock = threading.Lock()
        self._session = None
        self._pid = None
        self._https = None
        if self.insecure:
            # The operator chose not to verify: no warning per request.
            warnings.filterwarnings('ignore', 'Unverified HTTPS request')
        # The server answers, takes the login and has the datastores; the
        # session ends here (its connections would be shared with the
        # workers after the fork).
        session = self._login(attempts=1)
        try:
            for ds in self.datastores:
                self._find_datastore(session, ds)
        finally:
            self._logout(session)

    def properties(self):
        return {'vmware_server_host': self.host,
                'datastores': [str(ds) + ':%d' % ds.weight
                               for ds in self.datastores],
                'image_dir': self.image_dir,
                'insecure': self.insecure,
                'api_retry_count': self.retries,
                'task_poll_interval': self.poll_interval}

    def location_prefixes(self):
        return ['%s://' % SCHEME, '%s://%s/folder%s/' % (
            SCHEME, self.host, parse.quote(self.image_dir))]

    # -- the session ---------------------------------------------------------

    def _ssl_context(self):
        if self.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.ca_file)

    def _verify(self):
        if self.insecure:
            return False
        return self.ca_file or True

    def _login(self, attempts=None):
        """A new session. A refused login or a server that cannot be
        reached is BadStoreConfiguration at start-up (glance-api stops),
        RemoteServiceUnavailable later (503 for the request)."""
        attempts = attempts or self.retries
        where = '%s:%d' % (self.hostname, self.port)
        for attempt in range(1, attempts + 1):
            try:
                si = self.connect.SmartConnect(
                    protocol='https', host=self.hostname, port=self.port,
                    user=self.username, pwd=self._password,
                    sslContext=self._ssl_context(),
                    httpConnectionTimeout=TIMEOUT)
                return _Session(si, si.RetrieveContent())
            except self.vim.fault.InvalidLogin:
                message = ('Store %s: the vSphere server %s refused the '
                           'login of user %s (wrong user name or password)'
                           % (self.name, where, self.username))
                if self._pid is None:
                    raise exceptions.BadStoreConfiguration(message)
                # Later (the password changed on the server): 503.
                raise exceptions.RemoteServiceUnavailable(message)
            except (OSError, self.vmodl.MethodFault, ValueError) as e:
                problem = getattr(e, 'msg', None) or e
                if attempt < attempts:
                    LOG.debug('Store %s: login to %s failed (%s), trying '
                              'again', self.name, where, problem)
                    time.sleep(1)
                    continue
                error = exceptions.RemoteServiceUnavailable(
                    'Store %s: cannot reach the vSphere server %s: %s'
                    % (self.name, where, problem))
                if self._pid is None:
                    # At start-up: the configuration cannot be used.
                    raise exceptions.BadStoreConfiguration(str(error))
                raise error

    def _logout(self, session):
        try:
            self.connect.Disconnect(session.si)
        except Exception as e:
            LOG.debug('Store %s: logout failed: %s', self.name, e)

    def _current(self):
        """This process's session, logging in on first use."""
        with self._lock:
            if self._pid != os.getpid():
                self._session, self._pid = None, os.getpid()
                self._https = _http_session()
            if self._session is None:
                self._session = self._login()
            return self._session

    def _renew(self, stale):
        """A new session in place of ``stale`` (unless another green
        thread replaced it already)."""
        with self._lock:
            if self._session is stale or self._session is None:
                LOG.info('Store %s: the vSphere session ended, logging in '
                         'again', self.name)
                self._session = self._login()
            return self._session

    def _api(self, call):
        """``call(session)``, again with a new session when the server
        says the session has ended."""
        session = self._current()
        try:
            return call(session)
        except self.vim.fault.NotAuthenticated:
            return call(self._renew(session))

    def _checked_session(self):
        """A session the server still knows (before a PUT)."""
        session = self._current()
        try:
            alive = session.content.sessionManager.currentSession
        except self.vim.fault.NotAuthenticated:
            alive = None
        except (OSError, self.vmodl.MethodFault) as e:
            raise exceptions.RemoteServiceUnavailable(
                'Store %s: the vSphere server does not answer: %s'
                % (self.name, getattr(e, 'msg', None) or e))
        return session if alive is not None else self._renew(session)

    # -- the inventory -------------------------------------------------------

    def _datacenter(self, session, path):
        found = session.datacenters.get(path)
        if found is None:
            found = session.content.searchIndex.FindByInventoryPath(
                inventoryPath=path)
            if not isinstance(found, self.vim.Datacenter):
                raise exceptions.BadStoreConfiguration(
                    'Store %s: no datacenter %r on %s'
                    % (self.name, path, self.host))
            session.datacenters[path] = found
        return found

    def _find_datastore(self, session, ds):
        datacenter = self._datacenter(session, ds.datacenter)
        for candidate in datacenter.datastore:
            if candidate.name == ds.name:
                return candidate
        raise exceptions.BadStoreConfiguration(
            'Store %s: datacenter %s has no datastore %r'
            % (self.name, ds.datacenter, ds.name))

    def _choose(self, size):
        """The datastore new data goes to."""
        def free_spaces(session):
            return [(ds, self._find_datastore(session, ds).summary.freeSpace)
                    for ds in self.datastores]
        try:
            spaces = self._api(free_spaces)
        except (OSError, self.vmodl.MethodFault) as e:
            raise exceptions.RemoteServiceUnavailable(
                'Store %s: the vSphere server does not answer: %s'
                % (self.name, getattr(e, 'msg', None) or e))
        roomy = [(ds, free) for ds, free in spaces
                 if size is None or free >= size]
        if not roomy:
            raise exceptions.StorageFull(
                'Store %s: no datastore has room for %d bytes'
                % (self.name, size))
        return max(roomy, key=lambda item: (item[0].weight, item[1]))[0]

    def _owned(self, loc):
        """BadStoreUri unless ``loc`` is a file this store wrote."""
        if (not any(ds.datacenter == loc.datacenter
                    and ds.name == loc.datastore for ds in self.datastores)
                or not loc.path.startswith(self.image_dir + '/')):
            raise exceptions.BadStoreUri(
                'Store %s does not own %s' % (self.name, loc.uri()))

    # -- file requests -------------------------------------------------------

    def _request(self, method, loc, session=None, **kwargs):
        """A request to the datastore's file access with the session's
        cookie; made again with a new session after a 401 when it has no
        body (a body cannot be read twice)."""
        requests = _requests()
        session = session or self._current()
        for again in (True, False):
            headers = dict(kwargs.pop('headers', None) or {})
            headers['Cookie'] = '%s=%s' % (COOKIE, session.cookie)
            try:
                answer = self._https.request(
                    method, loc.https_url(), headers=headers,
                    verify=self._verify(), timeout=(TIMEOUT, TIMEOUT),
                    allow_redirects=False, **kwargs)
            except requests.RequestException as e:
                inner = e
                while getattr(inner, '__context__', None) is not None:
                    if isinstance(inner, exceptions.StoreError):
                        break
                    inner = inner.__context__
                if isinstance(inner, exceptions.StoreError):
                    raise inner
                raise exceptions.RemoteServiceUnavailable(
                    'Store %s: %s %s failed: %s'
                    % (self.name, method, loc.uri(), e))
            if answer.status_code == 401 and again and 'data' not in kwargs:
                answer.close()
                session = self._renew(session)
                kwargs['headers'] = headers
                continue
            return answer

    def _failed(self, answer, what, loc):
        status = answer.status_code
        answer.close()
        if status == 404:
            return exceptions.NotFound('%s: %s not found'
                                       % (what, loc.uri()))
        if status == 409:
            return exceptions.Duplicate('Store %s already holds %s'
                                        % (self.name, loc.uri()))
        if status == 416:
            return exceptions.InvalidRange('%s: %s' % (what, loc.uri()))
        if status in (401, 403):
            return exceptions.StorageWriteDenied(
                'Store %s: the server refused to %s (%d)'
                % (self.name, what, status))
        if status == 507:
            return exceptions.StorageFull('Store %s: no room to %s'
                                          % (self.name, what))
        return exceptions.RemoteServiceUnavailable(
            'Store %s could not %s %s: HTTP %d'
            % (self.name, what, loc.uri(), status))

    # -- writing -------------------------------------------------------------

    def add(self, image_id, reader, size=None, *, context=None):
        ds = self._choose(size)
        loc = VsphereLocation(self.host, '%s/%s' % (self.image_dir, image_id),
                              ds.datacenter, ds.name)
        session = self._checked_session()
        answer = self._request('HEAD', loc, session)
        answer.close()
        if answer.status_code == 200:
            raise exceptions.Duplicate('Store %s already holds %s'
                                       % (self.name, loc.uri()))
        counter = _Counter(reader, size)
        headers = {'Content-Type': 'application/octet-stream'}
        # Known size: a Content-Length request; otherwise chunked.
        body = counter.chunks() if size is None else counter
        try:
            answer = self._request('PUT', loc, session, data=body,
                                   headers=headers)
            if answer.status_code not in (200, 201):
                raise self._failed(answer, 'store image %s' % image_id, loc)
            answer.close()
        except BaseException:
            self._remove_partial(loc)
            raise
        return loc.uri(), counter.count, self.location_metadata()

    def _remove_partial(self, loc):
        try:
            self._delete_file(loc)
        except exceptions.NotFound:
            pass
        except Exception as e:
            LOG.warning('Store %s could not remove the partial %s, trying '
                        'again in the background: %s', self.name, loc.uri(), e)
            driver.retry_in_background(
                lambda: self._delete_file(loc, missing_ok=True),
                'remove the partial %s' % loc.uri())

    # -- reading -------------------------------------------------------------

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        loc = VsphereLocation.parse(location)
        if length == 0:
            return driver.ChunkIterator(iter(())), self.get_size(location)
        headers = {}
        if offset or length is not None:
            end = '' if length is None else offset + length - 1
            headers['Range'] = 'bytes=%d-%s' % (offset, end)
        answer = self._request('GET', loc, headers=headers, stream=True)
        if answer.status_code not in (200, 206):
            raise self._failed(answer, 'read', loc)
        total = answer.headers.get('Content-Length')
        total = int(total) if total and total.isdigit() else None
        if answer.status_code == 206:
            total = answer.headers.get('Content-Range', '').rpartition('/')[2]
            total = int(total) if total.isdigit() else None
        elif offset or length is not None:
            # The server sent it all: the wanted part is cut out here.
            return (driver.ChunkIterator(
                _slice(self._chunks(answer, loc), offset, length),
                answer.close, seekable=False), total)
        return (driver.ChunkIterator(self._chunks(answer, loc), answer.close,
                                     seekable=True), total)

    def _chunks(self, answer, loc):
        requests = _requests()
        try:
            for chunk in answer.iter_content(READ_CHUNK):
                if chunk:
                    yield chunk
        except (requests.RequestException, OSError) as e:
            raise exceptions.RemoteServiceUnavailable(
                'Store %s: reading %s failed: %s'
                % (self.name, loc.uri(), e))

    def get_size(self, location, *, context=None):
        loc = VsphereLocation.parse(location)
        answer = self._request('HEAD', loc)
        if answer.status_code != 200:
            raise self._failed(answer, 'find the size of', loc)
        answer.close()
        return int(answer.headers.get('Content-Length', 0))

    # -- deleting ------------------------------------------------------------

    def delete(self, location, *, context=None):
        loc = VsphereLocation.parse(location)
        self._owned(loc)
        self._delete_file(loc)

    def _delete_file(self, loc, missing_ok=False):
        def remove(session):
            manager = session.content.fileManager
            task = manager.DeleteDatastoreFile_Task(
                name=loc.datastore_path(),
                datacenter=self._datacenter(session, loc.datacenter))
            self._wait(session, task)
        try:
            self._api(remove)
        except self.vim.fault.FileNotFound:
            if missing_ok:
                return
            raise exceptions.NotFound('%s not found' % loc.uri())
        except (OSError, self.vmodl.MethodFault) as e:
            raise exceptions.RemoteServiceUnavailable(
                'Store %s could not delete %s: %s'
                % (self.name, loc.uri(), getattr(e, 'msg', None) or e))

    def _wait(self, session, task):
        """Poll the state of ``task`` until it ends; raise its error.

        Only ``info.state`` and ``info.error`` are read: some servers
        (the simulator among them) name an entity in the task's info that
        pyVmomi cannot read back."""
        collector = session.content.propertyCollector
        pc = self.vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=task)],
            propSet=[pc.PropertySpec(type=self.vim.Task,
                                     pathSet=['info.state', 'info.error'])])
        delay = 0.1
        while True:
            found = collector.RetrieveContents([spec])
            values = {p.name: p.val for p in found[0].propSet} if found \
                else {}
            state = values.get('info.state')
            if state == 'success':
                return
            if state == 'error':
                raise values['info.error']
            time.sleep(delay)
            delay = min(delay * 2, self.poll_interval)


class _Counter:
    """The reader's bytes, counted and checked against the announced
    size while they go to the server: a generator (``chunks``) for a
    chunked request, or a file of known length (``read``) for requests
    to send with a Content-Length."""

    def __init__(self, reader, size):
        self.reader = reader
        self.size = size
        self.count = 0
        self._source = None
        self._buffer = b''
        self._offset = 0

    def __len__(self):
        return self.size - self.count

    def chunks(self):
        for chunk in driver.read_chunks(self.reader):
            self.count += len(chunk)
            if self.size is not None and self.count > self.size:
                raise exceptions.SizeMismatch(
                    'Image data exceeds the announced size of %d bytes'
                    % self.size)
            yield chunk
        if self.size is not None and self.count != self.size:
            raise exceptions.SizeMismatch(
                'Image data ended after %d of the announced %d bytes'
                % (self.count, self.size))

    def read(self, size=-1):
        """Up to ``size`` bytes of the current chunk (each byte copied
        once, whatever the size asked)."""
        if self._source is None:
            self._source = self.chunks()
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = next(self._source, b''), 0
        if size is None or size < 0:
            size = len(self._buffer)
        piece = self._buffer[self._offset:self._offset + size]
        self._offset += len(piece)
        return piece


def _slice(chunks, offset, length):
    """The bytes of ``chunks`` from ``offset``, ``length`` of them."""
    position = 0
    end = None if length is None else offset + length
    for chunk in chunks:
        start, position = position, position + len(chunk)
        if position <= offset:
            continue
        piece = chunk[max(0, offset - start):]
        if end is not None:
            piece = piece[:max(0, end - max(start, offset))]
        if piece:
            yield piece
        if end is not None and position >= end:
            return
