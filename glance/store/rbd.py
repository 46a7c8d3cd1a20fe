"""The RBD store: image data as RADOS block devices in a Ceph pool.

An image's data is the RBD image named after its id, with a snapshot
``snap`` that is protected once the data is complete, so that Ceph-backed
compute and volume services clone it copy-on-write instead of copying it.
The location names the cluster, the pool, the image and the snapshot:
``rbd://<fsid>/<pool>/<image>/snap`` (each part URL-quoted); the older
one-part form ``rbd://<image>`` (no snapshot, the configured pool) is read
and deleted too. Options and locations are upstream's, so a deployment's
configuration and stored locations keep working.

Writes create the RBD image at its final size when the size is known;
otherwise it grows by doubling as data arrives and is cut to the size
received at the end. Reads open the snapshot read-only. A delete
unprotects the snapshot, removes it and removes the image; while a clone
still depends on the snapshot Ceph refuses, and the delete is
``InUseByStore`` (409), the image and its data left as they are.

Pool handles ask Ceph to try writes on a full cluster or pool rather than
hold them until space is freed: an upload then fails at once
(``StorageFull``, 413) instead of hanging. Removing an RBD image needs a
little space too (librbd moves it to the pool's trash first): an image
deleted while the cluster is full keeps its data until there is room,
tried again in the background, with a warning naming it.

librados and librbd block in C: every call into them runs in a real
thread (``glance.common.blocking``), so a transfer never stalls the other
requests of the worker. Up to ``IN_FLIGHT`` chunks are written (or read)
in threads while the green thread receives the next (or sends the
previous) one. A
process connects to the cluster on its first use of the store: a
connection does not survive the fork into workers, so the check made at
start-up (the cluster answers, its fsid) closes the one it opened.
"""

import collections
import logging
import math
import os
import threading
from urllib import parse

import eventlet
from oslo_config import cfg

from glance.common import blocking
from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
SNAPSHOT = 'snap'
READ_PIECE = 1024 * 1024
# Reads, and writes, of rbd_store_chunk_size kept in flight at once: the
# OSDs serve them side by side (one OSD of tools/ceph reads 8 MiB chunks
# at 330 MiB/s one at a time, 600 MiB/s three at a time).
IN_FLIGHT = 3
# Seconds the start-up check waits for the cluster when
# rados_connect_timeout leaves librados without a bound.
START_TIMEOUT = 30
# Seconds an image deleted while the cluster was full is tried again to be
# removed, in the background (a day: the time to add or free space).
FULL_RETRY = 24 * 3600


def _bindings():
    """The ``rados`` and ``rbd`` modules (Debian's python3-rados and
    python3-rbd); BadStoreConfiguration when they are not importable."""
    try:
        import rados
        import rbd
    except ImportError as e:
        raise exceptions.BadStoreConfiguration(
            'The rbd store needs the Ceph Python bindings (rados, rbd: '
            'python3-rados and python3-rbd, made importable in the '
            'virtualenv by tools/bootstrap): %s' % e)
    return rados, rbd


class RbdLocation:
    """The parts of an ``rbd://`` location."""

    def __init__(self, image, fsid=None, pool=None, snapshot=None):
        self.fsid, self.pool, self.image, self.snapshot = \
            fsid, pool, image, snapshot

    @classmethod
    def parse(cls, uri):
        prefix = 'rbd://'
        if not uri or not uri.startswith(prefix):
            raise exceptions.BadStoreUri('Not an rbd location: %r' % uri)
        parts = [parse.unquote(p) for p in uri[len(prefix):].split('/')]
        if len(parts) == 1 and parts[0]:
            return cls(parts[0])
        if len(parts) == 4 and all(parts):
            fsid, pool, image, snapshot = parts
            return cls(image, fsid, pool, snapshot)
        raise exceptions.BadStoreUri(
            'An rbd location is rbd://<fsid>/<pool>/<image>/<snapshot> or '
            'rbd://<image>, not %r' % uri)

    def uri(self):
        if self.fsid is None:
            return 'rbd://%s' % parse.quote(self.image, safe='')
        return 'rbd://' + '/'.join(parse.quote(p, safe='') for p in (
            self.fsid, self.pool, self.image, self.snapshot))


def _ignore(error_types, function, *args):
    try:
        function(*args)
    except error_types:
        pass


