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


class TestHolder(base.TestCase):

    def test_this_process_is_alive(self):
        self.assertEqual(str(os.getpid()), leases.holder().split(' ')[3])
        self.assertFalse(leases.holder_gone(leases.holder()))

    def test_dead_process_of_this_node(self):
        node, boot, ns, _pid, start = leases.holder().rsplit(' ', 4)
        self.assertTrue(leases.holder_gone(
            '%s %s %s %d %s' % (node, boot, ns, dead_pid(), start)))
        # Of another pid namespace (another container of this host):
        # its pids cannot be looked up here, the lease must lapse.
        self.assertFalse(leases.holder_gone(
            '%s %s %s %d %s' % (node, boot, 'other-ns', dead_pid(), start)))

    def test_pid_of_another_process_now(self):
        # The holder's pid was given to another process since.
        node, boot, ns, pid, start = leases.holder().rsplit(' ', 4)
        self.assertTrue(leases.holder_gone(
            '%s %s %s %s %d' % (node, boot, ns, pid, int(start) + 1)))

    def test_earlier_boot_of_this_node(self):
        node, _boot, ns, pid, start = leases.holder().rsplit(' ', 4)
        self.assertTrue(leases.holder_gone(
            '%s %s %s %s %s' % (node, 'another-boot', ns, pid, start)))

    def test_other_node_waits_for_the_expiry(self):
        _node, boot, ns, _pid, start = leases.holder().rsplit(' ', 4)
        self.assertFalse(leases.holder_gone(
            'elsewhere %s %s %d %s' % (boot, ns, dead_pid(), start)))
        self.config(node_name='my-node')
        self.assertEqual('my-node', leases.holder().split(' ')[0])
        self.assertFalse(leases.holder_gone('not a holder'))

    def test_timings(self):
        self.assertEqual(30, leases.timeout())
        self.config(upload_lease_timeout=2)
        self.assertEqual(0.5, leases.renew_interval())
        self.assertLess(leases.sweep_interval(), 1)


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

    def make(self, status, kind, holder, expires_in=600):
        values = base.image_values(status=status)
        now = timeutils.now()
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
            db_leases.take(conn, values['id'], kind, holder, 'token-' +
                           values['id'][:8], now, now + datetime.timedelta(
                               seconds=expires_in))
        return values['id']

    def image(self, image_id):
        with session.reader() as conn:
            return db.image_get(conn, image_id, include_deleted=True)

    def lease(self, image_id):
        with session.reader() as conn:
            return db_leases.get(conn, image_id)

    def dead_holder(self):
        node, boot, ns, _pid, start = leases.holder().rsplit(' ', 4)
        return '%s %s %s %d %s' % (node, boot, ns, dead_pid(), start)

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
        _node, boot, ns, _pid, start = leases.holder().rsplit(' ', 4)
        remote = self.make('saving', leases.UPLOAD, 'other-node %s %s %d %s'
                           % (boot, ns, dead_pid(), start))
        self.assertEqual([], leases.recover())
        for image_id in (mine, remote):
            self.assertEqual('saving', self.image(image_id)['status'])
            self.assertIsNotNone(self.lease(image_id))

    def test_lapsed_lease_recovered_even_if_holder_lives(self):
        image_id = self.make('saving', leases.UPLOAD, 'other-node b n 1 1',
                             expires_in=-5)
        # Just past its expiry, within what a column without fractions of
        # a second can cut off: not yet.
        recent = self.make('saving', leases.UPLOAD, 'other-node b n 1 1',
                           expires_in=-0.1)
        self.assertEqual([image_id], leases.recover())
        self.assertEqual('queued', self.image(image_id)['status'])
        self.assertEqual('saving', self.image(recent)['status'])

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
