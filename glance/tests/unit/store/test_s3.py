"""The s3 store's payload: other green threads run while botocore reads
it (to hash it for the signature, then to send it)."""

import hashlib

import eventlet
import testtools

from glance.store import s3

MiB = 1024 * 1024


class TestBody(testtools.TestCase):

    def test_reads_give_other_green_threads_turns(self):
        data = bytes(range(256)) * (10 * MiB // 256)
        turns = []
        done = []

        def other():
            while not done:
                turns.append(1)
                eventlet.sleep(0)
        eventlet.spawn(other)
        eventlet.sleep(0)
        body = s3._Body(data)
        digest = hashlib.sha256()
        # As botocore hashes a payload: reads of 1 MiB, then back to the
        # start for sending.
        for chunk in iter(lambda: body.read(MiB), b''):
            digest.update(chunk)
        body.seek(0)
        sent = body.read()
        done.append(True)
        self.assertEqual(hashlib.sha256(data).hexdigest(), digest.hexdigest())
        self.assertEqual(data, sent)
        # A turn for the other thread after each MiB read, not one for
        # the whole part.
        self.assertGreaterEqual(len(turns), 10)
