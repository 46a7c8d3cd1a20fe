"""The filesystem store: image data as files in local directories.

Locations are ``file:///<datadir>/<image_id>``. A write goes to a hidden
temporary file in the chosen directory, is fsynced, then hard-linked to its
final name (which fails instead of overwriting if the name exists, so two
uploads of one image cannot clobber each other) and the directory is
fsynced. Any failure, including an exception raised by the reader when the
client disconnects, removes what was written. The writer holds a lock
(flock) on its temporary file until it is named: a temporary file nobody
locks was left by a process that died, and ``remove_abandoned`` removes it.

System calls on regular files cannot be made non-blocking, so under
eventlet they stall every request of the worker while they run. Writes of
big blocks (``O_DIRECT`` where the filesystem allows, see ``file_writer``)
and the fsyncs go to eventlet's thread pool, the write of one block
overlapping the receipt of the next; reads stay in the calling green
thread, bounded by filesystem_store_chunk_size (and downloads over plain
HTTP send all but their first chunk with sendfile, ``FileChunks``).
"""

import errno
import fcntl
import itertools
import logging
import os
import uuid

from oslo_config import cfg

from glance.common import blocking
from glance.store import driver
from glance.store import exceptions
from glance.store import file_writer

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
# [glance_store] filesystem_store_datadir; in multi-store, the parent of
# the directories of the file stores that set none (backend_fallbacks).
DEFAULT_DATADIR = '/var/lib/glance/images'

# Name ending of the file a write fills before it gets its final name
# (".<image id>.<random>.part", hidden, in the same directory).
PART_SUFFIX = '.part'

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def _translate(error, what):
    """The store exception for an OSError, or None to re-raise as is."""
    if error.errno in _FULL:
        return exceptions.StorageFull('%s: %s' % (what, error.strerror))
    if error.errno in _DENIED:
        return exceptions.StorageWriteDenied('%s: %s'
                                             % (what, error.strerror))
    return None


def parse_datadirs(values):
    """[(priority, abspath)] from "path[:priority]" strings, best first."""
    dirs = []
    for value in values:
        path, sep, prio = value.strip().rpartition(':')
        if not sep or not prio.strip().lstrip('-').isdigit():
            path, prio = value.strip(), '0'
        if not path:
            raise exceptions.BadStoreConfiguration(
                'Empty path in filesystem_store_datadirs: %r' % value)
        dirs.append((int(prio), os.path.abspath(path)))
    paths = [path for _, path in dirs]
    if len(set(paths)) != len(paths):
        raise exceptions.BadStoreConfiguration(
            'A directory appears twice in filesystem_store_datadirs.')
    return sorted(dirs, key=lambda d: -d[0])


def parse_perm(value):
    """The mode of ``filesystem_store_file_perm`` (octal digits) or 0."""
    if not value:
        return 0
    text = str(value)
    if any(c not in '01234567' for c in text) or int(text, 8) > 0o777:
        raise exceptions.BadStoreConfiguration(
            'filesystem_store_file_perm must be octal digits like 640, '
            'not %s' % value)
    return int(text, 8)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        blocking.call(os.fsync, fd)
    finally:
        os.close(fd)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        LOG.warning('Could not remove %s: %s', path, e)


def _open_part(datadir, image_id):
    """Create the partial file of a write and lock it (flock) until the
    write ends: the lock tells ``remove_abandoned`` its writer lives, and
    goes with the process however it dies. Returns (path, fd)."""
    while True:
        temp = os.path.join(datadir, '.%s.%s%s' % (
            image_id, uuid.uuid4().hex[:8], PART_SUFFIX))
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink:
                return temp, fd
        except BaseException:
            os.close(fd)
            _remove(temp)
            raise
        # A sweep took it for abandoned between its creation and the
        # lock, and removed it: start again under another name.
        os.close(fd)


def _is_part(name, image_id=None):
    if not (name.startswith('.') and name.endswith(PART_SUFFIX)):
        return False
    return image_id is None or name.startswith('.%s.' % image_id)


def _list_parts(datadir, image_id=None):
    """The names of the partial files in ``datadir`` (of ``image_id``
    only, when given); none when it cannot be listed."""
    try:
        with os.scandir(datadir) as found:
            return [entry.name for entry in found
                    if _is_part(entry.name, image_id)]
    except OSError:
        return []


