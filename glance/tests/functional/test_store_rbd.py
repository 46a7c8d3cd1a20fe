"""The rbd store against the real Ceph of tools/ceph: RBD images with a
protected snapshot, exact sizes, clones that keep an image from being
deleted, partial images removed, and a cluster that cannot be reached at
start-up."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import requests
import testtools

from glance.store import rbd as rbd_store
from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_ceph
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import test_image_data

MiB = 1024 * 1024


def rbd_options(env, group='glance_store'):
    return {'%s.rbd_store_ceph_conf' % group: env['CEPH_CONF'],
            '%s.rbd_store_user' % group: env['CEPH_USER'],
            '%s.rbd_store_pool' % group: env['CEPH_POOL'],
            '%s.rbd_store_chunk_size' % group: 1,
            '%s.rados_connect_timeout' % group: 30}


class TestRbdStore(helpers_ceph.CephDaemonTest,
                   test_image_data.ImageDataTest):

    base_options = {'image_size_cap': 16 * MiB,
                    'show_image_direct_url': True,
                    'glance_store.stores': 'rbd',
                    'glance_store.default_store': 'rbd'}

    @classmethod
    def store_options(cls, env):
        return dict(rbd_options(env),
                    **{'glance_store.rbd_thin_provisioning': True})

    def rbd_image(self, name, snapshot=None):
        import rbd
        image = rbd.Image(self.images_pool(), name, snapshot=snapshot,
                          read_only=True)
        self.addCleanup(image.close)
        return image

    def rbd_names(self):
        import rbd
        return set(rbd.RBD().list(self.images_pool()))

    def assert_no_rbd_image(self, image_id):
        self.assertNotIn(image_id, self.rbd_names())

    def upload(self, data):
        image = self.new_image()
        resp = self.put_data(image['id'], data)
        self.assertEqual(204, resp.status_code, resp.text)
        return self.show(image['id'])

    def test_known_size_round_trip(self):
        # More chunks (of 1 MiB here) than the store keeps in flight.
        data = os.urandom((rbd_store.IN_FLIGHT + 3) * MiB + 17)
        shown = self.upload(data)
        image_id = shown['id']
        self.assertEqual('active', shown['status'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual(
            'rbd://%s/images/%s/snap' % (self.ceph_env['CEPH_FSID'],
                                         image_id), shown['direct_url'])
        # The RBD image has exactly the data's size, and a protected
        # snapshot "snap" that clones can be made from.
        rbd_image = self.rbd_image(image_id)
        self.assertEqual(len(data), rbd_image.size())
        self.assertEqual(['snap'], [s['name'] for s in rbd_image.list_snaps()])
        self.assertTrue(rbd_image.is_protected_snap('snap'))
        self.assertEqual(data, self.rbd_image(image_id, 'snap').read(
            0, len(data)))
        resp = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(data, resp.content)
        resp = self.request('GET', '/v2/images/%s/file' % image_id,
                            headers=self.headers(
                                Range='bytes=%d-%d' % (MiB - 3, MiB + 4)))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[MiB - 3:MiB + 5], resp.content)
        resp = self.request('GET', '/v2/images/%s/file' % image_id,
                            headers=self.headers(
                                Range='bytes=%d-' % (MiB + 1)))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[MiB + 1:], resp.content)

    def test_chunked_upload_resizes_to_exact_size(self):
        data = os.urandom(2 * MiB + MiB // 2 + 3)

        def chunks():
            for i in range(0, len(data), 300000):
                yield data[i:i + 300000]
        shown = self.upload(chunks())
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(len(data), self.rbd_image(shown['id']).size())
        got = self.request('GET', '/v2/images/%s/file' % shown['id'])
        self.assertEqual(data, got.content)

    def test_empty_image(self):
        shown = self.upload(b'')
        self.assertEqual(0, shown['size'])
        self.assertEqual(0, self.rbd_image(shown['id']).size())
        got = self.request('GET', '/v2/images/%s/file' % shown['id'])
        self.assertEqual(b'', got.content)

    def test_thin_provisioning_skips_zero_chunks(self):
        data = bytes(2 * MiB) + os.urandom(MiB) + bytes(MiB)
        shown = self.upload(data)
        extents = []
        self.rbd_image(shown['id']).diff_iterate(
            0, len(data), None,
            lambda offset, length, exists: extents.append(
                (offset, length, exists)))
        # Only the chunk that is not all zeros was written.
        self.assertEqual([(2 * MiB, MiB, True)], extents)
        got = self.request('GET', '/v2/images/%s/file' % shown['id'])
        self.assertEqual(data, got.content)

    def test_delete_removes_snapshot_and_image(self):
        shown = self.upload(b'x' * 5000)
        self.assertIn(shown['id'], self.rbd_names())
        resp = self.request('DELETE', '/v2/images/%s' % shown['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        self.assert_no_rbd_image(shown['id'])

    def test_delete_while_a_clone_uses_the_snapshot(self):
        import rbd
        data = os.urandom(MiB + 5)
        shown = self.upload(data)
        image_id = shown['id']
        pool = self.images_pool()
        clone = 'clone-of-%s' % image_id
        rbd.RBD().clone(pool, image_id, 'snap', pool, clone,
                        features=rbd.RBD_FEATURE_LAYERING)
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertIn('in use', resp.text)
        self.assertIn(clone, resp.text)
        # Intact: still active, its data still served.
        self.assertEqual('active', self.show(image_id)['status'])
        got = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(data, got.content)
        self.assertTrue(self.rbd_image(image_id).is_protected_snap('snap'))
        rbd.RBD().remove(pool, clone)
        resp = self.request('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assert_no_rbd_image(image_id)

    def test_too_big_upload_leaves_no_rbd_image(self):
        image = self.new_image()

        def chunks():
            for _ in range(20):
                yield b'y' * MiB
        resp = self.put_data(image['id'], chunks())
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_queued_without_data(image['id'])
        self.assert_no_rbd_image(image['id'])

    def test_wrong_announced_size(self):
        image = self.new_image()
        resp = self.put_data(image['id'], b'z' * 1000,
                             {'Content-Length': '1000'})
        self.assertEqual(204, resp.status_code)
        # A second upload of an active image is refused; the data stays.
        resp = self.put_data(image['id'], b'w' * 10)
        self.assertEqual(409, resp.status_code)
        self.assertEqual(1000, self.rbd_image(image['id']).size())


class TestRbdStartUp(testtools.TestCase):
    """glance-api refuses to start (exit 3, naming the store) when its rbd
    store cannot reach the cluster or may not log in."""

    def setUp(self):
        super().setUp()
        self.ceph, self.env = helpers_ceph.acquire()
        if self.ceph is None:
            raise self.env
        self.addCleanup(self.ceph.release)
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.confdir = os.path.join(self.workdir, 'ceph')
        os.mkdir(self.confdir)
        self.db = base.Database('sqlite', self.workdir)

    def start_failing(self, conf, user='glance'):
        options = {'enabled_backends': 'fast:file,ceph:rbd',
                   'glance_store.default_backend': 'fast'}
        options.update(rbd_options(self.env, 'ceph'))
        options['ceph.rbd_store_ceph_conf'] = conf
        options['ceph.rbd_store_user'] = user
        options['ceph.rados_connect_timeout'] = 3
        daemon = base.Daemon(self.workdir, self.db.url, options=options)
        daemon.manage('db', 'sync')
        daemon.start(wait=False)
        try:
            code = daemon.proc.wait(120)
        finally:
            output = daemon.proc.stdout.read().decode(errors='replace')
        return code, output

    def conf_copy(self, replace):
        with open(self.env['CEPH_CONF']) as f:
            text = f.read()
        for old, new in replace:
            self.assertIn(old, text)
            text = text.replace(old, new)
        path = os.path.join(self.confdir, 'ceph.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_cluster_unreachable(self):
        port = base.free_port()
        with open(self.env['CEPH_CONF']) as f:
            mon_host = [line for line in f if line.startswith('mon_host')][0]
        conf = self.conf_copy([(mon_host, 'mon_host = 127.0.0.1:%d\n'
                                % port)])
        code, output = self.start_failing(conf)
        self.assertEqual(3, code, output)
        self.assertIn('Store ceph', output)
        self.assertIn('cannot connect to the Ceph cluster', output)

    def test_wrong_key(self):
        keyring = os.path.join(self.confdir, 'bad.keyring')
        # A well-formed key that is not client.glance's.
        secret = 'AQBWkKhmAAAAABAAwrongwrongwrongwrongwrong0=='
        with open(keyring, 'w') as f:
            f.write('[client.glance]\n\tkey = %s\n' % secret)
        conf = self.conf_copy([(os.path.join(self.env['CEPH_HOME'],
                                             'ceph.client.glance.keyring'),
                                keyring)])
        code, output = self.start_failing(conf)
        self.assertEqual(3, code, output)
        self.assertIn('Store ceph', output)
        self.assertNotIn(secret, output)
        with open(os.path.join(self.workdir, 'glance-api.log')) as f:
            self.assertNotIn(secret, f.read())


class OwnClusterTest(testtools.TestCase):
    """A glance-api on a Ceph of the test's own (one memstore OSD of
    256 MiB, no gateway), which the test may stop or fill."""

    def setUp(self):
        super().setUp()
        unmet = prerequisites.skip_requested('CEPH')
        if unmet is None:
            unmet = prerequisites.check('CEPH', helpers_ceph.bindings_problem()
                                        is None,
                                        helpers_ceph.bindings_problem())
        if unmet is not None:
            raise unmet
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.tool_env = dict(
            os.environ, GLANCE_CEPH_HOME=os.path.join(self.workdir, 'ceph'),
            GLANCE_CEPH_MON_PORT=str(base.free_ports(2)),
            GLANCE_CEPH_WITH_S3='0', GLANCE_CEPH_OBJECTSTORE='memstore',
            GLANCE_CEPH_SIZE_MB='256')
        self.addCleanup(self.tool, 'wipe')
        out = self.tool('start')
        prerequisites.require('CEPH', out.returncode == 0, out.stderr[-2000:])
        self.env = dict(line.split('=', 1) for line in out.stdout.splitlines()
                        if '=' in line)
        self.db = base.Database('sqlite', self.workdir)
        options = {'image_size_cap': 64 * MiB, 'glance_store.stores': 'rbd',
                   'glance_store.default_store': 'rbd'}
        options.update(rbd_options(self.env))
        options['glance_store.rados_connect_timeout'] = 5
        self.daemon = base.Daemon(self.workdir, self.db.url, options=options)
        self.daemon.manage('db', 'sync')
        self.daemon.start()
        self.addCleanup(self.daemon.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def tool(self, *args):
        return subprocess.run([helpers_ceph.TOOL] + list(args),
                              capture_output=True, text=True, timeout=300,
                              env=self.tool_env)

    def rbd_names(self):
        import rados
        import rbd
        cluster = rados.Rados(conffile=self.env['CEPH_CONF'],
                              rados_id='admin')
        cluster.connect(timeout=30)
        try:
            with cluster.open_ioctx(self.env['CEPH_POOL']) as ioctx:
                return set(rbd.RBD().list(ioctx))
        finally:
            cluster.shutdown()

    def create(self, headers):
        resp = self.http.post(self.daemon.url + '/v2/images',
                              headers=headers, json={
                                  'name': 'x', 'disk_format': 'raw',
                                  'container_format': 'bare'})
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()['id']

    def status(self, image_id, headers):
        return self.http.get(self.daemon.url + '/v2/images/%s' % image_id,
                             headers=headers).json()['status']


class TestRbdClusterGoesAway(OwnClusterTest):
    """The OSD stops in the middle of an upload: the upload fails within
    rados_connect_timeout, the image goes back to queued, and the partial
    RBD image is removed once the OSD is back."""

    def test_osd_stops_mid_upload(self):
        headers = {'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                   'X-Roles': 'member,reader'}
        url = self.daemon.url
        image_id = self.create(headers)
        mark = hd.log_mark(self.daemon)

        def chunks():
            for i in range(24):
                if i == 4:
                    stopped = self.tool('stop', 'osd')
                    self.assertEqual(0, stopped.returncode, stopped.stderr)
                yield b'o' * MiB
        try:
            resp = self.http.put(
                url + '/v2/images/%s/file' % image_id, data=chunks(),
                headers=dict(headers, **{
                    'Content-Type': 'application/octet-stream'}),
                timeout=120)
            self.assertEqual(503, resp.status_code, resp.text)
        except (requests.ConnectionError, requests.Timeout):
            pass   # answered (and closed) before the body was sent
        hd.wait_for(lambda: self.status(image_id, headers) == 'queued',
                    what='image queued')
        hd.wait_log(self.daemon, 'trying again in the background', mark)
        started = self.tool('start')
        self.assertEqual(0, started.returncode, started.stderr)
        hd.wait_log(self.daemon, 'Did remove the partial RBD image %s'
                    % image_id, mark, timeout=90)
        self.assertNotIn(image_id, self.rbd_names())


class TestRbdClusterFull(OwnClusterTest):
    """The cluster is full: an upload fails at once with 413 and leaves no
    RBD image behind, instead of waiting for space that may never come.
    An image deleted meanwhile keeps its RBD image (librbd needs room to
    remove one) until there is space again, then it is removed."""

    def ceph(self, *args):
        out = subprocess.run(['ceph', '-c', self.env['CEPH_CONF']]
                             + list(args), capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(0, out.returncode, out.stderr)
        return out.stdout

    def full_ratios(self, ratio):
        """Full ratios under what the OSD holds make the monitor mark it
        full at its next report; the defaults, not full again."""
        ratios = {'nearfull': 0.85, 'backfillfull': 0.90, 'full': 0.95}
        names = list(ratios) if ratio else list(reversed(list(ratios)))
        for which in names:
            self.ceph('osd', 'set-%s-ratio' % which,
                      str(ratio or ratios[which]))

        def marked():
            return ('full osd' in self.ceph('health')) == bool(ratio)
        hd.wait_for(marked, timeout=60, what='the OSD marked full or not')

    def upload(self, image_id, headers, data):
        return self.http.put(
            self.daemon.url + '/v2/images/%s/file' % image_id, data=data,
            headers=dict(headers, **{
                'Content-Type': 'application/octet-stream'}), timeout=60)

    def test_upload_refused_delete_done_once_there_is_room(self):
        headers = {'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                   'X-Roles': 'member,reader'}
        url = self.daemon.url
        kept = self.create(headers)
        resp = self.upload(kept, headers, b'k' * (4 * MiB))
        self.assertEqual(204, resp.status_code, resp.text)
        self.full_ratios(0.001)

        # The monitor says full before the OSD has taken the map that says
        # so; until then writes still land. Images accepted meanwhile are
        # kept aside and deleted once there is room again.
        early = set()
        for attempt in range(30):
            refused = self.create(headers)
            resp = self.upload(refused, headers, b'r' * MiB)
            if resp.status_code != 204:
                break
            early.add(refused)
            time.sleep(1)
        self.assertEqual(413, resp.status_code, resp.text)
        self.assertIn('no space left', resp.text)
        self.assertEqual('queued', self.status(refused, headers))
        self.assertEqual({kept} | early, self.rbd_names())

        mark = hd.log_mark(self.daemon)
        resp = self.http.delete(url + '/v2/images/%s' % kept,
                                headers=headers, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        hd.wait_log(self.daemon, 'cannot remove RBD image %s while the '
                    'cluster or pool is full' % kept, mark)
        self.assertEqual({kept} | early, self.rbd_names())

        self.full_ratios(None)
        hd.wait_log(self.daemon, 'Did remove RBD image %s' % kept, mark,
                    timeout=60)
        self.assertEqual(early, self.rbd_names())
        for image_id in early:
            resp = self.http.delete(url + '/v2/images/%s' % image_id,
                                    headers=headers, timeout=60)
            self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(set(), self.rbd_names())
