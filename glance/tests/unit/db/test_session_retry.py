"""glance.db.session: database errors become 503s, whole transactions are
run again on deadlocks (and lost connections with use_db_reconnect), and
the start waits a bounded time for the server.

The errors are the drivers' own exception classes with the codes the
servers send, wrapped by SQLAlchemy as it does when a statement fails.
"""

import socket

import fixtures
import psycopg
import pymysql
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from glance.common import exception
from glance.db import session
from glance.tests.unit import base


def wrapped(orig, invalidated=False):
    """``orig`` as SQLAlchemy raises it from a statement."""
    return sa_exc.DBAPIError.instance(
        'UPDATE images SET name=%s', ('x',), orig, type(orig),
        connection_invalidated=invalidated)


MYSQL_DEADLOCK = pymysql.err.OperationalError(
    1213, 'Deadlock found when trying to get lock; try restarting '
    'transaction')
MYSQL_LOCK_WAIT = pymysql.err.OperationalError(
    1205, 'Lock wait timeout exceeded; try restarting transaction')
GALERA_CONFLICT = pymysql.err.OperationalError(
    1213, 'WSREP detected deadlock/conflict and aborted the transaction. '
    'Try restarting the transaction')
GALERA_COMMIT = pymysql.err.InternalError(
    1180, "Got error 149 'Lock deadlock; Retry transaction' during COMMIT")
GALERA_NOT_READY = pymysql.err.OperationalError(
    1047, 'WSREP has not yet prepared node for application use')
MYSQL_GONE = pymysql.err.OperationalError(
    2013, 'Lost connection to MySQL server during query')
MYSQL_REFUSED = pymysql.err.OperationalError(
    2003, "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] "
    "Connection refused)")
MYSQL_DENIED = pymysql.err.OperationalError(
    1045, "Access denied for user 'glance'@'127.0.0.1' (using password: "
    "YES)")
PG_DEADLOCK = psycopg.errors.DeadlockDetected('deadlock detected')
PG_SERIALIZATION = psycopg.errors.SerializationFailure(
    'could not serialize access due to concurrent update')
PG_SHUTDOWN = psycopg.errors.AdminShutdown(
    'terminating connection due to administrator command')
PG_STARTING = psycopg.errors.CannotConnectNow(
    'the database system is starting up')
PG_NO_DATABASE = psycopg.errors.InvalidCatalogName(
    'database "glance" does not exist')
MYSQL_DUPLICATE = pymysql.err.IntegrityError(
    1062, "Duplicate entry 'x' for key 'PRIMARY'")


class TestClassify(base.TestCase):

    def test_deadlocks(self):
        for orig in (MYSQL_DEADLOCK, MYSQL_LOCK_WAIT, GALERA_CONFLICT,
                     GALERA_COMMIT, PG_DEADLOCK, PG_SERIALIZATION):
            self.assertEqual('deadlock', session.classify(wrapped(orig)),
                             orig)

    def test_unavailable(self):
        for orig in (MYSQL_GONE, MYSQL_REFUSED, GALERA_NOT_READY,
                     PG_SHUTDOWN, PG_STARTING):
            self.assertEqual('unavailable', session.classify(wrapped(orig)),
                             orig)
        # psycopg's own connection failure has no SQLSTATE: SQLAlchemy
        # marks the connection invalidated.
        self.assertEqual('unavailable', session.classify(wrapped(
            psycopg.OperationalError('server closed the connection '
                                     'unexpectedly'), invalidated=True)))

    def test_permanent_and_others(self):
        self.assertEqual('permanent', session.classify(wrapped(MYSQL_DENIED)))
        self.assertEqual('permanent',
                         session.classify(wrapped(PG_NO_DATABASE)))
        self.assertIsNone(session.classify(wrapped(MYSQL_DUPLICATE)))

    def test_describe_never_shows_the_password(self):
        text = session.describe(
            'mysql+pymysql://glance:s3cret@db.example:3307/glance?x=1')
        self.assertEqual('mysql database glance on glance@db.example:3307',
                         text)
        self.assertEqual('postgresql database images on localhost',
                         session.describe('postgresql+psycopg:///images'))


