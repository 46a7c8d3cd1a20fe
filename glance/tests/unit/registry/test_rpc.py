"""POST /rpc of glance-registry, in process, on a real SQLite database."""

import datetime
import json

import webob

from glance.common import exception
from glance.db import api as db
from glance.db import read_cache
from glance.db import remote
from glance.db import session
from glance.registry import client
from glance.registry import codec
from glance.registry import rpc
from glance.registry import transactions
from glance.tests.unit import base


def post(body, write=False, path='/rpc', method='POST'):
    req = webob.Request.blank(path, method=method)
    if body is not None:
        req.body = body if isinstance(body, bytes) else codec.dumps(body)
    if write:
        req.headers[rpc.WRITE_HEADER] = '1'
    return req.get_response(rpc.RPC())


class TestRPC(base.DBTestCase):

    def create(self, **overrides):
        values = base.image_values(**overrides)
        resp = post([{'command': 'image_create',
                      'kwargs': {'values': values,
                                 'properties': {'k': 'v'},
                                 'tags': ['t']}}], write=True)
        self.assertEqual(200, resp.status_int, resp.text)
        return values, resp.json

    def test_commands_are_the_repository_functions(self):
        self.assertIn('image_get', remote.COMMANDS)
        self.assertIn('members.member_create', remote.COMMANDS)
        self.assertIn('tasks.get', remote.COMMANDS)
        self.assertNotIn('_attach', remote.COMMANDS)
        # Functions that take no connection are no commands.
        self.assertNotIn('usage.held_by', remote.COMMANDS)
        self.assertNotIn('leases.expiry', remote.COMMANDS)

    def test_results_in_order_with_datetimes(self):
        values, result = self.create()
        self.assertEqual([None], result)
        resp = post([{'command': 'image_get',
                      'kwargs': {'image_id': values['id']}},
                     {'command': 'image_get',
                      'kwargs': {'image_id': 'missing'}},
                     {'command': 'members.member_count',
                      'kwargs': {'image_id': values['id']}}])
        self.assertEqual(200, resp.status_int)
        raw = resp.json
        self.assertEqual({'_type': 'datetime',
                          '_value': values['created_at'].isoformat()},
                         raw[0]['created_at'])
        image, missing, count = codec.loads(resp.body)
        self.assertEqual(values['created_at'], image['created_at'])
        self.assertIsInstance(image['updated_at'], datetime.datetime)
        self.assertEqual({'k': 'v'}, image['properties'])
        self.assertEqual(['t'], image['tags'])
        self.assertIsNone(missing)
        self.assertEqual(0, count)

    def test_listing_takes_the_caller(self):
        values, _ = self.create(owner='p1', visibility='private')
        self.create(owner='p2', visibility='private')
        for project, admin, expected in (('p1', False, [values['id']]),
                                         ('p3', False, []),
                                         ('p3', True, 2)):
            caller = base.ctx(project=project)
            caller.is_admin = admin
            resp = post([{'command': 'image_list', 'kwargs': {
                'ctx': caller, 'filters': {}, 'member_status': 'all'}}])
            found = [i['id'] for i in codec.loads(resp.body)[0]]
            if isinstance(expected, int):
                self.assertEqual(expected, len(found))
            else:
                self.assertEqual(expected, found)

    def test_kept_answers_end_with_a_commit(self):
        values, _ = self.create(owner='p1')
        listing = [{'command': 'image_list', 'kwargs': {
            'ctx': base.ctx(project='p1'), 'filters': {}}}]
        first = post(listing)
        self.assertEqual(1, len(first.json[0]))
        self.assertEqual(first.body, post(listing).body)
        self.assertIn(('rpc', codec.dumps(listing)),
                      read_cache._state['items'])
        # A write through the registry, then one by another connection.
        self.create(owner='p1')
        self.assertEqual(2, len(post(listing).json[0]))
        with session.writer() as conn:
            db.image_update(conn, values['id'], {'name': 'renamed'})
        names = sorted(i['name'] for i in post(listing).json[0])
        self.assertEqual(['image', 'renamed'], names)
        show = [{'command': 'image_get',
                 'kwargs': {'image_id': values['id']}}]
        self.assertEqual('renamed', post(show).json[0]['name'])
        with session.writer() as conn:
            db.image_update(conn, values['id'], {'name': 'again'})
        self.assertEqual('again', post(show).json[0]['name'])

    def test_a_failing_command_answers_its_error_the_others_run(self):
        values, _ = self.create()
        resp = post([{'command': 'image_create',
                      'kwargs': {'values': values, 'properties': {},
                                 'tags': []}},
                     {'command': 'image_get',
                      'kwargs': {'image_id': values['id']}}], write=True)
        self.assertEqual(200, resp.status_int)
        error, image = codec.loads(resp.body)
        self.assertEqual('glance.common.exception.Duplicate',
                         error['_error']['cls'])
        self.assertIn(values['id'], error['_error']['val'])
        self.assertEqual(values['id'], image['id'])

    def test_bad_requests_are_4xx_and_run_nothing(self):
        values = base.image_values()
        create = {'command': 'image_create',
                  'kwargs': {'values': values, 'properties': {},
                             'tags': []}}
        cases = [
            (b'{', 400), (b'\xff\xfe', 400), (b'{}', 400), (b'[]', 400),
            (b'"x"', 400), (b'[1]', 400), (b'[{"kwargs": {}}]', 400),
            (b'[{"command": 1}]', 400),
            (b'[{"command": "image_get", "kwargs": []}]', 400),
            (b'[{"command": "image_get", "kwargs": {}, "x": 1}]', 400),
            (b'[' * 100000 + b']' * 100000, 400),
            (b'[{"command": "image_get", "kwargs": {"nope": 1}}]', 400),
            (b'[{"command": "image_get", "kwargs": {}}]', 400),
            (b'[{"command": "_attach", "kwargs": {}}]', 404),
            (b'[{"command": "__import__", "kwargs": {}}]', 404),
            (b'[{"command": "no_such", "kwargs": {}}]', 404),
            (b'[{"command": "image_get", "kwargs": '
             b'{"image_id": {"_type": "bogus", "_value": 1}}}]', 400),
        ]
        for body, status in cases:
            # A good command first: nothing runs when one is refused.
            text = body.decode('latin-1')
            if text.startswith('[{'):
                body = (b'[' + codec.dumps(create) + b',' + body[1:])
            resp = post(body, write=True)
            self.assertEqual(status, resp.status_int, body[:80])
            self.assertIn('message', resp.json['error'])
        resp = post([{'command': 'image_get',
                      'kwargs': {'image_id': values['id']}}])
        self.assertEqual([None], resp.json)

    def test_only_post_rpc(self):
        self.assertEqual(405, post(None, method='GET').status_int)
        self.assertEqual(404, post([], path='/images').status_int)
        self.assertEqual(400, post(None).status_int)

    def test_too_large(self):
        resp = post(b'[' + b' ' * (rpc.MAX_BODY + 1) + b']')
        self.assertEqual(413, resp.status_int)


