"""glance.imports.flow: how a running import reads its source and when it
is presumed dead."""

from glance.imports import flow
from glance.tests.unit import base


class _Source:
    """Hands out ``data``, recording the size of every read."""

    def __init__(self, data):
        self.data = data
        self.asked = []

    def read(self, size=-1):
        self.asked.append(size)
        if size < 0:
            size = len(self.data)
        piece, self.data = self.data[:size], self.data[size:]
        return piece


class TestTimings(base.TestCase):

    def test_from_the_option(self):
        self.assertEqual(30, flow.stale_after())
        self.assertEqual(5, flow.heartbeat())
        self.config(stale_import_timeout=2, group='task')
        self.assertEqual(2, flow.stale_after())
        self.assertLess(flow.heartbeat(), 1)


class TestProgressReads(base.TestCase):

    def test_a_chunk_is_read_in_pieces(self):
        # A slow source fills a chunk piece by piece: between two, the
        # import can give its sign of life.
        data = bytes(range(256)) * 4096 * 3       # 3 MiB
        source = _Source(data)
        progress = flow._Progress(source, 'task', 'image', 'Downloaded')
        chunks = []
        while True:
            chunk = progress.read(flow.MIB)
            if not chunk:
                break
            chunks.append(chunk)
        self.assertEqual([flow.MIB] * 3, [len(c) for c in chunks])
        self.assertEqual(data, b''.join(chunks))
        self.assertEqual(len(data), progress.count)
        self.assertLessEqual(max(source.asked), flow.PIECE)

    def test_short_source_and_read_all(self):
        source = _Source(b'x' * 1000)
        progress = flow._Progress(source, 'task', 'image', 'Downloaded')
        self.assertEqual(b'x' * 1000, progress.read(flow.MIB))
        self.assertEqual(b'', progress.read(flow.MIB))
        source = _Source(b'y' * 10)
        progress = flow._Progress(source, 'task', 'image', 'Downloaded')
        self.assertEqual(b'y' * 10, progress.read())
        self.assertEqual(10, progress.count)
