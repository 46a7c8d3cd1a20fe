"""Storage quotas hold: ``user_storage_quota`` counts stored data, data
being uploaded or staged, and every copy an import or copy-image makes,
on every path data takes in, and however many requests of one project
write at once (through several workers and nodes, on SQLite, MariaDB and
PostgreSQL)."""

import http.server
import json
import os
import shutil
import tempfile
import threading
import time
import uuid

import fixtures
import requests
import sqlalchemy as sa
import testtools

from glance.db import api as db
from glance.db import migration
from glance.db import models
from glance.db import session
from glance.db import usage
from glance.domain.images import quota
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import test_import
from glance.tests.functional import test_unified_limits
from glance.tests.unit import base as unit_base

MB = 1024 * 1024
QUOTA = MB
OCTET = test_import.OCTET
# Parallel uploads of 0.9 MB by one project, in rounds.
THREADS = 4
ROUNDS = 5
PIECE = 64 * 1024


def chunks(data, piece=PIECE):
    """A generator body: sent chunked, with no size announced."""
    for start in range(0, len(data), piece):
        yield data[start:start + piece]


def race(count, work):
    """``work(n)`` in ``count`` threads released together; the answers
    (an exception raised is the answer)."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(n):
        try:
            barrier.wait(hd.PATIENCE)
            answers[n] = work(n)
        except Exception as e:
            answers[n] = e
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


BIG = os.urandom(MB + MB // 2)
MID = MB * 9 // 10


class _Source(http.server.BaseHTTPRequestHandler):
    """/big: 1.5 MB with its Content-Length; /big-chunked: the same with
    no size announced; /mid-chunked: 0.9 MB with no size announced;
    /small: 0.3 MB."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path in ('/big', '/small'):
            data = BIG if self.path == '/big' else BIG[:300 * 1024]
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path in ('/big-chunked', '/mid-chunked'):
            data = BIG if self.path == '/big-chunked' else BIG[:MID]
            self.send_response(200)
            self.send_header('Transfer-Encoding', 'chunked')
            self.send_header('Connection', 'close')
            self.end_headers()
            try:
                for piece in chunks(data):
                    self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
                self.wfile.write(b'0\r\n\r\n')
            except OSError:
                pass
        else:
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()


class _Server(http.server.ThreadingHTTPServer):

    def handle_error(self, request, client_address):
        pass    # the daemon hanging up on a download it refused


class QuotaTest(test_import.ImportTest):

    workers = 2
    extra_options = {}

    @classmethod
    def setUpClass(cls):
        cls.source = _Server(('127.0.0.1', 0), _Source)
        cls.source.daemon_threads = True
        threading.Thread(target=cls.source.serve_forever,
                         daemon=True).start()
        cls.source_url = 'http://127.0.0.1:%d' % cls.source.server_port
        cls.options = dict({
            'user_storage_quota': '1MB',
            'enabled_import_methods': 'glance-direct,web-download,'
                                      'copy-image',
            'import_filtering_opts.allowed_ports': '',
            'import_filtering_opts.allowed_internal_networks': '127.0.0.1/32',
            'image_size_cap': 64 * MB}, **cls.extra_options)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        cls.source.shutdown()
        cls.source.server_close()
        super().tearDownClass()

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def files_of(self, image_ids, directory=None):
        """{image id: bytes} of the files the store holds for them."""
        found = {}
        for root, _dirs, names in os.walk(directory or self.datadir()):
            for name in names:
                image_id = name.split('.')[0]
                if image_id in image_ids:
                    found[image_id] = found.get(image_id, 0) + \
                        os.path.getsize(os.path.join(root, name))
        return found

    def assert_over_quota(self, resp):
        self.assertEqual(413, resp.status_code, resp.text)
        self.assertIn('quota', resp.text)

    def active_image(self, size, **extra):
        image = self.new_image(**extra)
        resp = self.put_data(image['id'], os.urandom(size))
        self.assertEqual(204, resp.status_code, resp.text)
        return image


