"""The filesystem store on real directories (and real tmpfs mounts)."""

import io
import logging
import os
import stat
import subprocess
import sys
import types
import uuid

import eventlet
import fixtures
import testtools

from glance.store import driver
from glance.store import exceptions
from glance.store import filesystem
from glance.tests import prerequisites
from glance.tests.unit.store import fixtures_store as fx

MiB = fx.MiB


class FailingReader:
    """Gives ``good`` bytes, then raises like a client that went away."""

    def __init__(self, good, error):
        self.data = io.BytesIO(os.urandom(good))
        self.error = error

    def read(self, n):
        chunk = self.data.read(n)
        if not chunk:
            raise self.error
        return chunk


class FilesystemTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.root = self.useFixture(fixtures.TempDir()).path
        self.datadir = os.path.join(self.root, 'images')

    def tmpfs(self, size):
        mount = self.useFixture(fx.Tmpfs(size))
        prerequisites.require('MOUNT', mount.available, mount.error)
        return mount.path


class TestAddGetDelete(FilesystemTestBase):

    def setUp(self):
        super().setUp()
        self.store = fx.file_store(datadir=self.datadir)
        self.data = os.urandom(3 * MiB + 12345)
        self.image_id = str(uuid.uuid4())

    def add(self, data=None, size='auto', image_id=None):
        data = self.data if data is None else data
        size = len(data) if size == 'auto' else size
        return self.store.add(image_id or self.image_id, io.BytesIO(data),
                              size)

    def test_configure_creates_directory(self):
        self.assertTrue(os.path.isdir(self.datadir))
        self.assertEqual({driver.READ, driver.WRITE, driver.SEEK,
                          driver.LOCAL_FILE}, self.store.capabilities)

    def test_add_known_size(self):
        uri, written, metadata = self.add()
        path = os.path.join(self.datadir, self.image_id)
        self.assertEqual('file://' + path, uri)
        self.assertEqual(len(self.data), written)
        self.assertEqual({}, metadata)
        with open(path, 'rb') as f:
            self.assertEqual(self.data, f.read())
        self.assertEqual([self.image_id], fx.entries(self.datadir))

    def test_add_unknown_size_from_iterator(self):
        pieces = [self.data[i:i + 100000]
                  for i in range(0, len(self.data), 100000)]
        uri, written, _ = self.store.add(self.image_id, iter(pieces), None)
        self.assertEqual(len(self.data), written)
        self.assertEqual(self.data,
                         self.store.get(uri)[0].read_all())

    def test_add_empty_image(self):
        uri, written, _ = self.add(data=b'')
        self.assertEqual(0, written)
        chunks, size = self.store.get(uri)
        self.assertEqual((b'', 0), (chunks.read_all(), size))

    def test_multi_store_metadata(self):
        store = filesystem.FilesystemStore(
            'fast', fx.file_options(datadir=self.datadir), multi_store=True)
        store.configure()
        _, _, metadata = store.add(self.image_id, io.BytesIO(b'x'), 1)
        self.assertEqual({'store': 'fast'}, metadata)

    def test_get_whole(self):
        uri, _, _ = self.add()
        chunks, size = self.store.get(uri)
        self.assertEqual(len(self.data), size)
        self.assertTrue(chunks.seekable)
        pieces = list(chunks)
        self.assertEqual(self.data, b''.join(pieces))
        self.assertEqual(MiB, len(pieces[0]))

    def test_get_ranges(self):
        uri, _, _ = self.add()
        cases = [(0, 10), (5, None), (MiB - 1, 2), (2 * MiB + 7, MiB + 100),
                 (len(self.data) - 1, None), (len(self.data), None),
                 (len(self.data) - 10, 1000), (100, 0)]
        for offset, length in cases:
            chunks, size = self.store.get(uri, offset=offset, length=length)
            end = None if length is None else offset + length
            self.assertEqual(self.data[offset:end], chunks.read_all(),
                             (offset, length))
            self.assertEqual(len(self.data), size)

    def test_get_offset_beyond_end(self):
        uri, _, _ = self.add()
        self.assertRaises(exceptions.InvalidRange, self.store.get, uri,
                          offset=len(self.data) + 1)
        self.assertRaises(exceptions.InvalidRange, self.store.get, uri,
                          offset=-1)

    def test_close_early_releases_file(self):
        uri, _, _ = self.add()
        before = len(os.listdir('/proc/self/fd'))
        chunks, _ = self.store.get(uri)
        next(chunks)
        self.assertEqual(before + 1, len(os.listdir('/proc/self/fd')))
        chunks.close()
        self.assertEqual(before, len(os.listdir('/proc/self/fd')))

    def test_file_range_follows_reads_and_consumed_bytes(self):
        uri, _, _ = self.add()
        chunks, _ = self.store.get(uri, offset=10, length=2 * MiB)
        fd, offset, count = chunks.file_range()
        self.assertEqual((10, 2 * MiB), (offset, count))
        self.assertEqual(self.data[10:10 + 100], os.pread(fd, 100, offset))
        first = next(chunks)
        self.assertEqual(self.data[10:10 + MiB], first)
        self.assertEqual((10 + MiB, MiB), chunks.file_range()[1:])
        # Bytes sent another way are not read again.
        chunks.consumed(MiB - 5)
        self.assertEqual(self.data[10 + 2 * MiB - 5:10 + 2 * MiB],
                         chunks.read_all())
        self.assertIsNone(chunks.file_range())

    def test_file_shrinking_under_a_reader_is_an_error(self):
        uri, _, _ = self.add()
        chunks, _ = self.store.get(uri)
        next(chunks)
        os.truncate(os.path.join(self.datadir, self.image_id), MiB + 7)
        self.assertEqual(self.data[MiB:MiB + 7], next(chunks))
        error = self.assertRaises(exceptions.StoreError, next, chunks)
        self.assertIn('ended %d bytes early' % (len(self.data) - MiB - 7),
                      str(error))
        self.assertIsNone(chunks.file_range())

    def test_get_size_and_local_path(self):
        uri, _, _ = self.add()
        self.assertEqual(len(self.data), self.store.get_size(uri))
        self.assertEqual(os.path.join(self.datadir, self.image_id),
                         self.store.local_path(uri))

    def test_delete(self):
        uri, _, _ = self.add()
        self.store.delete(uri)
        self.assertEqual([], fx.entries(self.datadir))
        self.assertRaises(exceptions.NotFound, self.store.delete, uri)
        self.assertRaises(exceptions.NotFound, self.store.get, uri)
        self.assertRaises(exceptions.NotFound, self.store.get_size, uri)

    def test_delete_refuses_files_outside_the_store(self):
        victim = os.path.join(self.root, 'victim')
        open(victim, 'w').close()
        for uri in ('file://' + victim,
                    'file://%s/../victim' % self.datadir,
                    'file://%s/' % self.datadir):
            self.assertRaises(exceptions.BadStoreUri, self.store.delete, uri)
        self.assertTrue(os.path.exists(victim))

    def test_bad_locations(self):
        for uri in ('http://host/x', 'file://relative/path', 'no-scheme'):
            self.assertRaises(exceptions.BadStoreUri, self.store.get, uri)
        # The legacy scheme name is accepted.
        uri, _, _ = self.add()
        chunks, _ = self.store.get(uri.replace('file://', 'filesystem://'))
        self.assertEqual(self.data, chunks.read_all())

    def test_duplicate(self):
        uri, _, _ = self.add()
        self.assertRaises(exceptions.Duplicate, self.add, data=b'other')
        self.assertEqual(self.data, self.store.get(uri)[0].read_all())
        self.assertEqual([self.image_id], fx.entries(self.datadir))

    def test_invalid_image_id(self):
        for image_id in ('../escape', '.hidden', ''):
            self.assertRaises(exceptions.BadStoreUri, self.store.add,
                              image_id, io.BytesIO(b'x'), 1)
        self.assertEqual([], fx.entries(self.datadir))

    def test_reader_error_removes_partial_file(self):
        error = IOError('client disconnected')
        reader = FailingReader(3 * MiB + 5, error)
        raised = self.assertRaises(IOError, self.store.add, self.image_id,
                                   reader, 10 * MiB)
        self.assertIs(error, raised)
        self.assertEqual([], fx.entries(self.datadir))

    def test_reader_base_exception_removes_partial_file(self):
        reader = FailingReader(MiB + 1, KeyboardInterrupt())
        self.assertRaises(KeyboardInterrupt, self.store.add, self.image_id,
                          reader, None)
        self.assertEqual([], fx.entries(self.datadir))

    def test_size_mismatch(self):
        self.assertRaises(exceptions.SizeMismatch, self.add,
                          size=len(self.data) + 1)
        self.assertRaises(exceptions.SizeMismatch, self.add,
                          size=len(self.data) - 1)
        self.assertEqual([], fx.entries(self.datadir))

    def test_default_permissions_follow_umask(self):
        old = os.umask(0o027)
        try:
            uri, _, _ = self.add(data=b'abc')
        finally:
            os.umask(old)
        mode = stat.S_IMODE(os.stat(self.store.local_path(uri)).st_mode)
        self.assertEqual(0o640, mode)

    def test_file_perm(self):
        store = fx.file_store(datadir=self.datadir, perm=604)
        uri, _, _ = store.add(self.image_id, io.BytesIO(b'abc'), 3)
        mode = stat.S_IMODE(os.stat(store.local_path(uri)).st_mode)
        self.assertEqual(0o604, mode)

    def test_bad_file_perm(self):
        for perm in (9, 1777, 888):
            self.assertRaises(exceptions.BadStoreConfiguration,
                              fx.file_store, datadir=self.datadir, perm=perm)

    def test_small_chunk_size(self):
        store = fx.file_store(datadir=self.datadir, chunk_size=1000)
        uri, _, _ = store.add(self.image_id, io.BytesIO(self.data), None)
        pieces = list(store.get(uri, offset=10, length=2500)[0])
        self.assertEqual([1000, 1000, 500], [len(p) for p in pieces])
        self.assertEqual(self.data[10:2510], b''.join(pieces))

    def test_properties(self):
        self.assertEqual({'data_dir': self.datadir, 'chunk_size': MiB,
                          'thin_provisioning': False},
                         self.store.properties())


