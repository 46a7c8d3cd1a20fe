"""Database outages: a MariaDB or PostgreSQL server of the test's own is
stopped and started again under a running glance-api.

While the server is down requests get 503 with a message (never 500);
once it is back the service recovers by itself; no write answered 2xx is
lost. With use_db_reconnect a request waits for the server instead. At
start the service waits max_retries x retry_interval for the server, then
exits 1 naming the database. A transaction the server aborts as a
deadlock is run again whole.
"""

import collections
import shutil
import tempfile
import threading
import time
import uuid

import requests
import testtools
from testtools import content
from oslo_config import fixture as config_fixture

from glance.common import config
from glance.db import session
from glance.tests import db_servers
from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_systemd as hs

PATCH_MEDIA = 'application/openstack-images-v2.1-json-patch'
LOAD_THREADS = 4
# Answers each phase of the load needs before the next one starts.
ENOUGH = 8


class ServerTestCase(testtools.TestCase):
    """One database server of the class's own kind for every test of the
    class; each test makes its own database on it."""

    db_kind = None
    server = None
    _unmet = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server_class = db_servers.SERVERS[cls.db_kind]
        missing = server_class.missing()
        cls._unmet = prerequisites.check(db_servers.THINGS[cls.db_kind],
                                         missing is None, missing)
        if cls._unmet is None:
            cls.server = server_class()

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.destroy()
            cls.server = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)
        # A test that failed with the server stopped leaves it stopped.
        self.server.start()
        self.db_name = 'glance_%s' % uuid.uuid4().hex[:10]
        self.db_url = self.server.create_database(self.db_name)
        self.workdir = tempfile.mkdtemp(prefix='glance-outage-')
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def daemon(self, workers=2, **options):
        daemon = base.Daemon(self.workdir, self.db_url, workers=workers,
                             options=options)
        self.addCleanup(daemon.stop)
        return daemon

    def log_text(self, daemon):
        try:
            with open(daemon.log, errors='replace') as f:
                return f.read()
        except OSError:
            return ''


