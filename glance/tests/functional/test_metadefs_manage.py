"""glance-manage db load_metadefs / export_metadefs / unload_metadefs on
the shipped catalog (etc/metadefs), on SQLite, MariaDB and PostgreSQL."""

import json
import os

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import test_manage

CATALOG = os.path.join(base.ROOT, 'etc', 'metadefs')


def read_dir(path):
    found = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), encoding='utf-8') as f:
            doc = json.load(f)
        found[doc['namespace']] = doc
    return found


class ManageMetadefsMixin:
    """On a synced database of its own (see test_manage.ManageTestBase)."""

    def setUp(self):
        super().setUp()
        self.run_ok('db', 'sync')

    def scalar(self, statement):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(statement)).scalar()

    def count(self, table):
        return self.scalar('SELECT COUNT(*) FROM %s' % table)

    def export(self, name):
        path = os.path.join(self.workdir, name)
        self.run_ok('db', 'export_metadefs', '--path', path)
        return read_dir(path)

    def write(self, directory, doc, file_name='ns.json'):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, file_name), 'w') as f:
            json.dump(doc, f)

    def test_shipped_catalog_round_trip(self):
        shipped = read_dir(CATALOG)
        self.assertGreaterEqual(len(shipped), 20)
        out = self.run_ok('db', 'load_metadefs', '--path', CATALOG)
        self.assertIn('Loaded %d namespaces' % len(shipped), out)
        self.assertEqual(len(shipped), self.count('metadef_namespaces'))
        self.assertEqual(
            sum(len(d.get('properties') or {}) for d in shipped.values()),
            self.count('metadef_properties'))
        # Resource types the loader creates are protected.
        self.assertEqual(0, self.scalar(
            'SELECT COUNT(*) FROM metadef_resource_types WHERE NOT '
            'protected'))
        self.assertEqual('admin', self.scalar(
            "SELECT DISTINCT owner FROM metadef_namespaces"))

        first = self.export('first')
        self.assertEqual(set(shipped), set(first))
        for name, source in shipped.items():
            exported = first[name]
            for key, value in source.items():
                if key == 'resource_type_associations':
                    # Listed by creation time, then name.
                    value = sorted(value, key=lambda a: a['name'])
                self.assertEqual(value, exported[key], '%s %s' % (name, key))
            self.assertEqual('admin', exported['owner'])

        # Unload empties every table.
        self.run_ok('db', 'unload_metadefs')
        for table in ('metadef_namespaces', 'metadef_properties',
                      'metadef_objects', 'metadef_tags',
                      'metadef_namespace_resource_types',
                      'metadef_resource_types'):
            self.assertEqual(0, self.count(table), table)

        # Loading the export gives back exactly the same catalog.
        self.run_ok('db', 'load_metadefs', os.path.join(self.workdir,
                                                         'first'))
        self.assertEqual(first, self.export('second'))

    def test_merge_prefer_new_overwrite(self):
        source = os.path.join(self.workdir, 'source')
        doc = {'namespace': 'Test::Merge', 'display_name': 'Old',
               'visibility': 'public', 'protected': True,
               'resource_type_associations': [{'name': 'OS::Glance::Image',
                                               'prefix': 'a_'}],
               'properties': {'p': {'title': 'Old', 'type': 'string'}},
               'objects': [{'name': 'o', 'required': ['x'],
                            'properties': {'x': {'title': 'X',
                                                 'type': 'integer'}}}],
               'tags': [{'name': 't1'}]}
        self.write(source, doc)
        self.run_ok('db', 'load_metadefs', '--path', source)

        changed = json.loads(json.dumps(doc))
        changed['display_name'] = 'New'
        changed['resource_type_associations'][0]['prefix'] = 'b_'
        changed['properties']['p']['title'] = 'New'
        changed['properties']['q'] = {'title': 'Q', 'type': 'boolean'}
        changed['tags'].append({'name': 't2'})
        self.write(source, changed)

        def state():
            # Read straight from the tables: no process to start.
            with self.engine.connect() as conn:
                ns = conn.execute(sa.text(
                    'SELECT id, display_name FROM metadef_namespaces '
                    "WHERE namespace = 'Test::Merge'")).one()

                def rows(statement):
                    return conn.execute(sa.text(statement),
                                        {'i': ns.id}).all()
                return {
                    'display_name': ns.display_name,
                    'properties': {r.name: json.loads(r.json_schema)
                                   for r in rows(
                                       'SELECT name, json_schema FROM '
                                       'metadef_properties WHERE '
                                       'namespace_id = :i ORDER BY id')},
                    'tags': [{'name': r.name} for r in rows(
                        'SELECT name FROM metadef_tags WHERE '
                        'namespace_id = :i ORDER BY id')],
                    'objects': [{'name': r.name, 'required': [
                        x for x in (r.required or '').split(',') if x]}
                        for r in rows('SELECT name, required FROM '
                                      'metadef_objects WHERE '
                                      'namespace_id = :i')],
                    'resource_type_associations': [
                        {'prefix': r.prefix} for r in rows(
                            'SELECT prefix FROM '
                            'metadef_namespace_resource_types WHERE '
                            'namespace_id = :i')],
                }

        # Without --merge an existing namespace is left alone.
        self.assertIn('Loaded 0 namespaces, skipped 1',
                      self.run_ok('db', 'load_metadefs', '--path', source))

        # --merge adds what is missing and keeps what exists.
        self.run_ok('db', 'load_metadefs', '--path', source, '--merge')
        merged = state()
        self.assertEqual('Old', merged['display_name'])
        self.assertEqual('Old', merged['properties']['p']['title'])
        self.assertEqual({'p', 'q'}, set(merged['properties']))
        self.assertEqual(['t1', 't2'], [t['name'] for t in merged['tags']])
        self.assertEqual(['x'], merged['objects'][0]['required'])
        self.assertEqual('a_', merged['resource_type_associations'][0][
            'prefix'])

        # --prefer_new also updates what exists from the file.
        self.run_ok('db', 'load_metadefs', '--path', source, '--merge',
                    '--prefer_new')
        newer = state()
        self.assertEqual('New', newer['display_name'])
        self.assertEqual('New', newer['properties']['p']['title'])
        self.assertEqual('b_', newer['resource_type_associations'][0][
            'prefix'])

        # --overwrite replaces the namespace by the file's content.
        smaller = dict(changed, properties={'r': {'title': 'R',
                                                  'type': 'number'}},
                       tags=[], objects=[])
        self.write(source, smaller)
        self.run_ok('db', 'load_metadefs', '--path', source, '--merge',
                    '--overwrite')
        replaced = state()
        self.assertEqual(['r'], list(replaced['properties']))
        self.assertEqual([], replaced['tags'])
        self.assertEqual([], replaced['objects'])


