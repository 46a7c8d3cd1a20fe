"""Taking over a deployment of the real upstream Glance.

tools/upstream-glance runs upstream Glance (from PyPI, pinned) on the
test's database and store directories, and the test fills it through its
API: images with data in two file stores and at an http location,
properties, tags, members, every visibility, a hidden, a protected, a
deactivated and a deleted image, a metadata definitions namespace and a
finished glance-direct import task. An image with a swift location is
added by SQL (upstream writes such rows with its swift driver). Then the
upstream server stops, this project's ``glance-manage db sync`` takes the
database over and this project's daemon serves it from the same
directories: rows, API answers, bytes and hashes are compared with what
upstream gave, then images are changed and deleted through this project.

GLANCE_TEST_NO_UPSTREAM_GLANCE=1 skips these tests (except under CI).
"""

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import requests
import sqlalchemy as sa
import testtools

from glance.tests import prerequisites
from glance.tests.functional import base

TOOL = os.path.join(base.ROOT, 'tools', 'upstream-glance')
PATCH = 'application/openstack-images-v2.1-json-patch'
OWNER, MEMBER_B, MEMBER_C = 'proj-a', 'proj-b', 'proj-c'
WEB_DATA = os.urandom(40000)
# Tables upstream creates, with the columns that order their rows.
TABLES = {
    'images': 'id', 'image_properties': 'id', 'image_tags': 'id',
    'image_locations': 'id', 'image_members': 'id', 'tasks': 'id',
    'task_info': 'task_id', 'metadef_namespaces': 'id',
    'metadef_objects': 'id', 'metadef_properties': 'id',
    'metadef_tags': 'id', 'metadef_resource_types': 'id',
    'metadef_namespace_resource_types': 'resource_type_id, namespace_id',
    'node_reference': 'node_reference_id', 'cached_images': 'id'}
SWIFT_ID = '5e1f0000-0000-4000-8000-00000000aaaa'
SWIFT_URL = 'swift+https://acct:key@swift.example.com/v1/glance/' + SWIFT_ID


class WebHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.answer(head=False)

    def answer(self, head):
        self.send_response(200)
        self.send_header('Content-Length', str(len(WEB_DATA)))
        self.end_headers()
        if not head:
            self.wfile.write(WEB_DATA)


def identity(project=OWNER, roles='admin,member,reader'):
    return {'X-Identity-Status': 'Confirmed', 'X-Project-Id': project,
            'X-User-Id': 'user-' + project, 'X-Roles': roles}


def dump(url):
    """Every row of the tables upstream creates, as sorted tuples."""
    engine = sa.create_engine(url)
    rows = {}
    try:
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            for table, order in TABLES.items():
                if table in names:
                    rows[table] = [tuple(r) for r in conn.exec_driver_sql(
                        'SELECT * FROM %s ORDER BY %s' % (table, order))]
    finally:
        engine.dispose()
    return rows


class Upstream:
    """The upstream Glance server of tools/upstream-glance."""

    def __init__(self, data, db_url, stores='multi'):
        self.data = data
        self.port = base.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.env = dict(os.environ, GLANCE_DB_URL=db_url,
                        GLANCE_STORES=stores)

    def run(self, *args, timeout=1800):
        proc = subprocess.run([TOOL] + list(args), capture_output=True,
                              text=True, timeout=timeout, env=self.env)
        if proc.returncode != 0:
            raise RuntimeError('tools/upstream-glance %s failed:\n%s'
                               % (args[0], proc.stderr[-3000:]))
        return proc.stdout

    def start(self):
        self.run('start', self.data, str(self.port))

    def stop(self):
        self.run('stop', self.data, timeout=120)


