"""glance-replicator between two real glance-api daemons (and from the
real upstream Glance): images of several MiB with properties, tags,
members, a deactivated, a hidden and a queued image; a copy killed with
SIGKILL in the middle and run again; data rotten at the source; bad
arguments, an endpoint that does not answer, refused credentials.

The source serves the default flavor (identity headers), the target the
fakeauth flavor, whose tokens are "user:project:roles": the replicator
speaks to each with a different identity.
"""

import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests
import testtools

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_relay
from glance.tests.functional import test_keystone
from glance.tests.functional import test_takeover_db

ADMIN = {'X-Project-Id': 'admin', 'X-User-Id': 'admin',
         'X-Roles': 'admin,member,reader'}
TARGET_TOKEN = 'admin:admin:admin,member,reader'
MIB = 1 << 20
UPSTREAM = os.path.join(base.ROOT, 'tools', 'upstream-glance')
# What must be equal on both sides after a copy.
COMPARED = ('id', 'name', 'status', 'visibility', 'protected', 'os_hidden',
            'owner', 'disk_format', 'container_format', 'min_disk',
            'min_ram', 'size', 'checksum', 'os_hash_algo', 'os_hash_value')


def replicator(*args, timeout=300, **kwargs):
    return subprocess.run(
        [sys.executable, '-m', 'glance.cmd.replicator'] + list(args),
        capture_output=True, text=True, timeout=timeout, cwd=base.ROOT,
        **kwargs)


class NotGlance(http.server.BaseHTTPRequestHandler):
    """A web server that knows no method (501 to everything)."""

    def log_message(self, *args):
        pass


class Side:
    """One glance-api daemon and how the tests speak to it."""

    def __init__(self, workdir, flavor=None):
        os.makedirs(workdir)
        self.workdir = workdir
        self.db = base.Database('sqlite', workdir)
        self.daemon = base.Daemon(workdir, self.db.url, flavor=flavor)
        self.daemon.manage('db', 'sync')
        self.daemon.start()
        self.url = self.daemon.url
        self.headers = dict(ADMIN) if flavor is None else {
            'X-Auth-Token': TARGET_TOKEN}
        self.http = requests.Session()

    def call(self, method, path, expect=(200,), headers=None, **kwargs):
        resp = self.http.request(method, self.url + path,
                                 headers=dict(self.headers,
                                              **(headers or {})),
                                 timeout=60, **kwargs)
        if resp.status_code not in expect:
            raise AssertionError('%s %s: %s %s' % (
                method, path, resp.status_code, resp.text[:500]))
        return resp

    def image(self, image_id):
        resp = self.call('GET', '/v2/images/%s' % image_id,
                         expect=(200, 404))
        return resp.json() if resp.status_code == 200 else None

    def members(self, image_id):
        return {m['member_id']: m['status'] for m in self.call(
            'GET', '/v2/images/%s/members' % image_id).json()['members']}

    def data(self, image_id):
        return self.call('GET', '/v2/images/%s/file' % image_id).content

    def stop(self):
        self.http.close()
        self.daemon.stop()


