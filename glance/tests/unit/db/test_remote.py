"""The seam of data_api: which module the repository functions run
through, and how a remote connection receives their calls."""

import contextlib

from glance.db import api as db
from glance.db import members
from glance.db import remote
from glance.db import session
from glance.registry import client
from glance.tests.unit import base


class Recorder(remote.Connection):
    def __init__(self):
        self.calls = []

    def call(self, command, kwargs):
        self.calls.append((command, kwargs))
        return 'answer'


class TestLoad(base.TestCase):

    def test_direct_names(self):
        for name in (None, '', 'glance.db.api', 'glance.db.sqlalchemy.api'):
            self.assertIsNone(remote.load(name))

    def test_registry_client_and_upstream_name(self):
        for name in ('glance.registry.client', 'glance.db.registry.api'):
            self.assertIs(client.connection, remote.load(name))

    def test_not_a_data_api(self):
        self.assertRaises(ValueError, remote.load, 'glance.no.such.module')
        self.assertRaises(ValueError, remote.load, 'glance.common.exception')


class TestSeam(base.DBTestCase):

    def test_session_yields_the_data_api_connection(self):
        recorder = Recorder()
        self.config(data_api='glance.registry.client')
        self.patch(client, 'connection',
                   contextlib.contextmanager(
                       lambda write, one_call=False: iter([recorder])))
        session._REMOTE = (None, None)
        self.addCleanup(setattr, session, '_REMOTE', (None, None))
        with session.writer() as conn:
            self.assertIs(recorder, conn)
            self.assertEqual('answer', db.image_get(conn, 'some-id',
                                                    for_update=True))
            members.member_list(conn, 'some-id')
        self.assertEqual(
            [('image_get', {'image_id': 'some-id', 'for_update': True}),
             ('members.member_list', {'image_id': 'some-id'})],
            recorder.calls)

    def test_direct_connections_run_sql(self):
        values = base.image_values()
        with session.writer() as conn:
            db.image_create(conn, values, {'a': 'b'}, [])
        with session.reader() as conn:
            self.assertEqual({'a': 'b'},
                             db.image_get(conn, values['id'])['properties'])
