"""Connections on real MariaDB and PostgreSQL servers: a writer block is
one transaction and a reader block none; overflow
connections are reused while the load lasts instead of being closed and
opened again for every burst, the options' limits hold, and the pool goes
back to max_pool_size connections once they have been unused for
OVERFLOW_LINGER seconds."""

import contextlib
import json
import subprocess
import sys

import fixtures
from oslo_config import fixture as config_fixture
import sqlalchemy as sa
from sqlalchemy import event
import testtools

from glance.common import config
from glance.db import pool
from glance.db import session
from glance.tests import db_servers
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd

SERVER_CONNECTIONS = {
    'mysql': "SELECT count(*) FROM information_schema.processlist "
             "WHERE db = '%s'",
    'postgresql': "SELECT count(*) FROM pg_stat_activity "
                  "WHERE datname = '%s'",
}


class _PoolTests:

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        self.db = base.Database(self.db_kind, self.useFixture(
            fixtures.TempDir()).path)
        self.addCleanup(self.db.drop)
        conf = self.useFixture(config_fixture.Config(config.CONF))
        config.CONF([], project='glance', default_config_files=[],
                    default_config_dirs=[])
        conf.config(connection=self.db.url, max_pool_size=1,
                    max_overflow=2, pool_timeout=1, group='database')
        session.dispose()
        self.addCleanup(session.dispose)
        self.engine = session.get_engine()
        self.opened = 0

        @event.listens_for(self.engine, 'connect')
        def on_connect(dbapi_conn, record):
            self.opened += 1

    def server_connections(self):
        with self.db.admin.connect() as conn:
            return conn.exec_driver_sql(
                SERVER_CONNECTIONS[self.db_kind] % self.db.name).scalar()

    def burst(self, n):
        """Hold ``n`` connections at once, each having run a statement,
        then give them all back."""
        with contextlib.ExitStack() as stack:
            for _ in range(n):
                conn = stack.enter_context(self.engine.connect())
                conn.exec_driver_sql('SELECT 1').scalar()

    def test_overflow_reused_then_closed_when_unused(self):
        self.assertIsInstance(self.engine.pool, pool.LingeringPool)
        self.burst(3)
        self.assertEqual(3, self.opened)
        # A plain QueuePool closed two of the three as they came back and
        # opened them again for each burst.
        for _ in range(5):
            self.burst(3)
        self.assertEqual(3, self.opened)
        self.assertEqual(3, self.server_connections())
        self.assertEqual(3, self.engine.pool.checkedin())
        # Unused past the linger time, the overflow goes at the pool's
        # next use; max_pool_size connections stay.
        self.useFixture(fixtures.MonkeyPatch(
            'glance.db.pool.OVERFLOW_LINGER', 0.0))
        self.burst(1)
        self.assertEqual(3, self.opened)
        self.assertEqual(1, self.engine.pool.checkedin())
        # A server process ends a moment after its client closed.
        hd.wait_for(lambda: self.server_connections() == 1,
                    what='the overflow connections closed on the server')
        # Overflow counts start again from there.
        self.burst(3)
        self.assertEqual(5, self.opened)

    def test_limit_is_pool_size_plus_overflow(self):
        self.burst(3)
        with self.engine.connect(), self.engine.connect(), \
                self.engine.connect():
            # All three are out, lingering ones included: a fourth waits
            # pool_timeout and is refused.
            with testtools.ExpectedException(sa.exc.TimeoutError):
                with self.engine.connect():
                    pass
        self.assertEqual(3, self.opened)

    def test_dispose_closes_lingering_connections(self):
        self.burst(3)
        self.engine.pool.dispose()
        self.assertEqual(0, self.engine.pool.checkedin())
        hd.wait_for(lambda: self.server_connections() == 0,
                    what='every connection closed on the server')
        self.burst(3)
        self.assertEqual(6, self.opened)


def in_transaction(conn):
    """Whether the server has a transaction open on ``conn``."""
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == 'postgresql':
        return dbapi.info.transaction_status != 0     # not IDLE
    return bool(conn.exec_driver_sql('SELECT @@in_transaction').scalar())


