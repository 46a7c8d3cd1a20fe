"""glance.domain.images.leases: who holds a lease, when its holder is
dead, and what recovery does to the image and its partial data."""

import datetime
import io
import os
import subprocess
import sys
import time

import fixtures

from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import leases as db_leases
from glance.db import session
from glance.domain.images import leases
from glance.domain.images import staging
from glance.store import registry
from glance.tests.unit import base


def dead_pid():
    """The pid of a process that has exited (and been waited for)."""
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    child.wait()
    return child.pid


def holder(**changed):
    """This process's holder name with some of its parts changed."""
    parts = dict(zip(('node', 'machine', 'boot', 'ns', 'pid', 'start'),
                     leases.holder().rsplit(' ', 5)))
    parts.update({k: str(v) for k, v in changed.items()})
    return '%(node)s %(machine)s %(boot)s %(ns)s %(pid)s %(start)s' % parts


class TestHolder(base.TestCase):

    def test_this_process_is_alive(self):
        self.assertEqual(str(os.getpid()), leases.holder().split(' ')[4])
        self.assertEqual(leases.machine_id(), leases.holder().split(' ')[1])
        self.assertFalse(leases.holder_gone(leases.holder()))

    def test_dead_process_of_this_node(self):
        self.assertTrue(leases.holder_gone(holder(pid=dead_pid())))
        # Of another pid namespace (another container of this host):
        # its pids cannot be looked up here, the lease must lapse.
        self.assertFalse(leases.holder_gone(holder(pid=dead_pid(),
                                                   ns='other-ns')))

    def test_pid_of_another_process_now(self):
        # The holder's pid was given to another process since.
        start = int(leases.holder().split(' ')[5])
        self.assertTrue(leases.holder_gone(holder(start=start + 1)))

    def test_earlier_boot_of_this_node(self):
        self.assertTrue(leases.holder_gone(holder(boot='another-boot')))

    def test_other_node_waits_for_the_expiry(self):
        self.assertFalse(leases.holder_gone(holder(node='elsewhere',
                                                   pid=dead_pid())))
        self.config(node_name='my-node')
        self.assertEqual('my-node', leases.holder().split(' ')[0])
        self.assertFalse(leases.holder_gone('not a holder'))
        # Written before the machine id was part of the name.
        node, _machine, rest = leases.holder().split(' ', 2)
        self.assertFalse(leases.holder_gone('%s %s' % (node, rest)))

    def test_same_node_name_on_another_machine_waits_for_the_expiry(self):
        # A cloned host or a container of the same host name: its boot
        # and its pids are not this host's.
        for changed in ({'boot': 'another-boot'}, {'pid': dead_pid()}):
            self.assertFalse(leases.holder_gone(holder(
                machine='0123456789abcdef0123456789abcdef', **changed)))

    def test_without_machine_id_only_the_expiry_counts(self):
        self.useFixture(fixtures.MonkeyPatch(
            'glance.domain.images.leases._MACHINE_ID', None))
        self.useFixture(fixtures.MonkeyPatch(
            'glance.domain.images.leases.MACHINE_ID_FILES',
            ('/nonexistent/machine-id',)))
        self.assertEqual('-', leases.holder().split(' ')[1])
        for changed in ({'boot': 'another-boot'}, {'pid': dead_pid()}):
            self.assertFalse(leases.holder_gone(holder(**changed)))

    def test_timings(self):
        self.assertEqual(30, leases.timeout())
        self.config(upload_lease_timeout=2)
        self.assertEqual(0.5, leases.renew_interval())
        self.assertEqual(0.125, leases.retry_interval())
        self.assertLess(leases.sweep_interval(), 1)
        self.assertEqual(10, leases.file_sweep_interval())
        self.config(upload_lease_timeout=30)
        self.assertEqual(1, leases.retry_interval())


