"""Notifications still queued when glance-api takes SIGTERM are sent
before its processes exit (within graceful_shutdown_timeout), not
dropped. RabbitMQ at 127.0.0.1:5672 as in test_notifications."""

import signal
import uuid

import requests

from glance.tests import prerequisites
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import test_notifications as tn

COUNT = 500


class TestNotificationsAtStop(hd.DaemonTestCase):

    def setUp(self):
        super().setUp()
        error = tn.rabbit_error()
        prerequisites.require('RABBIT', error is None, error)
        self.topic = 'glance_drain_%s' % uuid.uuid4().hex[:12]
        self.consumer = tn.Consumer(self.topic)
        self.addCleanup(self.consumer.close)

    def check_all_sent_at_stop(self, workers):
        daemon = self.start_daemon(workers=workers, options={
            'oslo_messaging_notifications.driver': 'messagingv2',
            'oslo_messaging_notifications.transport_url': tn.TRANSPORT_URL,
            'oslo_messaging_notifications.topics': self.topic,
            'graceful_shutdown_timeout': 20,
        })
        with requests.Session() as http:
            response = http.post(daemon.url + '/v2/metadefs/namespaces',
                                 json={'namespace': 'drain'}, timeout=30)
            self.assertEqual(201, response.status_code, response.text)
            # One request queues a notification per tag: most are still
            # queued when the SIGTERM comes right after its response.
            names = ['tag-%d' % i for i in range(COUNT)]
            response = http.post(
                daemon.url + '/v2/metadefs/namespaces/drain/tags',
                json={'tags': [{'name': n} for n in names]}, timeout=60)
            self.assertEqual(201, response.status_code, response.text)
        daemon.signal(signal.SIGTERM)
        self.assertEqual(0, daemon.proc.wait(60), daemon.output())
        self.consumer.wait_for('metadef_tag.create',
                               lambda p: p.get('name') == names[-1])
        sent = {m['payload']['name']
                for m in self.consumer.find('metadef_tag.create')}
        self.assertEqual(set(names), sent)
        self.assertNotIn('notifications not sent', hd.log_text(daemon))

    def test_worker_sends_queued_notifications_at_sigterm(self):
        self.check_all_sent_at_stop(workers=1)

    def test_single_process_sends_queued_notifications_at_sigterm(self):
        self.check_all_sent_at_stop(workers=0)