class TestTranslate(base.TestCase):

    def setUp(self):
        super().setUp()
        # No connection is opened: only the dialect and URL are used.
        self.engine = sa.create_engine(
            'mysql+pymysql://glance:s3cret@127.0.0.1:1/glance')
        self.addCleanup(self.engine.dispose)

    def translate(self, orig, step, write=True):
        attempt = session._Attempt()
        attempt.step = step
        return session._translate(wrapped(orig), self.engine, attempt,
                                  write)

    def test_deadlock_is_503_and_replayable(self):
        for step in ('body', 'commit'):
            found = self.translate(GALERA_CONFLICT, step)
            self.assertIsInstance(found, exception.DatabaseDeadlock)
            self.assertEqual(503, found.code)
            self.assertEqual('1', found.headers['Retry-After'])
            self.assertTrue(found.replayable)

    def test_lost_connection_while_committing_a_write_is_not_replayed(self):
        self.assertFalse(self.translate(MYSQL_GONE, 'commit').replayable)
        self.assertTrue(self.translate(MYSQL_GONE, 'body').replayable)
        self.assertTrue(self.translate(MYSQL_GONE, 'commit',
                                       write=False).replayable)

    def test_any_error_while_connecting_is_503(self):
        found = self.translate(MYSQL_DENIED, 'connect')
        self.assertIsInstance(found, exception.DatabaseUnavailable)
        self.assertFalse(found.replayable)
        found = self.translate(pymysql.err.InternalError(1, 'odd'),
                               'connect')
        self.assertIsInstance(found, exception.DatabaseUnavailable)

    def test_other_errors_pass(self):
        self.assertIsNone(self.translate(MYSQL_DUPLICATE, 'body'))


class TestReplayable(base.TestCase):

    def setUp(self):
        super().setUp()
        self.engine = sa.create_engine(
            'postgresql+psycopg://glance@127.0.0.1:1/glance')
        self.addCleanup(self.engine.dispose)
        self.config(db_retry_interval=1, db_max_retry_interval=3,
                    db_max_retries=5, group='database')
        self.sleeps = []
        self.useFixture(fixtures.MonkeyPatch(
            'glance.db.session._sleep', self.sleeps.append))

    def failing(self, errors, step='body', write=True):
        """A replayable function failing with ``errors`` (translated as
        the session does) before it succeeds; its calls."""
        calls = []

        @session.replayable
        def work(value):
            calls.append(value)
            if len(calls) <= len(errors):
                attempt = session._Attempt()
                attempt.step = step
                raise session._translate(wrapped(errors[len(calls) - 1]),
                                         self.engine, attempt, write)
            return value * 2
        return work, calls

    def test_deadlocks_replayed_with_growing_waits(self):
        work, calls = self.failing([PG_DEADLOCK, PG_SERIALIZATION,
                                    PG_DEADLOCK, PG_DEADLOCK])
        self.assertEqual(42, work(21))
        self.assertEqual([21] * 5, calls)
        self.assertEqual([1.0, 2.0, 3.0, 3.0], self.sleeps)

    def test_fixed_wait_without_increase(self):
        self.config(db_inc_retry_interval=False, group='database')
        work, calls = self.failing([PG_DEADLOCK] * 3)
        self.assertEqual(2, work(1))
        self.assertEqual([1.0] * 3, self.sleeps)

    def test_gives_up_after_db_max_retries(self):
        work, calls = self.failing([PG_DEADLOCK] * 10)
        self.assertRaises(exception.DatabaseDeadlock, work, 1)
        self.assertEqual(6, len(calls))

    def test_lost_connection_retried_only_with_use_db_reconnect(self):
        work, calls = self.failing([PG_SHUTDOWN])
        self.assertRaises(exception.DatabaseUnavailable, work, 1)
        self.assertEqual(1, len(calls))
        self.config(use_db_reconnect=True, group='database')
        work, calls = self.failing([PG_SHUTDOWN, PG_STARTING])
        self.assertEqual(2, work(1))
        self.assertEqual(3, len(calls))

    def test_lost_commit_of_a_write_never_replayed(self):
        self.config(use_db_reconnect=True, group='database')
        work, calls = self.failing([PG_SHUTDOWN], step='commit')
        self.assertRaises(exception.DatabaseUnavailable, work, 1)
        self.assertEqual(1, len(calls))

    def test_nested_calls_leave_retries_to_the_outer_one(self):
        inner_calls = []

        @session.replayable
        def inner():
            inner_calls.append(1)
            if len(inner_calls) == 1:
                attempt = session._Attempt()
                attempt.step = 'body'
                raise session._translate(wrapped(PG_DEADLOCK), self.engine,
                                         attempt, True)
            return 'done'

        outer_calls = []

        @session.replayable
        def outer():
            outer_calls.append(1)
            return inner()

        self.assertEqual('done', outer())
        self.assertEqual(2, len(outer_calls))
        self.assertEqual(2, len(inner_calls))

    def test_other_errors_not_replayed(self):
        calls = []

        @session.replayable
        def work():
            calls.append(1)
            raise exception.Conflict()
        self.assertRaises(exception.Conflict, work)
        self.assertEqual(1, len(calls))


