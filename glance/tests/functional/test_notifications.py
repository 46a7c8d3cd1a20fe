"""Notifications sent to the RabbitMQ server of the machine
(127.0.0.1:5672, guest/guest), read back by a consumer of the test.

Without that server these tests fail, unless GLANCE_TEST_NO_RABBIT=1 says
the machine has none (they are skipped then, except under CI: see
glance.tests.prerequisites). The daemon runs two workers, so each forked
worker has to make its own connection.
"""

import json
import os
import socket
import time
import uuid

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd

RABBIT_HOST, RABBIT_PORT = '127.0.0.1', 5672
TRANSPORT_URL = 'rabbit://guest:guest@%s:%d/' % (RABBIT_HOST, RABBIT_PORT)
AMQP_URL = 'amqp://guest:guest@%s:%d//' % (RABBIT_HOST, RABBIT_PORT)
TOPIC = 'glance_test_%s' % uuid.uuid4().hex[:12]
IMAGE_FIELDS = {'id', 'name', 'status', 'created_at', 'updated_at',
                'min_disk', 'min_ram', 'protected', 'checksum', 'owner',
                'disk_format', 'container_format', 'size', 'virtual_size',
                'is_public', 'visibility', 'properties', 'tags', 'deleted',
                'deleted_at'}
TASK_FIELDS = {'id', 'type', 'status', 'result', 'owner', 'message',
               'expires_at', 'created_at', 'updated_at', 'deleted',
               'deleted_at'}


def rabbit_error():
    """None when the server takes a connection; otherwise why not."""
    try:
        with socket.create_connection((RABBIT_HOST, RABBIT_PORT), 2):
            return None
    except OSError as e:
        return 'connecting to %s:%d: %s' % (RABBIT_HOST, RABBIT_PORT, e)


class Consumer:
    """Reads ``<topic>.info`` and ``<topic>.error`` of the ``glance``
    exchange, keeping every notification seen."""

    def __init__(self, topic):
        import kombu
        self.connection = kombu.Connection(AMQP_URL)
        self.channel = self.connection.channel()
        # Declared as oslo.messaging's rabbit driver declares them, before
        # the daemon sends anything.
        exchange = kombu.Exchange('glance', type='topic', durable=False,
                                  auto_delete=False)
        self.queues = [
            kombu.Queue('%s.%s' % (topic, priority), exchange,
                        routing_key='%s.%s' % (topic, priority),
                        durable=False, auto_delete=False)(self.channel)
            for priority in ('info', 'error')]
        for queue in self.queues:
            queue.declare()
        self.seen = []

    def drain(self):
        for queue in self.queues:
            while True:
                message = queue.get(no_ack=True)
                if message is None:
                    break
                body = message.payload
                if isinstance(body, (bytes, str)):
                    body = json.loads(body)
                self.seen.append(json.loads(body['oslo.message']))

    def wait_for(self, event_type, match=lambda payload: True, timeout=20):
        """The first notification of ``event_type`` whose payload
        ``match`` accepts."""
        deadline = time.time() + timeout
        while True:
            found = self.find(event_type, match)
            if found:
                return found[0]
            if time.time() > deadline:
                raise AssertionError('No %s notification came; seen: %s' % (
                    event_type, [m['event_type'] for m in self.seen]))
            time.sleep(0.05)
            self.drain()

    def find(self, event_type, match=lambda payload: True):
        return [m for m in self.seen if m['event_type'] == event_type
                and match(m['payload'])]

    def close(self):
        for queue in self.queues:
            try:
                queue.delete()
            except Exception:
                pass
        self.connection.release()


def _image_is(image_id):
    return lambda payload: isinstance(payload, dict) and payload.get(
        'id') == image_id


