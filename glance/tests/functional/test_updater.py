"""glance-updater against a real daemon's database and stores: rows
stripped of their hashes and virtual size (as an older release left
them) are filled in from the data, a qcow2's virtual size read from its
header, missing data and contradicting values reported with nothing
written, a run killed midway resumed, and two updaters at once never read
the same image."""

import json
import os
import re
import shutil
import signal
import subprocess

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_integrity as hi

DATA = b''.join(b'%08d' % i for i in range(8192))     # 64 KiB
QEMU_IMG = shutil.which('qemu-img')
STRIP = ('UPDATE images SET checksum = NULL, os_hash_algo = NULL, '
         'os_hash_value = NULL, virtual_size = NULL WHERE id = :id')
READING = re.compile(r'Image (\S+): reading its data')


class UpdaterMixin(hi.IntegrityMixin):

    def conf(self, name='updater', **extra):
        options = {
            'updater_report_file': os.path.join(self.workdir,
                                                '%s.jsonl' % name),
            'updater_state_file': os.path.join(self.workdir,
                                               '%s.state' % name),
            'updater_bytes_per_second': 0}
        options.update(extra)
        return self.own_conf(name, **options)

    def stripped(self, data=DATA, **body):
        image_id = self.image_with(data, **body)['id']
        before = self.row(image_id)
        self.sql(STRIP, id=image_id)
        return image_id, before

    def leases(self):
        return self.sql('SELECT image_id, kind FROM image_leases')


