"""Delayed delete: pending_delete images keep their data until
glance-scrubber removes it, and can be restored before that."""

import os
import signal
import subprocess
import sys
import time

from glance.tests.functional import base
from glance.tests.functional import test_image_data


class TestDelayedDelete(test_image_data.ImageDataTest):

    options = {'delayed_delete': True, 'scrub_time': 0, 'wakeup_time': 1}

    def scrubber(self, *args, check=True):
        return subprocess.run(
            [sys.executable, '-m', 'glance.cmd.scrubber', '--config-file',
             self.daemon.conf] + list(args), capture_output=True, text=True,
            cwd=base.ROOT, check=check, timeout=60)

    def active_image(self, data=b'keep me', **extra):
        image = self.new_image(**extra)
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        return image['id']

    def test_delete_keeps_data_until_scrubbed(self):
        image_id = self.active_image()
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_code)
        self.assertEqual(404, self.request(
            'GET', '/v2/images/%s' % image_id).status_code)
        self.assertIn(image_id, self.stored_files())
        out = self.scrubber()
        self.assertIn('Scrubbed', out.stdout)
        self.assertNotIn(image_id, self.stored_files())
        # Restoring a scrubbed image is refused.
        out = self.scrubber('--restore', image_id, check=False)
        self.assertEqual(1, out.returncode)
        self.assertIn('not pending_delete', out.stderr)

    def test_restore(self):
        image_id = self.active_image(os_distro='cirros', tags=['t1'])
        self.request('DELETE', '/v2/images/%s' % image_id)
        out = self.scrubber('--restore', image_id)
        self.assertIn('restored', out.stdout)
        shown = self.show(image_id)
        self.assertEqual('active', shown['status'])
        self.assertEqual('cirros', shown['os_distro'])
        self.assertEqual(['t1'], shown['tags'])
        got = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(b'keep me', got.content)

    def test_queued_image_is_deleted_at_once(self):
        image = self.new_image()
        self.request('DELETE', '/v2/images/%s' % image['id'])
        out = self.scrubber('--restore', image['id'], check=False)
        self.assertEqual(1, out.returncode)

    def test_restore_and_daemon_conflict(self):
        out = self.scrubber('--daemon', '--restore', 'x', check=False)
        self.assertEqual(1, out.returncode)

    def test_daemon_mode(self):
        image_id = self.active_image()
        self.request('DELETE', '/v2/images/%s' % image_id)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.scrubber', '--daemon',
             '--config-file', self.daemon.conf], cwd=base.ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while image_id in self.stored_files():
                self.assertLess(time.time(), deadline)
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(0, proc.wait(30))
        self.assertFalse(os.path.exists(os.path.join(self.datadir(),
                                                     image_id)))