class TestConfiguration(FilesystemTestBase):

    def test_no_directory(self):
        self.assertRaises(exceptions.BadStoreConfiguration, fx.file_store)

    def test_uncreatable_directory_makes_store_read_only(self):
        blocker = os.path.join(self.root, 'a-file')
        open(blocker, 'w').close()
        store = fx.file_store(datadir=os.path.join(blocker, 'images'))
        self.assertTrue(store.read_only)
        self.assertFalse(store.is_capable(driver.WRITE))
        self.assertTrue(store.is_capable(driver.READ, driver.SEEK))
        self.assertRaises(exceptions.StoreAddDisabled, store.add,
                          'id', io.BytesIO(b'x'), 1)

    def test_read_only_mount_makes_store_read_only(self):
        path = self.tmpfs('1m')
        os.makedirs(os.path.join(path, 'images'))
        subprocess.run(['mount', '-o', 'remount,ro', path], check=True)
        store = fx.file_store(datadir=os.path.join(path, 'images'))
        self.assertTrue(store.read_only)
        self.assertIn('Store file is read-only', self.log.output)

    def test_parse_datadirs(self):
        self.assertEqual(
            [(200, '/b'), (100, '/a'), (0, '/c'), (0, '/d:x'), (-1, '/e')],
            filesystem.parse_datadirs(['/a:100', '/b:200', '/c', '/d:x',
                                       '/e:-1']))
        self.assertRaises(exceptions.BadStoreConfiguration,
                          filesystem.parse_datadirs, ['/a:1', '/a:2'])
        self.assertRaises(exceptions.BadStoreConfiguration,
                          filesystem.parse_datadirs, [':5'])

    def test_datadirs_win_over_datadir(self):
        other = os.path.join(self.root, 'other')
        store = fx.file_store(datadir=self.datadir, datadirs=[other + ':3'])
        self.assertEqual([other], store.paths)
        self.assertFalse(os.path.exists(self.datadir))

    def test_highest_priority_first(self):
        low, high = (os.path.join(self.root, n) for n in ('low', 'high'))
        store = fx.file_store(datadirs=[low + ':100', high + ':200'])
        uri, _, _ = store.add('img', io.BytesIO(b'data'), 4)
        self.assertEqual('file://%s/img' % high, uri)
        self.assertEqual(['file://%s/' % high, 'file://%s/' % low],
                         store.location_prefixes())
        # Data in any directory is found, and is a duplicate everywhere.
        os.rename(os.path.join(high, 'img'), os.path.join(low, 'img'))
        self.assertRaises(exceptions.Duplicate, store.add, 'img',
                          io.BytesIO(b'data'), 4)
        store.delete('file://%s/img' % low)

    def test_priority_falls_back_when_full(self):
        small = self.tmpfs('1m')
        big = os.path.join(self.root, 'big')
        store = fx.file_store(datadirs=[small + ':200', big + ':100'])
        uri, _, _ = store.add('large', io.BytesIO(os.urandom(2 * MiB)),
                              2 * MiB)
        self.assertEqual('file://%s/large' % big, uri)
        uri, _, _ = store.add('small', io.BytesIO(b'x' * 1000), 1000)
        self.assertEqual('file://%s/small' % small, uri)

    def test_same_priority_most_free_space(self):
        one, two = self.tmpfs('1m'), self.tmpfs('2m')
        store = fx.file_store(datadirs=[one + ':5', two + ':5'])
        uri, _, _ = store.add('img', io.BytesIO(b'abc'), 3)
        self.assertEqual('file://%s/img' % two, uri)


