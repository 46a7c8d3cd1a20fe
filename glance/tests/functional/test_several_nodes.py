"""Several API nodes: tools/several-nodes starts two glance-api daemons
(two workers each) behind HAProxy, on one MariaDB database and the Swift
of tools/swift. What one node wrote the other lists, serves and deletes;
concurrent PATCHes through both lose nothing; a node killed in the
middle of an upload leaves nothing the survivor serves, and the survivor
removes the segments it wrote.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import requests
import testtools

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_swift

TOOL = os.path.join(base.ROOT, 'tools', 'several-nodes')
ONE_MB = helpers_swift.ONE_MB
OCTET = {'Content-Type': 'application/octet-stream'}
PATCH_MEDIA = 'application/openstack-images-v2.1-json-patch'
LEASE_TIMEOUT = 4


def haproxy_missing():
    return not (shutil.which('haproxy') or os.path.exists('/usr/sbin/haproxy'))


class TestSeveralNodes(testtools.TestCase):

    _unmet = None
    servers = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._unmet = base.database_problem('mysql')
        if cls._unmet is None and os.getuid() != 0:
            cls._unmet = prerequisites.check(
                'HAPROXY', not haproxy_missing(),
                'tools/several-nodes installs it only as root')
        if cls._unmet is not None:
            return
        cls.servers, problem = helpers_swift.acquire()
        if cls.servers is None:
            cls._unmet = problem
            return
        env = cls.servers.env
        cls.workdir = tempfile.mkdtemp(prefix='glance-nodes-')
        cls.db = base.Database('mysql', cls.workdir)
        cls.container = 'glance-nodes-%s' % uuid.uuid4().hex[:8]
        extra = os.path.join(cls.workdir, 'extra.conf')
        with open(extra, 'w') as f:
            f.write('[DEFAULT]\nupload_lease_timeout = %d\n\n'
                    '[glance_store]\nswift_store_large_object_size = 2\n'
                    'swift_store_large_object_chunk_size = 1\n'
                    % LEASE_TIMEOUT)
        port = base.free_ports(3)
        cls.tool_env = dict(
            os.environ, GLANCE_NODES_HOME=os.path.join(cls.workdir, 'nodes'),
            GLANCE_NODES_PORT=str(port), GLANCE_NODES_DB_URL=cls.db.url,
            GLANCE_NODES_CONTAINER=cls.container,
            GLANCE_NODES_EXTRA_CONF=extra,
            GLANCE_NODES_SWIFT_AUTH_URL=env['SWIFT_AUTH_URL'],
            GLANCE_NODES_SWIFT_USER=env['SWIFT_USER'],
            GLANCE_NODES_SWIFT_KEY=env['SWIFT_KEY'],
            GLANCE_NODES_SWIFT_AUTH_VERSION='1')
        try:
            cls.env = cls.tool('start')
        except Exception:
            cls.tearDownClass()
            raise
        cls.front = cls.env['GLANCE_NODES_URL']
        cls.nodes = cls.env['GLANCE_NODE_URLS'].split(',')
        cls.sw = helpers_swift.connection(env)

    @classmethod
    def tool(cls, command):
        proc = subprocess.run([TOOL, command], capture_output=True,
                              text=True, timeout=300, env=cls.tool_env)
        if proc.returncode != 0:
            raise RuntimeError('tools/several-nodes %s failed:\n%s'
                               % (command, proc.stderr[-3000:]))
        return dict(line.split('=', 1) for line in proc.stdout.splitlines()
                    if '=' in line)

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, 'tool_env', None) is not None:
                cls.tool('stop')
            if getattr(cls, 'db', None) is not None:
                cls.db.drop()
            if getattr(cls, 'workdir', None):
                shutil.rmtree(cls.workdir, True)
        finally:
            if cls.servers is not None:
                cls.servers.release()
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            prerequisites.raise_copy(self._unmet)
        self.project = 'project-%s' % uuid.uuid4().hex[:8]

    def headers(self, **extra):
        return dict({'X-Project-Id': self.project, 'X-User-Id': 'u1',
                     'X-Roles': 'member,reader'}, **extra)

    def new_image(self, url):
        resp = requests.post(url + '/v2/images', headers=self.headers(),
                             json={'name': 'n', 'disk_format': 'raw',
                                   'container_format': 'bare'}, timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()['id']

    def show(self, url, image_id):
        return requests.get(url + '/v2/images/%s' % image_id,
                            headers=self.headers(), timeout=60)

    def objects(self, prefix):
        from swiftclient import exceptions
        try:
            _, listing = self.sw.get_container(self.container, prefix=prefix)
        except exceptions.ClientException as e:
            if e.http_status == 404:
                return []
            raise
        return [entry['name'] for entry in listing]

    def test_written_by_one_node_served_and_deleted_by_the_other(self):
        data = os.urandom(3 * ONE_MB + 1)
        one, other = self.nodes
        image_id = self.new_image(one)
        resp = requests.put(one + '/v2/images/%s/file' % image_id,
                            data=data, headers=self.headers(**OCTET),
                            timeout=120)
        self.assertEqual(204, resp.status_code, resp.text)
        listed = requests.get(other + '/v2/images', headers=self.headers(),
                              timeout=60).json()['images']
        self.assertEqual([image_id], [i['id'] for i in listed])
        self.assertEqual('active', listed[0]['status'])
        for url in (other, self.front):
            got = requests.get(url + '/v2/images/%s/file' % image_id,
                               headers=self.headers(), timeout=120)
            self.assertEqual(200, got.status_code)
            self.assertEqual(hashlib.sha512(data).hexdigest(),
                             hashlib.sha512(got.content).hexdigest())
        self.assertEqual(5, len(self.objects(image_id)))
        resp = requests.delete(other + '/v2/images/%s' % image_id,
                               headers=self.headers(), timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(404, self.show(one, image_id).status_code)
        self.assertEqual([], self.objects(image_id))

    def test_patch_race_through_both_nodes_loses_nothing(self):
        image_id = self.new_image(self.front)
        threads, answers, conflicts = 10, [], []
        barrier = threading.Barrier(threads)

        def patch(n):
            url = self.nodes[n % 2] + '/v2/images/%s' % image_id
            with requests.Session() as session:
                barrier.wait(30)
                for _ in range(30):
                    resp = session.patch(url, timeout=60, headers=dict(
                        self.headers(), **{'Content-Type': PATCH_MEDIA}),
                        json=[{'op': 'add', 'path': '/p%d' % n,
                               'value': str(n)}])
                    if resp.status_code != 409:
                        break
                    conflicts.append(n)
                answers.append(resp.status_code)
        workers = [threading.Thread(target=patch, args=(n,))
                   for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual([200] * threads, answers)
        shown = self.show(self.nodes[0], image_id).json()
        self.assertEqual({'p%d' % n: str(n) for n in range(threads)},
                         {k: v for k, v in shown.items()
                          if k.startswith('p') and k[1:].isdigit()})

    def test_node_killed_mid_upload(self):
        victim, survivor = self.nodes
        image_id = self.new_image(victim)
        pid_file = os.path.join(self.tool_env['GLANCE_NODES_HOME'], 'node1',
                                'glance-api.pid')
        with open(pid_file) as f:
            pid = int(f.read())
        self.addCleanup(self.tool, 'start')

        def body():
            for n in range(8):
                if n == 3:
                    deadline = time.time() + 60
                    while not self.objects(image_id + '-00002'):
                        self.assertLess(time.time(), deadline)
                        time.sleep(0.05)
                    # The node and its workers (its process group) die.
                    os.killpg(pid, signal.SIGKILL)
                yield os.urandom(ONE_MB)
        self.assertRaises(requests.ConnectionError, requests.put,
                          victim + '/v2/images/%s/file' % image_id,
                          data=body(), headers=self.headers(**OCTET),
                          timeout=120)
        # Nothing the survivor would serve as active, even at once.
        self.assertNotEqual('active',
                            self.show(survivor, image_id).json()['status'])
        # Once the lease lapsed, the survivor puts the image back and
        # removes the segments.
        deadline = time.time() + 20 * LEASE_TIMEOUT
        while True:
            image = self.show(survivor, image_id).json()
            if image['status'] == 'queued' and not self.objects(image_id):
                break
            self.assertLess(time.time(), deadline,
                            (image['status'], self.objects(image_id)))
            time.sleep(0.5)
        got = requests.get(survivor + '/v2/images/%s/file' % image_id,
                           headers=self.headers(), timeout=60)
        self.assertEqual(204, got.status_code, got.text)
