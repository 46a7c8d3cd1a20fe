"""glance.notifier: disabled_notifications, payloads, and sending through
oslo.messaging's log driver (the RabbitMQ path is in the functional
tests)."""

import datetime
import json
import logging
import time

import fixtures

from glance import notifier
from glance.common import timeutils
from glance.domain.images import images
from glance.tests.unit import base

WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9)


class TestDisabled(base.TestCase):

    def test_event_group_and_prefix(self):
        cases = [
            ('image.create', ['image.create'], True),
            ('image.create', ['image.update'], False),
            ('image.create', ['image'], True),
            ('image.member.create', ['image'], True),
            # Neither the event nor its group: as upstream, no match.
            ('image.member.create', ['image.member'], False),
            ('image.member.create', ['image.member.*'], True),
            ('image.create', ['image.member.*'], False),
            ('image.create', ['image.*'], True),
            ('task.success', ['image', 'task'], True),
            ('metadef_tag.create', ['metadef_namespace'], False),
            ('metadef_tag.create', [' metadef_tag ', ''], True),
            ('image.create', [], False),
        ]
        for event_type, disabled, expected in cases:
            self.assertEqual(expected,
                             notifier.is_disabled(event_type, disabled),
                             (event_type, disabled))

    def test_reads_the_option(self):
        self.config(disabled_notifications=['task'])
        self.assertTrue(notifier.is_disabled('task.run'))
        self.assertFalse(notifier.is_disabled('image.create'))


