"""Concurrent writers through two API nodes (two daemons of two workers
each) on one MariaDB/MySQL or PostgreSQL database and one shared store:
no update is lost, and a race for the one thing only one request may do
(upload, stage, the same membership) has one winner and 409 for the rest,
as upstream answers.
"""

import hashlib
import os
import shutil
import tempfile
import threading

import requests
import testtools

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd

THREADS = 12
PATCH_MEDIA = 'application/openstack-images-v2.1-json-patch'
# A writer that lost a race (409: changed by another request) tries again.
RETRIES = 20


class TwoNodes:
    """Two daemons on one scratch database and one image directory."""

    db_kind = None

    def setUp(self):
        super().setUp()
        base.require_database(self.db_kind)
        self.workdir = tempfile.mkdtemp(prefix='glance-nodes-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database(self.db_kind, self.workdir)
        self.addCleanup(self.db.drop)
        self.images_dir = os.path.join(self.workdir, 'images')
        self.nodes = []
        for n in range(2):
            home = os.path.join(self.workdir, 'node%d' % n)
            os.makedirs(home)
            node = base.Daemon(home, self.db.url, workers=2, options={
                'glance_store.filesystem_store_datadir': self.images_dir})
            if n == 0:
                node.manage('db', 'sync')
            node.start()
            self.addCleanup(node.stop)
            self.nodes.append(node)

    def url(self, n, path):
        return self.nodes[n % 2].url + path

    def new_image(self, **body):
        body.setdefault('disk_format', 'raw')
        body.setdefault('container_format', 'bare')
        resp = requests.post(self.url(0, '/v2/images'), json=body,
                             timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def show(self, image_id, n=1):
        resp = requests.get(self.url(n, '/v2/images/%s' % image_id),
                            timeout=60)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def race(self, work):
        """Run ``work(n, session)`` in THREADS threads released together;
        the answers, and the exceptions raised (a failure too)."""
        barrier = threading.Barrier(THREADS)
        answers, errors = [None] * THREADS, []

        def run(n):
            session = requests.Session()
            try:
                barrier.wait(hd.PATIENCE)
                answers[n] = work(n, session)
            except Exception as e:
                errors.append('thread %d: %r' % (n, e))
            finally:
                session.close()
        threads = [threading.Thread(target=run, args=(n,))
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], errors)
        return answers

    def assert_no_database_errors(self):
        for node in self.nodes:
            log = hd.log_text(node)
            self.assertNotIn('OperationalError', log)
            self.assertNotIn('Deadlock', log)
            self.assertNotIn('Traceback', log)

    # -- no lost updates -------------------------------------------------------

    def test_patches_of_one_image_lose_nothing(self):
        image = self.new_image()
        path = '/v2/images/%s' % image['id']

        def add_property(n, session):
            for _ in range(RETRIES):
                resp = session.patch(
                    self.url(n, path), timeout=60,
                    headers={'Content-Type': PATCH_MEDIA},
                    json=[{'op': 'add', 'path': '/p%d' % n,
                           'value': str(n)}])
                if resp.status_code != 409:
                    return resp.status_code
            return 409
        self.assertEqual([200] * THREADS, self.race(add_property))
        shown = self.show(image['id'])
        self.assertEqual({'p%d' % n: str(n) for n in range(THREADS)},
                         {k: v for k, v in shown.items()
                          if k.startswith('p') and k[1:].isdigit()})
        self.assert_no_database_errors()

    def test_tags_and_members_of_one_image_lose_nothing(self):
        image = self.new_image(visibility='shared')
        path = '/v2/images/%s' % image['id']

        def add(n, session):
            tag = session.put(self.url(n, path + '/tags/t%d' % n),
                              timeout=60)
            member = session.post(self.url(n + 1, path + '/members'),
                                  json={'member': 'project-%d' % n},
                                  timeout=60)
            return tag.status_code, member.status_code
        self.assertEqual([(204, 200)] * THREADS, self.race(add))
        self.assertEqual({'t%d' % n for n in range(THREADS)},
                         set(self.show(image['id'])['tags']))
        members = requests.get(self.url(0, path + '/members'),
                               timeout=60).json()['members']
        self.assertEqual({'project-%d' % n for n in range(THREADS)},
                         {m['member_id'] for m in members})
        self.assert_no_database_errors()

    # -- one winner ------------------------------------------------------------

    def test_the_same_member_added_at_once_is_added_once(self):
        image = self.new_image(visibility='shared')
        path = '/v2/images/%s/members' % image['id']

        def add(n, session):
            return session.post(self.url(n, path), json={'member': 'twin'},
                                timeout=60).status_code
        answers = self.race(add)
        self.assertEqual([200] + [409] * (THREADS - 1), sorted(answers))
        members = requests.get(self.url(0, path), timeout=60).json()
        self.assertEqual(['twin'],
                         [m['member_id'] for m in members['members']])
        self.assert_no_database_errors()

    def test_uploads_of_one_image_at_once_have_one_winner(self):
        image = self.new_image()
        path = '/v2/images/%s/file' % image['id']
        payloads = [(b'node-data-%02d;' % n) * 40000 for n in range(THREADS)]

        def upload(n, session):
            return session.put(
                self.url(n, path), data=payloads[n], timeout=120,
                headers={'Content-Type': 'application/octet-stream'}
            ).status_code
        answers = self.race(upload)
        self.assertEqual([204] + [409] * (THREADS - 1), sorted(answers))
        winner = payloads[answers.index(204)]
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(len(winner), shown['size'])
        self.assertEqual(hashlib.md5(winner).hexdigest(), shown['checksum'])
        for n in range(2):
            self.assertEqual(winner, requests.get(
                self.url(n, path), timeout=60).content)
        # One file for the image, nothing partial left by the losers.
        self.assertEqual([image['id']], sorted(os.listdir(self.images_dir)))
        self.assert_no_database_errors()

    def test_stages_of_one_image_at_once_have_one_winner(self):
        image = self.new_image()
        path = '/v2/images/%s/stage' % image['id']

        def stage(n, session):
            return session.put(
                self.url(n, path), data=b'staged %d' % n, timeout=120,
                headers={'Content-Type': 'application/octet-stream'}
            ).status_code
        answers = self.race(stage)
        self.assertEqual([204] + [409] * (THREADS - 1), sorted(answers))
        self.assertEqual('uploading', self.show(image['id'])['status'])
        self.assert_no_database_errors()


class TestTwoNodesMySQL(TwoNodes, testtools.TestCase):
    db_kind = 'mysql'


class TestTwoNodesPostgreSQL(TwoNodes, testtools.TestCase):
    db_kind = 'postgresql'
