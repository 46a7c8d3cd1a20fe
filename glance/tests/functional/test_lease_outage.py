"""A database outage longer than ``upload_lease_timeout`` under an upload
in flight: once the server is back, the upload's process renews its
lease before any worker takes the lease, seen lapsed, for that of a dead
writer; the upload completes.
"""

import time

import requests

from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import test_crash_recovery as crash
from glance.tests.functional import test_db_outage as outage

LEASE = 2
PIECES = 16


class LeaseOutageTests:

    def test_upload_outlives_an_outage_longer_than_its_lease(self):
        daemon = self.daemon(workers=2, upload_lease_timeout=LEASE)
        daemon.manage('db', 'sync')
        daemon.start()
        image_id = crash.new_image(daemon.url)
        sock = crash.open_upload(daemon.port, image_id,
                                 total=PIECES * crash.PIECE)
        self.addCleanup(sock.close)
        hd.wait_for(lambda: crash.show(daemon.url, image_id)['status']
                    == 'saving', what='the upload to start')
        sent = 1

        def send_for(seconds):
            # A piece a second: a slow client of a live upload.
            nonlocal sent
            end = time.monotonic() + seconds
            while time.monotonic() < end and sent < PIECES - 1:
                sock.sendall(b'x' * crash.PIECE)
                sent += 1
                time.sleep(1)

        self.server.stop()
        # Every lease looks lapsed by the time the server is back.
        send_for(3 * LEASE)
        self.server.start()
        # Several sweeps of both workers run meanwhile.
        send_for(3 * LEASE)
        while sent < PIECES:
            sock.sendall(b'x' * crash.PIECE)
            sent += 1
        status = hd.read_response(sock)[0]
        log = self.log_text(daemon)
        self.assertEqual(204, status, log[-5000:])
        shown = crash.show(daemon.url, image_id)
        self.assertEqual(('active', PIECES * crash.PIECE),
                         (shown['status'], shown['size']))
        self.assertIn('Could not renew the lease', log)
        self.assertNotIn('lost its lease', log)
        self.assertNotIn('undoing it', log)
        self.assertEqual(200, requests.get(
            daemon.url + '/v2/images/%s/file' % image_id,
            timeout=60).status_code)


class TestMariaDBLeaseOutage(LeaseOutageTests, outage.ServerTestCase):
    db_kind = 'mysql'


class TestPostgreSQLLeaseOutage(LeaseOutageTests, outage.ServerTestCase):
    db_kind = 'postgresql'
