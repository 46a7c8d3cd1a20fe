"""glance.db.session: engine cache and SQLite transactions."""

import os
import sqlite3
import sys
from unittest import mock

import fixtures

from glance.common import exception
from glance.db import session
from glance.tests.unit import base


class TestSession(base.DBTestCase):
    migrate = False

    def test_engine_cached_per_url(self):
        first = session.get_engine()
        self.assertIs(first, session.get_engine())
        self.config(connection='sqlite:///%s' % os.path.join(
            self.tmpdir, 'other.sqlite'), group='database')
        second = session.get_engine()
        self.assertIsNot(first, second)
        session.dispose()
        self.assertIsNot(second, session.get_engine())

    def test_sqlite_pragmas(self):
        with session.reader() as conn:
            self.assertEqual('wal', conn.exec_driver_sql(
                'PRAGMA journal_mode').scalar())
            self.assertEqual(1, conn.exec_driver_sql(
                'PRAGMA foreign_keys').scalar())
            # SQLite's own (hub-blocking) wait stays short; writers wait
            # for sqlite_busy_timeout in begin_immediate() instead.
            self.assertEqual(session.SQLITE_LOCK_WAIT_MS, conn.exec_driver_sql(
                'PRAGMA busy_timeout').scalar())

    def test_writer_commits_and_rolls_back(self):
        with session.writer() as conn:
            conn.exec_driver_sql('CREATE TABLE t (x INTEGER)')
            conn.exec_driver_sql('INSERT INTO t VALUES (1)')
        try:
            with session.writer() as conn:
                conn.exec_driver_sql('INSERT INTO t VALUES (2)')
                raise ValueError()
        except ValueError:
            pass
        with session.reader() as conn:
            self.assertEqual([(1,)], conn.exec_driver_sql(
                'SELECT x FROM t').all())

    def test_locked_database_is_503(self):
        self.config(sqlite_busy_timeout=0, group='database')
        session.dispose()
        with session.writer() as conn:
            conn.exec_driver_sql('CREATE TABLE t (x INTEGER)')
        other = sqlite3.connect(self.db_path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute('BEGIN IMMEDIATE')
        self.addCleanup(other.execute, 'ROLLBACK')

        def write():
            with session.writer() as conn:
                conn.exec_driver_sql('INSERT INTO t VALUES (1)')

        logs = self.useFixture(fixtures.FakeLogger())
        e = self.assertRaises(exception.ServiceUnavailable, write)
        self.assertIn('Database busy', logs.output)
        self.assertEqual('1', e.headers['Retry-After'])


class TestMySQLDriver(base.TestCase):
    """[database] mysql_driver picks the driver of every MySQL URL."""

    URLS = ('mysql://g:p@127.0.0.1:1/glance',
            'mysql+pymysql://g:p@127.0.0.1:1/glance',
            'mysql+mysqldb://g:p@127.0.0.1:1/glance')

    def drivers(self):
        engines = [session.create_engine(url) for url in self.URLS]
        for engine in engines:
            engine.dispose()
        return {engine.dialect.driver for engine in engines}

    def test_mysqlclient_by_default(self):
        self.assertEqual({'mysqldb'}, self.drivers())

    def test_pymysql_when_chosen(self):
        self.config(mysql_driver='pymysql', group='database')
        self.assertEqual({'pymysql'}, self.drivers())

    def test_pymysql_when_mysqlclient_is_missing(self):
        # An entry of None makes the import fail.
        with mock.patch.dict(sys.modules, {'MySQLdb': None}):
            self.assertEqual('mysql+pymysql', session.mysql_driver())