class TestDeclarations(testtools.TestCase):

    def test_schemes_and_capabilities(self):
        cls = filesystem.FilesystemStore
        self.assertEqual('file', cls.type_name)
        self.assertEqual(('file', 'filesystem'), cls.schemes)
        self.assertEqual({driver.READ, driver.WRITE, driver.SEEK,
                          driver.LOCAL_FILE}, cls.capabilities)

    def test_options(self):
        opts = filesystem.FilesystemStore.config_opts()
        self.assertEqual(
            [('filesystem_store_datadir', '/var/lib/glance/images'),
             ('filesystem_store_datadirs', []),
             ('filesystem_store_file_perm', 0),
             ('filesystem_store_chunk_size', MiB)],
            [(o.name, o.default) for o in opts])
        backend = filesystem.FilesystemStore.config_opts(
            backend_section=True)
        # Resolved by the registry in a store's own section.
        self.assertIsNone(backend[0].default)
        self.assertEqual([o.default for o in opts[1:]],
                         [o.default for o in backend[1:]])

    def test_backend_fallbacks(self):
        fallbacks = filesystem.FilesystemStore.backend_fallbacks
        glance_store = types.SimpleNamespace(
            filesystem_store_datadir='/srv/glance/images')
        self.assertEqual({'filesystem_store_datadir': '/srv/glance/fast'},
                         fallbacks(glance_store, 'fast'))
        glance_store.filesystem_store_datadir = None
        self.assertEqual({'filesystem_store_datadir': '/var/lib/glance/fast'},
                         fallbacks(glance_store, 'fast'))