class ReplicatorTest(testtools.TestCase):
    """Two daemons for the class; each test uses images of its own owner
    (``--owner``), so tests do not see each other's images."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = tempfile.mkdtemp(prefix='glance-replicator-')
        cls.source = cls.target = None
        try:
            cls.source = Side(os.path.join(cls.workdir, 'source'))
            cls.target = Side(os.path.join(cls.workdir, 'target'),
                              flavor='fakeauth')
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for side in (cls.source, cls.target):
            if side is not None:
                side.stop()
        shutil.rmtree(cls.workdir, True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.owner = 'owner-%s' % uuid.uuid4().hex[:8]
        self.payload = {}

    def run_replicator(self, command, *args, target=True, **kwargs):
        argv = [command, self.source.url]
        if target:
            argv.append(self.target.url)
        argv += ['--target-token', TARGET_TOKEN, '--owner', self.owner]
        return replicator(*(argv + list(args)), **kwargs)

    def make_image(self, data=None, deactivate=False, members=(),
                   **body):
        body.setdefault('disk_format', 'raw')
        body.setdefault('container_format', 'bare')
        body.setdefault('owner', self.owner)
        image = self.source.call('POST', '/v2/images', expect=(201,),
                                 json=body).json()
        if data is not None:
            self.source.call('PUT', '/v2/images/%s/file' % image['id'],
                             expect=(204,), data=data, headers={
                                 'Content-Type': 'application/octet-stream'})
            self.payload[image['id']] = data
        for member, status in members:
            self.source.call('POST', '/v2/images/%s/members' % image['id'],
                             json={'member': member})
            if status != 'pending':
                self.source.call(
                    'PUT', '/v2/images/%s/members/%s' % (image['id'],
                                                         member),
                    json={'status': status},
                    headers={'X-Project-Id': member,
                             'X-Roles': 'member,reader'})
        if deactivate:
            self.source.call('POST', '/v2/images/%s/actions/deactivate'
                             % image['id'], expect=(204,))
        return image['id']

    def assert_same(self, image_id):
        ours, theirs = self.source.image(image_id), self.target.image(
            image_id)
        self.assertIsNotNone(theirs, image_id)
        for key in COMPARED:
            self.assertEqual(ours.get(key), theirs.get(key),
                             '%s of %s' % (key, image_id))
        self.assertEqual(sorted(ours['tags']), sorted(theirs['tags']))
        extra = {k: v for k, v in ours.items() if k not in (
            'created_at', 'updated_at', 'file', 'self', 'schema', 'tags',
            'virtual_size', 'locations', 'direct_url', 'stores')}
        self.assertEqual(extra, {k: theirs.get(k) for k in extra})
        if ours['visibility'] == 'shared':
            self.assertEqual(self.source.members(image_id),
                             self.target.members(image_id))

    def test_livecopy_copies_everything_once(self):
        member_a = 'member-a-%s' % uuid.uuid4().hex[:6]
        member_b = 'member-b-%s' % uuid.uuid4().hex[:6]
        big = self.make_image(os.urandom(6 * MIB), name='big',
                              tags=['alpha', 'beta'], os_distro='debian',
                              hw_disk_bus='scsi', min_disk=2, min_ram=256)
        shared = self.make_image(
            os.urandom(3 * MIB + 17), name='shared', visibility='shared',
            members=[(member_a, 'accepted'), (member_b, 'pending')])
        off = self.make_image(os.urandom(2 * MIB), name='off',
                              deactivate=True, note='deactivated')
        hidden = self.make_image(os.urandom(1000), name='hidden',
                                 os_hidden=True, protected=True,
                                 visibility='public')
        queued = self.make_image(None, name='queued', purpose='later')
        empty = self.make_image(b'', name='empty')
        ids = [big, shared, off, hidden, queued, empty]

        proc = self.run_replicator('compare')
        self.assertEqual(1, proc.returncode, proc.stderr)
        for image_id in ids:
            self.assertIn(image_id, proc.stdout)

        proc = self.run_replicator('livecopy', '--dry-run', '--json')
        self.assertEqual(0, proc.returncode, proc.stderr)
        planned = json.loads(proc.stdout)
        self.assertEqual({'planned': 6}, planned['summary']['outcomes'])
        self.assertIsNone(self.target.image(big))

        proc = self.run_replicator('livecopy', '--json')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        done = json.loads(proc.stdout)
        self.assertEqual({'copied': 6}, done['summary']['outcomes'])
        self.assertEqual(11 * MIB + 1017, done['summary']['bytes'])
        for image_id in ids:
            self.assert_same(image_id)
        self.assertEqual('deactivated', self.target.image(off)['status'])
        self.assertEqual('queued', self.target.image(queued)['status'])
        self.assertEqual(self.payload[big], self.target.data(big))

        # Nothing left to copy; a second run sends nothing.
        proc = self.run_replicator('compare')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        proc = self.run_replicator('livecopy', '--json')
        self.assertEqual(0, proc.returncode, proc.stderr)
        again = json.loads(proc.stdout)
        self.assertEqual({'unchanged': 6}, again['summary']['outcomes'])
        self.assertEqual(0, again['summary']['bytes'])

        # Changes on the source are carried over; only they.
        self.source.call('PATCH', '/v2/images/%s' % big, headers={
            'Content-Type': 'application/openstack-images-v2.1-json-patch'},
            data=json.dumps([
                {'op': 'replace', 'path': '/os_distro', 'value': 'ubuntu'},
                {'op': 'remove', 'path': '/hw_disk_bus'},
                {'op': 'replace', 'path': '/tags',
                 'value': ['alpha', 'beta', 'gamma']}]))
        self.source.call('DELETE', '/v2/images/%s/members/%s'
                         % (shared, member_b), expect=(204,))
        self.source.call('POST', '/v2/images/%s/actions/reactivate' % off,
                         expect=(204,))
        proc = self.run_replicator('compare', '--json')
        self.assertEqual(1, proc.returncode)
        differs = {r['image_id']: r['message']
                   for r in json.loads(proc.stdout)['results']
                   if r['outcome'] == 'differs'}
        self.assertEqual({big, shared, off}, set(differs))
        self.assertIn('os_distro', differs[big])
        proc = self.run_replicator('livecopy', '--json')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        self.assertEqual({'updated': 3, 'unchanged': 3}, json.loads(
            proc.stdout)['summary']['outcomes'])
        for image_id in (big, shared, off):
            self.assert_same(image_id)

        # size: the active images of the owner.
        proc = self.run_replicator('size', '--json', target=False)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual(11 * MIB + 1017,
                         json.loads(proc.stdout)['summary']['active_bytes'])
        proc = self.run_replicator('size', target=False)
        self.assertEqual('Total size is %d bytes (11.0 MiB) across 5 active '
                         'images\n' % (11 * MIB + 1017), proc.stdout)

    def test_dump_then_load(self):
        member = 'member-%s' % uuid.uuid4().hex[:6]
        first = self.make_image(os.urandom(3 * MIB), name='one',
                                tags=['x'], color='blue',
                                visibility='shared',
                                members=[(member, 'rejected')])
        second = self.make_image(os.urandom(MIB), name='two',
                                 deactivate=True)
        directory = os.path.join(self.workdir, 'dump-' + self.owner)
        proc = replicator('dump', self.source.url, directory, '--owner',
                          self.owner)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        with open(os.path.join(directory, first + '.img'), 'rb') as f:
            self.assertEqual(self.payload[first], f.read())
        self.assertEqual(['%s.%s' % (i, ext) for i in sorted([first, second])
                          for ext in ('img', 'json')],
                         sorted(os.listdir(directory)))
        proc = replicator('dump', self.source.url, directory, '--owner',
                          self.owner, '--json')
        self.assertEqual({'unchanged': 2}, json.loads(
            proc.stdout)['summary']['outcomes'])

        proc = replicator('load', self.target.url, directory,
                          '--target-token', TARGET_TOKEN, '--json')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        self.assertEqual({'copied': 2}, json.loads(
            proc.stdout)['summary']['outcomes'])
        for image_id in (first, second):
            self.assert_same(image_id)
        proc = self.run_replicator('compare')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)

    def test_rotten_source_data_fails_and_leaves_no_copy(self):
        good = self.make_image(os.urandom(2 * MIB), name='good')
        bad = self.make_image(os.urandom(2 * MIB), name='bad')
        path = os.path.join(self.source.workdir, 'images', bad)
        with open(path, 'r+b') as f:
            f.seek(MIB)
            byte = f.read(1)
            f.seek(MIB)
            f.write(bytes([byte[0] ^ 0xff]))
        proc = self.run_replicator('livecopy', '--json')
        self.assertEqual(1, proc.returncode, proc.stdout + proc.stderr)
        results = {r['image_id']: r for r in json.loads(
            proc.stdout)['results']}
        self.assertEqual('copied', results[good]['outcome'])
        self.assertEqual('failed', results[bad]['outcome'])
        self.assertIn('the data that arrived differs from the source '
                      '(checksum', results[bad]['message'])
        self.assertIn('the target copy was deleted', results[bad]['message'])
        self.assert_same(good)
        self.assertIsNone(self.target.image(bad))

    def test_interrupted_or_killed_mid_copy_then_rerun(self):
        ids = [self.make_image(os.urandom(4 * MIB), name='slow-%d' % n)
               for n in range(2)]
        throttle = helpers_relay.Relay(('127.0.0.1', self.source.daemon.port),
                                       rate=2 * MIB)
        self.addCleanup(throttle.cut)
        # Ctrl-C ends the run at once (status 130); SIGKILL too.
        for signum, status in ((signal.SIGINT, 130),
                               (signal.SIGKILL, -signal.SIGKILL)):
            proc = subprocess.Popen(
                [sys.executable, '-m', 'glance.cmd.replicator', 'livecopy',
                 throttle.url, self.target.url, '--target-token',
                 TARGET_TOKEN, '--owner', self.owner, '--workers', '1'],
                cwd=base.ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True)
            self.addCleanup(proc.stderr.close)
            self.addCleanup(lambda p=proc: p.poll() is None and p.kill())
            deadline = time.monotonic() + 60
            # Stopped once an image is being written on the target.
            while time.monotonic() < deadline:
                there = [self.target.image(i) for i in ids]
                if any(t and t['status'] == 'saving' for t in there):
                    break
                self.assertIsNone(proc.poll(), 'the copy ended before it '
                                  'was stopped')
                time.sleep(0.05)
            time.sleep(0.5)
            proc.send_signal(signum)
            self.assertEqual(status, proc.wait(timeout=15))
            if signum == signal.SIGINT:
                self.assertIn('interrupted; run the command again',
                              proc.stderr.read())
            self.assertNotEqual(
                ['active', 'active'],
                [(self.target.image(i) or {}).get('status') for i in ids])

        proc = self.run_replicator('livecopy')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        for image_id in ids:
            self.assert_same(image_id)
            self.assertEqual(hashlib.md5(self.payload[image_id]).hexdigest(),
                             self.target.image(image_id)['checksum'])
        proc = self.run_replicator('compare')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)

    def test_bad_arguments_unreachable_refused(self):
        proc = replicator('copy', self.source.url)
        self.assertEqual(2, proc.returncode)
        self.assertIn('invalid choice', proc.stderr)
        proc = replicator('livecopy', self.source.url, self.target.url,
                          '--workers', '0')
        self.assertEqual(2, proc.returncode)
        self.assertIn('--workers', proc.stderr)
        proc = replicator('compare', self.source.url, 'ftp://x:1')
        self.assertEqual(2, proc.returncode)
        self.assertIn('ftp://x:1', proc.stderr)
        proc = replicator('size')
        self.assertEqual(2, proc.returncode)
        self.assertIn('no source given', proc.stderr)

        closed = base.free_port()
        proc = replicator('compare', self.source.url,
                          '127.0.0.1:%d' % closed)
        self.assertEqual(3, proc.returncode)
        self.assertIn('127.0.0.1:%d cannot be reached: Connection refused'
                      % closed, proc.stderr)

        # Something that is not the Image API.
        other = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), NotGlance)
        threading.Thread(target=other.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True).start()
        self.addCleanup(other.server_close)
        self.addCleanup(other.shutdown)
        proc = replicator('size', '127.0.0.1:%d' % other.server_port)
        self.assertEqual(1, proc.returncode)
        self.assertIn('127.0.0.1:%d does not answer as an Image API v2 '
                      'endpoint' % other.server_port, proc.stderr)

        proc = replicator('compare', self.source.url, self.target.url,
                          '--target-token', 'not-a-token')
        self.assertEqual(4, proc.returncode)
        self.assertIn('refused the credentials (token)', proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)

    def test_config_file_identities(self):
        image = self.make_image(os.urandom(1000), name='conf')
        conf = os.path.join(self.workdir, 'replicator-%s.conf' % self.owner)
        with open(conf, 'w') as f:
            f.write('[source]\nurl = %s\nproject = admin\n\n'
                    '[target]\nurl = %s\ntoken = %s\n'
                    % (self.source.url, self.target.url, TARGET_TOKEN))
        proc = replicator('livecopy', '--config-file', conf, '--owner',
                          self.owner)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        self.assertIn('1 copied', proc.stdout)
        self.assert_same(image)
        with open(conf, 'a') as f:
            f.write('[elsewhere]\n')
        proc = replicator('compare', '--config-file', conf)
        self.assertEqual(2, proc.returncode)
        self.assertIn('unknown section [elsewhere]', proc.stderr)

    def test_systemd_units_run_compare(self):
        analyze = shutil.which('systemd-analyze', path=os.pathsep.join(
            [os.environ.get('PATH', ''), '/usr/sbin', '/sbin']))
        prerequisites.require('SYSTEMD', analyze is not None,
                              'no systemd-analyze')
        root = os.path.join(self.workdir, 'root-' + self.owner)
        bindir = os.path.dirname(sys.executable)
        proc = subprocess.run(
            [os.path.join(base.ROOT, 'tools', 'install'), '--destdir', root,
             '--bindir', bindir], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        units = os.path.join(root, 'etc', 'systemd', 'system')
        service = os.path.join(units, 'glance-replicator-compare.service')
        timer = os.path.join(units, 'glance-replicator-compare.timer')
        proc = subprocess.run([analyze, 'verify', service, timer],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual((0, ''), (proc.returncode,
                                   proc.stdout + proc.stderr))
        self.assertTrue(os.path.exists(os.path.join(
            root, 'etc', 'glance', 'glance-replicator.conf')))
        with open(service) as f:
            exec_start = [line.split('=', 1)[1].split() for line in f
                          if line.startswith('ExecStart=')][0]
        self.assertEqual(os.path.join(bindir, 'glance-replicator'),
                         exec_start[0])
        # The unit's command, on a configuration naming the two daemons.
        conf = os.path.join(self.workdir, 'unit-%s.conf' % self.owner)
        with open(conf, 'w') as f:
            f.write('[source]\nurl = %s\n[target]\nurl = %s\ntoken = %s\n'
                    % (self.source.url, self.target.url, TARGET_TOKEN))
        command = [conf if a == '/etc/glance/glance-replicator.conf' else a
                   for a in exec_start] + ['--owner', self.owner]
        self.make_image(os.urandom(1000), name='timer')
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(1, proc.returncode, proc.stdout + proc.stderr)
        self.assertIn('1 differs', proc.stdout)
        self.run_replicator('livecopy')
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)


class FromUpstreamTest(testtools.TestCase):
    """livecopy from the real upstream Glance (tools/upstream-glance) to
    this project. GLANCE_TEST_NO_UPSTREAM_GLANCE=1 skips it (except
    under CI)."""

    def setUp(self):
        super().setUp()
        problem = prerequisites.skip_requested('UPSTREAM_GLANCE')
        if problem is not None:
            raise problem
        self.workdir = tempfile.mkdtemp(prefix='glance-replicator-up-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        data = os.path.join(self.workdir, 'upstream')
        port = base.free_port()
        self.upstream_url = 'http://127.0.0.1:%d' % port
        env = dict(os.environ, GLANCE_STORES='single')
        env.pop('GLANCE_DB_URL', None)

        def tool(*args):
            return subprocess.run([UPSTREAM] + list(args), env=env,
                                  capture_output=True, text=True,
                                  timeout=1800)
        proc = tool('start', data, str(port))
        if proc.returncode != 0:
            tool('stop', data)
            prerequisites.require('UPSTREAM_GLANCE', False,
                                  proc.stderr[-2000:])
        self.addCleanup(tool, 'stop', data)
        self.target = Side(os.path.join(self.workdir, 'target'))
        self.addCleanup(self.target.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def up(self, method, path, expect, headers=None, **kwargs):
        resp = self.http.request(method, self.upstream_url + path,
                                 headers=dict(ADMIN, **{
                                     'X-Identity-Status': 'Confirmed'},
                                     **(headers or {})),
                                 timeout=120, **kwargs)
        self.assertEqual(expect, resp.status_code, resp.text[:500])
        return resp

    def up_image(self, data, deactivate=False, **body):
        image = self.up('POST', '/v2/images', 201, json=dict(
            disk_format='raw', container_format='bare', **body)).json()
        if data is not None:
            self.up('PUT', '/v2/images/%s/file' % image['id'], 204,
                    data=data,
                    headers={'Content-Type': 'application/octet-stream'})
        if deactivate:
            self.up('POST', '/v2/images/%s/actions/deactivate'
                    % image['id'], 204)
        return image['id']

    def test_livecopy_from_upstream(self):
        member = 'member-%s' % uuid.uuid4().hex[:6]
        payload = os.urandom(5 * MIB + 3)
        big = self.up_image(payload, name='big', tags=['a', 'b'],
                            os_distro='debian', min_ram=128)
        shared = self.up_image(os.urandom(2 * MIB), name='shared',
                               visibility='shared', note='for one')
        self.up('POST', '/v2/images/%s/members' % shared, 200,
                json={'member': member})
        self.up('PUT', '/v2/images/%s/members/%s' % (shared, member), 200,
                headers={'X-Project-Id': member,
                         'X-Roles': 'member,reader'},
                json={'status': 'accepted'})
        off = self.up_image(os.urandom(MIB), name='off', deactivate=True)
        hidden = self.up_image(os.urandom(1000), name='hidden',
                               os_hidden=True)
        ids = (big, shared, off, hidden)
        # Data upstream never hashed (an http location): hashed by the
        # replicator on the way and compared with what the target made.
        web = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), test_takeover_db.WebHandler)
        web.daemon_threads = True
        threading.Thread(target=web.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True).start()
        self.addCleanup(web.server_close)
        self.addCleanup(web.shutdown)
        located = self.up_image(None, name='web')
        self.up('PATCH', '/v2/images/%s' % located, 200, headers={
            'Content-Type': 'application/openstack-images-v2.1-json-patch'},
            json=[{'op': 'add', 'path': '/locations/-', 'value': {
                'url': 'http://127.0.0.1:%d/data' % web.server_port,
                'metadata': {}}}])
        self.assertIsNone(self.up('GET', '/v2/images/%s' % located,
                                  200).json()['checksum'])

        args = [self.upstream_url, self.target.url, '--json']
        proc = replicator('livecopy', *args)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        self.assertEqual({'copied': 5}, json.loads(
            proc.stdout)['summary']['outcomes'])
        copied = self.target.image(located)
        self.assertEqual(
            ('active', len(test_takeover_db.WEB_DATA),
             hashlib.md5(test_takeover_db.WEB_DATA).hexdigest()),
            (copied['status'], copied['size'], copied['checksum']))
        for image_id in ids:
            theirs = self.up('GET', '/v2/images/%s' % image_id, 200).json()
            ours = self.target.image(image_id)
            for key in COMPARED:
                self.assertEqual(theirs.get(key), ours.get(key),
                                 '%s of %s' % (key, image_id))
            self.assertEqual(sorted(theirs['tags']), sorted(ours['tags']))
        self.assertEqual('debian', self.target.image(big)['os_distro'])
        self.assertEqual({member: 'accepted'}, self.target.members(shared))
        self.assertEqual(payload, self.target.data(big))
        proc = replicator('compare', *args)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)


class KeystoneTargetTest(test_keystone.KeystoneFlavorTest):
    """To a keystone-flavor glance-api, with Keystone credentials from
    the --config file (keystoneauth1 password plugin): a real token is
    issued, validated by the target's authtoken filter, and a wrong
    password is refused. GLANCE_TEST_NO_KEYSTONE=1 skips it (except
    under CI)."""

    def test_livecopy_with_keystone_credentials(self):
        source = Side(os.path.join(tempfile.mkdtemp(
            prefix='glance-replicator-ks-'), 'source'))
        self.addCleanup(shutil.rmtree, os.path.dirname(source.workdir),
                        True)
        self.addCleanup(source.stop)
        owner = self.project_id(test_keystone.MEMBER_A,
                                test_keystone.PROJECT_A)
        image = source.call('POST', '/v2/images', expect=(201,), json={
            'name': 'ks', 'disk_format': 'raw', 'container_format': 'bare',
            'owner': owner, 'color': 'green',
            'visibility': 'shared'}).json()['id']
        # A member the target's Keystone knows, and one it does not.
        member = self.project_id(test_keystone.MEMBER_B,
                                 test_keystone.PROJECT_B)
        for project in (member, 'no-such-project-%s' % uuid.uuid4().hex):
            source.call('POST', '/v2/images/%s/members' % image,
                        json={'member': project})
        source.call('PUT', '/v2/images/%s/file' % image, expect=(204,),
                    data=os.urandom(MIB + 5),
                    headers={'Content-Type': 'application/octet-stream'})
        self.addCleanup(self.request, 'DELETE', '/v2/images/%s' % image,
                        headers=self.admin_c())
        conf = os.path.join(os.path.dirname(source.workdir), 'ks.conf')

        def write(password):
            with open(conf, 'w') as f:
                f.write('[source]\nurl = %s\n\n[target]\nurl = %s\n'
                        'auth_url = %s\nusername = %s\npassword = %s\n'
                        'project_name = %s\nuser_domain_name = Default\n'
                        'project_domain_name = Default\n' % (
                            source.url, self.url, self.identity,
                            test_keystone.ADMIN_C, password,
                            test_keystone.PROJECT_C))
        write('wrong-password')
        proc = replicator('compare', '--config-file', conf, '--image-id',
                          image)
        self.assertEqual(4, proc.returncode, proc.stdout + proc.stderr)
        self.assertIn('Keystone refused the credentials', proc.stderr)

        write(self.password)
        proc = replicator('livecopy', '--config-file', conf, '--image-id',
                          image, '--json')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        done = json.loads(proc.stdout)
        self.assertEqual({'copied': 1}, done['summary']['outcomes'])
        self.assertIn("member no-such-project-", done['results'][0][
            'message'])
        self.assertIn("left out: the target's Keystone has no such project",
                      done['results'][0]['message'])
        resp = self.request('GET', '/v2/images/%s/members' % image,
                            headers=self.admin_c())
        self.assertEqual([(member, 'pending')], [
            (m['member_id'], m['status']) for m in resp.json()['members']])
        resp = self.request('GET', '/v2/images/%s' % image,
                            headers=self.member_a())
        self.assertEqual(200, resp.status_code, resp.text)
        ours = source.image(image)
        for key in COMPARED + ('color',):
            self.assertEqual(ours.get(key), resp.json().get(key), key)
        proc = replicator('compare', '--config-file', conf, '--image-id',
                          image)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
