"""glance-auditor against a real daemon's database and stores: data
corrupted by one byte, truncated or removed in the filesystem store is
found, reported (summary, report file, image.audit.failed) and, when
asked, no longer served; an image with a good and a bad copy is served
from the good one, and answers 503 once no copy is good."""

import json
import os
import signal
import time

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_integrity as hi
from glance.tests.functional import helpers_systemd as hs

DATA = b''.join(b'%08d' % i for i in range(8192))     # 64 KiB


class AuditorTest(hi.IntegrityMixin, base.FunctionalTest):

    options = {'oslo_messaging_notifications.driver': 'log'}

    def conf(self, **extra):
        options = {
            'auditor_report_file': os.path.join(self.workdir, 'audit.jsonl'),
            'auditor_state_file': os.path.join(self.workdir, 'audit.state'),
            'auditor_bytes_per_second': 0}
        options.update(extra)
        return self.own_conf('auditor', **options)

    def report_lines(self):
        with open(os.path.join(self.workdir, 'audit.jsonl')) as f:
            return [json.loads(line) for line in f]

    def test_corrupt_truncated_and_removed_data(self):
        corrupt = self.image_with(DATA)['id']
        truncated = self.image_with(DATA + b'tail')['id']
        removed = self.image_with(DATA[:1000])['id']
        good = self.image_with(DATA[::-1])['id']
        path = self.data_path(corrupt)
        with open(path, 'r+b') as f:
            f.seek(40000)
            byte = f.read(1)
            f.seek(40000)
            f.write(bytes([byte[0] ^ 0x01]))
        os.truncate(self.data_path(truncated), len(DATA))
        os.unlink(self.data_path(removed))

        summary = self.run_json('auditor', conf=self.conf(), expect=6)
        problems = {f['image_id']: f['problem'] for f in summary['findings']}
        self.assertEqual({corrupt: 'checksum_mismatch',
                          truncated: 'size_mismatch',
                          removed: 'missing'}, problems)
        self.assertEqual(4, summary['images'])
        self.assertEqual(1, summary['counts']['locations_good'])
        self.assertNotIn(good, problems)
        # Only reported: the locations stay as they were.
        self.assertEqual([(None, 'active')],
                         self.location_statuses(corrupt))
        lines = self.report_lines()
        self.assertEqual(problems, {r['image_id']: r['problem']
                                    for r in lines})
        self.assertEqual({'reported'}, {r['action'] for r in lines})
        # Each one also went out as an image.audit.failed notification
        # (the log driver), naming no location.
        log = open(os.path.join(self.workdir, 'auditor.log')).read()
        sent = [json.loads(line[line.index('{'):]) for line in
                log.splitlines()
                if 'oslo.messaging.notification.image.audit.failed' in line]
        self.assertEqual(problems, {n['payload']['id']:
                                    n['payload']['problem'] for n in sent})
        self.assertEqual({'ERROR'}, {n['priority'] for n in sent})
        self.assertNotIn('file://', json.dumps(sent))
        # A pass that finished leaves no state behind.
        self.assertFalse(os.path.exists(os.path.join(self.workdir,
                                                     'audit.state')))

        # Marking: the corrupt image is no longer served at all (its only
        # copy is bad): 503, never the wrong bytes.
        self.assertEqual(200, self.download(corrupt).status_code)
        self.run_json('auditor', '--image-id', corrupt,
                      conf=self.conf(auditor_mark_bad_locations=True),
                      expect=6)
        self.assertEqual([(None, 'audit_failed')],
                         self.location_statuses(corrupt))
        resp = self.download(corrupt)
        self.assertEqual(503, resp.status_code)
        self.assertIn('failed its integrity audit', resp.text)
        # The good image is untouched.
        self.assertEqual(DATA[::-1], self.download(good).content)

        # Deleting the image deletes the bad copy's row and data too.
        resp = self.request('DELETE', '/v2/images/%s' % corrupt,
                            headers=self.headers('p1'))
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(path))
        self.assertEqual([], self.location_statuses(corrupt))

    def test_killed_midway_then_resumed(self):
        ids = sorted(self.image_with(DATA)['id'] for _ in range(5))
        state = os.path.join(self.workdir, 'audit.state')
        # About a second per image.
        conf = self.conf(auditor_bytes_per_second=64 * 1024)
        proc = self.start_tool('auditor', '--once', conf=conf)
        after = hi.wait_state(state)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        after = json.load(open(state))['after']
        self.assertIn(after, ids[:-1])
        summary = self.run_json('auditor', conf=self.conf())
        self.assertEqual(after, summary['resumed_after'])
        self.assertEqual(len([i for i in ids if i > after]),
                         summary['images'])
        self.assertFalse(os.path.exists(state))
        # The next pass starts from the beginning again.
        self.assertEqual(5, self.run_json('auditor',
                                          conf=self.conf())['images'])

    def test_daemon_stops_on_sigterm_and_continues_later(self):
        ids = sorted(self.image_with(DATA)['id'] for _ in range(3))
        state = os.path.join(self.workdir, 'audit.state')
        conf = self.conf(auditor_bytes_per_second=64 * 1024,
                         auditor_interval=3600)
        listener = hs.NotifyListener(self.workdir)
        self.addCleanup(listener.close)
        proc = self.start_tool('auditor', conf=conf, env=listener.env())
        index, ready = listener.wait('READY')
        self.assertIn('Auditing every 3600s', ready.fields.get('STATUS'))
        after = hi.wait_state(state)
        proc.send_signal(signal.SIGTERM)
        listener.wait('STOPPING', after=index)
        self.assertEqual(0, proc.wait(hd.PATIENCE))
        # Stopped within the image it was reading: the state names one
        # finished before.
        self.assertIn(json.load(open(state))['after'], ids[:-1])
        self.assertLessEqual(after, json.load(open(state))['after'])

    def test_sigterm_ends_the_wait_of_a_low_rate(self):
        self.image_with(DATA)
        # 64 seconds for the image, longer than the test waits.
        conf = self.conf(auditor_bytes_per_second=1024)
        listener = hs.NotifyListener(self.workdir)
        self.addCleanup(listener.close)
        proc = self.start_tool('auditor', conf=conf, env=listener.env())
        index, _ = listener.wait('READY')
        hd.wait_for(lambda: 'checks the catalogue' in open(os.path.join(
            self.workdir, 'auditor.log')).read(), what='the pass')
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(hd.PATIENCE))
        self.assertFalse(os.path.exists(os.path.join(self.workdir,
                                                     'audit.state')))

    def test_bad_configuration_and_unreachable_database(self):
        out = self.run_tool('auditor', '--once',
                            conf=self.own_conf(
                                'bad', auditor_bytes_per_second='-5'))
        self.assertEqual(5, out.returncode, out.stderr)
        self.assertIn('auditor_bytes_per_second', out.stderr)
        out = self.run_tool('auditor', '--image-id', 'x')
        self.assertEqual(2, out.returncode)
        self.assertIn('--image-id needs --once', out.stderr)
        summary = self.run_json('auditor', '--image-id', 'nope',
                                conf=self.conf(), expect=6)
        self.assertEqual([('nope', 'not_active')],
                         [(f['image_id'], f['problem'])
                          for f in summary['findings']])
        other = os.path.join(self.workdir, 'down.conf')
        with open(other, 'w') as f:
            f.write('[database]\nconnection = mysql+pymysql://glance@'
                    '127.0.0.1:%d/glance\n' % base.free_port())
        out = self.run_tool('auditor', '--once', conf=other)
        self.assertEqual(1, out.returncode, out.stderr)
        self.assertIn('ERROR: glance-auditor:', out.stderr)
        self.assertIn('127.0.0.1', out.stderr)