class _TransactionTests(_PoolTests):

    def test_writer_is_one_transaction_reader_none(self):
        with session.writer() as conn:
            conn.exec_driver_sql('CREATE TABLE t (v INTEGER)')
        for _ in range(3):
            with session.reader() as conn:
                conn.exec_driver_sql('SELECT count(*) FROM t').scalar()
                self.assertFalse(in_transaction(conn))
            with testtools.ExpectedException(RuntimeError):
                with session.writer() as conn:
                    conn.exec_driver_sql('INSERT INTO t VALUES (1)')
                    self.assertTrue(in_transaction(conn))
                    raise RuntimeError('undo')
            with session.writer() as conn:
                conn.exec_driver_sql('INSERT INTO t VALUES (2)')
        with session.reader() as conn:
            self.assertEqual([(2,), (2,), (2,)], conn.exec_driver_sql(
                'SELECT v FROM t').all())


# The start of a script run under eventlet in a process of its own (the
# test process is never monkey-patched): the database URL is its
# argument; max_pool_size, max_overflow and pool_timeout fill the %d.
GREEN_PREAMBLE = r'''
import eventlet
eventlet.monkey_patch()
import json, sys
from glance.common import config
from glance.db import session
config.CONF([], project='glance', default_config_files=[],
            default_config_dirs=[])
config.CONF.set_override('connection', sys.argv[1], 'database')
config.CONF.set_override('max_pool_size', %d, 'database')
config.CONF.set_override('max_overflow', %d, 'database')
config.CONF.set_override('pool_timeout', %d, 'database')
'''


def run_green(test, script, db_url):
    """(the JSON the script printed last, its standard error)."""
    out = subprocess.run([sys.executable, '-c', script, db_url],
                         capture_output=True, text=True, timeout=120)
    test.assertEqual(0, out.returncode, out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


# Five green threads take the one connection of the pool
# ten times each, asking again as soon as they give it back. Prints how
# many grants to others each request saw before its own.
FAIRNESS_SCRIPT = GREEN_PREAMBLE % (1, 0, 10) + r'''
engine = session.get_engine()
grants = []
bypassed = []

def client(name):
    for _ in range(10):
        asked = len(grants)
        with engine.connect() as conn:
            bypassed.append(len(grants) - asked)
            grants.append(name)
            conn.exec_driver_sql('SELECT 1').scalar()

pool = eventlet.GreenPool()
for name in range(5):
    pool.spawn(client, name)
pool.waitall()
print(json.dumps({'bypassed': bypassed, 'grants': len(grants)}))
'''


class _FairnessTests(_PoolTests):

    def test_waiters_served_in_order_under_eventlet(self):
        result, _ = run_green(self, FAIRNESS_SCRIPT, self.db.url)
        self.assertEqual(50, result['grants'])
        # First come, first served: at most the four others go first.
        # QueuePool let the thread that just gave the connection back
        # take it again before the woken waiter ran.
        self.assertLessEqual(max(result['bypassed']), 4, result)


class TestPoolMySQL(_TransactionTests, _FairnessTests, testtools.TestCase):
    db_kind = 'mysql'


class TestPoolPostgreSQL(_TransactionTests, _FairnessTests,
                         testtools.TestCase):
    db_kind = 'postgresql'


# Sixteen green threads each
# query three times through a pool allowed more connections than the
# server takes. Prints what failed.
SERVER_FULL_SCRIPT = GREEN_PREAMBLE % (1, 20, 30) + r'''
errors = []
done = []

def client():
    for _ in range(3):
        try:
            with session.reader() as conn:
                conn.exec_driver_sql('SELECT SLEEP(0.05)').scalar()
            done.append(1)
        except Exception as e:
            errors.append('%s: %s' % (type(e).__name__, e))

pool = eventlet.GreenPool()
for _ in range(16):
    pool.spawn(client)
pool.waitall()
print(json.dumps({'done': len(done), 'errors': errors[:3]}))
'''


class TestServerFull(testtools.TestCase):
    """A MariaDB of the test's own taking ten connections (its least):
    requests beyond them wait for one of the pool's, none fails."""

    def setUp(self):
        super().setUp()
        self.server = db_servers.own_mariadb(self)
        self.db_url = self.server.create_database('glance_full')
        # Root may open one more (for its administration) besides.
        self.server.sql('SET GLOBAL max_connections = 10')

    def test_requests_wait_for_a_connection_in_use(self):
        result, stderr = run_green(self, SERVER_FULL_SCRIPT, self.db_url)
        self.assertEqual({'done': 48, 'errors': []}, result)
        self.assertIn('refused another connection', stderr)