class TestClientErrors(base.TestCase):

    def test_allowed_modules_are_raised_again(self):
        self.assertRaises(exception.ImageNotFound, client.raise_error,
                          {'cls': 'glance.common.exception.ImageNotFound',
                           'val': 'gone'})
        self.assertRaises(KeyError, client.raise_error,
                          {'cls': 'builtins.KeyError', 'val': 'k'})
        self.assertRaises(ValueError, client.raise_error,
                          {'cls': 'exceptions.ValueError', 'val': 'v'})

    def test_other_modules_are_not_imported(self):
        for name in ('os.system', 'subprocess.CalledProcessError',
                     'glance.common.exception.CONF',
                     'builtins.print', 'sqlalchemy.exc.IntegrityError'):
            error = self.assertRaises(exception.GlanceError,
                                      client.raise_error,
                                      {'cls': name, 'val': 'x'})
            self.assertEqual(exception.GlanceError, type(error))
            self.assertIn(name, str(error))

    def test_configured_modules(self):
        self.config(allowed_rpc_exception_modules=['builtins'])
        error = self.assertRaises(
            exception.GlanceError, client.raise_error,
            {'cls': 'glance.common.exception.Conflict', 'val': 'x'})
        self.assertEqual(exception.GlanceError, type(error))

    def test_a_one_call_block_refuses_a_second_call(self):
        sent = []
        self.patch(client, 'call_many',
                   lambda commands, write=False: sent.append(write) or [7])
        self.config(data_api=client.__name__)
        with session.writer(one_call=True) as conn:
            self.assertEqual(7, db.image_get(conn, 'some-id'))
            self.assertRaises(RuntimeError, db.image_get, conn, 'other')
        # Sent once, as a write of its own.
        self.assertEqual([True], sent)


