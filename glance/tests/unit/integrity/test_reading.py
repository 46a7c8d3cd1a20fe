"""The byte-rate limiter, the reading of one location and the state
file of glance-auditor and glance-updater."""

import hashlib
import os

import fixtures

from glance.integrity import reading
from glance.integrity import report
from glance.store import filesystem
from glance.store import registry
from glance.tests.unit import base

MiB = 1024 * 1024


class Clock:
    """Time that passes only when slept."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class TestRateLimiter(base.TestCase):

    def limiter(self, rate):
        clock = Clock()
        return reading.RateLimiter(rate, sleep=clock.sleep,
                                   clock=clock), clock

    def test_sleeps_to_keep_the_rate(self):
        limiter, clock = self.limiter(MiB)
        for _ in range(4):
            limiter.spend(MiB // 2)
        # Two MiB at one MiB a second.
        self.assertEqual([0.5, 0.5, 0.5, 0.5], clock.slept)

    def test_time_spent_reading_counts(self):
        limiter, clock = self.limiter(MiB)
        clock.now += 0.75           # the read itself took that long
        limiter.spend(MiB)
        self.assertEqual([0.25], clock.slept)

    def test_no_limit(self):
        limiter = reading.RateLimiter(0, sleep=self.fail)
        limiter.spend(100 * MiB)

    def test_idle_time_is_not_credit(self):
        limiter, clock = self.limiter(MiB)
        clock.now += 10             # ten idle seconds
        limiter.spend(MiB)
        self.assertEqual([], clock.slept)
        limiter.spend(MiB)
        limiter.spend(MiB)
        self.assertEqual([1.0, 1.0], clock.slept)


class TestReadLocation(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.conf.config(filesystem_store_datadir=self.dir,
                         group='glance_store')
        self.addCleanup(registry.reset)
        self.store = registry.configure().default_store()
        self.assertIsInstance(self.store, filesystem.FilesystemStore)
        self.data = os.urandom(3 * MiB + 17)
        self.path = os.path.join(self.dir, 'img')
        with open(self.path, 'wb') as f:
            f.write(self.data)

    def test_hashes_counts_and_inspects(self):
        seen = []
        result = reading.read_location(
            self.store, 'file://' + self.path, 'sha256',
            reading.RateLimiter(0), inspect=True, progress=seen.append)
        self.assertEqual(len(self.data), result.size)
        self.assertEqual(hashlib.md5(self.data).hexdigest(), result.checksum)
        self.assertEqual(('sha256', hashlib.sha256(self.data).hexdigest()),
                         (result.hash_algo, result.hash_value))
        self.assertEqual(len(self.data), sum(seen))
        self.assertEqual(len(self.data),
                         result.checker.verdict('raw', 'bare'))

    def test_stops_when_asked(self):
        self.assertIsNone(reading.read_location(
            self.store, 'file://' + self.path, 'sha512',
            reading.RateLimiter(0), stopping=lambda: True))


class TestStateFile(base.TestCase):

    def test_round_trip_and_end(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'sub', 'state')
        state = report.StateFile(path)
        self.assertIsNone(state.load())
        state.save('abc')
        self.assertEqual('abc', report.StateFile(path).load())
        state.save(None)
        self.assertFalse(os.path.exists(path))
        with open(os.path.dirname(path) + '/state', 'w') as f:
            f.write('not json')
        self.assertIsNone(state.load())
        self.assertIsNone(report.StateFile('').load())