class TestPayloads(base.TestCase):

    def image(self, **overrides):
        image = {'id': 'i1', 'name': 'n', 'status': 'active',
                 'visibility': 'public', 'protected': False, 'min_disk': 1,
                 'min_ram': 2, 'checksum': 'c', 'owner': 'p1',
                 'disk_format': 'raw', 'container_format': 'bare',
                 'size': 10, 'virtual_size': 10, 'os_hidden': False,
                 'created_at': WHEN, 'updated_at': WHEN,
                 'properties': {'a': 'b'}, 'tags': ['t'],
                 'locations': [{'url': 'swift://user:secret@host/c'}]}
        image.update(overrides)
        return image

    def test_image(self):
        payload = notifier.image_payload(self.image())
        self.assertEqual({
            'id': 'i1', 'name': 'n', 'status': 'active', 'min_disk': 1,
            'min_ram': 2, 'protected': False, 'checksum': 'c',
            'owner': 'p1', 'disk_format': 'raw', 'container_format': 'bare',
            'size': 10, 'virtual_size': 10, 'is_public': True,
            'visibility': 'public', 'properties': {'a': 'b'}, 'tags': ['t'],
            'created_at': '2024-05-06T07:08:09Z',
            'updated_at': '2024-05-06T07:08:09Z',
            'deleted': False, 'deleted_at': None}, payload)
        self.assertNotIn('secret', json.dumps(payload))
        self.assertFalse(notifier.image_payload(
            self.image(visibility='community'))['is_public'])

    def test_data_payload_lists_import_state(self):
        image = self.image(properties={
            'os_glance_importing_to_stores': 'b,c',
            'os_glance_failed_import': 'a'})
        payload = notifier.data_payload(image, 'fast')
        self.assertEqual(['b', 'c'],
                         payload['os_glance_importing_to_stores'])
        self.assertEqual(['a'], payload['os_glance_failed_import'])
        # The store is named only with several stores.
        self.assertNotIn('backend', payload)
        self.config(enabled_backends={'fast': 'file', 'slow': 'file'})
        self.assertEqual('fast',
                         notifier.data_payload(image, 'fast')['backend'])
        self.assertEqual([], notifier.data_payload(self.image())[
            'os_glance_failed_import'])

    def test_member(self):
        row = {'id': 3, 'image_id': 'i1', 'member': 'p2',
               'status': 'pending', 'created_at': WHEN, 'updated_at': WHEN}
        self.assertEqual({'image_id': 'i1', 'member_id': 'p2',
                          'status': 'pending',
                          'created_at': '2024-05-06T07:08:09Z',
                          'updated_at': '2024-05-06T07:08:09Z',
                          'deleted': False, 'deleted_at': None},
                         notifier.member_payload(row))
        deleted = notifier.member_payload(row, deleted=True)
        self.assertTrue(deleted['deleted'])
        self.assertRegex(deleted['deleted_at'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

    def test_task_never_carries_input_result_or_message(self):
        task = {'id': 't1', 'type': 'import', 'status': 'failure',
                'owner': 'p1', 'input': {'import_from': 'http://u:pw@h/'},
                'result': {'image_id': 'i1'}, 'message': 'boom',
                'expires_at': WHEN, 'created_at': WHEN, 'updated_at': WHEN,
                'image_id': 'i1', 'user_id': 'u'}
        self.assertEqual({
            'id': 't1', 'type': 'import', 'status': 'failure',
            'owner': 'p1', 'result': None, 'message': None,
            'expires_at': '2024-05-06T07:08:09Z',
            'created_at': '2024-05-06T07:08:09Z',
            'updated_at': '2024-05-06T07:08:09Z',
            'deleted': False, 'deleted_at': None},
            notifier.task_payload(task))

    def test_namespace_keeps_the_old_name(self):
        namespace = {'id': 1, 'namespace': 'new', 'display_name': 'D',
                     'description': None, 'visibility': 'private',
                     'protected': True, 'owner': 'p1', 'created_at': WHEN,
                     'updated_at': WHEN, 'properties': {}}
        payload = notifier.namespace_payload(namespace, 'old')
        self.assertEqual('old', payload['namespace_old'])
        self.assertEqual({'namespace', 'namespace_old', 'display_name',
                          'protected', 'visibility', 'owner', 'description',
                          'created_at', 'updated_at', 'deleted',
                          'deleted_at'}, set(payload))
        self.assertEqual('new', notifier.namespace_payload(namespace)[
            'namespace_old'])

    def test_metadef_object_property_and_tag(self):
        obj = {'name': 'o', 'description': 'd', 'required': 'x,y',
               'json_schema': json.dumps({'x': {'type': 'string',
                                                'title': 'X'}}),
               'created_at': WHEN, 'updated_at': WHEN}
        payload = notifier.metadef_payload('object', 'ns', obj, 'o0')
        self.assertEqual(('ns', 'o', 'o0', ['x', 'y'], 'd'),
                         (payload['namespace'], payload['name'],
                          payload['name_old'], payload['required'],
                          payload['description']))
        [prop] = payload['properties']
        self.assertEqual(set(notifier.PROPERTY_FIELDS) | {'name'},
                         set(prop))
        self.assertEqual(('x', 'string', 'X', None),
                         (prop['name'], prop['type'], prop['title'],
                          prop['maximum']))

        row = {'name': 'p', 'json_schema': json.dumps(
            {'type': 'integer', 'minimum': 1, 'readonly': True})}
        payload = notifier.metadef_payload('property', 'ns', row,
                                           deleted=True)
        self.assertEqual((1, 'integer', 'p', True),
                         (payload['minimum'], payload['type'],
                          payload['name_old'], payload['deleted']))
        self.assertNotIn('created_at', payload)

        tag = notifier.metadef_payload('tag', 'ns', {
            'name': 't', 'created_at': WHEN, 'updated_at': WHEN})
        self.assertEqual({'namespace': 'ns', 'name': 't', 'name_old': 't',
                          'created_at': '2024-05-06T07:08:09Z',
                          'updated_at': '2024-05-06T07:08:09Z',
                          'deleted': False, 'deleted_at': None}, tag)

    def test_association(self):
        payload = notifier.association_payload('ns', {
            'name': 'OS::Glance::Image', 'prefix': 'hw_',
            'properties_target': None, 'created_at': WHEN,
            'updated_at': None, 'resource_type_id': 4})
        self.assertEqual({'namespace': 'ns', 'name': 'OS::Glance::Image',
                          'name_old': 'OS::Glance::Image', 'prefix': 'hw_',
                          'properties_target': None,
                          'created_at': '2024-05-06T07:08:09Z',
                          'updated_at': None, 'deleted': False,
                          'deleted_at': None}, payload)

    def test_isotime_of_aware_times(self):
        aware = datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.timezone(
            datetime.timedelta(hours=2)))
        self.assertEqual('2024-01-01T10:00:00Z', timeutils.isotime(aware))
        self.assertIsNone(timeutils.isotime(None))


class SendingTest(base.DBTestCase):
    """Notifications through oslo.messaging's ``log`` driver, which logs
    each one as JSON under ``oslo.messaging.notification.<event>``."""

    driver = 'log'

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            notifier, '_process', {'pid': None, 'queue': None,
                                   'full': False}))
        notifier.drivers()  # registers [oslo_messaging_notifications]
        if self.driver:
            self.config(group='oslo_messaging_notifications',
                        driver=[self.driver])
        self.logged = self.useFixture(fixtures.FakeLogger(
            name='oslo.messaging.notification', level=logging.DEBUG,
            format='%(levelname)s %(message)s'))
        self.useFixture(fixtures.MockPatchObject(
            logging.getLogger('oslo.messaging.notification'), 'propagate',
            False))

    def notifications(self, count, timeout=10):
        deadline = time.time() + timeout
        while True:
            lines = [line for line in self.logged.output.splitlines()
                     if line.startswith(('INFO {', 'ERROR {'))]
            if len(lines) >= count or time.time() > deadline:
                return [(line.split(' ', 1)[0], json.loads(
                    line.split(' ', 1)[1])) for line in lines]
            time.sleep(0.01)


