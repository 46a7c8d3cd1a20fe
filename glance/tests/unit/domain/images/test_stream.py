"""glance.domain.images.stream: counting what leaves, the sendfile
hand-off and the one end report of a download."""

import os
import tempfile

from glance.domain.images import stream
from glance.store import filesystem
from glance.tests.unit import base


class Ends:
    """Records what ``on_end`` saw, each time it was called."""

    def __init__(self):
        self.seen = []

    def __call__(self, ended):
        self.seen.append((ended.sent, ended.complete))


class TestDownloadStream(base.TestCase):

    def test_a_whole_download_is_complete(self):
        ends = Ends()
        chunks = stream.DownloadStream(iter([b'abc', b'def']), 6, ends)
        self.assertEqual(b'abcdef', b''.join(chunks))
        self.assertEqual([(6, True)], ends.seen)

    def test_a_chunk_counts_once_the_next_is_asked_for(self):
        chunks = stream.DownloadStream(iter([b'abc', b'def']), 6)
        next(chunks)
        self.assertEqual(0, chunks.sent)
        next(chunks)
        self.assertEqual(3, chunks.sent)

    def test_interrupted_download_is_not_complete_and_closes_the_source(self):
        closed = []

        class Source:
            def __iter__(self):
                return iter([b'abc', b'def'])

            def close(self):
                closed.append(True)
        ends = Ends()
        chunks = stream.DownloadStream(Source(), 6, ends)
        self.assertEqual(b'abc', next(chunks))
        self.assertEqual(b'def', next(chunks))
        chunks.close()
        chunks.close()
        self.assertEqual([(3, False)], ends.seen)
        self.assertEqual([True], closed)

    def test_a_failing_source_ends_the_stream(self):
        def source():
            yield b'abc'
            raise OSError('disk gone')
        ends = Ends()
        chunks = stream.DownloadStream(source(), 6, ends)
        next(chunks)
        self.assertRaises(OSError, next, chunks)
        # Asking for the next chunk says the first one was written.
        self.assertEqual([(3, False)], ends.seen)

    def test_more_or_fewer_bytes_than_expected_is_not_complete(self):
        for expected in (2, 4, None):
            ends = Ends()
            list(stream.DownloadStream(iter([b'abc']), expected, ends))
            self.assertEqual([(3, False)], ends.seen, expected)

    def test_bytes_sent_from_the_file_directly_count(self):
        class Source:
            def __init__(self):
                self.skipped = 0

            def __iter__(self):
                return iter([b'abc', b'def'][self.skipped:])

            def file_range(self):
                return (7, 3, 3)

            def consumed(self, count):
                self.skipped += 1
        source = Source()
        ends = Ends()
        chunks = stream.DownloadStream(source, 6, ends)
        self.assertEqual(b'abc', next(chunks))
        self.assertEqual((7, 3, 3), chunks.file_range())
        chunks.consumed(3)
        self.assertEqual(1, source.skipped)
        chunks.close()
        # Not iterated to the end: the server stopped before the chunks
        # said they were done.
        self.assertEqual([(6, False)], ends.seen)

    def test_no_file_range_without_a_local_file(self):
        self.assertIsNone(stream.DownloadStream(iter([b'x'])).file_range())

    def test_file_range_of_a_real_store_file(self):
        """The hand-off through a filesystem store's chunks: what is left
        after the first chunk lies in the file, where the stream says."""
        with tempfile.NamedTemporaryFile() as f:
            f.write(b'0123456789')
            f.flush()
            handle = open(f.name, 'rb')
            chunks = stream.DownloadStream(
                filesystem.FileChunks(handle, 0, 10, 4), 10)
            self.assertEqual(b'0123', next(chunks))
            fd, offset, count = chunks.file_range()
            self.assertEqual((4, 6), (offset, count))
            self.assertEqual(b'456789', os.pread(fd, count, offset))
            chunks.consumed(count)
            self.assertEqual(10, chunks.sent)
            self.assertRaises(StopIteration, next, chunks)
            self.assertTrue(chunks.complete)
            self.assertTrue(handle.closed)
