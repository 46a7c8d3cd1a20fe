"""glance.domain.images.locations rules that need no store server, the request
parsing of POST /locations, and the task rows of glance.db.tasks."""

import datetime
import hashlib
import json

import fixtures
import sqlalchemy as sa

from glance.api.v2 import image_locations
from glance.common import exception
from glance.common import timeutils
from glance.db import models
from glance.db import session
from glance.db import tasks as db_tasks
from glance.domain.images import images
from glance.imports import location_import
from glance.domain.images import locations
from glance.store import registry
from glance.tests.unit import base

SHA512 = hashlib.sha512(b'x').hexdigest()
MD5 = hashlib.md5(b'x').hexdigest()


class TestValidationValues(base.TestCase):

    def queued(self, **extra):
        return dict({'status': 'queued', 'checksum': None,
                     'os_hash_algo': None, 'os_hash_value': None}, **extra)

    def loc(self, **data):
        return {'url': 'http://a/b', 'metadata': {}, 'validation_data': data}

    def test_new_values_on_a_queued_image(self):
        self.assertEqual(
            {'checksum': MD5, 'os_hash_algo': 'sha512',
             'os_hash_value': SHA512},
            locations.validation_values(self.queued(), [self.loc(
                checksum=MD5, os_hash_algo='sha512',
                os_hash_value=SHA512)]))
        self.assertEqual({}, locations.validation_values(
            self.queued(), [{'url': 'http://a/b', 'metadata': {}}]))

    def test_same_values_on_an_active_image(self):
        image = self.queued(status='active', checksum=MD5,
                            os_hash_algo='sha512', os_hash_value=SHA512)
        self.assertEqual({}, locations.validation_values(image, [self.loc(
            checksum=MD5, os_hash_algo='sha512', os_hash_value=SHA512)]))

    def test_conflicts(self):
        cases = [
            (self.queued(), [self.loc(os_hash_algo='sha512',
                                      os_hash_value=SHA512),
                             self.loc(os_hash_algo='sha512',
                                      os_hash_value='00' * 64)]),
            (self.queued(os_hash_value='00' * 64),
             [self.loc(os_hash_algo='sha512', os_hash_value=SHA512)]),
            (self.queued(status='active'),
             [self.loc(os_hash_algo='sha512', os_hash_value=SHA512)]),
            (self.queued(), [self.loc(os_hash_algo='sha256',
                                      os_hash_value='00' * 32)]),
            (self.queued(), [self.loc(os_hash_algo='sha512',
                                      os_hash_value='0g' * 64)]),
            (self.queued(), [self.loc(os_hash_algo='sha512',
                                      os_hash_value='00' * 63)]),
            (self.queued(), [self.loc(checksum='zz' * 16,
                                      os_hash_algo='sha512',
                                      os_hash_value=SHA512)]),
        ]
        for image, locs in cases:
            e = self.assertRaises(exception.Conflict,
                                  locations.validation_values, image, locs)
            self.assertEqual(409, e.code)

    def test_algorithm_follows_the_configuration(self):
        self.config(hashing_algorithm='sha256')
        digest = hashlib.sha256(b'x').hexdigest()
        self.assertEqual(
            {'os_hash_algo': 'sha256', 'os_hash_value': digest},
            locations.validation_values(self.queued(), [self.loc(
                os_hash_algo='sha256', os_hash_value=digest)]))


class TestPositions(base.TestCase):

    def test_insert(self):
        self.assertEqual(2, locations._position('-', 2, insert=True))
        self.assertEqual(2, locations._position('2', 2, insert=True))
        self.assertEqual(0, locations._position('0', 2, insert=True))
        for token in ('3', '-1', 'x', '', '1.0', '\u0661'):
            self.assertRaises(exception.BadRequest, locations._position,
                              token, 2, insert=True)

    def test_remove(self):
        self.assertEqual(1, locations._position('-', 2, insert=False))
        self.assertEqual(1, locations._position('1', 2, insert=False))
        self.assertRaises(exception.BadRequest, locations._position, '2', 2,
                          insert=False)


class TestUsableStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.config(filesystem_store_datadir=self.useFixture(
            fixtures.TempDir()).path, group='glance_store')
        registry.reset()
        self.addCleanup(registry.reset)

    def test_known_schemes(self):
        self.assertEqual('http',
                         locations.usable_store('https://h/x').type_name)

    def test_refused(self):
        for url in ('file:///etc/passwd', 'FILE:///etc/passwd',
                    'filesystem:///x', 'swift+config://r/c/o', 'rbd://a/b',
                    'nothing', '', None):
            e = self.assertRaises(exception.BadRequest,
                                  locations.usable_store, url)
            self.assertIn('Invalid location', e.msg)

    def test_http_needs_an_http_store(self):
        self.config(stores=['file'], group='glance_store')
        registry.reset()
        self.assertRaises(exception.BadRequest, locations.usable_store,
                          'http://h/x')

    def test_metadata_types(self):
        locations._check_metadata({'a': 'b', 'c': ['d', {'e': 'f'}]})
        for bad in ({'a': 1}, {'a': ['b', None]}, {'a': {'b': True}}):
            self.assertRaises(exception.BadRequest,
                              locations._check_metadata, bad)