class TestQuotaHolds(QuotaTest):

    def _parallel_uploads(self, body):
        for _ in range(ROUNDS):
            self.project = 'project-quota-%s' % uuid.uuid4().hex[:8]
            images = [self.new_image() for _ in range(THREADS)]
            payloads = [os.urandom(MB * 9 // 10) for _ in range(THREADS)]
            headers = self.headers(**OCTET)

            def upload(n):
                return requests.put(
                    self.url + '/v2/images/%s/file' % images[n]['id'],
                    data=body(payloads[n]), headers=headers,
                    timeout=120).status_code
            answers = race(THREADS, upload)
            self.assertTrue(set(answers) <= {204, 413}, answers)
            self.assertLessEqual(answers.count(204), 1, answers)
            ids = [i['id'] for i in images]
            shown = [self.show(i) for i in ids]
            stored = sum(i['size'] for i in shown if i['status'] == 'active')
            self.assertLessEqual(stored, QUOTA)
            files = self.files_of(ids)
            self.assertLessEqual(sum(files.values()), QUOTA, files)
            for image, answer in zip(shown, answers):
                if answer == 413:
                    self.assertEqual('queued', image['status'])
                    self.assertIsNone(image['size'])
                    self.assertNotIn(image['id'], files)
            # Nothing stays charged for the refused ones: what is left
            # of the quota can be used, to the byte.
            last = self.new_image()
            self.assertEqual(204, self.put_data(
                last['id'], chunks(os.urandom(QUOTA - stored)))
                .status_code)
            self.assert_over_quota(self.put_data(self.new_image()['id'],
                                                 b'x'))

    def test_parallel_chunked_uploads_never_pass_the_quota(self):
        self._parallel_uploads(chunks)

    def test_parallel_uploads_of_known_size_never_pass_the_quota(self):
        self._parallel_uploads(lambda data: data)

    def test_stage_over_quota_is_413_and_staged_data_counts(self):
        for body in (BIG, chunks(BIG)):
            image = self.new_image()
            self.assert_over_quota(self.stage(image['id'], body))
            self.assert_queued_without_data(image['id'])
            self.assertNotIn(image['id'], ' '.join(self.staging()))
        staged = self.new_image()
        resp = self.stage(staged['id'], os.urandom(600 * 1024))
        self.assertEqual(204, resp.status_code, resp.text)
        # The staged data counts: no room for as much again, uploaded or
        # staged.
        other = self.new_image()
        self.assert_over_quota(self.put_data(other['id'],
                                             os.urandom(600 * 1024)))
        self.assert_over_quota(self.stage(other['id'],
                                          chunks(os.urandom(600 * 1024))))
        self.assert_queued_without_data(other['id'])
        resp = self.start_import(staged['id'],
                                 {'method': {'name': 'glance-direct'}})
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(staged['id'])
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual(600 * 1024, self.show(staged['id'])['size'])
        self.assert_over_quota(self.put_data(other['id'],
                                             os.urandom(600 * 1024)))
        self.assertEqual(204, self.put_data(
            other['id'], os.urandom(QUOTA - 600 * 1024)).status_code)

    def test_web_download_over_quota_fails_and_leaves_no_data(self):
        for path in ('/big', '/big-chunked'):
            image = self.new_image()
            resp = self.start_import(image['id'], {'method': {
                'name': 'web-download', 'uri': self.source_url + path}})
            self.assertEqual(202, resp.status_code, resp.text)
            task = self.wait_task(image['id'])
            self.assertEqual('failure', task['status'], path)
            self.assertIn('quota', task['message'])
            self.assert_queued_without_data(image['id'])
            self.assertNotIn(image['id'], ' '.join(self.staging()))
        # Room for a small one, which counts too.
        image = self.new_image()
        resp = self.start_import(image['id'], {'method': {
            'name': 'web-download', 'uri': self.source_url + '/small'}})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        self.assert_over_quota(self.put_data(self.new_image()['id'],
                                             os.urandom(800 * 1024)))

    def test_uploads_stages_and_downloads_at_once_never_pass_the_quota(self):
        for _ in range(3):
            self.project = 'project-mixed-%s' % uuid.uuid4().hex[:8]
            ids = [self.new_image()['id'] for _ in range(6)]
            headers = self.headers(**OCTET)

            def work(n):
                if n < 2:
                    return requests.put(
                        self.url + '/v2/images/%s/file' % ids[n],
                        data=chunks(os.urandom(MID)), headers=headers,
                        timeout=120).status_code
                if n < 4:
                    return requests.put(
                        self.url + '/v2/images/%s/stage' % ids[n],
                        data=chunks(os.urandom(MID)), headers=headers,
                        timeout=120).status_code
                return requests.post(
                    self.url + '/v2/images/%s/import' % ids[n],
                    json={'method': {'name': 'web-download',
                                     'uri': self.source_url + '/mid-chunked'}},
                    headers=self.headers(), timeout=120).status_code
            answers = race(6, work)
            self.assertTrue(set(answers[:4]) <= {204, 413}, answers)
            self.assertEqual([202, 202], answers[4:])
            tasks = [self.wait_task(i) for i in ids[4:]]
            shown = [self.show(i) for i in ids]
            held = sum(i['size'] or 0 for i in shown
                       if i['status'] in ('active', 'uploading'))
            self.assertLessEqual(held, QUOTA, [(i['status'], i['size'])
                                               for i in shown])
            kept = [i['id'] for i in shown
                    if i['status'] in ('active', 'uploading')]
            self.assertLessEqual(len(kept), 1, (answers, tasks))
            for image in shown:
                if image['id'] not in kept:
                    self.assert_queued_without_data(image['id'])
            files = self.files_of(ids)
            files.update(self.files_of(ids, os.path.join(self.workdir,
                                                         'staging')))
            self.assertLessEqual(sum(files.values()), QUOTA, files)

    def test_other_projects_have_their_own_quota(self):
        self.active_image(900 * 1024)
        self.project = 'other-' + self.project
        self.active_image(900 * 1024)


class TestQuotaMultiStore(QuotaTest):

    extra_options = {'enabled_backends': 'fast:file,cheap:file',
                     'glance_store.default_backend': 'fast'}

    def store_dirs(self):
        return [os.path.join(self.workdir, d) for d in ('fast', 'cheap')]

    def test_copy_image_counts_the_new_copy(self):
        image = self.active_image(600 * 1024)
        resp = self.start_import(image['id'], {
            'method': {'name': 'copy-image'}, 'stores': ['cheap']},
            headers=self.admin())
        self.assert_over_quota(resp)
        shown = self.show(image['id'])
        self.assertEqual('fast', shown['stores'])
        self.assertEqual([], self.image_tasks(image['id']))
        # A copy that fits is made, and counts.
        self.project = 'small-' + self.project
        small = self.active_image(400 * 1024)
        resp = self.start_import(small['id'], {
            'method': {'name': 'copy-image'}, 'stores': ['cheap']},
            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(small['id'])
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual({'fast', 'cheap'},
                         set(self.show(small['id'])['stores'].split(',')))
        self.assert_over_quota(self.put_data(self.new_image()['id'],
                                             os.urandom(300 * 1024)))

    def test_glance_direct_to_all_stores_over_quota_refused_at_import(self):
        image = self.new_image()
        data = os.urandom(600 * 1024)
        self.assertEqual(204, self.stage(image['id'], data).status_code)
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}, 'all_stores': True})
        self.assert_over_quota(resp)
        self.assertEqual('uploading', self.show(image['id'])['status'])
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}, 'stores': ['cheap']})
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual('cheap', self.show(image['id'])['stores'])