class RbdStore(driver.Store):

    type_name = 'rbd'
    schemes = ('rbd',)
    capabilities = frozenset({driver.READ, driver.WRITE, driver.SEEK})

    @classmethod
    def config_opts(cls, backend_section=False):
        return [
            cfg.IntOpt('rbd_store_chunk_size', default=8, min=1,
                       help='Size in MiB of the RADOS objects an image is '
                            'striped over (a power of two), and of the '
                            'pieces the rbd store writes and reads.'),
            cfg.StrOpt('rbd_store_pool', default='images',
                       help='Ceph pool the rbd store keeps images in.'),
            cfg.StrOpt('rbd_store_user',
                       help='Ceph user (cephx id, without "client.") the '
                            'rbd store connects as; unset uses the one of '
                            'the Ceph configuration file (client.admin '
                            'by default).'),
            cfg.StrOpt('rbd_store_ceph_conf', default='/etc/ceph/ceph.conf',
                       help='Ceph configuration file: monitors, keyring '
                            'and client settings of the rbd store.'),
            cfg.IntOpt('rados_connect_timeout', default=-1,
                       help='Seconds librados waits to connect, and for '
                            'each monitor and OSD operation, before it '
                            'gives up. 0 or less: no bound of its own '
                            '(the start-up check of the cluster still '
                            'gives up after %d seconds).' % START_TIMEOUT),
            cfg.BoolOpt('rbd_thin_provisioning', default=False,
                        help='Skip writing chunks made only of zero bytes: '
                             'they read as zeros anyway, and the space '
                             'stays unallocated in the pool.'),
        ]

    # -- configuration -------------------------------------------------------

    def configure(self):
        opts = self.options
        self.rados, self.rbd = _bindings()
        chunk = opts.rbd_store_chunk_size * MiB
        if chunk & (chunk - 1):
            raise exceptions.BadStoreConfiguration(
                'Store %s: rbd_store_chunk_size must be a power of two '
                '(MiB), not %d' % (self.name, opts.rbd_store_chunk_size))
        self.chunk_size = chunk
        self.order = int(math.log2(chunk))
        self.pool = opts.rbd_store_pool
        self.user = opts.rbd_store_user or None
        self.conf_file = opts.rbd_store_ceph_conf or ''
        self.timeout = opts.rados_connect_timeout
        self.thin = opts.rbd_thin_provisioning
        if self.conf_file and not os.path.isfile(self.conf_file):
            raise exceptions.BadStoreConfiguration(
                'Store %s: rbd_store_ceph_conf %s is not a file'
                % (self.name, self.conf_file))
        self._lock = threading.Lock()
        self._connection = None
        self._pid = None
        # Open pool handles -> the connection each belongs to.
        self._handles = {}
        # At start-up, blocking is harmless: the cluster answers, the pool
        # exists and the user may open it. The connection is not kept.
        cluster = self._connect(self.timeout if self.timeout > 0
                                else START_TIMEOUT)
        try:
            self.fsid = cluster.get_fsid()
            try:
                cluster.open_ioctx(self.pool).close()
            except self.rados.Error as e:
                raise exceptions.BadStoreConfiguration(
                    'Store %s: cannot open Ceph pool %s: %s'
                    % (self.name, self.pool, e))
        finally:
            cluster.shutdown()

    def _connect(self, timeout):
        cluster = self.rados.Rados(conffile=self.conf_file,
                                   rados_id=self.user)
        if self.timeout > 0:
            for name in ('rados_osd_op_timeout', 'rados_mon_op_timeout',
                         'client_mount_timeout'):
                cluster.conf_set(name, str(self.timeout))
        try:
            cluster.connect(timeout=timeout)
        except Exception as e:
            cluster.shutdown()
            raise exceptions.BadStoreConfiguration(
                'Store %s: cannot connect to the Ceph cluster of %s as %s: '
                '%s' % (self.name, self.conf_file or 'the default '
                        'configuration', self.user or 'its default user',
                        e or type(e).__name__))
        return cluster

    def _cluster(self):
        """This process's connection (a ``_Connection``), made on first
        use, and again after one was retired."""
        with self._lock:
            conn = self._connection
            if conn is None or conn.retired or self._pid != os.getpid():
                try:
                    cluster = blocking.call(self._connect, self.timeout)
                except exceptions.BadStoreConfiguration as e:
                    raise exceptions.RemoteServiceUnavailable(str(e))
                self._connection = conn = _Connection(cluster)
                self._pid = os.getpid()
            return conn

    def _ioctx(self, pool=None):
        conn = self._cluster()
        try:
            ioctx = blocking.call(conn.cluster.open_ioctx, pool or self.pool)
        except self.rados.ObjectNotFound:
            raise exceptions.NotFound('Ceph pool %s does not exist'
                                      % (pool or self.pool))
        except self.rados.Error as e:
            raise self._unavailable('open pool %s' % (pool or self.pool), e)
        # A full cluster or pool: a write that needs space fails at once
        # (NoSpace, or DiskQuotaExceeded for a pool quota) instead of
        # waiting until space is freed (removing an image needs some too:
        # see _remove).
        ioctx.set_osdmap_full_try()
        conn.users += 1
        self._handles[id(ioctx)] = conn
        return ioctx

    def _release(self, ioctx):
        """Close a pool handle; the last one of a retired connection
        shuts that connection down."""
        conn = self._handles.pop(id(ioctx), None)
        try:
            blocking.call(ioctx.close)
        finally:
            if conn is not None:
                conn.users -= 1
                conn.shut_down_if_unused()

    def _retire(self, ioctx):
        """No new work on the connection of ``ioctx``: an image whose
        close failed (the cluster was away) may have left it watching that
        image, which keeps the image from being removed. It is shut down
        once its last user is done, and the process connects anew."""
        conn = self._handles.get(id(ioctx))
        if conn is not None:
            conn.retired = True

    def _unavailable(self, what, error):
        return exceptions.RemoteServiceUnavailable(
            'Store %s could not %s: %s' % (self.name, what,
                                           error or type(error).__name__))

    def properties(self):
        return {'pool': self.pool, 'chunk_size': self.chunk_size,
                'thin_provisioning': self.thin, 'fsid': self.fsid,
                'user': self.user}

    def location_prefixes(self):
        return ['rbd://', 'rbd://%s/%s/' % (parse.quote(self.fsid, safe=''),
                                            parse.quote(self.pool, safe=''))]

    def _parse(self, location):
        loc = RbdLocation.parse(location)
        if loc.fsid is not None and loc.fsid != self.fsid:
            raise exceptions.BadStoreUri(
                'Location %s is in another Ceph cluster than store %s (%s)'
                % (location, self.name, self.fsid))
        return loc

    # -- writing -------------------------------------------------------------

    def _features(self, cluster):
        """None (librbd applies rbd_default_features of the Ceph
        configuration) unless those are empty or 0: then layering only,
        all cloning needs."""
        try:
            value = cluster.conf_get('rbd_default_features')
        except self.rados.Error:
            value = None
        if value and value.strip() not in ('0', ''):
            return None
        return self.rbd.RBD_FEATURE_LAYERING

    def _create(self, cluster, ioctx, name, size):
        features = self._features(cluster)
        self.rbd.RBD().create(ioctx, name, size, order=self.order,
                              old_format=False, features=features)
        return self.rbd.Image(ioctx, name)

    def add(self, image_id, reader, size=None, *, context=None):
        rbd = self.rbd
        ioctx = self._ioctx()
        image = None
        created = False
        try:
            try:
                image = blocking.call(self._create,
                                      self._handles[id(ioctx)].cluster,
                                      ioctx, image_id, size or 0)
            except rbd.ImageExists:
                raise exceptions.Duplicate(
                    'Store %s already holds RBD image %s'
                    % (self.name, image_id))
            except rbd.Error as e:
                raise self._error('create RBD image %s' % image_id, e)
            created = True
            written = self._write(image, reader, size)
            blocking.call(self._finish, image, written, size)
            loc = RbdLocation(image_id, self.fsid, self.pool, SNAPSHOT)
            return loc.uri(), written, self.location_metadata()
        except BaseException:
            if image is not None:
                if not _close(image):
                    self._retire(ioctx)
                image = None
            if created:
                try:
                    blocking.call(self._remove, ioctx, image_id, SNAPSHOT)
                except Exception as e:
                    self._retire(ioctx)
                    LOG.warning('Store %s could not remove the partial RBD '
                                'image %s, trying again in the background: '
                                '%s', self.name, image_id, e)
                    driver.retry_in_background(
                        lambda: self._remove_partial(image_id),
                        'remove the partial RBD image %s of store %s'
                        % (image_id, self.name))
            raise
        finally:
            if image is not None:
                _close(image)
            self._release(ioctx)

    def _remove_partial(self, image_id, pool=None):
        ioctx = self._ioctx(pool)
        try:
            blocking.call(self._remove, ioctx, image_id, SNAPSHOT)
        except self.rbd.ImageNotFound:
            pass
        finally:
            self._release(ioctx)

    def _write(self, image, reader, size):
        """Write the chunks of ``reader``; the bytes written."""
        offset = 0
        capacity = size or 0
        pending = collections.deque()
        try:
            for chunk in driver.read_chunks(reader, self.chunk_size):
                end = offset + len(chunk)
                if size is not None and end > size:
                    raise exceptions.SizeMismatch(
                        'Image data exceeds the announced size of %d bytes'
                        % size)
                if size is None and end > capacity:
                    while pending:
                        pending.popleft().wait()
                    capacity = max(end, capacity * 2, self.chunk_size)
                    self._call(image.resize, capacity)
                if not (self.thin and not chunk.strip(b'\0')):
                    if len(pending) >= IN_FLIGHT:
                        pending.popleft().wait()
                    pending.append(self._start(image.write, chunk, offset))
                offset = end
            while pending:
                pending.popleft().wait()
        except self.rbd.Error as e:
            raise self._error('write RBD image', e)
        finally:
            while pending:
                _abandon(pending.popleft())
        if size is not None and offset != size:
            raise exceptions.SizeMismatch(
                'Image data ended after %d of the announced %d bytes'
                % (offset, size))
        return offset

    def _call(self, function, *args):
        try:
            return blocking.call(function, *args)
        except self.rbd.Error as e:
            raise self._error(getattr(function, '__name__', 'call'), e)

    def _start(self, function, *args):
        """Run ``function(*args)`` in a real thread, returning something
        to ``wait()`` on; synchronously where threads are real."""
        if blocking.green():
            return eventlet.spawn(blocking.call, function, *args)
        return _Done(function(*args))

    def _finish(self, image, written, size):
        if size is None and image.size() != written:
            image.resize(written)
        image.create_snap(SNAPSHOT)
        image.protect_snap(SNAPSHOT)

    def _error(self, what, error):
        if isinstance(error, (self.rbd.NoSpace, self.rbd.DiskQuotaExceeded)):
            return exceptions.StorageFull('Store %s: no space left to %s: '
                                          '%s' % (self.name, what, error))
        if isinstance(error, self.rbd.PermissionError):
            return exceptions.StorageWriteDenied(
                'Store %s may not %s: %s' % (self.name, what, error))
        return self._unavailable(what, error)

    # -- reading -------------------------------------------------------------

    def _open(self, loc, read_only=True):
        ioctx = self._ioctx(loc.pool)
        try:
            image = blocking.call(self.rbd.Image, ioctx, loc.image,
                                  snapshot=loc.snapshot, read_only=read_only)
        except self.rbd.ImageNotFound:
            self._release(ioctx)
            raise exceptions.NotFound('RBD image %s (snapshot %s) not found '
                                      'in pool %s' % (loc.image, loc.snapshot,
                                                      loc.pool or self.pool))
        except Exception as e:
            self._release(ioctx)
            if isinstance(e, self.rbd.Error):
                raise self._unavailable('open RBD image %s' % loc.image, e)
            raise
        return ioctx, image

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        ioctx, image = self._open(self._parse(location))

        def close():
            _close(image)
            self._release(ioctx)

        try:
            total = blocking.call(image.size)
        except BaseException:
            close()
            raise
        if offset > total:
            close()
            raise exceptions.InvalidRange('Offset %d beyond the %d bytes of '
                                          '%s' % (offset, total, location))
        end = total if length is None else min(total, offset + length)
        return (driver.ChunkIterator(self._chunks(image, offset, end),
                                     close, seekable=True), total)

    def _chunks(self, image, offset, end):
        """The bytes from ``offset`` to ``end``; the next chunks are read
        while the caller sends the current one."""
        reads = driver.ReadAhead(
            lambda at, count: self._start_read(image, at, count), offset,
            end, self.chunk_size, IN_FLIGHT, _abandon)
        try:
            for chunk, count in reads:
                if len(chunk) != count:
                    raise exceptions.RemoteServiceUnavailable(
                        'RBD image ended early')
                # Handed on in pieces of READ_PIECE bytes: the server
                # sends smaller writes faster than one of rbd_store_
                # chunk_size.
                view = memoryview(chunk)
                for start in range(0, len(chunk), READ_PIECE):
                    yield bytes(view[start:start + READ_PIECE])
        finally:
            reads.close()

    def _start_read(self, image, offset, count):
        def read():
            try:
                return image.read(offset, count)
            except self.rbd.Error as e:
                raise self._unavailable('read RBD image', e)
        return self._start(read)

    def get_size(self, location, *, context=None):
        ioctx, image = self._open(self._parse(location))
        try:
            return blocking.call(image.size)
        finally:
            _close(image)
            self._release(ioctx)

    # -- deleting ------------------------------------------------------------

    def check_delete(self, location, *, context=None):
        """InUseByStore when a clone still depends on the snapshot (the
        delete would be refused); nothing happens to the data."""
        loc = self._parse(location)
        if loc.snapshot is None:
            return
        try:
            ioctx, image = self._open(loc)
        except exceptions.NotFound:
            return
        try:
            children = blocking.call(lambda: list(image.list_children()))
        finally:
            _close(image)
            self._release(ioctx)
        if children:
            raise self._in_use(loc, children)

    def _in_use(self, loc, children=None):
        which = ''
        if children:
            which = ' (%s)' % ', '.join('%s/%s' % tuple(c[:2])
                                        for c in children[:5])
        return exceptions.InUseByStore(
            'The data of image %s is in use: RBD clones of its snapshot '
            'exist%s, so Ceph cannot delete it. Delete or flatten the '
            'volumes and instances made from it first.' % (loc.image, which))

    def delete(self, location, *, context=None):
        loc = self._parse(location)
        ioctx = self._ioctx(loc.pool)
        try:
            blocking.call(self._remove, ioctx, loc.image, loc.snapshot,
                          True)
        except self.rbd.ImageNotFound:
            raise exceptions.NotFound('RBD image %s not found' % loc.image)
        except self.rbd.ImageBusy:
            raise self._in_use(loc)
        except self.rbd.ImageHasSnapshots:
            raise exceptions.InUseByStore(
                'RBD image %s has snapshots other than %s: it is left as '
                'it is' % (loc.image, loc.snapshot))
        except exceptions.StorageFull:
            driver.retry_in_background(
                lambda: self._remove_partial(loc.image, loc.pool),
                'remove RBD image %s of store %s' % (loc.image, self.name),
                interval=10, duration=FULL_RETRY)
            raise
        except self.rbd.Error as e:
            raise self._unavailable('delete RBD image %s' % loc.image, e)
        finally:
            self._release(ioctx)

    def _remove(self, ioctx, name, snapshot, must_exist=False):
        """Unprotect and remove ``snapshot``, then remove the image."""
        rbd = self.rbd
        if snapshot is not None:
            try:
                with rbd.Image(ioctx, name) as image:
                    # Not protected (a write that failed before): fine.
                    _ignore((rbd.InvalidArgument, rbd.ImageNotFound),
                            image.unprotect_snap, snapshot)
                    _ignore((rbd.ImageNotFound,), image.remove_snap,
                            snapshot)
            except rbd.ImageNotFound:
                if must_exist:
                    raise
                return
        try:
            rbd.RBD().remove(ioctx, name)
        except rbd.ImageNotFound:
            # librbd moves an image to the pool's trash before removing
            # it; on a full cluster or pool that fails, and the failure
            # is reported as "not found".
            if self._exists(ioctx, name):
                raise exceptions.StorageFull(
                    'Store %s cannot remove RBD image %s while the cluster '
                    'or pool is full' % (self.name, name))
            raise

    def _exists(self, ioctx, name):
        try:
            with self.rbd.Image(ioctx, name, read_only=True):
                return True
        except self.rbd.ImageNotFound:
            return False


class _Done:
    """A finished piece of work, for where threads are real."""

    def __init__(self, value=None):
        self.value = value

    def wait(self):
        return self.value


def _abandon(pending):
    """Wait for a write or read nobody needs any more, dropping its
    outcome: the image is not closed while librbd still uses it."""
    try:
        pending.wait()
    except Exception:
        pass


def _close(image):
    """Close an RBD image; False when librbd reported a failure."""
    try:
        blocking.call(image.close)
    except Exception as e:
        LOG.debug('Closing an RBD image failed: %s', e)
        return False
    return True


class _Connection:
    """A connection to the cluster, and the pool handles open on it."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.users = 0
        self.retired = False

    def shut_down_if_unused(self):
        """Shut a retired connection down once unused, in the background:
        with the cluster away, librados may take long to let go."""
        if self.retired and self.users == 0 and self.cluster is not None:
            cluster, self.cluster = self.cluster, None
            LOG.info('Closing a Ceph connection retired after a failure')

            def shut_down():
                try:
                    blocking.call(cluster.shutdown)
                except Exception as e:
                    LOG.warning('Closing a Ceph connection failed: %s', e)
            if blocking.green():
                eventlet.spawn(shut_down)
            else:
                threading.Thread(target=shut_down, daemon=True).start()
