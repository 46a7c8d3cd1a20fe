"""Two API nodes (two daemons of two workers each) on one database: what
one node writes, the next read through the other returns, whatever either
keeps between requests (SQLite's read cache, pooled connections, kept-alive
client connections pinned to one worker). And a MariaDB server that closes
idle connections (``wait_timeout``) never turns into an error answer.
"""

import json
import os
import shutil
import tempfile
import time
import uuid

import requests
import testtools

from glance.tests import db_servers
from glance.tests import prerequisites
from glance.tests.functional import base

PATCH_MEDIA = 'application/openstack-images-v2.1-json-patch'
ROUNDS = 15


class TwoNodes:
    db_kind = None
    _unmet = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._unmet = base.database_problem(cls.db_kind)
        if cls._unmet is not None:
            return
        cls.workdir = tempfile.mkdtemp(prefix='glance-nodes-')
        cls.db = base.Database(cls.db_kind, cls.workdir)
        cls.nodes = []
        try:
            for n in range(2):
                home = os.path.join(cls.workdir, 'node%d' % n)
                os.makedirs(home)
                node = base.Daemon(home, cls.db.url, workers=2, options={
                    'glance_store.filesystem_store_datadir':
                        os.path.join(cls.workdir, 'images')})
                if n == 0:
                    node.manage('db', 'sync')
                node.start()
                cls.nodes.append(node)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for node in getattr(cls, 'nodes', ()):
            node.stop()
        if getattr(cls, 'db', None) is not None:
            cls.db.drop()
            shutil.rmtree(cls.workdir, True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)
        self.project = 'project-%s' % uuid.uuid4().hex[:8]
        # Kept-alive connections: each stays with one worker of its node.
        self.http = [requests.Session(), requests.Session()]
        for s in self.http:
            self.addCleanup(s.close)

    def call(self, n, method, path, project=None, roles='member,reader',
             **kwargs):
        project = project or self.project
        headers = {'X-Project-Id': project, 'X-User-Id': 'u-' + project,
                   'X-Roles': roles}
        headers.update(kwargs.pop('headers', {}))
        return self.http[n].request(method, self.nodes[n].url + path,
                                    headers=headers, timeout=60, **kwargs)

    def ok(self, resp, status=200):
        self.assertEqual(status, resp.status_code, resp.text)
        return resp

    def new_image(self, **body):
        body.update(disk_format='raw', container_format='bare')
        return self.ok(self.call(0, 'POST', '/v2/images', json=body),
                       201).json()

    def patch(self, n, image_id, changes):
        return self.ok(self.call(n, 'PATCH', '/v2/images/%s' % image_id,
                                 data=json.dumps(changes),
                                 headers={'Content-Type': PATCH_MEDIA}))

    def test_a_patch_through_one_node_is_read_through_the_other(self):
        image = self.new_image(name='first')
        path = '/v2/images/%s' % image['id']
        # Both nodes have read (and may keep) the image before each change.
        for r in range(ROUNDS):
            writer, reader = r % 2, 1 - r % 2
            self.ok(self.call(reader, 'GET', path))
            self.ok(self.call(reader, 'GET', '/v2/images?name=v%d' % r))
            value = 'v%d' % r
            self.patch(writer, image['id'], [
                {'op': 'replace', 'path': '/name', 'value': value},
                {'op': 'add', 'path': '/round', 'value': str(r)}])
            shown = self.ok(self.call(reader, 'GET', path)).json()
            self.assertEqual((value, str(r)), (shown['name'], shown['round']))
            listed = self.ok(self.call(
                reader, 'GET', '/v2/images?name=%s' % value)).json()
            self.assertEqual([image['id']],
                             [i['id'] for i in listed['images']])

    def test_a_member_change_through_one_node_is_read_through_the_other(
            self):
        image = self.new_image(name='shared', visibility='shared')
        members = '/v2/images/%s/members' % image['id']
        other = 'member-%s' % uuid.uuid4().hex[:8]
        for r in range(3):
            self.assertEqual([], self.ok(self.call(1, 'GET', members)).json()[
                'members'])
            self.ok(self.call(1, 'GET', '/v2/images/%s' % image['id'],
                              project=other), 404)
            self.ok(self.call(0, 'POST', members, json={'member': other}))
            self.assertEqual([other], [m['member_id'] for m in self.ok(
                self.call(1, 'GET', members)).json()['members']])
            # The member accepts through one node, the other lists it.
            self.ok(self.call(0, 'PUT', '%s/%s' % (members, other),
                              project=other, json={'status': 'accepted'}))
            listed = self.ok(self.call(1, 'GET', '/v2/images',
                                       project=other)).json()['images']
            self.assertIn(image['id'], [i['id'] for i in listed])
            self.ok(self.call(0, 'DELETE', '%s/%s' % (members, other)), 204)
            self.ok(self.call(1, 'GET', '%s/%s' % (members, other)), 404)
            listed = self.ok(self.call(1, 'GET', '/v2/images',
                                       project=other)).json()['images']
            self.assertNotIn(image['id'], [i['id'] for i in listed])

    def test_a_deactivation_through_one_node_is_seen_by_the_other(self):
        image = self.new_image(name='data')
        path = '/v2/images/%s' % image['id']
        self.ok(self.call(0, 'PUT', path + '/file', data=b'x' * 1000,
                          headers={'Content-Type':
                                   'application/octet-stream'}), 204)
        admin = 'admin,member,reader'
        for r in range(3):
            self.assertEqual(b'x' * 1000, self.ok(
                self.call(1, 'GET', path + '/file')).content)
            self.ok(self.call(0, 'POST', path + '/actions/deactivate',
                              roles=admin), 204)
            self.assertEqual('deactivated', self.ok(
                self.call(1, 'GET', path)).json()['status'])
            self.ok(self.call(1, 'GET', path + '/file'), 403)
            self.ok(self.call(0, 'POST', path + '/actions/reactivate',
                              roles=admin), 204)
            self.assertEqual('active', self.ok(
                self.call(1, 'GET', path)).json()['status'])