class Load:
    """Threads creating, patching and reading images in a loop, keeping
    every answer and every write answered 2xx."""

    def __init__(self, url):
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.unexpected = []       # (method, status, body)
        self.unavailable = []      # 503 answers: (body, Retry-After)
        self.created = set()
        self.patched = {}          # image id -> {property: value}
        self.errors = []
        self.threads = [threading.Thread(target=self._run, args=(n,))
                        for n in range(LOAD_THREADS)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(120)

    def count(self, *codes):
        with self.lock:
            return sum(self.statuses[c] for c in codes)

    def _answer(self, method, resp):
        with self.lock:
            self.statuses[resp.status_code] += 1
            if resp.status_code == 503:
                self.unavailable.append(
                    (resp.text, resp.headers.get('Retry-After')))
            elif resp.status_code >= 300:
                self.unexpected.append((method, resp.status_code,
                                        resp.text[:500]))
        if resp.status_code == 503:
            # Pace the loop while the database is down (not a timing).
            self.stop.wait(0.05)

    def _run(self, n):
        http = requests.Session()
        headers = {'X-Project-Id': 'outage', 'X-User-Id': 'u',
                   'X-Roles': 'admin,member,reader'}
        mine = None
        i = 0
        try:
            while not self.stop.is_set():
                i += 1
                resp = http.post(self.url + '/v2/images', headers=headers,
                                 json={'name': 'load-%d-%d' % (n, i),
                                       'disk_format': 'raw',
                                       'container_format': 'bare'},
                                 timeout=120)
                self._answer('POST', resp)
                if resp.status_code == 201:
                    mine = resp.json()['id']
                    with self.lock:
                        self.created.add(mine)
                if mine is None:
                    continue
                key, value = 'k%d' % i, 'v%d-%d' % (n, i)
                resp = http.patch(
                    self.url + '/v2/images/' + mine,
                    headers=dict(headers, **{'Content-Type': PATCH_MEDIA}),
                    json=[{'op': 'add', 'path': '/' + key,
                           'value': value}], timeout=120)
                self._answer('PATCH', resp)
                if resp.status_code == 200:
                    with self.lock:
                        self.patched.setdefault(mine, {})[key] = value
                resp = http.get(self.url + '/v2/images/' + mine,
                                headers=headers, timeout=120)
                self._answer('GET', resp)
        except Exception as e:
            self.errors.append('thread %d: %r' % (n, e))
        finally:
            http.close()


class OutageTests:

    def check_written(self, url, load):
        """Every image created with 201 is there, with every property a
        PATCH answered 200 set."""
        headers = {'X-Project-Id': 'outage', 'X-User-Id': 'u',
                   'X-Roles': 'admin,member,reader'}
        self.assertTrue(load.created)
        for image_id in sorted(load.created):
            resp = requests.get(url + '/v2/images/' + image_id,
                                headers=headers, timeout=60)
            self.assertEqual(200, resp.status_code, resp.text)
            image = resp.json()
            for key, value in load.patched.get(image_id, {}).items():
                self.assertEqual(value, image.get(key),
                                 'image %s lost %s' % (image_id, key))

    def check_others_unavailable(self, url, image_id):
        """Requests of other kinds (not run again, streaming, other
        resources) get 503 too while the database is down."""
        headers = {'X-Project-Id': 'outage', 'X-User-Id': 'u',
                   'X-Roles': 'admin,member,reader'}
        for method, path, extra in (
                ('GET', '/v2/images?limit=5', {}),
                ('GET', '/v2/metadefs/namespaces', {}),
                ('GET', '/v2/tasks', {}),
                ('PUT', '/v2/images/%s/file' % image_id,
                 {'data': b'x' * 1024, 'headers': dict(
                     headers, **{'Content-Type':
                                 'application/octet-stream'})}),
                ('GET', '/v2/images/%s/file' % image_id, {}),
                ('DELETE', '/v2/images/%s' % image_id, {})):
            extra.setdefault('headers', headers)
            resp = requests.request(method, url + path, timeout=60, **extra)
            self.assertEqual(503, resp.status_code,
                             '%s %s: %s' % (method, path, resp.text))
            self.assertIn('database', resp.text)

    def test_restart_under_load_503_then_recovers(self):
        daemon = self.daemon()
        daemon.manage('db', 'sync')
        daemon.start()
        with Load(daemon.url) as load:
            hd.wait_for(lambda: load.count(200, 201) >= ENOUGH,
                        what='answers before the outage')
            self.server.stop()
            hd.wait_for(lambda: load.count(503) >= ENOUGH,
                        what='503 answers while the database is down')
            self.check_others_unavailable(daemon.url,
                                          sorted(load.created)[0])
            before = load.count(200, 201)
            self.server.start()
            hd.wait_for(lambda: load.count(200, 201) >= before + ENOUGH * 4,
                        timeout=60, what='answers after the restart')
        self.addDetail('answers', content.text_content(
            '%s; %d images created' % (dict(load.statuses),
                                       len(load.created))))
        self.assertEqual([], load.errors)
        self.assertEqual([], load.unexpected)
        self.assertEqual(0, load.statuses[500])
        body, retry_after = load.unavailable[0]
        self.assertIn('database is unavailable', body)
        self.assertEqual('1', retry_after)
        self.check_written(daemon.url, load)
        self.assertIn('unavailable', self.log_text(daemon))

    def test_use_db_reconnect_waits_for_the_server(self):
        daemon = self.daemon(**{'database.use_db_reconnect': 'true',
                                'database.db_retry_interval': 1,
                                'database.db_max_retry_interval': 1,
                                'database.db_max_retries': 60})
        daemon.manage('db', 'sync')
        daemon.start()
        headers = {'X-Project-Id': 'p', 'X-User-Id': 'u',
                   'X-Roles': 'member,reader'}
        # Warm the pool: the connection it holds dies with the server.
        resp = requests.get(daemon.url + '/v2/images', headers=headers,
                            timeout=60)
        self.assertEqual(200, resp.status_code, resp.text)
        self.server.stop()
        answers = []

        def create():
            answers.append(requests.post(
                daemon.url + '/v2/images', headers=headers,
                json={'name': 'during-outage'}, timeout=120))
        thread = threading.Thread(target=create)
        thread.start()
        try:
            hd.wait_for(lambda: 'Cannot connect to' in self.log_text(daemon)
                        or 'again in' in self.log_text(daemon),
                        what='the request retrying')
            self.assertEqual([], answers)
        finally:
            self.server.start()
            thread.join(120)
        self.assertEqual(201, answers[0].status_code, answers[0].text)
        image_id = answers[0].json()['id']
        resp = requests.get(daemon.url + '/v2/images/' + image_id,
                            headers=headers, timeout=60)
        self.assertEqual(200, resp.status_code, resp.text)

    def test_start_waits_then_exits_1_naming_the_database(self):
        host_port = '127.0.0.1:%d' % self.server.port
        url = self.db_url.replace('@' + host_port,
                                  ':s3cret@' + host_port)
        self.db_url = url
        daemon = self.daemon(**{'database.max_retries': 2,
                                'database.retry_interval': 1})
        self.server.stop()
        start = time.monotonic()
        daemon.start(wait=False)
        output = daemon.proc.communicate(timeout=60)[0].decode(
            errors='replace')
        took = time.monotonic() - start
        self.assertEqual(1, daemon.proc.returncode, output)
        named = '%s database %s on ' % (self.kind_name, self.db_name)
        self.assertIn(named, output)
        self.assertIn(host_port, output)
        self.assertIn('after 3 attempts', output)
        self.assertNotIn('s3cret', output + self.log_text(daemon))
        # Not a timing check: it did wait for the retries.
        self.assertGreaterEqual(took, 2)

    def test_start_waits_for_a_server_that_comes_up(self):
        daemon = self.daemon(workers=1, **{'database.max_retries': -1,
                                           'database.retry_interval': 1})
        daemon.manage('db', 'sync')
        listener = hs.NotifyListener(self.workdir)
        self.addCleanup(listener.close)
        self.server.stop()
        daemon.start(wait=False, env=listener.env())
        try:
            # systemd is told to extend the start timeout, and why.
            waiting = hd.wait_for(
                lambda: [m for m in listener.snapshot()
                         if 'EXTEND_TIMEOUT_USEC' in m.fields],
                what='the daemon waiting for the database')
            self.assertIn('Waiting for the %s database %s on '
                          % (self.kind_name, self.db_name),
                          waiting[0].fields['STATUS'])
            self.assertIsNone(daemon.proc.poll())
            self.assertEqual([], listener.having('READY'))
        finally:
            self.server.start()
        daemon.wait_ready(timeout=60)
        hd.wait_for(lambda: listener.having('READY'), what='READY=1')
        resp = requests.get(daemon.url + '/v2/images', timeout=60)
        self.assertEqual(200, resp.status_code, resp.text)

    def test_manage_waits_then_exits_naming_the_database(self):
        daemon = self.daemon(**{'database.max_retries': 1,
                                'database.retry_interval': 0})
        self.server.stop()
        out = daemon.manage('db', 'sync', check=False)
        self.assertNotEqual(0, out.returncode)
        self.assertIn('%s database %s on ' % (self.kind_name, self.db_name),
                      out.stdout + out.stderr)


class TestMariaDBOutage(OutageTests, ServerTestCase):
    db_kind = 'mysql'
    kind_name = 'mysql'


class TestPostgreSQLOutage(OutageTests, ServerTestCase):
    db_kind = 'postgresql'
    kind_name = 'postgresql'


class DeadlockTests:
    """Two replayable transactions take the same two rows in opposite
    orders: the server aborts one as a deadlock and it runs again."""

    def setUp(self):
        super().setUp()
        # config.CONF has the [database] options registered.
        conf = self.useFixture(config_fixture.Config(config.CONF))
        config.CONF([], project='glance', default_config_files=[],
                    default_config_dirs=[])
        conf.config(connection=self.db_url, db_retry_interval=0,
                    group='database')
        session.dispose()
        self.addCleanup(session.dispose)
        with session.writer() as conn:
            conn.exec_driver_sql('CREATE TABLE pair (id INTEGER PRIMARY KEY, '
                                 'v INTEGER NOT NULL)')
            conn.exec_driver_sql('INSERT INTO pair VALUES (1, 0), (2, 0)')

    def test_deadlock_victim_runs_again(self):
        both_hold_one = threading.Barrier(2, timeout=hd.PATIENCE)
        attempts = collections.Counter()
        results, errors = {}, []

        @session.replayable
        def bump(name, first, second):
            attempts[name] += 1
            with session.writer() as conn:
                conn.exec_driver_sql(
                    'UPDATE pair SET v = v + 1 WHERE id = %d' % first)
                if attempts[name] == 1:
                    both_hold_one.wait()
                conn.exec_driver_sql(
                    'UPDATE pair SET v = v + 1 WHERE id = %d' % second)
            return attempts[name]

        def run(name, first, second):
            try:
                results[name] = bump(name, first, second)
            except Exception as e:
                errors.append('%s: %r' % (name, e))

        threads = [threading.Thread(target=run, args=('a', 1, 2)),
                   threading.Thread(target=run, args=('b', 2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual([], errors)
        # The deadlock's victim ran again. Its immediate retry may take a
        # row first and deadlock anew, with either side the victim this
        # time (seen on PostgreSQL): both may then have run twice.
        self.assertEqual({'a', 'b'}, set(results))
        self.assertGreaterEqual(sum(results.values()), 3)
        with session.reader() as conn:
            self.assertEqual([(1, 2), (2, 2)], conn.exec_driver_sql(
                'SELECT id, v FROM pair ORDER BY id').all())


class TestMariaDBDeadlock(DeadlockTests, ServerTestCase):
    db_kind = 'mysql'


class TestPostgreSQLDeadlock(DeadlockTests, ServerTestCase):
    db_kind = 'postgresql'
