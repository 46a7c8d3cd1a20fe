"""Uploads and stages whose process is killed (kill -9 of the whole
service, of one worker, or of one of two API nodes on one database): the
image goes back to queued and its partial data is removed, by the
restarted service or worker at once, by a surviving node once the lease
of the dead one has lapsed; a slow upload of a live node is never reset.
"""

import datetime
import os
import shutil
import signal
import tempfile
import threading
import time

import fixtures
import psutil
import requests
import testtools
from testtools import content

from glance.common import timeutils
from glance.db import api as db
from glance.db import leases as db_leases
from glance.db import migration
from glance.db import session
from glance.domain.images import leases
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.unit import base as unit_base

PIECE = 64 * 1024
OCTET = 'application/octet-stream'


def new_image(url):
    resp = requests.post(url + '/v2/images', json={
        'disk_format': 'raw', 'container_format': 'bare'}, timeout=60)
    assert resp.status_code == 201, resp.text
    return resp.json()['id']


def show(url, image_id):
    resp = requests.get(url + '/v2/images/%s' % image_id, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()


def open_upload(port, image_id, what='file', total=64 * PIECE):
    """A PUT of ``total`` bytes that sends only its first piece."""
    sock = hd.connect(port)
    sock.sendall(('PUT /v2/images/%s/%s HTTP/1.1\r\nHost: x\r\n'
                  'Content-Type: %s\r\nContent-Length: %d\r\n\r\n'
                  % (image_id, what, OCTET, total)).encode())
    sock.sendall(b'x' * PIECE)
    return sock


def parts(directory, image_id=None):
    """Partial files in ``directory`` (of ``image_id`` when given)."""
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory)
                  if n.startswith('.') and n.endswith('.part')
                  and (image_id is None or n.startswith('.%s.' % image_id)))


def files_of(directory, image_id):
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if image_id in n)


def gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def kill_service(daemon):
    """kill -9 of the parent and of every worker at once, as of the
    process group, or the host going down."""
    pids = [daemon.proc.pid] + sorted(hd.worker_pids(daemon.proc.pid))
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    daemon.proc.wait()
    if daemon.proc.stdout:
        daemon.proc.stdout.close()
    hd.wait_for(lambda: all(gone(pid) for pid in pids),
                what='the killed processes to be gone')


class CrashTest(hd.DaemonTestCase):

    def images_dir(self):
        return os.path.join(self.workdir, 'images')

    def staging_dir(self):
        return os.path.join(self.workdir, 'staging')

    def wait_status(self, daemon, image_id, status):
        return hd.wait_for(
            lambda: show(daemon.url, image_id)['status'] == status,
            what='image %s to be %s' % (image_id, status))

    def wait_writing(self, daemon, image_id, status, directory):
        """The upload reached the store: the image shows it and its
        partial file exists."""
        self.wait_status(daemon, image_id, status)
        hd.wait_for(lambda: parts(directory, image_id),
                    what='the partial file of %s' % image_id)


