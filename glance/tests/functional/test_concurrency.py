"""Many concurrent writers against two workers sharing one SQLite file:
every request succeeds and SQLite lock errors never surface."""

import json
import threading

import requests

from glance.tests.functional import helpers_daemon as hd

THREADS = 24
IMAGES_PER_THREAD = 3
PATCH_MEDIA = 'application/openstack-images-v2.1-json-patch'


class TestSQLiteConcurrentWriters(hd.DaemonTestCase):

    def test_concurrent_creates_and_patches(self):
        daemon = self.start_daemon(workers=2)
        self.wait_workers(daemon, 2)
        failures = []
        created = {}
        counts = []
        lock = threading.Lock()
        barrier = threading.Barrier(THREADS)

        def record(resp, what):
            counts.append(1)
            if not 200 <= resp.status_code < 300:
                with lock:
                    failures.append('%s -> %s %s' % (
                        what, resp.status_code, resp.text[:300]))
                return False
            return True

        def writer(n):
            session = requests.Session()
            try:
                barrier.wait(hd.PATIENCE)
                for i in range(IMAGES_PER_THREAD):
                    name = 't%d-i%d' % (n, i)
                    resp = session.post(
                        daemon.url + '/v2/images', timeout=60,
                        json={'name': name, 'disk_format': 'qcow2',
                              'container_format': 'bare',
                              'tags': ['t%d' % n]})
                    if not record(resp, 'create ' + name):
                        continue
                    image_id = resp.json()['id']
                    path = daemon.url + '/v2/images/' + image_id
                    for step in range(2):
                        changes = [
                            {'op': 'add', 'path': '/step%d' % step,
                             'value': str(step)},
                            {'op': 'replace', 'path': '/name',
                             'value': '%s-s%d' % (name, step)}]
                        record(session.patch(
                            path, data=json.dumps(changes), timeout=60,
                            headers={'Content-Type': PATCH_MEDIA}),
                            'patch %s' % name)
                    record(session.put(path + '/tags/extra', timeout=60),
                           'tag %s' % name)
                    record(session.get(path, timeout=60), 'show ' + name)
                    with lock:
                        created[image_id] = '%s-s1' % name
            except Exception as e:   # a dropped connection is a failure too
                with lock:
                    failures.append('thread %d: %r' % (n, e))
            finally:
                session.close()

        threads = [threading.Thread(target=writer, args=(n,))
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        self.assertEqual([], failures)
        # create + 2 patches + tag + show per image
        self.assertEqual(THREADS * IMAGES_PER_THREAD * 5, len(counts))
        self.assertEqual(THREADS * IMAGES_PER_THREAD, len(created))

        # Every write landed.
        listing = requests.get(daemon.url + '/v2/images?limit=1000',
                               timeout=60).json()['images']
        by_id = {i['id']: i for i in listing}
        self.assertEqual(set(created), set(by_id))
        for image_id, name in created.items():
            image = by_id[image_id]
            self.assertEqual(name, image['name'])
            self.assertEqual('0', image.get('step0'))
            self.assertEqual('1', image.get('step1'))
            self.assertIn('extra', image['tags'])

        log = hd.log_text(daemon)
        self.assertNotIn('database is locked', log)
        self.assertNotIn('OperationalError', log)

    def test_concurrent_deletes_and_lists(self):
        daemon = self.start_daemon(workers=2)
        self.wait_workers(daemon, 2)
        ids = []
        for i in range(THREADS * 2):
            resp = requests.post(daemon.url + '/v2/images', timeout=60,
                                 json={'name': 'd%d' % i})
            self.assertEqual(201, resp.status_code, resp.text)
            ids.append(resp.json()['id'])
        failures = []
        barrier = threading.Barrier(THREADS)

        def worker(n):
            session = requests.Session()
            try:
                barrier.wait(hd.PATIENCE)
                for image_id in ids[n * 2:n * 2 + 2]:
                    for resp in (
                            session.get(daemon.url + '/v2/images',
                                        timeout=60),
                            session.delete(daemon.url + '/v2/images/' +
                                           image_id, timeout=60),
                            session.post(daemon.url + '/v2/images',
                                         json={'name': 'new-%d' % n},
                                         timeout=60)):
                        if not 200 <= resp.status_code < 300:
                            failures.append('%s %s -> %s %s' % (
                                resp.request.method, resp.request.url,
                                resp.status_code, resp.text[:300]))
            except Exception as e:
                failures.append('thread %d: %r' % (n, e))
            finally:
                session.close()

        threads = [threading.Thread(target=worker, args=(n,))
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], failures)
        listing = requests.get(daemon.url + '/v2/images?limit=1000',
                               timeout=60).json()['images']
        self.assertEqual(THREADS * 2, len(listing))
        self.assertFalse(set(ids) & {i['id'] for i in listing})
        self.assertNotIn('database is locked', hd.log_text(daemon))