class StoresTestCase(base.DBTestCase):
    """A store directory and a staging directory of the test's own."""

    def setUp(self):
        super().setUp()
        self.datadir = self.useFixture(fixtures.TempDir()).path
        self.staging = self.useFixture(fixtures.TempDir()).path
        self.config(filesystem_store_datadir=self.datadir,
                    group='glance_store')
        self.config(node_staging_uri='file://' + self.staging)
        registry.reset()
        self.addCleanup(registry.reset)
        leases._LAPSED.clear()
        self.addCleanup(leases._LAPSED.clear)

    def make(self, status, kind, holder, expires_in=600):
        values = base.image_values(status=status)
        now = timeutils.now()
        # The expiry from the clock itself, not from ``now`` (cut to the
        # second): a lease made to expire 0.1 s ago must not have expired
        # up to a second earlier.
        expires = timeutils.utcnow() + datetime.timedelta(seconds=expires_in)
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
            db_leases.take(conn, values['id'], kind, holder, 'token-' +
                           values['id'][:8], now, expires)
        return values['id']

    def image(self, image_id):
        with session.reader() as conn:
            return db.image_get(conn, image_id, include_deleted=True)

    def lease(self, image_id):
        with session.reader() as conn:
            return db_leases.get(conn, image_id)

    def dead_holder(self):
        return holder(pid=dead_pid())

    def touch(self, *parts):
        path = os.path.join(*parts)
        with open(path, 'wb') as f:
            f.write(b'partial')
        return path


class TestRecover(StoresTestCase):

    def test_dead_upload_back_to_queued_without_data(self):
        image_id = self.make('saving', leases.UPLOAD, self.dead_holder())
        self.touch(self.datadir, '.%s.abcd.part' % image_id)
        self.touch(self.datadir, image_id)     # named, not recorded
        self.assertEqual([image_id], leases.recover())
        self.assertEqual('queued', self.image(image_id)['status'])
        self.assertIsNone(self.lease(image_id))
        self.assertEqual([], os.listdir(self.datadir))
        self.assertEqual([], leases.recover())

    def test_dead_stage_back_to_queued_without_staged_data(self):
        image_id = self.make('uploading', leases.STAGE, self.dead_holder())
        self.touch(self.staging, '.%s.abcd.part' % image_id)
        self.touch(self.staging, image_id)
        self.assertEqual([image_id], leases.recover())
        self.assertEqual('queued', self.image(image_id)['status'])
        self.assertEqual([], os.listdir(self.staging))

    def test_live_and_unexpired_holders_kept(self):
        mine = self.make('saving', leases.UPLOAD, leases.holder())
        remote = self.make('saving', leases.UPLOAD,
                           holder(node='other-node', pid=dead_pid()))
        self.assertEqual([], leases.recover())
        for image_id in (mine, remote):
            self.assertEqual('saving', self.image(image_id)['status'])
            self.assertIsNotNone(self.lease(image_id))

    def clock(self):
        """Make the clock of the database (SQLite: this host's) one the
        test moves on; returns a function advancing it by seconds."""
        now = [timeutils.utcnow()]
        self.useFixture(fixtures.MonkeyPatch(
            'glance.common.timeutils.utcnow', lambda: now[0]))

        def advance(seconds):
            now[0] += datetime.timedelta(seconds=seconds)
        return advance

    def test_lapsed_lease_recovered_on_its_second_sighting(self):
        advance = self.clock()
        image_id = self.make('saving', leases.UPLOAD, 'other-node m b n 1 1',
                             expires_in=-5)
        # Just past its expiry, within what a column without fractions of
        # a second can cut off: not yet lapsed.
        recent = self.make('saving', leases.UPLOAD, 'other-node m b n 1 1',
                           expires_in=-0.1)
        # Seen lapsed once: it may have lapsed while the database was
        # out of reach, its holder not yet back; a renewal interval later
        # and unchanged, it is taken over.
        self.assertEqual([], leases.recover())
        advance(leases.renew_interval() / 2)
        self.assertEqual([], leases.recover())
        advance(leases.renew_interval() / 2)
        self.assertEqual([image_id], leases.recover())
        self.assertEqual('queued', self.image(image_id)['status'])
        self.assertEqual('saving', self.image(recent)['status'])

    def test_lease_renewed_after_an_outage_kept(self):
        advance = self.clock()
        image_id = self.make('saving', leases.UPLOAD, 'other-node m b n 1 1',
                             expires_in=-60)
        self.assertEqual([], leases.recover())
        # Its holder renews it once it reaches the database again.
        with session.writer() as conn:
            token = db_leases.get(conn, image_id)['token']
            self.assertTrue(db_leases.renew(conn, image_id, token, (
                timeutils.utcnow() + datetime.timedelta(seconds=30))))
        advance(leases.renew_interval())
        self.assertEqual([], leases.recover())
        self.assertEqual('saving', self.image(image_id)['status'])
        self.assertIsNotNone(self.lease(image_id))

    def test_sweep_failing_between_sightings_starts_over(self):
        advance = self.clock()
        image_id = self.make('saving', leases.UPLOAD, 'other-node m b n 1 1',
                             expires_in=-60)
        self.assertEqual([], leases.recover())
        advance(leases.renew_interval())
        with fixtures.MockPatchObject(
                db_leases, 'all_leases',
                side_effect=exception.ServiceUnavailable('down')):
            self.assertRaises(exception.ServiceUnavailable, leases.recover)
        advance(leases.renew_interval())
        self.assertEqual([], leases.recover())
        advance(leases.renew_interval())
        self.assertEqual([image_id], leases.recover())

    def test_deleted_image_data_removed(self):
        image_id = self.make('saving', leases.UPLOAD, self.dead_holder())
        with session.writer() as conn:
            db.image_destroy(conn, image_id, 'deleted', timeutils.now())
        self.touch(self.datadir, '.%s.abcd.part' % image_id)
        self.touch(self.datadir, image_id)
        self.assertEqual([image_id], leases.recover())
        self.assertEqual('deleted', self.image(image_id)['status'])
        self.assertEqual([], os.listdir(self.datadir))