class UpdaterTest(UpdaterMixin, base.FunctionalTest):

    options = {'oslo_messaging_notifications.driver': 'log'}

    def test_fills_in_stripped_rows(self):
        first, first_row = self.stripped()
        second, second_row = self.stripped(DATA[:5000])
        # Only the multihash missing: the checksum kept is checked, not
        # rewritten.
        third = self.image_with(DATA[::-1])['id']
        third_row = self.row(third)
        self.sql('UPDATE images SET os_hash_algo = NULL, os_hash_value = '
                 'NULL WHERE id = :id', id=third)
        self.assertIsNone(self.row(first)['os_hash_value'])

        listed = self.run_json('updater', '--dry-run', conf=self.conf())
        self.assertEqual(
            {first: ['checksum', 'os_hash_value', 'virtual_size'],
             second: ['checksum', 'os_hash_value', 'virtual_size'],
             third: ['os_hash_value']},
            {i['image_id']: i['lacking'] for i in listed['listed']})
        self.assertEqual(0, listed['bytes_read'])
        self.assertIsNone(self.row(first)['checksum'])

        summary = self.run_json('updater', conf=self.conf())
        self.assertEqual([], summary['findings'])
        self.assertEqual(3, summary['counts']['images_filled'])
        self.assertEqual(first_row, self.row(first))
        self.assertEqual(second_row, self.row(second))
        self.assertEqual(third_row, self.row(third))
        self.assertEqual(len(DATA), self.row(first)['virtual_size'])
        self.assertEqual([], self.leases())
        with open(os.path.join(self.workdir, 'updater.jsonl')) as f:
            filled = {r['image_id']: r for r in map(json.loads, f)}
        self.assertEqual({first, second, third}, set(filled))
        self.assertEqual(['os_hash_algo', 'os_hash_value'],
                         sorted(filled[third]['values']))
        # Nothing left to do.
        self.assertEqual(0, self.run_json('updater',
                                          conf=self.conf())['images'])
        self.assertEqual(DATA, self.download(first).content)

    def test_qcow2_virtual_size(self):
        prerequisites.require('QEMU_IMG', QEMU_IMG is not None,
                              'no qemu-img on PATH')
        path = os.path.join(self.workdir, 'disk.qcow2')
        subprocess.run([QEMU_IMG, 'create', '-f', 'qcow2', path, '16M'],
                       check=True, capture_output=True)
        with open(path, 'rb') as f:
            data = f.read()
        image_id, before = self.stripped(data, disk_format='qcow2')
        self.assertEqual(16 * 1024 * 1024, before['virtual_size'])
        self.assertNotEqual(before['size'], before['virtual_size'])
        summary = self.run_json('updater', '--image-id', image_id,
                                conf=self.conf())
        self.assertEqual(1, summary['counts']['filled_virtual_size'])
        self.assertEqual(before, self.row(image_id))

    def test_missing_data_and_contradicting_values(self):
        gone, _ = self.stripped()
        os.unlink(self.data_path(gone))
        wrong, wrong_row = self.stripped(DATA[:3000])
        self.sql("UPDATE images SET checksum = :c WHERE id = :id",
                 c='0' * 32, id=wrong)
        summary = self.run_json('updater', conf=self.conf(), expect=6)
        found = {(f['image_id'], f['problem'], f.get('field'))
                 for f in summary['findings']}
        self.assertEqual({(gone, 'data_missing', None),
                          (wrong, 'mismatch', 'checksum')}, found)
        # Nothing written to either.
        self.assertIsNone(self.row(gone)['os_hash_value'])
        self.assertEqual({'checksum': '0' * 32, 'os_hash_value': None,
                          'virtual_size': None},
                         {k: self.row(wrong)[k] for k in
                          ('checksum', 'os_hash_value', 'virtual_size')})
        self.assertEqual([], self.leases())
        with open(os.path.join(self.workdir, 'updater.log')) as f:
            log = f.read()
        sent = [json.loads(line[line.index('{'):]) for line in
                log.splitlines() if
                'oslo.messaging.notification.image.update.mismatch' in line]
        self.assertEqual([(wrong, 'checksum', '0' * 32,
                           wrong_row['checksum'])],
                         [(n['payload']['id'], n['payload']['field'],
                           n['payload']['recorded'], n['payload']['found'])
                          for n in sent])
        # A bad option value stops it with its own exit status.
        out = self.run_tool('updater', '--once', conf=self.own_conf(
            'bad', updater_bytes_per_second='fast'))
        self.assertEqual(5, out.returncode, out.stderr)
        self.assertIn('updater_bytes_per_second', out.stderr)
        out = self.run_tool('updater', '--once', conf=self.own_conf(
            'bad', hashing_algorithm='sha1024'))
        self.assertEqual(4, out.returncode, out.stderr)
        self.assertIn('hashing_algorithm = sha1024', out.stderr)

    def test_killed_midway_then_resumed(self):
        ids = sorted(self.stripped()[0] for _ in range(5))
        state = os.path.join(self.workdir, 'updater.state')
        # About a second per image.
        proc = self.start_tool('updater', '--once', conf=self.conf(
            updater_bytes_per_second=64 * 1024))
        hi.wait_state(state)
        # Killed while it reads an image under its lease.
        hd.wait_for(lambda: self.leases(), what='a lease')
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        after = json.load(open(state))['after']
        self.assertIn(after, ids[:-1])
        self.assertEqual(['update'], [r.kind for r in self.leases()])
        for image_id in ids:
            filled = self.row(image_id)['os_hash_value'] is not None
            if image_id <= after:
                self.assertTrue(filled, image_id)
        summary = self.run_json('updater', conf=self.conf())
        self.assertEqual(after, summary['resumed_after'])
        self.assertEqual([], summary['findings'])
        for image_id in ids:
            self.assertIsNotNone(self.row(image_id)['os_hash_value'])
        # The lease the killed run held (if it was reading) was taken
        # over: none is left.
        self.assertEqual([], self.leases())
        self.assertFalse(os.path.exists(state))

    def test_api_recovery_removes_a_dead_updaters_lease_only(self):
        image_id, before = self.stripped()
        proc = self.start_tool('updater', '--once', conf=self.conf(
            updater_bytes_per_second=16 * 1024))
        hd.wait_for(lambda: self.leases(), what='a lease')
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        self.assertEqual(['update'], [r.kind for r in self.leases()])
        # glance-api's recovery at start takes the lease of the dead
        # holder over: the row goes, the image and its data stay.
        self.daemon.stop()
        self.daemon.start()
        self.assertEqual([], self.leases())
        self.assertEqual('active', self.row(image_id)['status'])
        self.assertEqual(DATA, self.download(image_id).content)
        self.assertIsNone(self.row(image_id)['os_hash_value'])


class TwoUpdatersTest(UpdaterMixin, base.FunctionalTest):
    """Two updaters (two nodes) on one catalogue, on each database."""

    def test_two_updaters_never_read_the_same_image(self):
        ids = {self.stripped()[0] for _ in range(6)}
        procs = []
        for name in ('one', 'two'):
            procs.append(self.start_tool(
                'updater', '--once', log=os.path.join(
                    self.workdir, '%s.log' % name),
                conf=self.conf(name, updater_bytes_per_second=128 * 1024)))
        for proc in procs:
            self.assertEqual(0, proc.wait(hd.PATIENCE * 4),
                             proc.stderr.read())
        read = []
        for name in ('one', 'two'):
            with open(os.path.join(self.workdir, '%s.log' % name)) as f:
                read.append([m.group(1) for m in READING.finditer(f.read())])
        one, two = read
        self.assertEqual(len(one), len(set(one)))
        self.assertEqual(len(two), len(set(two)))
        self.assertEqual(set(), set(one) & set(two))
        self.assertEqual(ids, set(one) | set(two))
        for image_id in ids:
            self.assertIsNotNone(self.row(image_id)['os_hash_value'])
        self.assertEqual([], self.leases())


class TwoUpdatersMariaDBTest(TwoUpdatersTest):
    db_kind = 'mysql'


class TwoUpdatersPostgreSQLTest(TwoUpdatersTest):
    db_kind = 'postgresql'
