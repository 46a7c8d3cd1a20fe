"""glance.db.takeover: which upstream revisions are taken over, and the
refusal of revisions neither chain knows (nothing changed)."""

import sqlalchemy as sa

from glance.db import migration
from glance.db import session
from glance.db import takeover
from glance.tests.unit import base
from glance.tests.unit.db import test_migration


class TestUpstreamRevisions(base.TestCase):

    def test_release_names(self):
        self.assertEqual('2024.1', takeover.release_of('2024_1_contract01'))
        self.assertEqual('wallaby', takeover.release_of('wallaby_expand01'))
        self.assertEqual('liberty', takeover.release_of('liberty'))

    def test_describe_names_the_newest(self):
        self.assertEqual(
            'upstream Glance 2024.1 (2023_1_contract01, 2024_1_expand01)',
            takeover.describe({'2024_1_expand01', '2023_1_contract01'}))

    def test_takeable(self):
        for rows in ({'2024_1_contract01'}, {'2023_1_contract01'},
                     {'2024_1_expand01', '2023_1_contract01'},
                     {'wallaby_expand01', 'pike_contract01'},
                     {'zed_contract01'}):
            self.assertTrue(takeover.is_upstream(rows), rows)
            takeover.check_takeable(rows)

    def test_too_old(self):
        for rows in ({'mitaka02'}, {'ocata_contract01'},
                     {'ussuri_expand01', 'ussuri_contract01'},
                     {'2024_1_expand01', 'ocata_contract01'}):
            self.assertRaises(takeover.TakeoverError,
                              takeover.check_takeable, rows)

    def test_not_upstream(self):
        self.assertFalse(takeover.is_upstream(set()))
        self.assertFalse(takeover.is_upstream({'2024_1_contract01',
                                               '2026_2_expand03'}))
        self.assertFalse(takeover.is_upstream({'2025_1_contract01'}))


class TestUnknownRevision(test_migration.FreshDBTestCase):

    def stamp_rows(self, *rows):
        with session.get_engine().begin() as conn:
            conn.exec_driver_sql('CREATE TABLE alembic_version '
                                 '(version_num VARCHAR(32) PRIMARY KEY)')
            for row in rows:
                conn.exec_driver_sql(
                    "INSERT INTO alembic_version VALUES ('%s')" % row)

    def tables(self):
        with session.get_engine().connect() as conn:
            return sorted(sa.inspect(conn).get_table_names())

    def test_newer_upstream_refused_and_nothing_changed(self):
        self.stamp_rows('2025_1_contract01')
        before = self.tables()
        for step in (migration.sync, migration.expand, migration.check,
                     migration.current_heads):
            error = self.assertRaises(RuntimeError, step)
            self.assertIn('2025_1_contract01', str(error))
        self.assertEqual(before, self.tables())

    def test_mixed_rows_refused(self):
        self.stamp_rows('2024_1_contract01', '2026_2_expand03')
        error = self.assertRaises(RuntimeError, migration.sync)
        self.assertIn('2024_1_contract01', str(error))
        self.assertEqual(['alembic_version'], self.tables())

    def test_upstream_not_stamped_over(self):
        self.stamp_rows('2024_1_contract01')
        error = self.assertRaises(RuntimeError, migration.stamp, 'base01')
        self.assertIn('db sync', str(error))
        self.assertEqual(set(), migration.current_heads())
        self.assertEqual(migration.NEED_EXPAND, migration.check())
        self.assertRaises(RuntimeError, migration.contract)
        self.assertRaises(RuntimeError, migration.migrate)

    def test_old_upstream_refused(self):
        self.stamp_rows('ocata_contract01')
        error = self.assertRaises(RuntimeError, migration.sync)
        self.assertIn('2023.1', str(error))
        self.assertEqual(['alembic_version'], self.tables())
        self.assertEqual(migration.NEED_EXPAND, migration.check())