class TwoCopiesTest(hi.IntegrityMixin, base.FunctionalTest):
    """An image in two file stores, one copy of which goes bad."""

    def setUp(self):
        self.options = {'enabled_backends': 'fast:file,cheap:file',
                        'glance_store.default_backend': 'fast',
                        'show_multiple_locations': True,
                        'show_image_direct_url': True}
        super().setUp()

    def test_good_copy_served_then_503_then_restored(self):
        image_id = self.image_with(DATA)['id']
        # The second copy, as copy-image would have made it.
        os.makedirs(os.path.join(self.workdir, 'cheap'), exist_ok=True)
        cheap = self.data_path(image_id, 'cheap')
        with open(cheap, 'wb') as f:
            f.write(DATA)
        self.sql("INSERT INTO image_locations (image_id, value, meta_data, "
                 "status, created_at, updated_at, deleted) VALUES (:id, "
                 ":url, :meta, 'active', :now, :now, :f)", id=image_id,
                 url='file://' + cheap, meta='{"store": "cheap"}',
                 now='2026-01-01 00:00:00', f=False)
        self.assertEqual('fast,cheap', self.show_image(image_id)['stores'])
        fast = self.data_path(image_id, 'fast')
        with open(fast, 'r+b') as f:
            f.write(b'X')
        conf = self.own_conf('auditor', auditor_mark_bad_locations=True,
                             auditor_bytes_per_second=0,
                             auditor_report_file='',
                             auditor_state_file=os.path.join(
                                 self.workdir, 'state'))
        summary = self.run_json('auditor', conf=conf, expect=6)
        self.assertEqual([('fast', 'checksum_mismatch', 'marked')],
                         [(f['store'], f['problem'], f['action'])
                          for f in summary['findings']])
        self.assertEqual([('fast', 'audit_failed'), ('cheap', 'active')],
                         self.location_statuses(image_id))
        # The good copy is served; the bad store is no longer shown.
        resp = self.download(image_id)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(DATA, resp.content)
        shown = self.show_image(image_id)
        self.assertEqual('cheap', shown['stores'])
        self.assertEqual(['file://' + cheap],
                         [loc['url'] for loc in shown['locations']])
        self.assertEqual('file://' + cheap, shown['direct_url'])
        # A bad copy may be removed even though it is not the last one
        # stored; the only good one may not.
        admin = self.headers('p1', roles='admin,member,reader')
        self.assertEqual(403, self.request(
            'DELETE', '/v2/stores/cheap/%s' % image_id,
            headers=admin).status_code)

        # The second copy goes bad too: nothing is served.
        with open(cheap, 'r+b') as f:
            f.truncate(100)
        self.run_json('auditor', conf=conf, expect=6)
        resp = self.download(image_id)
        self.assertEqual(503, resp.status_code)
        self.assertIn('failed its integrity audit', resp.text)

        # Repaired by hand: the next pass makes it active again.
        with open(cheap, 'wb') as f:
            f.write(DATA)
        summary = self.run_json('auditor', conf=conf, expect=6)
        self.assertEqual(1, summary['counts']['locations_restored'])
        self.assertEqual([('fast', 'audit_failed'), ('cheap', 'active')],
                         self.location_statuses(image_id))
        self.assertEqual(DATA, self.download(image_id).content)
        self.assertEqual(204, self.request(
            'DELETE', '/v2/stores/fast/%s' % image_id,
            headers=admin).status_code)
        time.sleep(0.5)
        self.assertFalse(os.path.exists(fast))
        self.assertEqual([('cheap', 'active')],
                         self.location_statuses(image_id))
