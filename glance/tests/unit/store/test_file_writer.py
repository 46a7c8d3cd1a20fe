"""glance.store.file_writer on real filesystems: direct writes where the
filesystem takes O_DIRECT (the root filesystem, a loop-mounted ext4),
buffered ones on tmpfs, and the same bytes either way."""

import errno
import fcntl
import os

import fixtures
import testtools

from glance.store import file_writer
from glance.tests import prerequisites
from glance.tests.unit.store import fixtures_store as fx

MiB = fx.MiB
BLOCK = file_writer.DIRECT_BLOCK


class WriterTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def mounted(self, fixture):
        mount = self.useFixture(fixture)
        prerequisites.require('MOUNT', mount.available, mount.error)
        return mount.path

    def open(self, directory=None):
        path = os.path.join(directory or self.dir, 'data')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        self.addCleanup(os.close, fd)
        return path, fd

    def write(self, writer, data, piece):
        for start in range(0, len(data), piece):
            writer.write(data[start:start + piece])
        writer.wait()

    def read(self, path):
        with open(path, 'rb') as f:
            return f.read()


class TestDirectWriter(WriterTest):

    def test_direct_where_the_filesystem_allows(self):
        _, fd = self.open()
        writer = file_writer.open_writer(fd)
        self.assertIsInstance(writer, file_writer.DirectWriter)
        self.assertTrue(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
        writer.abandon()

    def test_same_bytes_whatever_the_sizes(self):
        sizes = [0, 1, 4095, 4096, 4097, BLOCK - 1, BLOCK, BLOCK + 1,
                 2 * BLOCK, 2 * BLOCK + 4096, 3 * BLOCK + 12345]
        data = os.urandom(max(sizes))
        for size in sizes:
            for piece in (65536, MiB + 3, BLOCK + 7):
                path = os.path.join(self.dir, '%d-%d' % (size, piece))
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                try:
                    writer = file_writer.open_writer(fd)
                    self.assertIsInstance(writer, file_writer.DirectWriter)
                    self.write(writer, data[:size], piece)
                    # The tail went through the page cache: O_DIRECT off.
                    self.assertFalse(fcntl.fcntl(fd, fcntl.F_GETFL)
                                     & os.O_DIRECT)
                finally:
                    os.close(fd)
                self.assertEqual(data[:size], self.read(path),
                                 (size, piece))
                os.unlink(path)

    def test_a_refused_direct_write_goes_through_the_page_cache(self):
        path, fd = self.open()
        file_writer.open_writer(fd).abandon()
        # An unaligned length: O_DIRECT refuses it with EINVAL.
        data = os.urandom(1000)
        file_writer._write_block(fd, data, len(data), 0)
        self.assertFalse(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
        self.assertEqual(data, self.read(path))
        # Without O_DIRECT, EINVAL is an error like any other.
        self.assertRaises(OSError, file_writer._write_block, fd, data,
                          len(data), -1)

    def test_abandon_waits_and_frees_the_buffers(self):
        path, fd = self.open()
        writer = file_writer.open_writer(fd)
        writer.write(os.urandom(BLOCK + 100))
        writer.abandon()
        self.assertEqual([], writer.buffers)
        # Only whole blocks reached the file.
        self.assertEqual(BLOCK, os.path.getsize(path))

    def test_disk_full_raises_enospc_and_waits_for_both_buffers(self):
        directory = self.mounted(fx.LoopExt4(24))
        _, fd = self.open(directory)
        writer = file_writer.open_writer(fd)
        self.assertIsInstance(writer, file_writer.DirectWriter)
        block = os.urandom(MiB)

        def fill():
            for _ in range(64):
                writer.write(block)
            writer.wait()
        error = self.assertRaises(OSError, fill)
        self.assertEqual(errno.ENOSPC, error.errno)
        writer.abandon()
        self.assertEqual([None, None], writer.pending)


class TestBufferedWriter(WriterTest):

    def test_buffered_where_o_direct_is_refused(self):
        fd = os.memfd_create('image')       # memfd refuses O_DIRECT
        self.addCleanup(os.close, fd)
        writer = file_writer.open_writer(fd)
        self.assertIsInstance(writer, file_writer.BufferedWriter)
        data = os.urandom(2 * file_writer.WRITE_BATCH + 5)
        self.write(writer, data, MiB)
        self.assertEqual(data, os.pread(fd, len(data) + 1, 0))