class TestStorageFull(FilesystemTestBase):

    def setUp(self):
        super().setUp()
        self.path = self.tmpfs('1m')
        self.store = fx.file_store(datadir=self.path)

    def test_known_size_too_big_writes_nothing(self):
        self.assertRaises(exceptions.StorageFull, self.store.add, 'img',
                          io.BytesIO(os.urandom(2 * MiB)), 2 * MiB)
        self.assertEqual([], fx.entries(self.path))

    def test_enospc_while_writing(self):
        # Unknown size: the store only learns that the disk is full from
        # the write that fails with ENOSPC.
        error = self.assertRaises(exceptions.StorageFull, self.store.add,
                                  'img', io.BytesIO(os.urandom(2 * MiB)),
                                  None)
        self.assertEqual(413, error.code)
        self.assertEqual([], fx.entries(self.path))
        # The space is free again.
        self.store.add('img', io.BytesIO(b'x' * 900000), 900000)
        self.assertEqual(['img'], fx.entries(self.path))


class TestAbandonedParts(FilesystemTestBase):
    """Partial files of writes whose process died are removed; those of
    live writes (which hold their lock) are not."""

    def setUp(self):
        super().setUp()
        self.store = fx.file_store(datadir=self.datadir)
        self.image_id = str(uuid.uuid4())

    def part(self, image_id=None, locked_by_child=False):
        """A partial file as a write leaves it; with ``locked_by_child``,
        locked by a live child process (stopped on cleanup)."""
        path = os.path.join(self.datadir, '.%s.%s.part' % (
            image_id or self.image_id, uuid.uuid4().hex[:8]))
        with open(path, 'wb') as f:
            f.write(b'partial')
        if locked_by_child:
            child = subprocess.Popen(
                [sys.executable, '-c',
                 'import fcntl, sys\n'
                 'f = open(sys.argv[1], "rb")\n'
                 'fcntl.flock(f, fcntl.LOCK_EX)\n'
                 'print("locked", flush=True)\n'
                 'sys.stdin.read()\n', path],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self.addCleanup(child.wait)
            self.addCleanup(child.stdin.close)
            self.assertEqual(b'locked\n', child.stdout.readline())
            child.stdout.close()
        return path

    def test_unlocked_parts_removed_locked_kept(self):
        dead = self.part()
        other = self.part(image_id=str(uuid.uuid4()))
        live = self.part(locked_by_child=True)
        final = os.path.join(self.datadir, self.image_id)
        with open(final, 'wb') as f:
            f.write(b'data')
        self.assertEqual([dead], self.store.remove_abandoned(self.image_id))
        self.assertTrue(os.path.exists(other))
        self.assertEqual([other], self.store.remove_abandoned())
        self.assertTrue(os.path.exists(live))
        self.assertTrue(os.path.exists(final))

    def test_directory_listed_in_a_real_thread(self):
        # Listing a directory of many files blocks: never in the calling
        # (green) thread, whose hub it would stall.
        real_thread = eventlet.patcher.original('_thread')
        listed_in = []
        scandir = os.scandir

        def recorded(path):
            listed_in.append(real_thread.get_ident())
            return scandir(path)
        dead = self.part()
        self.useFixture(fixtures.MonkeyPatch('os.scandir', recorded))
        # As under glance-api, whose threads are green (this test process
        # is not monkey-patched).
        self.useFixture(fixtures.MonkeyPatch(
            'glance.common.blocking.green', lambda: True))
        self.assertEqual([dead], self.store.remove_abandoned())
        self.assertEqual(1, len(listed_in))
        self.assertNotEqual(real_thread.get_ident(), listed_in[0])

    def test_part_of_a_killed_writer_removed(self):
        child = subprocess.Popen(
            [sys.executable, '-c',
             'import fcntl, os, sys\n'
             'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)\n'
             'fcntl.flock(fd, fcntl.LOCK_EX)\n'
             'print("locked", flush=True)\n'
             'sys.stdin.read()\n',
             os.path.join(self.datadir, '.%s.dead.part' % self.image_id)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(child.stdin.close)
        self.assertEqual(b'locked\n', child.stdout.readline())
        child.stdout.close()
        self.assertEqual([], self.store.remove_abandoned())
        child.kill()
        child.wait()
        self.assertEqual(1, len(self.store.remove_abandoned()))
        self.assertEqual([], os.listdir(self.datadir))

    def test_remove_unfinished_keeps_recorded_data(self):
        final = os.path.join(self.datadir, self.image_id)
        with open(final, 'wb') as f:
            f.write(b'data')
        dead = self.part()
        self.assertEqual([dead], self.store.remove_unfinished(
            self.image_id, keep={'file://' + final}))
        self.assertEqual([final], self.store.remove_unfinished(
            self.image_id))
        self.assertEqual([], os.listdir(self.datadir))

    def test_write_in_progress_holds_its_part(self):
        """A sweep while an upload runs leaves its partial file alone."""
        swept = []

        def chunks():
            yield b'a' * 1000
            swept.append(self.store.remove_abandoned())
            yield b'b' * 1000

        location, written, _ = self.store.add(self.image_id, chunks(), 2000)
        self.assertEqual([[]], swept)
        self.assertEqual(2000, written)
        self.assertEqual(2000, os.path.getsize(location[len('file://'):]))

    def test_part_taken_before_its_lock_is_replaced(self):
        """A sweep that removed a new partial file before its writer
        locked it: the write goes on under another name."""
        real_flock = filesystem.fcntl.flock
        calls = []

        def flock(fd, op):
            if not calls:
                # The sweep gets there first.
                calls.append(fd)
                self.store.remove_abandoned()
            return real_flock(fd, op)

        self.useFixture(fixtures.MonkeyPatch(
            'glance.store.filesystem.fcntl.flock', flock))
        location, written, _ = self.store.add(self.image_id,
                                              io.BytesIO(b'x' * 10), 10)
        self.assertEqual(1, len(calls))
        self.assertEqual(10, written)
        self.assertEqual([self.image_id], os.listdir(self.datadir))