class TestCodec(base.TestCase):

    def test_round_trip(self):
        when = datetime.datetime(2024, 1, 2, 3, 4, 5, 6)
        value = {'a': [when, {'b': None}], 'c': ('x', 1)}
        self.assertEqual({'a': [when, {'b': None}], 'c': ['x', 1]},
                         codec.loads(codec.dumps(value)))
        self.assertEqual({'_type': 'datetime',
                          '_value': '2024-01-02T03:04:05.000006'},
                         json.loads(codec.dumps(when)))

    def test_sets_and_mappings_of_other_keys(self):
        self.assertEqual({'a', 'b'}, codec.loads(codec.dumps({'b', 'a'})))
        value = {1: ['x'], 2: []}
        self.assertEqual(value, codec.loads(codec.dumps(
            codec.result(value))))
        self.assertEqual({'1': 2}, codec.result({'1': 2}))

    def test_caller(self):
        caller = codec.loads(codec.dumps(base.ctx(project='p9')))
        self.assertEqual(codec.Caller('p9', False), caller)

    def test_unknown_objects_are_refused(self):
        self.assertRaises(TypeError, codec.dumps, object())


def tx_post(tx_id, action, body=None):
    req = webob.Request.blank('/rpc', method='POST')
    req.headers[rpc.TX_HEADER] = tx_id
    req.headers[rpc.TX_ACTION_HEADER] = action
    if body is not None:
        req.body = codec.dumps(body)
    return req.get_response(rpc.RPC())