class TestServiceKilled(CrashTest):
    """The leases never lapse during these tests (600 s): what recovers
    the images is the restarted service finding their holders dead."""

    options = {'upload_lease_timeout': 600}

    def test_upload_and_stage_recovered_at_restart(self):
        daemon = self.start_daemon(workers=2, options=self.options)
        upload = new_image(daemon.url)
        staged = new_image(daemon.url)
        socks = [open_upload(daemon.port, upload),
                 open_upload(daemon.port, staged, 'stage')]
        self.addCleanup(lambda: [s.close() for s in socks])
        self.wait_writing(daemon, upload, 'saving', self.images_dir())
        self.wait_writing(daemon, staged, 'uploading', self.staging_dir())

        kill_service(daemon)
        # Left behind by the killed service.
        self.assertEqual('saving', self._status_in_db(upload))
        self.assertNotEqual([], parts(self.images_dir(), upload))
        daemon.start()

        self.wait_status(daemon, upload, 'queued')
        self.wait_status(daemon, staged, 'queued')
        self.assertIsNone(show(daemon.url, upload)['size'])
        hd.wait_for(lambda: not parts(self.images_dir()) and not parts(
            self.staging_dir()), what='the partial files to go')
        self.assertEqual([], files_of(self.staging_dir(), staged))
        # Both can be written again, to the end.
        resp = requests.put(daemon.url + '/v2/images/%s/file' % upload,
                            data=b'a' * 1000,
                            headers={'Content-Type': OCTET}, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(('active', 1000), tuple(
            show(daemon.url, upload)[k] for k in ('status', 'size')))
        resp = requests.put(daemon.url + '/v2/images/%s/stage' % staged,
                            data=b'b' * 1000,
                            headers={'Content-Type': OCTET}, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual('uploading', show(daemon.url, staged)['status'])

    def _status_in_db(self, image_id):
        import sqlalchemy as sa
        engine = sa.create_engine(self.db.url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(
                    'SELECT status FROM images WHERE id = :id'),
                    {'id': image_id}).scalar()
        finally:
            engine.dispose()

    def test_one_worker_killed(self):
        daemon = self.start_daemon(workers=2, options=self.options)
        workers = self.wait_workers(daemon, 2)
        image_id = new_image(daemon.url)
        sock = open_upload(daemon.port, image_id)
        self.addCleanup(sock.close)
        self.wait_writing(daemon, image_id, 'saving', self.images_dir())
        victim = hd.wait_for(lambda: hd.server_of(sock, workers),
                             what='the worker of the upload')
        os.kill(victim, signal.SIGKILL)

        # The worker that replaces it recovers the upload as it starts.
        self.wait_status(daemon, image_id, 'queued')
        hd.wait_for(lambda: not parts(self.images_dir()),
                    what='the partial file to go')
        self.assertIsNone(daemon.proc.poll())
        resp = requests.put(daemon.url + '/v2/images/%s/file' % image_id,
                            data=b'c' * 5000,
                            headers={'Content-Type': OCTET}, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(5000, show(daemon.url, image_id)['size'])


class TestImportKilled(CrashTest):
    """An import whose worker died after naming its data in a store but
    before recording the location: the data goes with the revert."""

    options = {'task.stale_import_timeout': 2, 'upload_lease_timeout': 600}

    def test_unrecorded_store_data_removed(self):
        import datetime
        import uuid
        import sqlalchemy as sa
        daemon = self.start_daemon(options=self.options)
        image_id = new_image(daemon.url)
        kept = new_image(daemon.url)
        for target, what in ((image_id, 'stage'), (kept, 'file')):
            resp = requests.put(daemon.url + '/v2/images/%s/%s'
                                % (target, what), data=b'x' * 1000,
                                headers={'Content-Type': OCTET}, timeout=60)
            self.assertEqual(204, resp.status_code, resp.text)
        kill_service(daemon)
        task_id = str(uuid.uuid4())
        long_ago = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO tasks (id, type, status, owner, image_id, "
                "created_at, updated_at, deleted) VALUES (:t, "
                "'api_image_import', 'processing', 'admin', :i, :w, :w, "
                ":f)"), {'t': task_id, 'i': image_id, 'w': long_ago,
                         'f': False})
            conn.execute(sa.text(
                "INSERT INTO task_info (task_id, input) VALUES (:t, :in)"),
                {'t': task_id, 'in': '{"import_req": {"method": {"name": '
                                     '"glance-direct"}}}'})
            conn.execute(sa.text(
                "INSERT INTO image_properties (image_id, name, value, "
                "created_at, deleted) VALUES (:i, 'os_glance_import_task', "
                ":t, :w, :f)"), {'i': image_id, 't': task_id,
                                 'w': long_ago, 'f': False})
            conn.execute(sa.text(
                "UPDATE images SET status = 'importing' WHERE id = :i"),
                {'i': image_id})
        # What the killed import left in the store: its data under the
        # final name (not recorded) and a partial file.
        for name in (image_id, '.%s.abcd.part' % image_id):
            with open(os.path.join(self.images_dir(), name), 'wb') as f:
                f.write(b'left over')
        daemon.start()

        self.wait_status(daemon, image_id, 'queued')
        hd.wait_for(lambda: not files_of(self.images_dir(), image_id),
                    what='the data of the dead import to go')
        self.assertEqual([kept], files_of(self.images_dir(), kept))
        self.assertEqual(1000, len(requests.get(
            daemon.url + '/v2/images/%s/file' % kept, timeout=60).content))


class TwoNodes:
    """Two daemons (nodes a and b) on one database and one image
    directory; leases lapse after 4 s without renewal."""

    db_kind = None
    lease = 4

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        self.workdir = tempfile.mkdtemp(prefix='glance-crash-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database(self.db_kind, self.workdir)
        self.addCleanup(self.db.drop)
        self.images_dir = os.path.join(self.workdir, 'images')
        self.nodes = []
        for n, name in enumerate(('node-a', 'node-b')):
            home = os.path.join(self.workdir, name)
            os.makedirs(home)
            node = base.Daemon(home, self.db.url, workers=1, options={
                'glance_store.filesystem_store_datadir': self.images_dir,
                'node_name': name, 'upload_lease_timeout': self.lease})
            if n == 0:
                node.manage('db', 'sync')
            node.start()
            self.addCleanup(hd.DaemonTestCase._cleanup_daemon, node)
            self.nodes.append(node)
        self.addOnException(self._attach_logs)

    def _attach_logs(self, exc_info):
        for node in self.nodes:
            if os.path.exists(node.log):
                with open(node.log, errors='replace') as f:
                    self.addDetail(os.path.basename(node.workdir) + '.log',
                                   content.text_content(f.read()[-20000:]))

    def trickle(self, node, image_id, pieces, result):
        """Upload ``pieces`` pieces of 4 KiB, one every quarter of the
        lease time: a slow upload of a live node."""
        sock = hd.connect(node.port, timeout=120)
        try:
            sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                          'Content-Type: %s\r\n'
                          'Transfer-Encoding: chunked\r\n\r\n'
                          % (image_id, OCTET)).encode())
            for _ in range(pieces):
                sock.sendall(hd.chunk(b't' * 4096))
                time.sleep(self.lease / 4)
            sock.sendall(b'0\r\n\r\n')
            result.append(hd.read_response(sock))
        finally:
            sock.close()

    def test_dead_node_recovered_after_its_lease_live_one_never(self):
        a, b = self.nodes
        # A slow upload on node a lasting three lease times, while node b
        # looks for dead holders: it is not taken for dead.
        slow = new_image(a.url)
        result = []
        thread = threading.Thread(target=self.trickle,
                                  args=(a, slow, 12, result))
        thread.start()
        thread.join(120)
        self.assertEqual(204, result[0][0], result)
        self.assertEqual(('active', 12 * 4096), tuple(
            show(b.url, slow)[k] for k in ('status', 'size')))

        # Node a dies in the middle of two uploads (and b is busy with a
        # slow one of its own meanwhile).
        upload = new_image(a.url)
        doomed = new_image(a.url)
        socks = [open_upload(a.port, upload), open_upload(a.port, doomed)]
        self.addCleanup(lambda: [s.close() for s in socks])
        for image_id in (upload, doomed):
            hd.wait_for(lambda: show(b.url, image_id)['status'] == 'saving'
                        and parts(self.images_dir, image_id),
                        what='the upload of %s on node a' % image_id)
        own = new_image(b.url)
        result = []
        thread = threading.Thread(target=self.trickle,
                                  args=(b, own, 12, result))
        thread.start()
        kill_service(a)
        # One of them is deleted while its upload's holder is dead.
        resp = requests.delete(b.url + '/v2/images/%s' % doomed, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)

        hd.wait_for(lambda: show(b.url, upload)['status'] == 'queued',
                    what='node b to put the upload of node a back')
        hd.wait_for(lambda: not files_of(self.images_dir, upload)
                    and not files_of(self.images_dir, doomed),
                    what='the data of the dead uploads to go')
        thread.join(120)
        self.assertEqual(204, result[0][0], result)
        self.assertEqual(('active', 12 * 4096), tuple(
            show(b.url, own)[k] for k in ('status', 'size')))
        self.assertEqual([own], files_of(self.images_dir, own))
        resp = requests.put(b.url + '/v2/images/%s/file' % upload,
                            data=b'd' * 100,
                            headers={'Content-Type': OCTET}, timeout=60)
        self.assertEqual(204, resp.status_code, resp.text)


class TestTwoNodesMySQL(TwoNodes, testtools.TestCase):
    db_kind = 'mysql'


class TestTwoNodesPostgreSQL(TwoNodes, testtools.TestCase):
    db_kind = 'postgresql'


class LeaseClocks:
    """Leases on MariaDB/MySQL and PostgreSQL are written and judged by
    the database's clock: nodes whose own clocks are an hour apart (in
    either direction) never take a live lease for lapsed."""

    db_kind = None

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        workdir = self.useFixture(fixtures.TempDir()).path
        self.db = base.Database(self.db_kind, workdir)
        self.addCleanup(self.db.drop)
        self.config(connection=self.db.url, group='database')
        self.config(upload_lease_timeout=30)
        migration.sync()
        self.addCleanup(session.dispose)
        leases._LAPSED.clear()
        self.addCleanup(leases._LAPSED.clear)

    def skew(self, hours):
        """This host's clock, as the service reads it, ``hours`` off."""
        real = timeutils.utcnow
        return fixtures.MonkeyPatch(
            'glance.common.timeutils.utcnow',
            lambda: real() + datetime.timedelta(hours=hours))

    def test_skewed_clocks_never_take_a_live_lease(self):
        values = unit_base.image_values(status='saving', owner='clocks')
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
            server_now = db_leases.db_now(conn)
        lease = leases.Lease(values['id'], leases.UPLOAD)
        # Taken on a node whose clock is an hour late.
        with self.skew(-1), session.writer() as conn:
            lease.take(conn, timeutils.now())
        with session.reader() as conn:
            expires = db_leases.get(conn, values['id'])['expires_at']
        self.assertLess(abs((expires - server_now).total_seconds() - 30),
                        600)
        # Judged on a node whose clock is an hour early, twice (a lapse
        # is confirmed by a second sighting).
        self.useFixture(self.skew(1))
        for _ in range(2):
            self.assertEqual([], leases.recover(sweep_files=False))
        with session.reader() as conn:
            self.assertEqual(lease.token,
                             db_leases.get(conn, values['id'])['token'])


class TestLeaseClocksMySQL(LeaseClocks, unit_base.TestCase):
    db_kind = 'mysql'


class TestLeaseClocksPostgreSQL(LeaseClocks, unit_base.TestCase):
    db_kind = 'postgresql'