class TestUnreachableServer(base.TestCase):
    """A server that refuses connections (a closed loopback port)."""

    def setUp(self):
        super().setUp()
        self.url = 'mysql+pymysql://glance:s3cret@127.0.0.1:%d/glance' % (
            base_free_port())
        self.config(connection=self.url, group='database')
        self.sleeps = []
        self.useFixture(fixtures.MonkeyPatch(
            'glance.db.session._sleep', self.sleeps.append))

    def test_request_gets_503(self):
        session.dispose()
        with self.assertRaisesRegex(exception.DatabaseUnavailable,
                                    'database is unavailable') as cm:
            with session.reader() as conn:
                conn.exec_driver_sql('SELECT 1')
        self.assertEqual(503, cm.exception.code)
        self.assertEqual([], self.sleeps)

    def test_own_connection_errors_translated(self):
        session.dispose()
        with self.assertRaisesRegex(exception.DatabaseUnavailable,
                                    'database is unavailable') as cm:
            with session.errors_translated():
                session.get_engine().connect()
        self.assertFalse(cm.exception.replayable)
        with self.assertRaisesRegex(ValueError, 'other'):
            with session.errors_translated():
                raise ValueError('other')

    def test_connect_retried_with_use_db_reconnect(self):
        self.config(use_db_reconnect=True, db_max_retries=3,
                    db_retry_interval=0, group='database')
        session.dispose()

        def use():
            with session.writer() as conn:
                conn.exec_driver_sql('SELECT 1')
        self.assertRaises(exception.DatabaseUnavailable, use)
        self.assertEqual(3, len(self.sleeps))

    def test_start_waits_then_names_the_database(self):
        self.config(max_retries=3, retry_interval=7, group='database')
        error = self.assertRaises(RuntimeError, session.wait_for_database)
        self.assertEqual([7, 7, 7], self.sleeps)
        text = str(error)
        self.assertIn('mysql database glance on glance@127.0.0.1:', text)
        self.assertIn('after 4 attempts over 21 s', text)
        # The driver's own words (PyMySQL's, or mysqlclient's).
        self.assertRegex(text, "Connection refused|Can't connect to server")
        self.assertNotIn('s3cret', text)

    def test_no_wait_with_max_retries_0(self):
        self.config(max_retries=0, group='database')
        self.assertRaises(RuntimeError, session.wait_for_database)
        self.assertEqual([], self.sleeps)

    def test_sqlite_error_fails_at_once(self):
        self.config(connection='sqlite:////nonexistent/dir/glance.sqlite',
                    group='database')
        error = self.assertRaises(RuntimeError, session.wait_for_database)
        self.assertEqual([], self.sleeps)
        self.assertIn('sqlite database /nonexistent/dir/glance.sqlite',
                      str(error))


class TestSQLiteUnchanged(base.DBTestCase):
    migrate = False

    def test_replayable_function_runs_once(self):
        calls = []

        @session.replayable
        def work():
            calls.append(1)
            with session.writer() as conn:
                conn.exec_driver_sql('CREATE TABLE t (x INTEGER)')
                conn.exec_driver_sql('INSERT INTO t VALUES (1)')
            with session.reader() as conn:
                return conn.exec_driver_sql('SELECT x FROM t').scalar()
        self.assertEqual(1, work())
        self.assertEqual([1], calls)


def base_free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