class TestTransactions(base.DBTestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(self.end_all)

    def end_all(self):
        for tx_id in list(transactions.OPEN):
            transactions.end(tx_id, commit=False)

    def create(self, tx_id, action, **overrides):
        values = base.image_values(**overrides)
        resp = tx_post(tx_id, action, [{'command': 'image_create', 'kwargs': {
            'values': values, 'properties': {}, 'tags': []}}])
        self.assertEqual(200, resp.status_int, resp.text)
        return values['id']

    def exists(self, image_id):
        resp = post([{'command': 'image_get',
                      'kwargs': {'image_id': image_id}}])
        return resp.json[0] is not None

    def test_calls_of_a_block_commit_together(self):
        first = self.create('tx-commit-1', 'begin')
        second = self.create('tx-commit-1', 'continue')
        # Read inside: its own writes; outside: nothing yet.
        resp = tx_post('tx-commit-1', 'continue', [{
            'command': 'image_get', 'kwargs': {'image_id': first}}])
        self.assertEqual(first, resp.json[0]['id'])
        self.assertEqual(200, tx_post('tx-commit-1', 'commit').status_int)
        self.assertTrue(self.exists(first))
        self.assertTrue(self.exists(second))
        self.assertEqual({}, transactions.OPEN)

    def test_rollback_undoes_every_call(self):
        first = self.create('tx-rollback', 'begin')
        second = self.create('tx-rollback', 'continue')
        self.assertEqual(200, tx_post('tx-rollback', 'rollback').status_int)
        self.assertFalse(self.exists(first))
        self.assertFalse(self.exists(second))

    def test_an_error_in_a_call_leaves_the_transaction_open(self):
        image_id = self.create('tx-error-1', 'begin')
        resp = tx_post('tx-error-1', 'continue', [{
            'command': 'image_create', 'kwargs': {
                'values': base.image_values(id=image_id),
                'properties': {}, 'tags': []}}])
        self.assertEqual('glance.common.exception.Duplicate',
                         resp.json[0]['_error']['cls'])
        self.assertEqual(200, tx_post('tx-error-1', 'commit').status_int)
        self.assertTrue(self.exists(image_id))

    def test_unknown_or_malformed(self):
        resp = tx_post('tx-unknown', 'continue', [{
            'command': 'image_get', 'kwargs': {'image_id': 'x'}}])
        self.assertEqual(409, resp.status_int)
        self.assertIn('not open', resp.json['error']['message'])
        self.assertEqual(409, tx_post('tx-unknown', 'commit').status_int)
        self.assertEqual(200, tx_post('tx-unknown', 'rollback').status_int)
        self.assertEqual(400, tx_post('short', 'begin', []).status_int)
        self.assertEqual(400, tx_post('a/b/c/d/e/f', 'begin', []).status_int)
        self.assertEqual(400, tx_post('tx-action', 'sideways').status_int)
        self.create('tx-twice-1', 'begin')
        resp = tx_post('tx-twice-1', 'begin', [{
            'command': 'image_get', 'kwargs': {'image_id': 'x'}}])
        self.assertEqual(409, resp.status_int)

    def test_an_idle_transaction_is_rolled_back(self):
        image_id = self.create('tx-idle-1', 'begin')
        self.patch(transactions, 'IDLE_TIMEOUT', 0.0)
        # The next request, whatever it is, ends it.
        self.assertFalse(self.exists(image_id))
        self.assertEqual({}, transactions.OPEN)
        self.assertEqual(409, tx_post('tx-idle-1', 'commit').status_int)


class TestRefusalsInTheApplication(base.DBTestCase):
    """The /rpc application checks the flavor's credentials itself: a
    pipeline rewritten without the filter stays closed."""

    body = [{'command': 'image_get', 'kwargs': {'image_id': 'x'}}]

    def call(self, **headers):
        req = webob.Request.blank('/rpc', method='POST',
                                  body=codec.dumps(self.body))
        req.headers.update(headers)
        return req.get_response(rpc.RPC())

    def test_shared_secret(self):
        self.config(registry_shared_secret='s3cret')
        self.assertEqual(401, self.call().status_int)
        self.assertEqual(401, self.call(**{
            'X-Registry-Secret': 'wrong', 'X-Roles': 'admin'}).status_int)
        self.assertEqual(200, self.call(**{
            'X-Registry-Secret': 's3cret'}).status_int)

    def test_keystone_headers_alone_do_not_pass(self):
        self.config(flavor='keystone', group='paste_deploy')
        resp = self.call(**{'X-Identity-Status': 'Confirmed',
                            'X-Roles': 'admin'})
        self.assertEqual(401, resp.status_int)
        self.assertIn('Keystone token', resp.json['error']['message'])
        req = webob.Request.blank('/rpc', method='POST',
                                  body=codec.dumps(self.body))
        req.environ['keystone.token_info'] = {'token': {}}
        req.headers.update({'X-Identity-Status': 'Confirmed',
                            'X-Roles': 'member,reader'})
        self.assertEqual(403, req.get_response(rpc.RPC()).status_int)
        req.headers['X-Roles'] = 'member,Admin'
        self.assertEqual(200, req.get_response(rpc.RPC()).status_int)