class BadFilesMixin:
    """Checks that do not depend on the database: SQLite only."""

    def test_meaningless_flags_change_nothing(self):
        source = os.path.join(self.workdir, 'flags')
        self.write(source, {'namespace': 'Test::Flags'})
        for flags in (('--prefer_new',), ('--overwrite',),
                      ('--merge', '--prefer_new', '--overwrite')):
            proc = self.manage('db', 'load_metadefs', '--path', source,
                               *flags)
            self.assertEqual(1, proc.returncode, flags)
            self.assertIn('ERROR', proc.stderr)
        self.assertEqual(0, self.count('metadef_namespaces'))

    def test_bad_files_are_reported_and_skipped(self):
        source = os.path.join(self.workdir, 'bad')
        self.write(source, {'namespace': 'Test::Good'}, 'good.json')
        with open(os.path.join(source, 'broken.json'), 'w') as f:
            f.write('{"namespace": ')
        self.write(source, {'namespace': 'Test::Bad', 'properties': {
            'p': {'title': 'P', 'type': 'integer', 'minimum': 3,
                  'maximum': 1}}}, 'invalid.json')
        self.write(source, {'namespace': 'Test::Ignored'}, 'notes.txt')
        proc = self.manage('db', 'load_metadefs', '--path', source)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('broken.json', proc.stderr)
        self.assertIn('minimum (3) is greater than maximum (1)',
                      proc.stderr)
        self.assertEqual(['Test::Good'], list(self.export('out')))
        proc = self.manage('db', 'load_metadefs', '--path',
                           os.path.join(self.workdir, 'missing'))
        self.assertEqual(1, proc.returncode)


class TestManageMetadefsSQLite(BadFilesMixin, ManageMetadefsMixin,
                               test_manage.ManageTestBase):
    pass


class TestManageMetadefsMySQL(ManageMetadefsMixin,
                              test_manage.ManageTestBase):
    db_kind = 'mysql'


class TestManageMetadefsPostgreSQL(ManageMetadefsMixin,
                                   test_manage.ManageTestBase):
    db_kind = 'postgresql'