def _list_data(datadir):
    """The names of the files in ``datadir`` named by an image id."""
    names = []
    try:
        with os.scandir(datadir) as found:
            for entry in found:
                try:
                    uuid.UUID(entry.name)
                except ValueError:
                    continue
                if entry.is_file(follow_symlinks=False):
                    names.append(entry.name)
    except OSError:
        pass
    return names


def _remove_if_abandoned(path):
    """Remove the partial file at ``path`` if no process holds its lock
    (its writer died); True when removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False        # its writer is alive
        held = os.fstat(fd)
        try:
            there = os.lstat(path)
        except FileNotFoundError:
            return False
        if (there.st_dev, there.st_ino) != (held.st_dev, held.st_ino):
            return False
        os.unlink(path)
        return True
    except OSError as e:
        LOG.warning('Could not remove abandoned %s: %s', path, e)
        return False
    finally:
        os.close(fd)


class FileChunks(driver.ChunkIterator):
    """``count`` bytes of the open file ``f`` from ``offset`` on, read a
    chunk at a time, or sent straight from the file (``file_range``)."""

    def __init__(self, f, offset, count, chunk_size):
        super().__init__(iter(()), f.close)
        self._file = f
        self._offset = offset
        self._remaining = count
        self._chunk_size = chunk_size

    def __next__(self):
        if self._remaining <= 0 or self._close is None:
            self.close()
            raise StopIteration
        try:
            data = os.pread(self._file.fileno(),
                            min(self._chunk_size, self._remaining),
                            self._offset)
        except BaseException:
            self.close()
            raise
        if not data:
            # The file shrank under us: end with an error, so the server
            # drops the connection instead of leaving the client waiting
            # for bytes the Content-Length promised.
            self.close()
            raise exceptions.StoreError(
                'Image data at %s ended %d bytes early'
                % (self._file.name, self._remaining))
        self._offset += len(data)
        self._remaining -= len(data)
        return data

    def file_range(self):
        if self._close is None:
            return None
        return self._file.fileno(), self._offset, self._remaining

    def consumed(self, count):
        self._offset += count
        self._remaining -= count


class FilesystemStore(driver.Store):

    type_name = 'file'
    schemes = ('file', 'filesystem')
    capabilities = frozenset({driver.READ, driver.WRITE, driver.SEEK,
                              driver.LOCAL_FILE})

    @classmethod
    def config_opts(cls, backend_section=False):
        """The directory defaults to None in a multi-store section: the
        registry substitutes ``backend_fallbacks`` (or, for the reserved
        stores, the staging area)."""
        return [
            cfg.StrOpt('filesystem_store_datadir',
                       default=None if backend_section else DEFAULT_DATADIR,
                       help='Directory the filesystem store writes image '
                            'data to. Ignored when filesystem_store_datadirs '
                            'is set. In multi-store mode it defaults to a '
                            'directory named after the store next to '
                            '[glance_store] filesystem_store_datadir.'),
            cfg.MultiStrOpt('filesystem_store_datadirs', default=[],
                            help='Several directories for the filesystem '
                                 'store, each as "path" or "path:priority" '
                                 '(integer, default 0); repeat the option '
                                 'once per directory. New data goes to the '
                                 'highest priority directory with enough '
                                 'free space; among directories of equal '
                                 'priority, the one with the most free '
                                 'space.'),
            cfg.IntOpt('filesystem_store_file_perm', default=0,
                       help='Permissions of image files, written as octal '
                            'digits (e.g. 640). 0 keeps the default the '
                            'umask gives.'),
            cfg.IntOpt('filesystem_store_chunk_size', default=MiB, min=1,
                       help='Bytes read and written per system call when '
                            'the filesystem store moves image data. '
                            'Upstream uses 64 KiB; 1 MiB is the default '
                            'here because image transfers are bulk '
                            'streams: larger pieces mean twenty times fewer '
                            'system calls and green-thread switches per '
                            'image, and give hashing (which releases the '
                            'GIL on large buffers) enough work per call. '
                            'Downloads served by glance-api over plain HTTP '
                            'read only their first chunk this way; the rest '
                            'goes from the file to the socket with '
                            'sendfile.'),
        ]

    @classmethod
    def backend_fallbacks(cls, glance_store, name):
        """A store without a directory of its own gets one named after it
        next to [glance_store]'s (/var/lib/glance/<name> by default)."""
        parent = os.path.dirname(os.path.abspath(
            glance_store.filesystem_store_datadir or DEFAULT_DATADIR))
        return {'filesystem_store_datadir': os.path.join(parent, name)}

    def configure(self):
        opts = self.options
        self.chunk_size = opts.filesystem_store_chunk_size
        self.file_perm = parse_perm(opts.filesystem_store_file_perm)
        if opts.filesystem_store_datadirs:
            self.datadirs = parse_datadirs(opts.filesystem_store_datadirs)
        elif opts.filesystem_store_datadir:
            # A single directory: a ':' in its name is part of the name.
            self.datadirs = [(0, os.path.abspath(
                opts.filesystem_store_datadir))]
        else:
            raise exceptions.BadStoreConfiguration(
                'Store %s: set filesystem_store_datadir or '
                'filesystem_store_datadirs.' % self.name)
        for _, path in self.datadirs:
            self._prepare_dir(path)

    def _prepare_dir(self, path):
        """Create ``path``; a directory we cannot write makes us read-only.

        Read-only rather than fatal, as upstream: existing images stay
        downloadable from, e.g., a directory mounted read-only.
        """
        try:
            os.makedirs(path, exist_ok=True)
            writable = os.access(path, os.W_OK | os.X_OK)
            problem = 'not writable'
        except OSError as e:
            writable, problem = False, e
        if not writable and driver.WRITE in self.capabilities:
            LOG.warning('Store %s is read-only: %s: %s', self.name, path,
                        problem)
            self.capabilities.discard(driver.WRITE)

    @property
    def paths(self):
        return [path for _, path in self.datadirs]

    def location_prefixes(self):
        return ['file://%s/' % path.rstrip('/') for path in self.paths]

    def properties(self):
        return {'data_dir': self.paths[0], 'chunk_size': self.chunk_size,
                'thin_provisioning': False}

    # -- locations ---------------------------------------------------------

    def _path(self, location):
        if driver.scheme_of(location) not in self.schemes:
            raise exceptions.BadStoreUri(
                'Not a filesystem location: %s' % location)
        # Upstream-compatible: everything after "scheme://" is the path
        # (no URL quoting), so file:///a/b is /a/b.
        path = location.split('://', 1)[1]
        if not path.startswith('/') or '\0' in path:
            raise exceptions.BadStoreUri(
                'Filesystem location needs an absolute path: %s' % location)
        return path

    def _owned_path(self, location):
        """The path of ``location``, if it lies in one of our directories.

        Used by delete: a location set through the API must not make the
        service remove an arbitrary file. (Reads are not restricted, so
        data left in a directory that was since dropped from the
        configuration stays readable.)
        """
        path = self._path(location)
        parent = os.path.realpath(os.path.dirname(path))
        name = os.path.basename(path)
        for datadir in self.paths:
            if (parent == os.path.realpath(datadir)
                    and name not in ('', '.', '..')):
                return path
        raise exceptions.BadStoreUri(
            'Location %s is outside the directories of store %s'
            % (location, self.name))

    def local_path(self, location):
        return self._path(location)

    # -- write -------------------------------------------------------------

    def _choose_dir(self, size):
        """Best directory: highest priority, then most free space."""
        need = 1 if size is None else size
        for _, group in itertools.groupby(self.datadirs, key=lambda d: d[0]):
            free, path = max((free_bytes(p), p) for _, p in group)
            if free >= need:
                return path
        raise exceptions.StorageFull(
            'No directory of store %s has %s bytes free.' % (self.name,
                                                             need))

    def add(self, image_id, reader, size=None, *, context=None):
        if not self.is_capable(driver.WRITE):
            return super().add(image_id, reader, size, context=context)
        if not image_id or '/' in image_id or image_id.startswith('.'):
            raise exceptions.BadStoreUri('Invalid image id %r' % image_id)
        for datadir in self.paths:
            if os.path.lexists(os.path.join(datadir, image_id)):
                raise exceptions.Duplicate(
                    'Store %s already has data for image %s'
                    % (self.name, image_id))
        datadir = self._choose_dir(size)
        final = os.path.join(datadir, image_id)
        created = []
        fd = None
        try:
            temp, fd = _open_part(datadir, image_id)
            created.append(temp)
            written = self._write(fd, reader, size)
            self._publish(temp, final, created)
            _fsync_dir(datadir)
        except OSError as e:
            for path in created:
                _remove(path)
            mapped = _translate(e, 'Writing image %s' % image_id)
            if mapped is None:
                raise
            raise mapped from e
        except BaseException:
            for path in created:
                _remove(path)
            raise
        finally:
            if fd is not None:
                os.close(fd)
        LOG.debug('Wrote %d bytes of image %s to %s', written, image_id,
                  final)
        return 'file://' + final, written, self.location_metadata()

    def _write(self, fd, reader, size):
        if self.file_perm:
            os.fchmod(fd, self.file_perm)
        written = 0
        writer = file_writer.open_writer(fd)
        try:
            for chunk in driver.read_chunks(reader, self.chunk_size):
                written += len(chunk)
                if size is not None and written > size:
                    raise exceptions.SizeMismatch(
                        'More than the announced %d bytes.' % size)
                writer.write(chunk)
            writer.wait()
        except BaseException:
            # Never close the file under a write still running.
            writer.abandon()
            raise
        if size is not None and written != size:
            raise exceptions.SizeMismatch(
                'Got %d bytes, %d announced.' % (written, size))
        blocking.call(os.fsync, fd)
        return written

    @staticmethod
    def _publish(temp, final, created):
        """Give ``temp`` its final name without overwriting anything."""
        try:
            os.link(temp, final)
        except FileExistsError:
            raise exceptions.Duplicate('%s appeared during the upload'
                                       % final)
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            # No hard links here (some FUSE/network filesystems): rename,
            # accepting the tiny race the Duplicate check leaves.
            if os.path.lexists(final):
                raise exceptions.Duplicate(final)
            os.rename(temp, final)
            created[:] = [final]
            return
        created.append(final)
        os.unlink(temp)
        created.remove(temp)

    # -- read, size, delete ------------------------------------------------

    def _open(self, location):
        path = self._path(location)
        try:
            return open(path, 'rb', buffering=0)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise exceptions.NotFound('No image data at %s' % location)

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        f = self._open(location)
        try:
            # Read front to back: a wider read-ahead window for the data
            # not in the page cache yet.
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            size = os.fstat(f.fileno()).st_size
            if offset > size:
                raise exceptions.InvalidRange(
                    'Offset %d beyond the %d bytes of %s'
                    % (offset, size, location))
        except BaseException:
            f.close()
            raise
        remaining = size - offset
        if length is not None:
            remaining = min(remaining, length)
        # Each read of the store, counted by whoever watches the log (the
        # image cache's benchmark and tests: one read for many readers).
        LOG.debug('Reading %d bytes of %s from byte %d', remaining, f.name,
                  offset)
        return FileChunks(f, offset, remaining, self.chunk_size), size

    def get_size(self, location, *, context=None):
        try:
            return os.stat(self._path(location)).st_size
        except (FileNotFoundError, NotADirectoryError):
            raise exceptions.NotFound('No image data at %s' % location)

    # -- what a dead writer left -------------------------------------------

    def remove_abandoned(self, image_id=None):
        """Remove the partial files of writes whose process is gone (of
        ``image_id`` only, when given); a live write holds a lock on its
        file and is left alone. Returns the paths removed. The directories
        are listed in a real thread: a directory of many files would
        stall the green threads of the worker."""
        removed = []
        for datadir in self.paths:
            for name in blocking.call(_list_parts, datadir, image_id):
                path = os.path.join(datadir, name)
                if _remove_if_abandoned(path):
                    LOG.info('Removed %s, left by a write that died', path)
                    removed.append(path)
        return removed

    def data_files(self):
        """{image id: [paths]} of the files named by an image id, listed
        in a real thread."""
        found = {}
        for datadir in self.paths:
            for name in blocking.call(_list_data, datadir):
                found.setdefault(name, []).append(os.path.join(datadir, name))
        return found

    def remove_unfinished(self, image_id, keep=()):
        """After the death of a write of ``image_id``: its partial files,
        and its data under the final name unless a location in ``keep``
        (URLs) refers to it (the write died between naming the file and
        recording the location). Returns the paths removed."""
        removed = self.remove_abandoned(image_id)
        for datadir in self.paths:
            path = os.path.join(datadir, image_id)
            if 'file://' + path in keep or not os.path.isfile(path):
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as e:
                LOG.warning('Could not remove %s: %s', path, e)
                continue
            LOG.info('Removed %s, written by an upload that died before it '
                     'was recorded', path)
            removed.append(path)
        return removed

    def delete(self, location, *, context=None):
        path = self._owned_path(location)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise exceptions.NotFound('No image data at %s' % location)
        except OSError as e:
            mapped = _translate(e, 'Deleting %s' % location)
            if mapped is None:
                raise
            raise mapped from e