class TestTwoNodesSQLite(TwoNodes, testtools.TestCase):
    db_kind = 'sqlite'


class TestTwoNodesMariaDB(TwoNodes, testtools.TestCase):
    db_kind = 'mysql'


class TestTwoNodesPostgreSQL(TwoNodes, testtools.TestCase):
    db_kind = 'postgresql'


class TestIdleConnections(testtools.TestCase):
    """A MariaDB of the test's own that closes connections idle for two
    seconds: after a pause longer than that, every request is answered,
    on connections the server closed meanwhile."""

    WAIT_TIMEOUT = 2

    def setUp(self):
        super().setUp()
        self.server = db_servers.own_mariadb(self)
        self.db_url = self.server.create_database('glance_idle')
        self.server.sql("SET GLOBAL wait_timeout = %d" % self.WAIT_TIMEOUT)
        self.workdir = tempfile.mkdtemp(prefix='glance-idle-')
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def closed_by_server(self):
        # Connections the server ended for being idle (wait_timeout).
        return int(self.server.sql("SHOW GLOBAL STATUS LIKE 'Aborted_clients'")
                   [0][1])

    def test_connections_closed_by_wait_timeout_are_replaced(self):
        daemon = base.Daemon(self.workdir, self.db_url, workers=2)
        daemon.manage('db', 'sync')
        daemon.start()
        self.addCleanup(daemon.stop)
        headers = {'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                   'X-Roles': 'member,reader'}
        http = requests.Session()
        self.addCleanup(http.close)
        resp = http.post(daemon.url + '/v2/images', headers=headers,
                         json={'name': 'idle'}, timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        path = daemon.url + '/v2/images/%s' % resp.json()['id']
        for _ in range(3):
            before = self.closed_by_server()
            # Each worker's pool holds connections, then they all idle.
            for _ in range(10):
                self.assertEqual(200, requests.get(
                    path, headers=headers, timeout=60).status_code)
            time.sleep(self.WAIT_TIMEOUT * 2 + 1)
            self.assertGreater(self.closed_by_server(), before)
            for n in range(10):
                session = http if n % 2 else requests
                resp = session.get(path, headers=headers, timeout=60)
                self.assertEqual(200, resp.status_code, resp.text)
        with open(daemon.log, errors='replace') as f:
            log = f.read()
        self.assertNotIn('unavailable', log)
        self.assertNotIn('Traceback', log)