class TestLease(base.DBTestCase):

    def test_take_renew_end(self):
        values = base.image_values(status='saving')
        lease = leases.Lease(values['id'], leases.UPLOAD)
        now = timeutils.now()
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
            lease.take(conn, now)
        with session.reader() as conn:
            row = db_leases.get(conn, values['id'])
        self.assertEqual(leases.holder(), row['holder'])
        self.assertEqual(lease.token, row['token'])
        later = now + datetime.timedelta(seconds=90)
        with session.writer() as conn:
            self.assertTrue(db_leases.renew(conn, values['id'], lease.token,
                                            later))
            self.assertFalse(db_leases.renew(conn, values['id'], 'other',
                                             later))
            self.assertTrue(lease.end(conn))
            self.assertFalse(lease.end(conn))

    def test_renewed_until_stopped(self):
        self.config(upload_lease_timeout=1)
        values = base.image_values(status='saving')
        lease = leases.Lease(values['id'], leases.UPLOAD)
        taken = timeutils.now()
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
            lease.take(conn, taken)

        def expiry():
            with session.reader() as conn:
                return db_leases.get(conn, values['id'])['expires_at']

        first = expiry()
        lease.start()
        self.addCleanup(lease.stop)
        deadline = time.monotonic() + 30
        while expiry() == first:
            self.assertLess(time.monotonic(), deadline, 'never renewed')
            time.sleep(0.05)
        self.assertFalse(lease.lost)
        # Taken over: the holder finds out at its next renewal.
        with session.writer() as conn:
            db_leases.end(conn, values['id'], lease.token)
        while not lease.lost:
            self.assertLess(time.monotonic(), deadline, 'loss unnoticed')
            time.sleep(0.05)

    def test_lost_lease_stops_the_reader(self):
        lease = leases.Lease('image', leases.UPLOAD)
        reader = lease.watch(io.BytesIO(b'abc'))
        self.assertEqual(b'a', reader.read(1))
        lease.lost = True
        self.assertRaises(exception.Conflict, reader.read, 1)


class TestStageTakenOver(StoresTestCase):
    """A stage whose lease is taken over after its data was staged."""

    def test_staged_file_removed_and_image_stageable_again(self):
        values = base.image_values(status='queued')
        image_id = values['id']
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])

        class TakenOverAtTheEnd(io.BytesIO):
            # Once all data is read, another node takes the lease over
            # (as if it had lapsed) and puts the image back to queued.
            def read(inner, size=-1):
                data = io.BytesIO.read(inner, size)
                if not data:
                    with session.reader() as conn:
                        lease = db_leases.get(conn, image_id)
                    self.assertTrue(leases._recover(lease))
                return data

        self.assertRaises(exception.Conflict, staging.stage, base.ctx(),
                          image_id, TakenOverAtTheEnd(b'staged'))
        self.assertEqual('queued', self.image(image_id)['status'])
        self.assertEqual([], os.listdir(self.staging))
        staging.stage(base.ctx(), image_id, io.BytesIO(b'again'))
        self.assertEqual('uploading', self.image(image_id)['status'])
        with open(os.path.join(self.staging, image_id), 'rb') as f:
            self.assertEqual(b'again', f.read())