class TestQuotaGlanceDownload(QuotaTest):
    """glance-download from a second daemon standing for another
    region."""

    extra_options = {'enabled_import_methods': 'glance-download'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.remote_dir = tempfile.mkdtemp(prefix='glance-remote-')
        cls.remote_db = base.Database('sqlite', cls.remote_dir)
        cls.remote = base.Daemon(cls.remote_dir, cls.remote_db.url)
        cls.remote.manage('db', 'sync')
        cls.remote.start()

    @classmethod
    def tearDownClass(cls):
        cls.remote.stop()
        shutil.rmtree(cls.remote_dir, True)
        super().tearDownClass()

    def download(self, data):
        remote = requests.post(self.remote.url + '/v2/images', json={
            'disk_format': 'raw', 'container_format': 'bare'},
            timeout=60).json()
        resp = requests.put(self.remote.url + '/v2/images/%s/file'
                            % remote['id'], data=data, headers=OCTET,
                            timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        image = self.new_image()
        catalog = json.dumps([{'type': 'image', 'endpoints': [
            {'region': 'RegionTwo', 'interface': 'public',
             'url': self.remote.url}]}])
        resp = self.start_import(image['id'], {'method': {
            'name': 'glance-download', 'glance_region': 'RegionTwo',
            'glance_image_id': remote['id']}},
            headers=self.headers(**{'X-Service-Catalog': catalog}))
        self.assertEqual(202, resp.status_code, resp.text)
        return image['id'], self.wait_task(image['id'])

    def test_glance_download_over_quota_fails_and_leaves_no_data(self):
        image_id, task = self.download(BIG)
        self.assertEqual('failure', task['status'])
        self.assertIn('quota', task['message'])
        self.assert_queued_without_data(image_id)
        self.assertNotIn(image_id, ' '.join(self.staging()))
        image_id, task = self.download(BIG[:600 * 1024])
        self.assertEqual('success', task['status'], task['message'])
        self.assert_over_quota(self.put_data(self.new_image()['id'],
                                             os.urandom(600 * 1024)))


class TestQuotaSetAfterStaging(base.FunctionalTest):
    """Data staged before the quota was set (or lowered) is not imported
    past it."""

    def test_staged_over_the_new_quota_is_refused_at_import(self):
        image = self.create_image(disk_format='raw', container_format='bare',
                                  headers=self.headers('p'))
        path = '/v2/images/%s' % image['id']
        resp = self.request('PUT', path + '/stage', data=BIG,
                            headers=self.headers('p', **OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        self.daemon.stop()
        self.daemon = self.make_daemon(options={'user_storage_quota': '1MB'})
        self.daemon.start()
        self.addCleanup(self.daemon.stop)
        self.url = self.daemon.url
        resp = self.request('POST', path + '/import', json={
            'method': {'name': 'glance-direct'}}, headers=self.headers('p'))
        self.assertEqual(413, resp.status_code, resp.text)
        self.assertIn('quota', resp.text)
        shown = self.request('GET', path, headers=self.headers('p')).json()
        self.assertEqual('uploading', shown['status'])
        self.assertEqual(len(BIG), shown['size'])


class ParallelUploadsOnServer:
    """Two API nodes of two workers each on one MariaDB or PostgreSQL
    database: parallel uploads and stages by one project through all of
    them never hold more than its quota."""

    db_kind = None

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        self.workdir = tempfile.mkdtemp(prefix='glance-quota-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database(self.db_kind, self.workdir)
        self.addCleanup(self.db.drop)
        self.images_dir = os.path.join(self.workdir, 'images')
        self.nodes = []
        for n in range(2):
            home = os.path.join(self.workdir, 'node%d' % n)
            os.makedirs(home)
            node = base.Daemon(home, self.db.url, workers=2, options={
                'user_storage_quota': '1MB',
                'glance_store.filesystem_store_datadir': self.images_dir})
            if n == 0:
                node.manage('db', 'sync')
            node.start()
            self.addCleanup(node.stop)
            self.nodes.append(node)

    def test_parallel_uploads_and_stages_never_pass_the_quota(self):
        threads = 6
        for _ in range(ROUNDS):
            headers = {'X-Project-Id': 'quota-%s' % uuid.uuid4().hex[:8],
                       'X-User-Id': 'u', 'X-Roles': 'member,reader'}
            ids = []
            for n in range(threads):
                resp = requests.post(self.nodes[0].url + '/v2/images', json={
                    'disk_format': 'raw', 'container_format': 'bare'},
                    headers=headers, timeout=60)
                self.assertEqual(201, resp.status_code, resp.text)
                ids.append(resp.json()['id'])

            def upload(n):
                # Uploads through one node, stages through the other.
                return requests.put(
                    self.nodes[n % 2].url + '/v2/images/%s/%s' % (
                        ids[n], ('file', 'stage')[n % 2]),
                    data=chunks(os.urandom(MB * 9 // 10)),
                    headers=dict(headers, **OCTET), timeout=120).status_code
            answers = race(threads, upload)
            self.assertTrue(set(answers) <= {204, 413}, answers)
            self.assertLessEqual(answers.count(204), 1, answers)
            places = [self.images_dir] + [
                os.path.join(self.workdir, 'node%d' % n, 'staging')
                for n in range(2)]
            stored = [os.path.join(d, f) for d in places
                      if os.path.isdir(d) for f in os.listdir(d)
                      if f.lstrip('.').split('.')[0] in ids]
            self.assertLessEqual(sum(os.path.getsize(f) for f in stored),
                                 QUOTA)
            self.assertLessEqual(len(stored), 1, stored)
        for node in self.nodes:
            self.assertNotIn('Traceback', hd.log_text(node))
            # Upload starts of different images never deadlock (a victim
            # would be run again, but it waits and is logged).
            self.assertNotIn('eadlock', hd.log_text(node))

    def test_parallel_first_uploads_of_new_owners(self):
        # Each project's first charge makes its quota lock row: made at
        # once by many, it must neither deadlock nor fail.
        threads = 8
        headers = [{'X-Project-Id': 'first-%s' % uuid.uuid4().hex[:8],
                    'X-User-Id': 'u', 'X-Roles': 'member,reader'}
                   for _ in range(threads)]
        ids = []
        for n in range(threads):
            resp = requests.post(self.nodes[n % 2].url + '/v2/images', json={
                'disk_format': 'raw', 'container_format': 'bare'},
                headers=headers[n], timeout=60)
            self.assertEqual(201, resp.status_code, resp.text)
            ids.append(resp.json()['id'])

        def upload(n):
            return requests.put(
                self.nodes[n % 2].url + '/v2/images/%s/%s' % (
                    ids[n], ('file', 'stage')[n // 2 % 2]),
                data=chunks(os.urandom(PIECE * 3)),
                headers=dict(headers[n], **OCTET), timeout=120).status_code
        self.assertEqual([204] * threads, race(threads, upload))
        for node in self.nodes:
            self.assertNotIn('Traceback', hd.log_text(node))
            self.assertNotIn('eadlock', hd.log_text(node))


class QuotaTransactionReplayed:
    """A charge of quota bytes aborted as a deadlock (on Galera, also a
    conflict with a charge of the same owner through another node) is
    run again, not answered 503, on MariaDB/MySQL and PostgreSQL."""

    db_kind = None
    abort = None

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        workdir = self.useFixture(fixtures.TempDir()).path
        self.db = base.Database(self.db_kind, workdir)
        self.addCleanup(self.db.drop)
        self.config(connection=self.db.url, group='database')
        self.config(user_storage_quota='1MB')
        self.config(db_retry_interval=0, group='database')
        migration.sync()
        self.addCleanup(session.dispose)

    def test_deadlock_while_charging_is_run_again(self):
        values = unit_base.image_values(status='saving', owner='replayed')
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
        real = usage.image_held
        calls = []

        def aborted_once(conn, image_id):
            calls.append(image_id)
            if len(calls) == 2:     # the first read under the quota lock
                conn.exec_driver_sql(self.abort)
            return real(conn, image_id)
        self.useFixture(fixtures.MockPatchObject(usage, 'image_held',
                                                 aborted_once))
        self.assertEqual(1000, quota.reserve(values['id'], 'saving', 1000,
                                             1000))
        self.assertEqual(4, len(calls))
        with session.reader() as conn:
            self.assertEqual(1000, db.image_get(conn, values['id'])['size'])
            self.assertEqual(1, conn.execute(sa.select(
                models.image_quota_locks.c.uses)).scalar())


class TestQuotaTransactionReplayedMySQL(QuotaTransactionReplayed,
                                        unit_base.TestCase):
    db_kind = 'mysql'
    abort = ("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, "
             "MESSAGE_TEXT = 'Deadlock found when trying to get lock'")


class TestQuotaTransactionReplayedPostgreSQL(QuotaTransactionReplayed,
                                             unit_base.TestCase):
    db_kind = 'postgresql'
    abort = ("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' "
             "USING ERRCODE = '40P01'; END $$")


class TestParallelUploadsMySQL(ParallelUploadsOnServer, testtools.TestCase):
    db_kind = 'mysql'


class TestParallelUploadsPostgreSQL(ParallelUploadsOnServer,
                                    testtools.TestCase):
    db_kind = 'postgresql'


class TestUnifiedLimitsHold(test_unified_limits.TestUnifiedLimits):
    """The same with the unified limits of a real Keystone: the project
    ``big`` has image_size_total and image_stage_total of 1 MiB, room for
    five images and ten uploads at once."""

    # The tests of the parent class run there.
    test_usage_and_image_count = None
    test_size_limit_on_upload = None

    @classmethod
    def _provision(cls, env):
        super()._provision(env)
        endpoint = cls.extra_options['oslo_limit.endpoint_id']
        service_id = cls._admin_call(
            'GET', '/endpoints/%s' % endpoint)['endpoint']['service_id']
        cls.service_id = service_id
        cls.region = env['KEYSTONE_REGION']
        limit = cls._admin_call('POST', '/limits', {'limits': [{
            'service_id': service_id, 'project_id': cls.projects['big'][1],
            'resource_name': 'image_count_uploading', 'resource_limit': 10,
            'region_id': env['KEYSTONE_REGION']}]})
        cls.cleanups.insert(0, '/limits/%s' % limit['limits'][0]['id'])

    def big_image(self, headers):
        image = self.create_image(headers=headers, name='big',
                                  disk_format='raw', container_format='bare')
        return image['id']

    def test_parallel_chunked_uploads_hold_the_limit(self):
        big = self.user('big')
        for _ in range(2):
            ids = [self.big_image(big) for _ in range(THREADS)]

            def upload(n):
                return requests.put(
                    self.url + '/v2/images/%s/file' % ids[n],
                    data=chunks(os.urandom(MB * 9 // 10)),
                    headers=dict(big, **OCTET), timeout=120).status_code
            answers = race(THREADS, upload)
            self.assertTrue(set(answers) <= {204, 413}, answers)
            self.assertLessEqual(answers.count(204), 1, answers)
            sizes = [self.request('GET', '/v2/images/%s' % i,
                                  headers=big).json()['size'] or 0
                     for i in ids]
            self.assertLessEqual(sum(sizes), MB)
            usage = self.request('GET', '/v2/info/usage',
                                 headers=big).json()['usage']
            self.assertLessEqual(usage['image_size_total']['usage'], 1)
            for image_id in ids:
                self.assertEqual(204, self.request(
                    'DELETE', '/v2/images/%s' % image_id,
                    headers=big).status_code)

    def test_import_past_a_lowered_limit_fails(self):
        big = self.user('big')
        image_id = self.big_image(big)
        self.addCleanup(self.request, 'DELETE', '/v2/images/%s' % image_id,
                        headers=big)
        resp = self.request('PUT', '/v2/images/%s/stage' % image_id,
                            data=BIG[:MID], headers=dict(big, **OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        limit = self._admin_call('POST', '/limits', {'limits': [{
            'service_id': self.service_id, 'project_id':
                self.projects['big'][1], 'resource_name': 'image_size_total',
            'resource_limit': 0, 'region_id': self.region}]})
        self.addCleanup(self._admin_call, 'DELETE', '/limits/%s'
                        % limit['limits'][0]['id'], expect=(204, 404))
        resp = self.request('POST', '/v2/images/%s/import' % image_id,
                            json={'method': {'name': 'glance-direct'}},
                            headers=big)
        # Accepted: the usage of the project is within the limit; the
        # task then finds the staged data does not fit.
        self.assertEqual(202, resp.status_code, resp.text)
        deadline = time.monotonic() + hd.PATIENCE
        while True:
            found = self.request('GET', '/v2/images/%s/tasks' % image_id,
                                 headers=big).json()['tasks']
            if found and found[0]['status'] in ('success', 'failure'):
                break
            self.assertLess(time.monotonic(), deadline, found)
            time.sleep(0.1)
        self.assertEqual('failure', found[0]['status'])
        self.assertIn('image_size_total', found[0]['message'])
        shown = self.request('GET', '/v2/images/%s' % image_id,
                             headers=big).json()
        self.assertEqual('queued', shown['status'])
        self.assertIsNone(shown['size'])

    def test_stage_over_the_stage_limit_is_413(self):
        big = self.user('big')
        image_id = self.big_image(big)
        self.addCleanup(self.request, 'DELETE', '/v2/images/%s' % image_id,
                        headers=big)
        for body in (BIG, chunks(BIG)):
            resp = self.request('PUT', '/v2/images/%s/stage' % image_id,
                                data=body, headers=dict(big, **OCTET))
            self.assertEqual(413, resp.status_code, resp.text)
            shown = self.request('GET', '/v2/images/%s' % image_id,
                                 headers=big).json()
            self.assertEqual('queued', shown['status'])
            self.assertIsNone(shown['size'])
