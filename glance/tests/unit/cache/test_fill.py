"""glance.cache.fill and glance.cache.layout on real files and locks:
followers read what the writer wrote, wait while it holds the lock, and
go on from the store where a writer that let go stopped."""

import os
import tempfile
import threading
import time

import testtools

from glance.cache import fill
from glance.cache import layout


class FakeSource:
    """What ``open_data`` of the download service returns, over bytes:
    the asked range as chunks (and the calls made)."""

    def __init__(self, data):
        self.data = data
        self.calls = []

    def __call__(self, offset=0, length=None, notify=True):
        self.calls.append((offset, length, notify))
        end = len(self.data) if length is None else offset + length
        return iter([self.data[offset:end]])


class TestFollower(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.path = os.path.join(tmp.name, 'entry')
        self.data = os.urandom(3 * fill.CHUNK + 5)

    def writer_fd(self, content=b''):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self.assertTrue(layout.try_lock(fd))
        os.write(fd, content)
        return fd

    def follower(self, source):
        return fill.Follower(os.open(self.path, os.O_RDONLY),
                             len(self.data), source, 'img')

    def test_reads_what_is_written_while_the_writer_writes(self):
        fd = self.writer_fd(self.data[:1000])
        source = FakeSource(self.data)
        follower = self.follower(source)
        got = [next(follower)]
        self.assertEqual(self.data[:1000], got[0])

        def finish():
            time.sleep(0.2)
            os.write(fd, self.data[1000:])
            os.close(fd)

        threading.Thread(target=finish).start()
        got += list(follower)
        self.assertEqual(self.data, b''.join(got))
        self.assertEqual([], source.calls)

    def test_goes_on_from_the_store_when_the_writer_stops(self):
        fd = self.writer_fd(self.data[:fill.CHUNK + 7])
        os.close(fd)     # died: the kernel drops its lock
        source = FakeSource(self.data)
        got = b''.join(self.follower(source))
        self.assertEqual(self.data, got)
        self.assertEqual([(fill.CHUNK + 7, len(self.data) - fill.CHUNK - 7,
                           False)], source.calls)

    def test_file_range_offers_what_is_written(self):
        fd = self.writer_fd(self.data[:1000])
        follower = self.follower(FakeSource(self.data))
        reader, offset, count = follower.file_range()
        self.assertEqual((0, 1000), (offset, count))
        follower.consumed(1000)

        def finish():
            time.sleep(0.2)
            os.write(fd, self.data[1000:2000])
            os.close(fd)     # stops early

        threading.Thread(target=finish).start()
        # Waits for the writer, then offers what it wrote.
        self.assertEqual((1000, 1000), follower.file_range()[1:])
        follower.consumed(1000)
        # The writer is gone: the rest comes from the chunks (the store).
        self.assertIsNone(follower.file_range())
        self.assertEqual(self.data[2000:], b''.join(follower))

    def test_writer_active_follows_the_lock(self):
        fd = self.writer_fd()
        reader = os.open(self.path, os.O_RDONLY)
        self.addCleanup(os.close, reader)
        self.assertTrue(fill.writer_active(reader))
        os.close(fd)
        self.assertFalse(fill.writer_active(reader))


class TestLayout(testtools.TestCase):

    def test_queue_order_and_hidden_files(self):
        with tempfile.TemporaryDirectory() as base:
            lay = layout.Layout(base)
            lay.ensure()
            for i, name in enumerate(('b', 'a', 'c')):
                path = lay.queued(name)
                open(path, 'w').close()
                os.utime(path, (1000 + i, 1000 + i))
            self.assertEqual(['b', 'a', 'c'], lay.queued_ids())
            for name in ('x', '.lock-prune', 'cache.db'):
                open(os.path.join(base, name), 'w').close()
            self.assertEqual(['x'], lay.entry_ids())

    def test_job_lock_excludes_a_second_holder(self):
        with tempfile.TemporaryDirectory() as base:
            lay = layout.Layout(base)
            with layout.JobLock(lay, 'prune') as first:
                self.assertTrue(first.acquired)
                with layout.JobLock(lay, 'prune') as second:
                    self.assertFalse(second.acquired)
            with layout.JobLock(lay, 'prune') as again:
                self.assertTrue(again.acquired)

    def test_unusable_directory_lists_nothing(self):
        with tempfile.NamedTemporaryFile() as blocker:
            # Under a regular file: it cannot be made, even by root.
            lay = layout.Layout(os.path.join(blocker.name, 'cache'))
            self.assertEqual([], lay.entry_ids())
            self.assertEqual([], lay.queued_ids())
            self.assertIn('Not a directory', lay.writable_problem())