class TestSending(SendingTest):

    def test_domain_create_sends_image_create(self):
        image = images.create(base.ctx(), {'name': 'x', 'flavour': 'mint'})
        [(level, message)] = self.notifications(1)
        self.assertEqual('INFO', level)
        self.assertEqual('image.create', message['event_type'])
        self.assertEqual('image.localhost', message['publisher_id'])
        self.assertEqual(image['id'], message['payload']['id'])
        self.assertEqual({'flavour': 'mint'},
                         message['payload']['properties'])

    def test_publisher_id_and_disabled(self):
        self.config(default_publisher_id='image.node7',
                    disabled_notifications=['image.update'])
        image = images.create(base.ctx(), {'name': 'x'})
        notifier.image_event('image.update', image)
        notifier.image_event('image.activate', image)
        messages = [m for _level, m in self.notifications(2)]
        self.assertEqual(['image.create', 'image.activate'],
                         [m['event_type'] for m in messages])
        self.assertEqual({'image.node7'},
                         {m['publisher_id'] for m in messages})

    def test_a_failing_payload_is_logged_not_raised(self):
        with fixtures.FakeLogger(name='glance.notifier') as log:
            notifier.image_event('image.update', None)
            notifier.member_event('image.member.create', {})
        self.assertIn('Could not send the image.update notification',
                      log.output)
        self.assertIn('image.member.create', log.output)

    def test_send_after_a_whole_download(self):
        notifier.image_sent(base.ctx(project='p2', user='u2'),
                            {'id': 'i1', 'owner': 'p1', 'size': 6}, 6, True)
        [(level, message)] = self.notifications(1)
        self.assertEqual('INFO', level)
        self.assertEqual({'bytes_sent': 6, 'image_id': 'i1',
                          'owner_id': 'p1', 'receiver_tenant_id': 'p2',
                          'receiver_user_id': 'u2'}, message['payload'])

    def test_interrupted_download_is_an_error(self):
        notifier.image_sent(base.ctx(), {'id': 'i1', 'owner': 'p1'}, 3,
                            False)
        [(level, message)] = self.notifications(1)
        self.assertEqual('ERROR', level)
        self.assertEqual(3, message['payload']['bytes_sent'])

    def test_upload_failure_is_an_error_with_text(self):
        notifier.upload_failed('i1', ValueError('disk full'))
        notifier.upload_failed('i1', GeneratorExit())
        [(level, message)] = self.notifications(1)
        self.assertEqual('ERROR', level)
        self.assertEqual('image.upload', message['event_type'])
        self.assertIn('disk full', message['payload'])

    def test_a_new_process_makes_its_own_sender(self):
        notifier.emit('image.update', {'n': 1})
        first = notifier._process['queue']
        notifier._process['pid'] = -1   # as a forked worker sees it
        notifier.emit('image.update', {'n': 2})
        self.assertIsNot(first, notifier._process['queue'])
        # Two senders, two threads: either may log first.
        self.assertEqual([1, 2], sorted(m['payload']['n']
                                        for _l, m in self.notifications(2)))


class TestNoDriver(SendingTest):

    driver = None

    def test_nothing_is_sent_or_started(self):
        self.assertEqual([], notifier.drivers())
        image = images.create(base.ctx(), {'name': 'x'})
        notifier.image_event('image.update', image)
        notifier.image_sent(base.ctx(), image, 1, True)
        self.assertIsNone(notifier._process['queue'])
        self.assertFalse(notifier.enabled('image.create'))

    def test_noop_is_no_driver(self):
        self.config(group='oslo_messaging_notifications', driver=['noop'])
        self.assertEqual([], notifier.drivers())