class TakeoverTest(testtools.TestCase):
    """One upstream deployment, taken over once, for the whole class."""

    db_kind = 'sqlite'
    # 'multi': enabled_backends fast, cheap (file) and web (http);
    # 'single': [glance_store] stores = file, http.
    stores = 'multi'
    _unmet = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._unmet = (base.database_problem(cls.db_kind)
                      or prerequisites.skip_requested('UPSTREAM_GLANCE'))
        if cls._unmet is not None:
            return
        cls.workdir = tempfile.mkdtemp(prefix='glance-takeover-')
        cls.db = base.Database(cls.db_kind, cls.workdir)
        cls.web = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                  WebHandler)
        cls.web.daemon_threads = True
        threading.Thread(target=cls.web.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True).start()
        cls.web_url = 'http://127.0.0.1:%d/data' % cls.web.server_port
        cls.http = requests.Session()
        cls.data = os.path.join(cls.workdir, 'upstream')
        cls.upstream = Upstream(cls.data, cls.db.url, cls.stores)
        try:
            cls.upstream.start()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            cls._unmet = prerequisites.check('UPSTREAM_GLANCE', False,
                                             str(e))
            return
        try:
            try:
                cls.fill()
            finally:
                cls.upstream.stop()
            cls.add_swift_image()
            cls.before = dump(cls.db.url)
            cls.daemon = base.Daemon(cls.workdir, cls.db.url,
                                     options=cls.our_options())
            cls.sync = cls.daemon.manage('db', 'sync', check=False)
            cls.after = dump(cls.db.url)
            cls.url = cls.daemon.url
            if cls.sync.returncode == 0:
                cls.daemon.start()
                # Before any test changes them.
                cls.our_images = {
                    key: requests.get(
                        cls.url + '/v2/images/%s' % cls.ids[key],
                        headers=identity(), timeout=60).json()
                    for key in cls.upstream_images}
                cls.our_namespace = requests.get(
                    cls.url + '/v2/metadefs/namespaces/Takeover::Test',
                    headers=identity(), timeout=60).json()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def our_options(cls):
        images = os.path.join(cls.data, 'images')
        if cls.stores == 'single':
            return {
                'glance_store.stores': 'file, http',
                'glance_store.filesystem_store_datadir': images,
                'node_staging_uri': 'file://%s/staging' % cls.data,
                'show_multiple_locations': 'true',
                'import_filtering_opts.allowed_internal_networks':
                    '127.0.0.1/32',
                'import_filtering_opts.allowed_ports': ''}
        return {
            'enabled_backends': 'fast:file, cheap:file, web:http',
            'glance_store.default_backend': 'fast',
            'fast.filesystem_store_datadir': os.path.join(images, 'fast'),
            'cheap.filesystem_store_datadir': os.path.join(images, 'cheap'),
            'node_staging_uri': 'file://%s/staging' % cls.data,
            'show_multiple_locations': 'true',
            'import_filtering_opts.allowed_internal_networks':
                '127.0.0.1/32',
            'import_filtering_opts.allowed_ports': ''}

    @classmethod
    def tearDownClass(cls):
        # Only what this class set up (not what a parent class left).
        own = vars(cls)
        if 'daemon' in own:
            cls.daemon.stop()
        if 'web' in own:
            cls.web.shutdown()
            cls.web.server_close()
            del cls.web
        if 'db' in own:
            cls.db.drop()
            del cls.db
        if 'workdir' in own:
            shutil.rmtree(cls.workdir, True)
            del cls.workdir
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)
        self.assertEqual(0, self.sync.returncode,
                         self.sync.stdout + self.sync.stderr)

    # -- filling the upstream deployment -----------------------------------

    @classmethod
    def up(cls, method, path, expect, headers=None, **kwargs):
        resp = cls.http.request(method, cls.upstream.url + path,
                                headers=headers or identity(), timeout=60,
                                **kwargs)
        if resp.status_code != expect:
            log = os.path.join(cls.data, 'log', 'glance-api.log')
            tail = ''
            if os.path.exists(log):
                with open(log, errors='replace') as f:
                    tail = f.read()[-3000:]
            raise AssertionError('upstream %s %s: %s %s\n%s' % (
                method, path, resp.status_code, resp.text[:500], tail))
        return resp

    @classmethod
    def up_image(cls, key, data=None, store=None, headers=None, **body):
        image = cls.up('POST', '/v2/images', 201, headers=headers,
                       json=dict(name='takeover-' + key,
                                 disk_format='raw',
                                 container_format='bare', **body)).json()
        if data is not None:
            upload = dict(headers or identity(),
                          **{'Content-Type': 'application/octet-stream'})
            if store and cls.stores == 'multi':
                upload['X-Image-Meta-Store'] = store
            cls.up('PUT', '/v2/images/%s/file' % image['id'], 204,
                   headers=upload, data=data)
        cls.ids[key] = image['id']
        cls.payload[key] = data
        return image['id']

    @classmethod
    def fill(cls):
        cls.ids, cls.payload = {}, {}
        cls.up_image('private', os.urandom(70000), visibility='private',
                     tags=['alpha', 'beta'], os_distro='debian',
                     hw_disk_bus='scsi', min_disk=2, min_ram=256)
        shared = cls.up_image('shared', os.urandom(50000), store='cheap',
                              visibility='shared', note='for b and c')
        for member in (MEMBER_B, MEMBER_C):
            cls.up('POST', '/v2/images/%s/members' % shared, 200,
                   json={'member': member})
        cls.up('PUT', '/v2/images/%s/members/%s' % (shared, MEMBER_B), 200,
               headers=identity(MEMBER_B, 'member,reader'),
               json={'status': 'accepted'})
        cls.up_image('community', os.urandom(30000), visibility='community')
        cls.up_image('public', os.urandom(20000), visibility='public')
        cls.up_image('hidden', os.urandom(10000), visibility='public',
                     os_hidden=True)
        cls.up_image('protected', None, protected=True, kernel='none')
        deactivated = cls.up_image('deactivated', os.urandom(25000))
        cls.up('POST', '/v2/images/%s/actions/deactivate' % deactivated, 204)
        deleted = cls.up_image('deleted', os.urandom(15000),
                               tags=['gone'], was='here')
        cls.up('DELETE', '/v2/images/%s' % deleted, 204)
        cls.up_image('todelete', os.urandom(35000), store='cheap')
        cls.up_image('toscrub', os.urandom(12000), store='cheap')
        web = cls.up_image('web', None)
        cls.up('PATCH', '/v2/images/%s' % web, 200,
               headers=dict(identity(), **{'Content-Type': PATCH}),
               json=[{'op': 'add', 'path': '/locations/-',
                      'value': {'url': cls.web_url,
                                'metadata': {'store': 'web'}
                                if cls.stores == 'multi' else {}}}])
        cls.payload['web'] = WEB_DATA
        imported = cls.up_image('imported', None)
        cls.payload['imported'] = os.urandom(45000)
        cls.up('PUT', '/v2/images/%s/stage' % imported, 204,
               headers=dict(identity(),
                            **{'Content-Type': 'application/octet-stream'}),
               data=cls.payload['imported'])
        cls.up('POST', '/v2/images/%s/import' % imported, 202,
               json={'method': {'name': 'glance-direct'}})
        # Until the task has finished writing too (SQLite takes one
        # writer at a time; upstream answers 500 to a request it locks
        # out).
        deadline = time.monotonic() + 120
        while not (cls.up('GET', '/v2/images/%s' % imported,
                          200).json()['status'] == 'active'
                   and [t['status'] for t in cls.up(
                       'GET', '/v2/images/%s/tasks' % imported,
                       200).json()['tasks']] == ['success']):
            if time.monotonic() > deadline:
                raise AssertionError('upstream import did not finish')
            time.sleep(0.2)
        cls.up('POST', '/v2/metadefs/namespaces', 201, json={
            'namespace': 'Takeover::Test', 'display_name': 'Taken over',
            'description': 'Made by upstream', 'visibility': 'public',
            'protected': True,
            'resource_type_associations': [
                {'name': 'OS::Glance::Image', 'prefix': 'tk_'}],
            'properties': {'speed': {'title': 'Speed', 'type': 'integer',
                                     'minimum': 1}},
            'objects': [{'name': 'Box', 'required': ['size'],
                         'properties': {'size': {'type': 'string',
                                                 'title': 'Size'}}}],
            'tags': [{'name': 'fast'}, {'name': 'slow'}]})
        # What upstream answers, to compare with this project's answers.
        cls.upstream_images = {
            key: cls.up('GET', '/v2/images/%s' % image_id, 200).json()
            for key, image_id in cls.ids.items() if key != 'deleted'}
        cls.upstream_members = cls.up(
            'GET', '/v2/images/%s/members' % shared, 200).json()
        cls.upstream_namespace = cls.up(
            'GET', '/v2/metadefs/namespaces/Takeover::Test', 200).json()
        cls.upstream_tasks = cls.up(
            'GET', '/v2/images/%s/tasks' % imported, 200).json()

    @classmethod
    def add_swift_image(cls):
        """An image whose data upstream's swift driver wrote."""
        engine = sa.create_engine(cls.db.url)
        now = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO images (id, name, size, status, created_at,"
                    " updated_at, deleted, disk_format, container_format,"
                    " checksum, owner, min_disk, min_ram, protected,"
                    " visibility, os_hidden) VALUES (:id, 'takeover-swift',"
                    " 5, 'active', :now, :now, :f, 'raw', 'bare', "
                    " 'd41d8cd98f00b204e9800998ecf8427e', :owner, 0, 0, :f,"
                    " 'private', :f)"),
                    {'id': SWIFT_ID, 'now': now, 'owner': OWNER,
                     'f': False})
                conn.execute(sa.text(
                    "INSERT INTO image_locations (image_id, value,"
                    " created_at, updated_at, deleted, meta_data, status)"
                    " VALUES (:id, :url, :now, :now, :f, :meta, 'active')"),
                    {'id': SWIFT_ID, 'url': SWIFT_URL, 'now': now,
                     'f': False, 'meta': json.dumps({'store': 'objects'})})
        finally:
            engine.dispose()

    # -- helpers -----------------------------------------------------------

    def ours(self, method, path, headers=None, **kwargs):
        return requests.request(method, self.url + path,
                                headers=headers or identity(), timeout=60,
                                **kwargs)

    def image(self, key):
        resp = self.ours('GET', '/v2/images/%s' % self.ids[key])
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def download(self, key, headers=None):
        return self.ours('GET', '/v2/images/%s/file' % self.ids[key],
                         headers=headers)

    # -- the database ------------------------------------------------------

    def test_sync_reports_the_takeover(self):
        version = self.daemon.manage('db', 'version').stdout
        self.assertIn('2026_2_contract01', version)
        self.assertIn('Taken over from upstream Glance 2024.1', version)
        self.assertIn('2024_1_contract01', version)
        check = self.daemon.manage('db', 'check', check=False)
        self.assertEqual(0, check.returncode, check.stdout)

    def test_no_row_lost_or_changed(self):
        self.assertEqual(set(TABLES), set(self.before))
        for table in TABLES:
            self.assertEqual(self.before[table], self.after[table], table)
        # Soft-deleted rows are there, still deleted.
        deleted = [r for r in self.after['images']
                   if r[0] == self.ids['deleted']]
        self.assertEqual(1, len(deleted))

    def test_schema_is_this_projects(self):
        from alembic import autogenerate
        from alembic import migration

        from glance.db import models
        engine = sa.create_engine(self.db.url)
        try:
            with engine.connect() as conn:
                diff = autogenerate.compare_metadata(
                    migration.MigrationContext.configure(conn),
                    models.Base.metadata)
        finally:
            engine.dispose()
        kept = {'node_reference', 'cached_images', 'upstream_alembic_version'}
        left = []
        for change in diff:
            if change[0] == 'remove_table' and change[1].name in kept:
                continue
            if change[0] in ('remove_index', 'add_index',
                             'remove_constraint') and (
                    change[1].table.name in kept
                    or change[1].name == 'ix_image_properties_image_id_name'
                    or (change[0] == 'remove_constraint'
                        and change[1].table.name == 'image_properties')):
                # Upstream's unique constraint, this project's unique
                # index: the same rule.
                continue
            left.append(change)
        self.assertEqual([], left)

    # -- the API -----------------------------------------------------------

    def test_images_answer_as_upstream_did(self):
        for key, theirs in self.upstream_images.items():
            mine = self.our_images[key]
            for field, value in theirs.items():
                mine_value = mine.get(field)
                if field == 'tags':
                    # A set: upstream lists them in the order of a Python
                    # set of its process (the hash seed's), so in any.
                    value, mine_value = sorted(value), sorted(mine_value)
                self.assertEqual(value, mine_value, '%s %s: %s'
                                 % (key, field, mine))

    def test_listing_and_members(self):
        resp = self.ours('GET', '/v2/images?limit=100',
                         headers=identity(MEMBER_B, 'member,reader'))
        seen = {i['id'] for i in resp.json()['images']}
        self.assertIn(self.ids['shared'], seen)
        self.assertIn(self.ids['public'], seen)
        self.assertNotIn(self.ids['hidden'], seen)
        self.assertNotIn(self.ids['private'], seen)
        resp = self.ours('GET', '/v2/images?limit=100',
                         headers=identity(MEMBER_C, 'member,reader'))
        self.assertNotIn(self.ids['shared'],
                         {i['id'] for i in resp.json()['images']})
        resp = self.ours('GET', '/v2/images/%s/members' % self.ids['shared'])
        self.assertEqual(self.upstream_members, resp.json())

    def test_downloads_same_bytes_and_hashes(self):
        for key, data in self.payload.items():
            if data is None or key in ('deleted', 'deactivated',
                                       'todelete', 'toscrub'):
                continue
            resp = self.download(key)
            self.assertEqual(200, resp.status_code, key)
            self.assertEqual(data, resp.content, key)
            image = self.upstream_images[key]
            if image['checksum'] is None:
                continue   # added as a location: upstream hashed nothing
            self.assertEqual(hashlib.md5(data).hexdigest(),
                             image['checksum'], key)
            self.assertEqual(hashlib.new(image['os_hash_algo'],
                                         data).hexdigest(),
                             image['os_hash_value'], key)

    def test_deleted_image_stays_deleted(self):
        resp = self.ours('GET', '/v2/images/%s' % self.ids['deleted'])
        self.assertEqual(404, resp.status_code)

    def test_metadefs_and_tasks_answer_as_upstream_did(self):
        mine = self.our_namespace
        for field, value in self.upstream_namespace.items():
            if isinstance(value, list):
                # Rows created in the same second: either order.
                key = json.dumps
                self.assertEqual(sorted(value, key=key),
                                 sorted(mine.get(field), key=key), field)
            else:
                self.assertEqual(value, mine.get(field), field)
        resp = self.ours('GET', '/v2/images/%s/tasks' % self.ids['imported'])
        self.assertEqual(200, resp.status_code, resp.text)
        theirs = self.upstream_tasks['tasks']
        mine = resp.json()['tasks']
        self.assertEqual(1, len(theirs))
        self.assertEqual([t['id'] for t in theirs], [t['id'] for t in mine])
        for field in ('status', 'type', 'owner', 'input', 'result',
                      'message', 'image_id', 'request_id', 'user_id'):
            self.assertEqual(theirs[0].get(field), mine[0].get(field), field)
        # Upstream writes these with microseconds, without a zone.
        for field in ('created_at', 'expires_at'):
            self.assertEqual(theirs[0][field][:19], mine[0][field][:19])

    # -- changes through this project --------------------------------------

    def test_metadef_names_are_case_sensitive_after_takeover(self):
        # Upstream's MySQL tables compared names without case.
        path = '/v2/metadefs/namespaces/Takeover::Test/tags/'
        resp = self.ours('POST', path + 'Fast')
        self.assertEqual(201, resp.status_code, resp.text)
        resp = self.ours('POST', path + 'fast')
        self.assertEqual(409, resp.status_code, resp.text)
        names = [t['name'] for t in self.ours(
            'GET', '/v2/metadefs/namespaces/Takeover::Test/tags').json()[
                'tags']]
        self.assertEqual(['Fast', 'fast', 'slow'], sorted(names))

    def test_deactivated_image_reactivates(self):
        image_id = self.ids['deactivated']
        self.assertEqual('deactivated', self.image('deactivated')['status'])
        resp = self.download('deactivated',
                             headers=identity(roles='member,reader'))
        self.assertEqual(403, resp.status_code)
        resp = self.ours('POST', '/v2/images/%s/actions/reactivate'
                         % image_id)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(self.payload['deactivated'],
                         self.download('deactivated').content)
        resp = self.ours('POST', '/v2/images/%s/actions/deactivate'
                         % image_id)
        self.assertEqual(204, resp.status_code, resp.text)

    def test_change_properties_and_tags(self):
        resp = self.ours('PATCH', '/v2/images/%s' % self.ids['private'],
                         headers=dict(identity(), **{'Content-Type': PATCH}),
                         json=[{'op': 'replace', 'path': '/os_distro',
                                'value': 'ubuntu'},
                               {'op': 'remove', 'path': '/hw_disk_bus'},
                               {'op': 'replace', 'path': '/tags',
                                'value': ['alpha', 'beta', 'gamma']}])
        self.assertEqual(200, resp.status_code, resp.text)
        image = self.image('private')
        self.assertEqual('ubuntu', image['os_distro'])
        self.assertNotIn('hw_disk_bus', image)
        self.assertEqual({'alpha', 'beta', 'gamma'}, set(image['tags']))

    def test_delete_removes_upstream_data(self):
        image = self.upstream_images['todelete']
        path = image['locations'][0]['url'][len('file://'):]
        self.assertTrue(os.path.exists(path))
        resp = self.ours('DELETE', '/v2/images/%s' % self.ids['todelete'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(path))

    def test_delayed_delete_scrubs_upstream_data(self):
        image = self.upstream_images['toscrub']
        path = image['locations'][0]['url'][len('file://'):]
        workdir = tempfile.mkdtemp(prefix='glance-takeover-', dir=self.workdir)
        delayed = base.Daemon(workdir, self.db.url, options=dict(
            self.our_options(), delayed_delete='true', scrub_time=0))
        delayed.start()
        self.addCleanup(delayed.stop)
        resp = requests.delete(delayed.url + '/v2/images/%s'
                               % self.ids['toscrub'], headers=identity(),
                               timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertTrue(os.path.exists(path))
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.scrubber', '--config-file',
             delayed.conf], capture_output=True, text=True, cwd=base.ROOT,
            timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertFalse(os.path.exists(path))

    def test_undriven_store_answers_503(self):
        resp = self.ours('GET', '/v2/images/%s/file' % SWIFT_ID)
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertIn('swift', resp.text)
        self.assertIn('objects', resp.text)
        resp = self.ours('DELETE', '/v2/images/%s' % SWIFT_ID)
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertIn('swift', resp.text)
        resp = self.ours('GET', '/v2/images/%s' % SWIFT_ID)
        self.assertEqual(200, resp.status_code)
        self.assertEqual('active', resp.json()['status'])
        self.assertEqual(SWIFT_URL, resp.json()['locations'][0]['url'])
        # Deactivating and reactivating touch no data.
        for action in ('deactivate', 'reactivate'):
            resp = self.ours('POST', '/v2/images/%s/actions/%s'
                             % (SWIFT_ID, action))
            self.assertEqual(204, resp.status_code, resp.text)


class TakeoverSingleStoreTest(TakeoverTest):
    stores = 'single'


class TakeoverMySQLTest(TakeoverTest):
    db_kind = 'mysql'


class TakeoverPostgreSQLTest(TakeoverTest):
    db_kind = 'postgresql'


class UpstreamRevisionsTest(testtools.TestCase):
    """Databases upstream left at other points of its chain (SQLite,
    schema made by upstream's own glance-manage; no server)."""

    def setUp(self):
        super().setUp()
        problem = prerequisites.skip_requested('UPSTREAM_GLANCE')
        if problem is not None:
            raise problem
        self.workdir = tempfile.mkdtemp(prefix='glance-takeover-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.url = 'sqlite:///%s' % os.path.join(self.workdir,
                                                 'glance.sqlite')
        self.upstream = Upstream(os.path.join(self.workdir, 'upstream'),
                                 self.url)
        try:
            self.upstream.run('install')
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            raise prerequisites.check('UPSTREAM_GLANCE', False, str(e))
        self.upstream.run('config', self.upstream.data)
        self.daemon = base.Daemon(self.workdir, self.url)

    def upstream_manage(self, *args):
        self.upstream.run('manage', self.upstream.data, *args)

    def take_over(self, release, rows):
        version = self.daemon.manage('db', 'version').stdout
        self.assertIn('upstream Glance %s (%s)' % (release, rows), version)
        check = self.daemon.manage('db', 'check', check=False)
        self.assertEqual(3, check.returncode, check.stdout)
        self.assertIn('db sync', check.stdout)
        self.daemon.manage('db', 'sync')
        version = self.daemon.manage('db', 'version').stdout
        self.assertIn('Taken over from upstream Glance %s (%s)'
                      % (release, rows), version)
        self.assertEqual(0, self.daemon.manage('db', 'check').returncode)

    def test_2023_1(self):
        self.upstream_manage('db', 'upgrade', '2023_1_contract01')
        self.take_over('2023.1', '2023_1_contract01')

    def test_rolling_upgrade_expanded_to_2024_1(self):
        self.upstream_manage('db', 'upgrade', '2023_1_contract01')
        self.upstream_manage('db', 'expand')
        self.take_over('2024.1', '2023_1_contract01, 2024_1_expand01')

    def test_expand_without_contract_refused_unchanged(self):
        # A fresh upstream database only expanded still has the columns
        # its contract steps drop.
        self.upstream_manage('db', 'expand')
        before = dump(self.url)
        proc = self.daemon.manage('db', 'sync', check=False)
        self.assertEqual(1, proc.returncode)
        self.assertIn('2024_1_expand01', proc.stderr)
        self.assertIn('contract', proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)
        self.assertEqual(before, dump(self.url))


class UnknownRevisionTest(testtools.TestCase):
    """A database at a revision neither chain knows is refused."""

    def test_newer_upstream_refused_unchanged(self):
        workdir = tempfile.mkdtemp(prefix='glance-takeover-')
        self.addCleanup(shutil.rmtree, workdir, True)
        url = 'sqlite:///%s' % os.path.join(workdir, 'glance.sqlite')
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE alembic_version '
                                 '(version_num VARCHAR(32) PRIMARY KEY)')
            conn.exec_driver_sql("INSERT INTO alembic_version "
                                 "VALUES ('2027_1_contract01')")
        engine.dispose()
        daemon = base.Daemon(workdir, url)
        for action in ('sync', 'version', 'check', 'expand'):
            proc = daemon.manage('db', action, check=False)
            self.assertEqual(1, proc.returncode, proc.stdout)
            self.assertIn('2027_1_contract01', proc.stderr)
            self.assertNotIn('Traceback', proc.stderr)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            self.assertEqual(['alembic_version'],
                             sa.inspect(conn).get_table_names())
        engine.dispose()