class TestCallerMayAdd(TestUsableStore):

    def test_service_role_anywhere(self):
        for ctx in (base.ctx(roles=('service',)),
                    base.ctx(roles=('member',), service_roles=['service'])):
            location_import._check_caller_may_add(ctx, 'rbd://a/b/c/d')

    def test_others_http_only(self):
        location_import._check_caller_may_add(base.ctx(), 'http://h/x')
        for ctx in (base.ctx(), base.admin_ctx()):
            self.assertRaises(exception.Forbidden,
                              location_import._check_caller_may_add, ctx,
                              'rbd://a/b/c/d')
        self.config(stores=['file'], group='glance_store')
        registry.reset()
        self.assertRaises(exception.Forbidden,
                          location_import._check_caller_may_add, base.ctx(),
                          'http://h/x')


class TestParseLocation(base.TestCase):

    def test_good(self):
        self.assertEqual(('http://h/x', None),
                         image_locations.parse_location({'url':
                                                         'http://h/x'}))
        # Clients send an empty object for no validation data.
        self.assertEqual(('http://h/x', None), image_locations.parse_location(
            {'url': 'http://h/x', 'validation_data': {}}))
        data = {'os_hash_algo': 'md5', 'os_hash_value': MD5}
        self.assertEqual(('http://h/x', data), image_locations.parse_location(
            {'url': 'http://h/x', 'validation_data': data}))

    def test_bad(self):
        for body in ({}, {'url': None}, {'url': ' '}, {'url': ['x']},
                     {'url': 'http://h/' + 'x' * 260},
                     {'url': 'u', 'extra': 1},
                     {'url': 'u', 'validation_data': 'x'},
                     {'url': 'u', 'validation_data': {'os_hash_algo': 'md5'}},
                     {'url': 'u', 'validation_data': {
                         'os_hash_algo': 'crc', 'os_hash_value': 'x'}},
                     {'url': 'u', 'validation_data': {
                         'os_hash_algo': 'md5', 'os_hash_value': 5}}):
            e = self.assertRaises(exception.BadRequest,
                                  image_locations.parse_location, body)
            self.assertEqual(400, e.code)


class TestPatchGate(base.DBTestCase):

    def test_hidden_locations_are_forbidden_and_probe_nothing(self):
        changes = [('add', ['locations', '-'],
                    {'url': 'http://192.0.2.1/x', 'metadata': {}}, '2.1')]
        self.assertEqual({}, locations.probe_patch(base.ctx(), 'x', changes))
        image = images.create(base.ctx(), {'name': 'x'})
        self.assertRaises(exception.Forbidden, images.update, base.ctx(),
                          image['id'], changes)


class TestTaskRows(base.DBTestCase):

    def now(self):
        return timeutils.now()

    def create(self, task_id, status='pending', age_minutes=0):
        at = self.now() - datetime.timedelta(minutes=age_minutes)
        with session.writer() as conn:
            db_tasks.create(conn, {'id': task_id, 'type': 'location_import',
                                   'status': status, 'owner': 'p1',
                                   'image_id': 'i1'}, {'k': 'v'}, at)

    def row(self, task_id):
        with session.reader() as conn:
            return conn.execute(sa.select(
                models.tasks.c.status, models.tasks.c.expires_at,
                models.task_info.c.input, models.task_info.c.result,
                models.task_info.c.message).join(
                models.task_info,
                models.task_info.c.task_id == models.tasks.c.id).where(
                models.tasks.c.id == task_id)).one()

    def test_create_and_update(self):
        self.create('t1')
        row = self.row('t1')
        self.assertEqual(('pending', None, {'k': 'v'}),
                         (row.status, row.expires_at, json.loads(row.input)))
        with session.writer() as conn:
            self.assertTrue(db_tasks.update(
                conn, 't1', {'status': 'success'}, self.now(),
                result={'image_id': 'i1'}))
            self.assertFalse(db_tasks.update(conn, 'nope', {}, self.now()))
        row = self.row('t1')
        self.assertEqual('success', row.status)
        self.assertEqual({'image_id': 'i1'}, json.loads(row.result))

    def test_fail_if_stale(self):
        cases = [('pending', 119, False), ('pending', 121, True),
                 ('processing', 59, False), ('processing', 61, True),
                 ('success', 61, True), ('failure', 61, True)]
        for n, (status, age, stale) in enumerate(cases):
            task_id = 't%d' % n
            self.create(task_id, status, age)
            with session.writer() as conn:
                self.assertEqual(stale, db_tasks.fail_if_stale(
                    conn, task_id, self.now(), 'preempted', self.now()),
                    (status, age))
            row = self.row(task_id)
            if stale:
                self.assertEqual(('failure', 'preempted'),
                                 (row.status, row.message))
                self.assertIsNotNone(row.expires_at)
            else:
                self.assertEqual(status, row.status)
        with session.writer() as conn:
            self.assertTrue(db_tasks.fail_if_stale(conn, 'missing',
                                                   self.now(), 'x', None))