class NotificationsTest(base.SharedDaemonTest):

    workers = 2
    options = {
        'oslo_messaging_notifications.driver': 'messagingv2',
        'oslo_messaging_notifications.transport_url': TRANSPORT_URL,
        'oslo_messaging_notifications.topics': TOPIC,
        'disabled_notifications': 'metadef_object,image.member.update',
    }

    @classmethod
    def setUpClass(cls):
        cls.consumer = None
        error = rabbit_error()
        cls._unmet = prerequisites.check('RABBIT', error is None, error)
        if cls._unmet is not None:
            return
        cls.consumer = Consumer(TOPIC)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        if cls.consumer is not None:
            cls.consumer.close()
        super().tearDownClass()

    def wait_for(self, event_type, match=lambda payload: True):
        message = self.consumer.wait_for(event_type, match)
        self.assertEqual('image.localhost', message['publisher_id'])
        return message

    def upload(self, image_id, data):
        resp = self.request('PUT', '/v2/images/%s/file' % image_id,
                            data=data, headers=self.headers(**{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)

    def test_image_lifecycle(self):
        image = self.create_image(
            headers=self.headers(), name='one', disk_format='raw',
            container_format='bare', tags=['red'], flavour='mint')
        image_id = image['id']
        created = self.wait_for('image.create', _image_is(image_id))
        self.assertEqual('INFO', created['priority'])
        payload = created['payload']
        self.assertEqual(IMAGE_FIELDS, set(payload))
        self.assertEqual('queued', payload['status'])
        self.assertEqual('one', payload['name'])
        self.assertEqual({'flavour': 'mint'}, payload['properties'])
        self.assertEqual(['red'], payload['tags'])
        self.assertEqual(self.project, payload['owner'])
        self.assertEqual('shared', payload['visibility'])
        self.assertFalse(payload['is_public'])
        self.assertFalse(payload['deleted'])
        self.assertIsNone(payload['deleted_at'])
        self.assertEqual(image['created_at'], payload['created_at'])

        resp = self.patch(image_id, [{'op': 'replace', 'path': '/name',
                                      'value': 'two'}],
                          headers=self.headers())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('two', self.wait_for(
            'image.update', _image_is(image_id))['payload']['name'])

        data = os.urandom(300000)
        self.upload(image_id, data)
        prepared = self.wait_for('image.prepare', _image_is(image_id))
        uploaded = self.wait_for('image.upload', _image_is(image_id))
        activated = self.wait_for('image.activate', _image_is(image_id))
        order = [m['event_type'] for m in self.consumer.seen
                 if m in (prepared, uploaded, activated)]
        self.assertEqual(['image.prepare', 'image.upload', 'image.activate'],
                         order)
        self.assertEqual('queued', prepared['payload']['status'])
        self.assertEqual([], prepared['payload']['os_glance_failed_import'])
        self.assertEqual(
            [], prepared['payload']['os_glance_importing_to_stores'])
        self.assertNotIn('backend', prepared['payload'])
        for message in (uploaded, activated):
            self.assertEqual('active', message['payload']['status'])
            self.assertEqual(len(data), message['payload']['size'])
        self.assertEqual(
            self.request('GET', '/v2/images/%s' % image_id).json()[
                'checksum'], activated['payload']['checksum'])
        self.assertNotIn('locations', activated['payload'])

        resp = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(data, resp.content)
        resp = self.request('GET', '/v2/images/%s/file' % image_id,
                            headers=self.headers(Range='bytes=0-99'))
        self.assertEqual(206, resp.status_code)

        def sent(payload):
            return payload['image_id'] == image_id
        deadline = time.time() + 20
        while len(self.consumer.find('image.send', sent)) < 2:
            self.assertLess(time.time(), deadline, self.consumer.seen)
            time.sleep(0.05)
            self.consumer.drain()
        sends = self.consumer.find('image.send', sent)
        self.assertEqual([100, len(data)], sorted(
            m['payload']['bytes_sent'] for m in sends))
        self.assertEqual({'bytes_sent', 'image_id', 'owner_id',
                          'receiver_tenant_id', 'receiver_user_id'},
                         set(sends[0]['payload']))
        for message in sends:
            self.assertEqual('INFO', message['priority'])
            self.assertEqual(self.project,
                             message['payload']['receiver_tenant_id'])
            self.assertEqual('user-' + self.project,
                             message['payload']['receiver_user_id'])
            self.assertEqual(self.project, message['payload']['owner_id'])

        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_code)
        deleted = self.wait_for('image.delete', _image_is(image_id))
        self.assertTrue(deleted['payload']['deleted'])
        self.assertIsNotNone(deleted['payload']['deleted_at'])
        self.assertEqual('deleted', deleted['payload']['status'])

    def test_interrupted_download_is_an_error(self):
        image = self.create_image(headers=self.headers(), disk_format='raw',
                                  container_format='bare')
        # More than the socket buffers hold, so the client leaves first.
        size = 32 * 1024 * 1024
        self.upload(image['id'], b'\0' * size)
        request = 'GET /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n' % (
            image['id'])
        for key, value in self.headers().items():
            request += '%s: %s\r\n' % (key, value)
        with socket.create_connection(('127.0.0.1',
                                       self.daemon.port)) as client:
            client.sendall(request.encode() + b'\r\n')
            self.assertIn(b'200 OK', client.recv(65536))
        message = self.wait_for(
            'image.send', lambda p: p['image_id'] == image['id'])
        self.assertEqual('ERROR', message['priority'])
        self.assertLess(message['payload']['bytes_sent'], size)

    def test_member_events(self):
        image = self.create_image(headers=self.headers(), disk_format='raw',
                                  container_format='bare')
        path = '/v2/images/%s/members' % image['id']
        member = 'member-%s' % uuid.uuid4().hex[:8]

        def of(payload):
            return payload['image_id'] == image['id']
        resp = self.request('POST', path, json={'member': member})
        self.assertEqual(200, resp.status_code, resp.text)
        created = self.wait_for('image.member.create', of)['payload']
        self.assertEqual({'image_id', 'member_id', 'status', 'created_at',
                          'updated_at', 'deleted', 'deleted_at'},
                         set(created))
        self.assertEqual((member, 'pending', False, None),
                         (created['member_id'], created['status'],
                          created['deleted'], created['deleted_at']))
        # image.member.update is in disabled_notifications.
        resp = self.request('PUT', '%s/%s' % (path, member),
                            json={'status': 'accepted'},
                            headers=self.headers(project=member))
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.request('DELETE', '%s/%s' % (path, member))
        self.assertEqual(204, resp.status_code, resp.text)
        deleted = self.wait_for('image.member.delete', of)['payload']
        self.assertTrue(deleted['deleted'])
        self.assertIsNotNone(deleted['deleted_at'])
        self.assertEqual('accepted', deleted['status'])
        # The delete event is the sentinel: the PUT went before the DELETE
        # on the same connection, to the same worker, whose one sender
        # publishes in order to the same queue; had the update been sent,
        # it would have been read before the delete.
        self.assertEqual([], self.consumer.find('image.member.update', of))

    def test_import_task_events(self):
        image = self.create_image(headers=self.headers(), disk_format='raw',
                                  container_format='bare')
        image_id = image['id']
        resp = self.request('PUT', '/v2/images/%s/stage' % image_id,
                            data=b'x' * 4096, headers=self.headers(**{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('POST', '/v2/images/%s/import' % image_id,
                            json={'method': {'name': 'glance-direct'}})
        self.assertEqual(202, resp.status_code, resp.text)
        activated = self.wait_for('image.activate', _image_is(image_id))
        self.assertEqual(4096, activated['payload']['size'])
        task_id = self.request('GET', '/v2/images/%s/tasks' % image_id).json(
        )['tasks'][0]['id']
        events = []
        for event_type in ('task.create', 'task.run', 'task.processing',
                           'task.success'):
            message = self.wait_for(event_type,
                                    lambda p: p['id'] == task_id)
            self.assertEqual(TASK_FIELDS, set(message['payload']))
            self.assertEqual('api_image_import', message['payload']['type'])
            self.assertEqual(self.project, message['payload']['owner'])
            self.assertIsNone(message['payload']['result'])
            events.append(message)
        self.assertEqual(['pending', 'processing', 'processing', 'success'],
                         [m['payload']['status'] for m in events])
        self.assertIsNotNone(events[-1]['payload']['expires_at'])
        self.assertEqual([], self.consumer.find('task.failure',
                                                lambda p: p['id'] == task_id))
        prepared = self.wait_for('image.prepare', _image_is(image_id))
        self.assertEqual('importing', prepared['payload']['status'])

    def test_metadef_events(self):
        name = 'OS::Test::%s' % uuid.uuid4().hex[:8]
        admin = self.headers(roles='admin,member,reader')
        resp = self.request('POST', '/v2/metadefs/namespaces', headers=admin,
                            json={
            'namespace': name, 'display_name': 'Test', 'visibility': 'public',
            'description': 'for notifications'})
        self.assertEqual(201, resp.status_code, resp.text)

        def of(payload):
            return payload.get('namespace') == name
        created = self.wait_for('metadef_namespace.create', of)['payload']
        self.assertEqual({'namespace', 'namespace_old', 'display_name',
                          'protected', 'visibility', 'owner', 'description',
                          'created_at', 'updated_at', 'deleted',
                          'deleted_at'}, set(created))
        self.assertEqual(name, created['namespace_old'])
        self.assertEqual('public', created['visibility'])
        self.assertEqual(self.project, created['owner'])
        self.assertFalse(created['protected'])

        base_path = '/v2/metadefs/namespaces/%s' % name
        resp = self.request('POST', base_path + '/properties', headers=admin,
                            json={
            'name': 'speed', 'title': 'Speed', 'type': 'integer',
            'minimum': 1})
        self.assertEqual(201, resp.status_code, resp.text)
        prop = self.wait_for('metadef_property.create', of)['payload']
        self.assertEqual(('speed', 'speed', 'integer', 'Speed', 1),
                         (prop['name'], prop['name_old'], prop['type'],
                          prop['title'], prop['minimum']))
        resp = self.request('POST', base_path + '/objects', headers=admin,
                            json={
            'name': 'thing', 'properties': {}})
        self.assertEqual(201, resp.status_code, resp.text)
        resp = self.request('POST', base_path + '/tags/fast', headers=admin)
        self.assertEqual(201, resp.status_code, resp.text)
        tag = self.wait_for('metadef_tag.create', of)['payload']
        self.assertEqual('fast', tag['name'])
        resp = self.request('POST', base_path + '/resource_types',
                            headers=admin, json={
            'name': 'OS::Glance::Image', 'prefix': 'hw_'})
        self.assertEqual(201, resp.status_code, resp.text)
        association = self.wait_for('metadef_resource_type.create', of)
        self.assertEqual('hw_', association['payload']['prefix'])

        new_name = name + '-renamed'
        resp = self.request('PUT', base_path, headers=admin, json={
            'namespace': new_name, 'visibility': 'public'})
        self.assertEqual(200, resp.status_code, resp.text)
        updated = self.wait_for('metadef_namespace.update',
                                lambda p: p['namespace'] == new_name)
        self.assertEqual(name, updated['payload']['namespace_old'])
        resp = self.request('DELETE',
                            '/v2/metadefs/namespaces/%s' % new_name,
                            headers=admin)
        self.assertEqual(204, resp.status_code, resp.text)
        deleted = self.wait_for('metadef_namespace.delete',
                                lambda p: p['namespace'] == new_name)
        self.assertTrue(deleted['payload']['deleted'])
        # metadef_object is in disabled_notifications.
        self.assertEqual([], [m for m in self.consumer.seen
                              if m['event_type'].startswith('metadef_object')
                              and m['payload'].get('namespace') == name])


class UnreachableBrokerTest(base.FunctionalTest):
    """With the messaging server down, requests are served as usual."""

    workers = 1
    options = {
        'oslo_messaging_notifications.driver': 'messagingv2',
        'oslo_messaging_notifications.transport_url':
            'rabbit://guest:guest@127.0.0.1:1/',
        'oslo_messaging_notifications.topics': TOPIC + '_nowhere',
    }

    def timed(self, method, path, status, **kwargs):
        started = time.monotonic()
        resp = self.request(method, path, **kwargs)
        self.assertEqual(status, resp.status_code, resp.text)
        self.assertLess(time.monotonic() - started, 5)
        return resp

    def test_requests_do_not_wait_for_the_broker(self):
        mark = hd.log_mark(self.daemon)
        image = self.timed('POST', '/v2/images', 201, json={
            'disk_format': 'raw', 'container_format': 'bare'}).json()
        path = '/v2/images/%s' % image['id']
        for _ in range(3):
            self.timed('PUT', path + '/tags/t', 204)
        self.timed('PUT', path + '/file', 204, data=b'abc', headers={
            'Content-Type': 'application/octet-stream'})
        self.assertEqual(b'abc', self.timed('GET', path + '/file',
                                            200).content)
        self.timed('DELETE', path, 204)
        # The notifications were tried (oslo.messaging logs each one it
        # could not send, naming the topic), out of the requests' way.
        hd.wait_log(self.daemon, TOPIC + '_nowhere', mark, timeout=20)
        self.timed('GET', '/healthcheck', 200)
