"""Functional test harness: a real glance-api process on a free loopback
port, with its own configuration, SQLite file (or MariaDB/PostgreSQL
database) and data directory."""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import testtools

from glance.tests import prerequisites

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PASTE = os.path.join(ROOT, 'etc', 'glance-api-paste.ini')
PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'no_proxy', 'all_proxy')
MYSQL_URL = os.environ.get('GLANCE_TEST_MYSQL',
                           'mysql+pymysql://root@127.0.0.1:3306')
POSTGRES_URL = os.environ.get('GLANCE_TEST_POSTGRES',
                              'postgresql+psycopg://root@127.0.0.1:5432')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def free_ports(count):
    """The first of `count` consecutive ports, every one free to bind.

    Taken below the kernel's ephemeral range, so that no outgoing
    connection of another test takes one of them between this check and
    the server binding it (free_port() gives an ephemeral port, which
    cannot promise anything about its neighbours).
    """
    low = 20000
    with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
        high = min(int(f.read().split()[0]), 65536) - count
    for _ in range(200):
        first = random.randrange(low, high)
        probes = []
        try:
            for port in range(first, first + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(('127.0.0.1', port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError('no %d free ports in a row' % count)


def server_answers(url, timeout=0.5):
    try:
        requests.get(url + '/healthcheck', timeout=timeout)
        return True
    except requests.RequestException:
        return False


class Database:
    """A scratch database on one of the servers, dropped on cleanup."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.name = 'glance_test_%s' % uuid.uuid4().hex[:12]
        if kind == 'sqlite':
            self.url = 'sqlite:///%s' % os.path.join(workdir, 'glance.sqlite')
            return
        import sqlalchemy as sa
        base = MYSQL_URL if kind == 'mysql' else POSTGRES_URL
        self.admin = sa.create_engine(base + ('/test' if kind == 'mysql'
                                              else '/postgres'),
                                      isolation_level='AUTOCOMMIT')
        with self.admin.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % self.name)
        self.url = '%s/%s' % (base, self.name)
        if kind == 'mysql':
            self.url += '?charset=utf8mb4'

    def drop(self):
        if self.kind == 'sqlite':
            return
        with self.admin.connect() as conn:
            if self.kind == 'postgresql':
                conn.exec_driver_sql(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    "WHERE datname = '%s'" % self.name)
            conn.exec_driver_sql('DROP DATABASE IF EXISTS %s' % self.name)
        self.admin.dispose()


def database_error(kind):
    """None when the server of ``kind`` ('mysql' or 'postgresql') takes a
    connection; otherwise why not."""
    import sqlalchemy as sa
    url = {'mysql': MYSQL_URL + '/test',
           'postgresql': POSTGRES_URL + '/postgres'}[kind]
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as e:
        return '%s: %s' % (type(e).__name__, str(e).splitlines()[0][:200]
                           if str(e) else '')


def database_available(kind):
    return database_error(kind) is None


# The prerequisite (glance.tests.prerequisites) each database kind is.
DATABASE_THINGS = {'mysql': 'MYSQL', 'postgresql': 'POSTGRES'}


def database_problem(kind):
    """None when a test can use a ``kind`` database (SQLite always);
    otherwise the failure or skip ``prerequisites.check`` gives."""
    if kind == 'sqlite':
        return None
    error = database_error(kind)
    return prerequisites.check(DATABASE_THINGS[kind], error is None, error)


def require_database(kind):
    """Fail or skip the calling test (see glance.tests.prerequisites)
    unless a ``kind`` database can be used."""
    problem = database_problem(kind)
    if problem is not None:
        raise problem


class Daemon:
    """One glance-api process."""

    def __init__(self, workdir, db_url, options=None, flavor=None,
                 workers=0, port=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.conf = os.path.join(workdir, 'glance-api.conf')
        self.log = os.path.join(workdir, 'glance-api.log')
        self.proc = None
        sections = {
            'DEFAULT': {'bind_host': '127.0.0.1', 'bind_port': self.port,
                        'workers': workers, 'log_file': self.log,
                        'node_staging_uri': 'file://%s/staging' % workdir},
            'database': {'connection': db_url},
            'glance_store': {'filesystem_store_datadir':
                             os.path.join(workdir, 'images')},
            'paste_deploy': {'config_file': PASTE},
        }
        if flavor:
            sections['paste_deploy']['flavor'] = flavor
        for key, value in (options or {}).items():
            group, _, name = key.rpartition('.')
            sections.setdefault(group or 'DEFAULT', {})[name] = value
        self.write_config(sections)

    def write_config(self, sections):
        with open(self.conf, 'w') as f:
            for group, values in sections.items():
                f.write('[%s]\n' % group)
                for name, value in values.items():
                    f.write('%s = %s\n' % (name, value))

    def manage(self, *args, check=True):
        return subprocess.run(
            [sys.executable, '-m', 'glance.cmd.manage', '--config-file',
             self.conf] + list(args), capture_output=True, text=True,
            check=check, cwd=ROOT)

    def start(self, wait=True, env=None):
        # The developer's own proxy settings stay out of the daemon: the
        # tests that want a proxy give one in ``env``.
        own = {k: v for k, v in os.environ.items()
               if k.lower() not in PROXY_VARIABLES}
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.api', '--config-file',
             self.conf], cwd=ROOT, env=dict(own, **(env or {})),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('glance-api exited with %s: %s' % (
                    self.proc.returncode, self.output()))
            if server_answers(self.url):
                return
            time.sleep(0.1)
        raise RuntimeError('glance-api not ready: %s' % self.output())

    def output(self):
        text = ''
        if self.proc and self.proc.poll() is not None and self.proc.stdout:
            text += self.proc.stdout.read().decode(errors='replace')
        if os.path.exists(self.log):
            with open(self.log) as f:
                text += f.read()[-4000:]
        return text

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


class FunctionalTest(testtools.TestCase):
    """A test with a running daemon at ``self.url``.

    Class attributes select the database (``db_kind``), the paste flavor
    and extra options ("group.name": value).
    """

    db_kind = 'sqlite'
    flavor = None
    options = {}
    workers = 0

    def setUp(self):
        super().setUp()
        require_database(self.db_kind)
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = Database(self.db_kind, self.workdir)
        self.addCleanup(self.db.drop)
        self.daemon = self.make_daemon()
        self.daemon.manage('db', 'sync')
        self.daemon.start()
        self.addCleanup(self.daemon.stop)
        self.url = self.daemon.url
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def make_daemon(self, **kwargs):
        params = dict(options=self.options, flavor=self.flavor,
                      workers=self.workers)
        params.update(kwargs)
        return Daemon(self.workdir, self.db.url, **params)

    # -- HTTP helpers ------------------------------------------------------

    def headers(self, project=None, roles=None, user=None, **extra):
        headers = {}
        if project:
            headers['X-Project-Id'] = project
            headers['X-User-Id'] = user or 'user-' + project
            headers['X-Roles'] = roles or 'member,reader'
        headers.update(extra)
        return headers

    def request(self, method, path, json=None, data=None, headers=None,
                **kwargs):
        return self.http.request(method, self.url + path, json=json,
                                 data=data, headers=headers or {}, **kwargs)

    def create_image(self, headers=None, **body):
        resp = self.request('POST', '/v2/images', json=body,
                            headers=headers)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def patch(self, image_id, changes, headers=None,
              media='application/openstack-images-v2.1-json-patch'):
        headers = dict(headers or {})
        headers['Content-Type'] = media
        import json as _json
        return self.request('PATCH', '/v2/images/%s' % image_id,
                            data=_json.dumps(changes), headers=headers)


class SharedDaemonTest(FunctionalTest):
    """Like FunctionalTest, but one daemon serves every test of the class.

    Tests must not depend on each other: use a fresh project per test
    (``self.project``) so listings only see the test's own images.
    """

    # What keeps the class from running (see glance.tests.prerequisites):
    # set by setUpClass, raised by each test.
    _unmet = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._unmet = database_problem(cls.db_kind)
        if cls._unmet is not None:
            return
        cls.workdir = tempfile.mkdtemp(prefix='glance-test-')
        cls.db = Database(cls.db_kind, cls.workdir)
        cls.daemon = Daemon(cls.workdir, cls.db.url, options=cls.options,
                            flavor=cls.flavor, workers=cls.workers)
        cls.daemon.manage('db', 'sync')
        cls.daemon.start()
        cls.url = cls.daemon.url

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, '_unmet', None) is None and hasattr(cls, 'daemon'):
            cls.daemon.stop()
            cls.db.drop()
            shutil.rmtree(cls.workdir, True)
        super().tearDownClass()

    def setUp(self):
        testtools.TestCase.setUp(self)
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)
        self.project = 'project-%s' % uuid.uuid4().hex[:8]
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def headers(self, project=None, roles=None, user=None, **extra):
        return super().headers(project or self.project, roles, user,
                               **extra)

    def request(self, method, path, json=None, data=None, headers=None,
                **kwargs):
        if headers is None:
            headers = self.headers()
        return super().request(method, path, json=json, data=data,
                               headers=headers, **kwargs)
