"""glance.db.migration: alembic expand/contract, check codes, data
migrations and purge, on a real SQLite file."""

import datetime
import json

import sqlalchemy as sa

from glance.common import timeutils
from glance.db import migration
from glance.db import models
from glance.db import session
from glance.tests.unit import base

OLD = datetime.datetime(2000, 1, 1)


class FreshDBTestCase(base.DBTestCase):
    migrate = False

    def add_location(self, meta):
        with session.get_engine().begin() as conn:
            conn.execute(models.images.insert().values(
                **base.image_values(id='c0ffee00-0000-4000-8000-000000000001')))
            conn.execute(models.image_locations.insert().values(
                image_id='c0ffee00-0000-4000-8000-000000000001',
                value='file:///x', meta_data=json.dumps(meta),
                created_at=OLD))

    def location_meta(self):
        with session.get_engine().connect() as conn:
            return [json.loads(r.meta_data) for r in conn.execute(
                sa.select(models.image_locations.c.meta_data))]


class TestCheck(FreshDBTestCase):

    def test_fresh_database_needs_expand(self):
        self.assertEqual(3, migration.check())
        self.assertEqual(set(), migration.current_heads())

    def test_after_expand_needs_contract(self):
        migration.expand()
        self.assertEqual(5, migration.check())
        self.assertEqual({migration.branch_head('expand')},
                         migration.current_heads())

    def test_pending_data_migration(self):
        migration.expand()
        self.add_location({'backend': 'fast'})
        self.assertTrue(migration.has_pending_data_migrations())
        self.assertEqual(4, migration.check())
        self.assertRaises(RuntimeError, migration.contract)
        self.assertEqual(1, migration.migrate())
        self.assertEqual([{'store': 'fast'}], self.location_meta())
        self.assertEqual(5, migration.check())
        migration.contract()
        self.assertEqual(0, migration.check())

    def test_other_metadata_not_pending(self):
        migration.expand()
        self.add_location({'store': 'fast', 'note': 'backend'})
        self.assertFalse(migration.has_pending_data_migrations())
        self.assertEqual(5, migration.check())

    def test_sync(self):
        migration.sync()
        self.assertEqual(0, migration.check())
        self.assertIn(migration.branch_head('contract'),
                      migration.current_heads())
        migration.sync()   # idempotent
        self.assertEqual(0, migration.check())

    def test_sync_runs_data_migrations(self):
        migration.expand()
        self.add_location({'backend': 'b1', 'x': 1})
        migration.sync()
        self.assertEqual([{'store': 'b1', 'x': 1}], self.location_meta())
        self.assertEqual(0, migration.check())

    def test_order_enforced(self):
        self.assertRaises(RuntimeError, migration.migrate)
        self.assertRaises(RuntimeError, migration.contract)
        migration.sync()
        self.assertRaises(RuntimeError, migration.migrate)

    def test_schema_matches_models(self):
        migration.sync()
        inspector = sa.inspect(session.get_engine())
        for table in models.Base.metadata.sorted_tables:
            columns = {c['name'] for c in inspector.get_columns(table.name)}
            self.assertEqual({c.name for c in table.columns}, columns,
                             table.name)
            indexes = {i['name'] for i in inspector.get_indexes(table.name)}
            self.assertTrue({i.name for i in table.indexes} <= indexes,
                            table.name)

    def test_stamp(self):
        migration.expand()
        migration.stamp('base01')
        self.assertEqual({'base01'}, migration.current_heads())


class TestPurge(base.DBTestCase):

    def setUp(self):
        super().setUp()
        self.engine = session.get_engine()
        recent = timeutils.utcnow()
        with self.engine.begin() as conn:
            for n, (deleted_at, deleted) in enumerate(
                    [(OLD, True), (OLD, True), (OLD, True),
                     (recent, True), (None, False)]):
                iid = 'c0ffee00-0000-4000-8000-00000000000%d' % n
                conn.execute(models.images.insert().values(
                    **base.image_values(id=iid, deleted=deleted,
                                        deleted_at=deleted_at)))
                for name in ('a', 'b'):
                    conn.execute(models.image_properties.insert().values(
                        image_id=iid, name=name, value='v', created_at=OLD,
                        deleted=deleted, deleted_at=deleted_at))
                conn.execute(models.image_tags.insert().values(
                    image_id=iid, value='t', created_at=OLD,
                    deleted=deleted, deleted_at=deleted_at))
            conn.execute(models.tasks.insert().values(
                id='t1', type='import', status='success', owner='p1',
                created_at=OLD, deleted=True, deleted_at=OLD))
            conn.execute(models.task_info.insert().values(task_id='t1'))
            conn.execute(models.tasks.insert().values(
                id='t2', type='import', status='success', owner='p1',
                created_at=OLD, deleted=False))

    def count(self, table):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(
                table)).scalar()

    def test_purge_keeps_images(self):
        counts = migration.purge(age_in_days=30, max_rows=-1)
        self.assertEqual(6, counts['image_properties'])
        self.assertEqual(3, counts['image_tags'])
        self.assertEqual(1, counts['tasks'])
        self.assertEqual(5, self.count(models.images))
        self.assertEqual(4, self.count(models.image_properties))
        self.assertEqual(2, self.count(models.image_tags))
        self.assertEqual(1, self.count(models.tasks))
        self.assertEqual(0, self.count(models.task_info))

    def test_max_rows(self):
        counts = migration.purge(age_in_days=30, max_rows=2)
        self.assertEqual(2, counts['image_properties'])
        self.assertEqual(8, self.count(models.image_properties))

    def test_age(self):
        migration.purge(age_in_days=0, max_rows=-1)
        # Rows deleted "now" are older than a cutoff of now, too.
        self.assertEqual(2, self.count(models.image_properties))
        self.assertEqual(1, self.count(models.image_tags))

    def test_validation(self):
        self.assertRaises(ValueError, migration.purge, age_in_days=-1)
        self.assertRaises(ValueError, migration.purge, max_rows=-2)

    def test_purge_images(self):
        counts = migration.purge_images(age_in_days=180, max_rows=-1)
        self.assertEqual(3, counts['images'])
        self.assertEqual(2, self.count(models.images))
        # Children of purged images go with them.
        self.assertEqual(4, self.count(models.image_properties))
        self.assertEqual(2, self.count(models.image_tags))

    def test_purge_images_max_rows(self):
        self.assertEqual(1, migration.purge_images(max_rows=1)['images'])
        self.assertEqual(4, self.count(models.images))
