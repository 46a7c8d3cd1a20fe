"""glance-manage db ...: the expand / migrate / contract cycle and its
check exit codes, version, legacy spellings and purging, on SQLite,
MariaDB and PostgreSQL."""

import datetime
import json
import shutil
import tempfile
import uuid

import sqlalchemy as sa
import testtools

from glance.tests.functional import base

CURRENT, NEED_EXPAND, NEED_MIGRATE, NEED_CONTRACT = 0, 3, 4, 5


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class ManageTestBase(testtools.TestCase):

    db_kind = 'sqlite'

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        self.workdir = tempfile.mkdtemp(prefix='glance-manage-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database(self.db_kind, self.workdir)
        self.addCleanup(self.db.drop)
        self.daemon = base.Daemon(self.workdir, self.db.url)
        self.engine = sa.create_engine(self.db.url)
        self.addCleanup(self.engine.dispose)

    def manage(self, *args):
        return self.daemon.manage(*args, check=False)

    def check_code(self):
        proc = self.manage('db', 'check')
        return proc.returncode

    def run_ok(self, *args):
        proc = self.manage(*args)
        self.assertEqual(0, proc.returncode,
                         '%s: %s %s' % (args, proc.stdout, proc.stderr))
        return proc.stdout

    def sql(self, statement, **params):
        with self.engine.begin() as conn:
            return conn.execute(sa.text(statement), params)

    def scalar(self, statement, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(statement), params).scalar()

    def add_image(self, deleted=False, age_days=0, image_id=None):
        image_id = image_id or str(uuid.uuid4())
        stamp = utcnow() - datetime.timedelta(days=age_days)
        self.sql('INSERT INTO images (id, name, status, visibility, '
                 'min_disk, min_ram, protected, os_hidden, created_at, '
                 'updated_at, deleted_at, deleted) VALUES (:id, :name, '
                 ':status, :vis, 0, 0, :f, :f, :created, :created, '
                 ':deleted_at, :deleted)',
                 id=image_id, name='img-' + image_id[:6],
                 status='deleted' if deleted else 'queued', vis='shared',
                 f=False, created=stamp,
                 deleted_at=stamp if deleted else None, deleted=deleted)
        return image_id

    def add_child(self, table, image_id, deleted, age_days, **values):
        stamp = utcnow() - datetime.timedelta(days=age_days)
        values.update(image_id=image_id, created_at=stamp, updated_at=stamp,
                      deleted_at=stamp if deleted else None, deleted=deleted)
        names = sorted(values)
        self.sql('INSERT INTO %s (%s) VALUES (%s)' % (
            table, ', '.join(names), ', '.join(':' + n for n in names)),
            **values)

    def count(self, table, where='1=1', **params):
        return self.scalar('SELECT COUNT(*) FROM %s WHERE %s'
                           % (table, where), **params)


class ExpandMigrateContractMixin:

    def test_check_codes_through_the_cycle(self):
        # A brand-new database: nothing applied, expand first.
        self.assertEqual(NEED_EXPAND, self.check_code())
        # The advice names the next command.
        self.assertIn('expand', self.manage('db', 'check').stdout)

        self.run_ok('db', 'expand')
        self.assertEqual(NEED_CONTRACT, self.check_code())
        self.assertIn('contract', self.manage('db', 'check').stdout)

        # A location written by an older release: data migration pending.
        image_id = self.add_image()
        self.add_child('image_locations', image_id, False, 0,
                       value='file:///var/lib/glance/images/x',
                       meta_data=json.dumps({'backend': 'x'}),
                       status='active')
        self.assertEqual(NEED_MIGRATE, self.check_code())
        self.assertIn('migrate', self.manage('db', 'check').stdout)

        # contract refuses while data migrations are pending.
        proc = self.manage('db', 'contract')
        self.assertNotEqual(0, proc.returncode, proc.stdout)
        self.assertEqual(NEED_MIGRATE, self.check_code())

        self.run_ok('db', 'migrate')
        self.assertEqual(NEED_CONTRACT, self.check_code())
        meta = json.loads(self.scalar(
            'SELECT meta_data FROM image_locations WHERE image_id = :i',
            i=image_id))
        self.assertEqual({'store': 'x'}, meta)

        self.run_ok('db', 'contract')
        self.assertEqual(CURRENT, self.check_code())
        self.assertIn('up to date', self.manage('db', 'check').stdout)

        # Nothing left to migrate once contracted.
        self.assertNotEqual(0, self.manage('db', 'migrate').returncode)
        self.assertEqual(CURRENT, self.check_code())

    def test_sync_and_version(self):
        self.assertEqual(NEED_EXPAND, self.check_code())
        before = self.run_ok('db', 'version')
        self.assertIn('sync', before)   # advises running db sync
        self.run_ok('db', 'sync')
        self.assertEqual(CURRENT, self.check_code())
        version = self.run_ok('db', 'version')
        # The contract head (which depends on the expand head).
        self.assertIn('2026_2_contract01', version)
        # The schema is there.
        self.assertEqual(0, self.count('images'))
        # Idempotent.
        self.run_ok('db', 'sync')
        self.assertEqual(CURRENT, self.check_code())

    def test_sync_runs_pending_data_migrations(self):
        self.run_ok('db', 'expand')
        image_id = self.add_image()
        self.add_child('image_locations', image_id, False, 0,
                       value='file:///x', meta_data='{"backend": "b1"}',
                       status='active')
        self.run_ok('db', 'sync')
        self.assertEqual(CURRENT, self.check_code())
        meta = json.loads(self.scalar(
            'SELECT meta_data FROM image_locations WHERE image_id = :i',
            i=image_id))
        self.assertEqual({'store': 'b1'}, meta)

    def test_migrate_and_contract_need_expand(self):
        self.assertNotEqual(0, self.manage('db', 'migrate').returncode)
        self.assertNotEqual(0, self.manage('db', 'contract').returncode)
        self.assertEqual(NEED_EXPAND, self.check_code())

    def test_purge(self):
        self.run_ok('db', 'sync')
        old_deleted = self.add_image(deleted=True, age_days=400)
        recent_deleted = self.add_image(deleted=True, age_days=1)
        live = self.add_image()
        # Soft-deleted children: old ones go, recent ones stay, live ones
        # are never touched.
        for name in ('a', 'b', 'c'):
            self.add_child('image_properties', live, True, 45,
                           name=name, value='v')
        self.add_child('image_properties', live, True, 2, name='d',
                       value='v')
        self.add_child('image_properties', live, False, 400, name='e',
                       value='v')
        self.add_child('image_tags', old_deleted, True, 400, value='t1')
        self.add_child('image_tags', live, False, 400, value='t2')
        self.add_child('image_members', old_deleted, True, 400,
                       member='p1', can_share=False, status='accepted')

        # --max_rows bounds the rows removed per table.
        self.run_ok('db', 'purge', '--age_in_days', '30', '--max_rows', '2')
        self.assertEqual(1, self.count('image_properties', 'name IN '
                                       "('a', 'b', 'c')"))
        out = self.run_ok('db', 'purge', '--age_in_days', '30',
                          '--max_rows', '-1')
        self.assertIn('image_properties', out)
        self.assertEqual(['d', 'e'], sorted(
            r[0] for r in self.sql('SELECT name FROM image_properties')))
        self.assertEqual(['t2'], [r[0] for r in self.sql(
            'SELECT value FROM image_tags')])
        self.assertEqual(0, self.count('image_members'))
        # Images themselves are never purged by "db purge".
        self.assertEqual(3, self.count('images'))

        # The legacy spelling and the default age (30 days).
        self.run_ok('db_purge')
        self.assertEqual(3, self.count('images'))

        self.run_ok('db', 'purge_images_table', '--age_in_days', '30',
                    '--max_rows', '-1')
        self.assertEqual({recent_deleted, live}, {r[0] for r in self.sql(
            'SELECT id FROM images')})

    def test_purge_rejects_bad_arguments(self):
        self.run_ok('db', 'sync')
        self.assertNotEqual(0, self.manage(
            'db', 'purge', '--age_in_days', '-1').returncode)
        self.assertNotEqual(0, self.manage(
            'db', 'purge', '--max_rows', '-2').returncode)


class TestManageSQLite(ExpandMigrateContractMixin, ManageTestBase):
    db_kind = 'sqlite'

    def test_legacy_spellings(self):
        self.assertEqual(NEED_EXPAND,
                         self.manage('db_check').returncode)
        self.run_ok('db_expand')
        self.assertEqual(NEED_CONTRACT, self.manage('db_check').returncode)
        self.run_ok('db_contract')
        self.assertEqual(CURRENT, self.manage('db_check').returncode)
        self.assertIn('2026_2_contract01', self.run_ok('db_version'))

    def test_legacy_db_sync(self):
        self.run_ok('db_sync')
        self.assertEqual(CURRENT, self.check_code())

    def test_usage_without_arguments(self):
        import subprocess
        import sys
        proc = subprocess.run([sys.executable, '-m', 'glance.cmd.manage'],
                              capture_output=True, text=True, cwd=base.ROOT)
        self.assertEqual(2, proc.returncode)
        self.assertIn('db', proc.stdout + proc.stderr)

    def test_daemon_serves_after_sync(self):
        self.run_ok('db', 'sync')
        self.daemon.start()
        self.addCleanup(self.daemon.stop)
        import requests
        resp = requests.post(self.daemon.url + '/v2/images',
                             json={'name': 'after-sync'}, timeout=30)
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual(1, self.count('images'))


class TestManageMySQL(ExpandMigrateContractMixin, ManageTestBase):
    db_kind = 'mysql'


class TestManagePostgreSQL(ExpandMigrateContractMixin, ManageTestBase):
    db_kind = 'postgresql'
