"""The image cache through a real glance-api (caching flavors): hits and
misses with bytes and hashes compared, Range, verification, eviction on
delete and deactivate, policy, corrupted and truncated entries, a cache
directory that cannot be written, and the herd of concurrent downloads
that reads the store once (counted in the store's debug log).
"""

import concurrent.futures
import hashlib
import os
import re
import tempfile
import time

import requests

from glance.tests.functional import base

DATA = os.urandom(3 * 1024 * 1024 + 17)


class CacheTestBase(base.FunctionalTest):

    flavor = 'caching'
    driver = 'centralized_db'

    def make_daemon(self, **kwargs):
        self.cache_dir = os.path.join(self.workdir, 'cache')
        self.options = dict(self.options, **{
            'image_cache_dir': self.cache_dir,
            'image_cache_driver': self.driver,
            'worker_self_reference_url': 'http://node-a:9292'})
        return super().make_daemon(**kwargs)

    def owner(self, **extra):
        return self.headers('proj-cache', **extra)

    def admin(self, **extra):
        return self.headers('proj-admin', roles='admin,member,reader',
                            **extra)

    def upload(self, data=DATA, **body):
        body.setdefault('disk_format', 'raw')
        body.setdefault('container_format', 'bare')
        image = self.create_image(headers=self.owner(), **body)
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=data, headers=self.owner(**{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        return image['id']

    def download(self, image_id, headers=None):
        return self.request('GET', '/v2/images/%s/file' % image_id,
                            headers=headers or self.owner())

    def entry(self, image_id):
        return os.path.join(self.cache_dir, image_id)

    def wait_cached(self, image_id, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            resp = self.request('GET', '/v2/cache', headers=self.admin())
            self.assertEqual(200, resp.status_code, resp.text)
            if image_id in [e['image_id']
                            for e in resp.json()['cached_images']]:
                return resp.json()
            time.sleep(0.1)
        self.fail('image %s not cached: %s' % (
            image_id, self.daemon.output()))

    def hits(self, image_id, expected, timeout=10):
        """The hit counts of the image's entries, once ``expected`` (or
        after ``timeout``)."""
        deadline = time.time() + timeout
        while True:
            hits = [e['hits'] for e in self.request(
                'GET', '/v2/cache',
                headers=self.admin()).json()['cached_images']
                if e['image_id'] == image_id]
            if hits == [expected] or time.time() > deadline:
                return hits
            time.sleep(0.1)

    def store_file(self, image_id):
        return os.path.join(self.workdir, 'images', image_id)


class TestReadThrough(CacheTestBase):

    def test_miss_then_hit_same_bytes(self):
        image_id = self.upload()
        first = self.download(image_id)
        self.assertEqual(200, first.status_code, first.text)
        self.assertEqual('miss', first.headers['X-Image-Cache'])
        self.assertEqual(hashlib.md5(DATA).hexdigest(),
                         hashlib.md5(first.content).hexdigest())
        state = self.wait_cached(image_id)
        record = [e for e in state['cached_images']
                  if e['image_id'] == image_id][0]
        self.assertEqual(len(DATA), record['size'])
        self.assertEqual(hashlib.md5(DATA).hexdigest(), record['checksum'])
        with open(self.entry(image_id), 'rb') as f:
            self.assertEqual(DATA, f.read())
        second = self.download(image_id)
        self.assertEqual('hit', second.headers['X-Image-Cache'])
        self.assertEqual(DATA, second.content)
        self.assertEqual(first.headers['Content-MD5'],
                         second.headers['Content-MD5'])
        self.assertEqual(first.headers['ETag'], second.headers['ETag'])
        # Served from the cache even with the store's file gone.
        os.unlink(self.store_file(image_id))
        third = self.download(image_id)
        self.assertEqual(DATA, third.content)
        # Hits are counted once the bytes are sent.
        self.assertEqual([2], self.hits(image_id, 2))

    def test_range_from_a_complete_entry_only(self):
        image_id = self.upload()
        resp = self.download(image_id, self.owner(Range='bytes=10-19'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(DATA[10:20], resp.content)
        self.assertNotIn('X-Image-Cache', resp.headers)
        self.assertFalse(os.path.exists(self.entry(image_id)))
        self.download(image_id)
        self.wait_cached(image_id)
        resp = self.download(image_id, self.owner(Range='bytes=-5'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        self.assertEqual(DATA[-5:], resp.content)
        self.assertEqual('bytes %d-%d/%d' % (len(DATA) - 5, len(DATA) - 1,
                                             len(DATA)),
                         resp.headers['Content-Range'])
        resp = self.download(image_id, self.owner(Range='bytes=999999999-'))
        self.assertEqual(416, resp.status_code)

    def test_policy_is_the_downloads(self):
        image_id = self.upload()
        self.download(image_id)
        self.wait_cached(image_id)
        # Another project cannot see the private image: 404, as uncached.
        resp = self.download(image_id, self.headers('proj-other'))
        self.assertEqual(404, resp.status_code)
        resp = self.request('PATCH', '/v2/images/%s' % image_id,
                            headers=self.admin(**{
                                'Content-Type': 'application/'
                                'openstack-images-v2.1-json-patch'}),
                            data='[{"op": "replace", "path": "/visibility",'
                                 ' "value": "public"}]')
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.download(image_id, self.headers('proj-other'))
        self.assertEqual(200, resp.status_code)
        self.assertEqual(DATA, resp.content)

    def test_deactivate_and_delete_evict(self):
        image_id = self.upload()
        self.download(image_id)
        self.wait_cached(image_id)
        resp = self.request('POST', '/v2/images/%s/actions/deactivate'
                            % image_id, headers=self.admin())
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertFalse(os.path.exists(self.entry(image_id)))
        resp = self.download(image_id)
        self.assertEqual(403, resp.status_code)
        resp = self.request('POST', '/v2/images/%s/actions/reactivate'
                            % image_id, headers=self.admin())
        self.assertEqual(204, resp.status_code)
        self.assertEqual(DATA, self.download(image_id).content)
        self.wait_cached(image_id)
        resp = self.request('DELETE', '/v2/images/%s' % image_id,
                            headers=self.owner())
        self.assertEqual(204, resp.status_code)
        self.assertFalse(os.path.exists(self.entry(image_id)))
        self.assertEqual(404, self.download(image_id).status_code)

    def test_changed_image_is_not_served(self):
        # Another node deleted the image (no request passed this one's
        # filter): the row is gone, the file is never served and the
        # cleaner removes it.
        image_id = self.upload()
        self.download(image_id)
        self.wait_cached(image_id)
        import sqlalchemy as sa
        engine = sa.create_engine(self.db.url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE images SET checksum = 'ffffffffffffffffffffffffffffff"
                "ff' WHERE id = '%s'" % image_id)
        engine.dispose()
        resp = self.download(image_id)
        self.assertEqual('miss', resp.headers.get('X-Image-Cache'))

    def test_corrupted_and_truncated_entries_are_evicted(self):
        image_id = self.upload()
        self.download(image_id)
        self.wait_cached(image_id)
        self.daemon.stop()
        # Same size, other bytes: found by the hash of the first read of
        # a new process.
        with open(self.entry(image_id), 'r+b') as f:
            f.seek(1000)
            f.write(b'X' * 10)
        self.daemon.start()
        resp = self.download(image_id)
        self.assertEqual(DATA, resp.content)
        self.assertEqual('miss', resp.headers['X-Image-Cache'])
        self.wait_cached(image_id)
        with open(self.entry(image_id), 'r+b') as f:
            f.truncate(100)
        resp = self.download(image_id)
        self.assertEqual(DATA, resp.content)
        self.assertEqual('miss', resp.headers['X-Image-Cache'])
        self.assertIn('evicted', self.daemon.output())


class TestUnusableCacheDir(CacheTestBase):
    """image_cache_dir under a regular file: it can be neither found nor
    made (as a missing directory on a read-only disk), for root too."""

    def make_daemon(self, **kwargs):
        daemon = super().make_daemon(**kwargs)
        blocker = os.path.join(self.workdir, 'not-a-dir')
        with open(blocker, 'w'):
            pass
        self.cache_dir = os.path.join(blocker, 'cache')
        with open(daemon.conf) as f:
            text = f.read()
        with open(daemon.conf, 'w') as f:
            f.write(text.replace(os.path.join(self.workdir, 'cache'),
                                 self.cache_dir))
        return daemon

    def test_downloads_fall_back_to_the_store(self):
        image_id = self.upload()
        for _ in range(3):
            resp = self.download(image_id)
            self.assertEqual(200, resp.status_code)
            self.assertEqual(DATA, resp.content)
        log = self.daemon.output()
        self.assertEqual(1, log.count('not used, downloads are served from '
                                      'the stores'), log[-3000:])
        resp = self.request('GET', '/v2/cache', headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([], resp.json()['cached_images'])


class TestReadThroughXattr(CacheTestBase):

    driver = 'xattr'

    def setUp(self):
        probe = tempfile.NamedTemporaryFile()
        try:
            os.setxattr(probe.name, 'user.glance.probe', b'1')
        except OSError as e:
            self.skipTest('no user extended attributes on %s: %s'
                          % (tempfile.gettempdir(), e))
        finally:
            probe.close()
        super().setUp()

    def test_miss_then_hit(self):
        image_id = self.upload()
        self.assertEqual(DATA, self.download(image_id).content)
        self.wait_cached(image_id)
        resp = self.download(image_id)
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        self.assertEqual(DATA, resp.content)
        self.assertEqual([1], self.hits(image_id, 1))
        self.assertEqual(b'1', os.getxattr(self.entry(image_id),
                                           'user.glance.hits'))


class TestHerd(CacheTestBase):
    """32 clients at once, one store read; a client leaving early stops
    nobody. The store's reads are counted in its debug log, one line
    per read naming the bytes asked for."""

    workers = 2
    options = {'debug': 'true'}
    BIG = os.urandom(32 * 1024 * 1024)

    def store_reads(self, image_id):
        pattern = re.compile(r'Reading (\d+) bytes of %s from byte (\d+)'
                             % re.escape(self.store_file(image_id)))
        with open(self.daemon.log) as f:
            return [tuple(int(g) for g in m.groups())
                    for m in pattern.finditer(f.read())]

    def test_32_concurrent_downloads_read_the_store_once(self):
        image_id = self.upload(self.BIG)
        digest = hashlib.sha256(self.BIG).hexdigest()
        self.assertEqual([], self.store_reads(image_id))

        def get(i):
            with requests.get(self.url + '/v2/images/%s/file' % image_id,
                              headers=self.owner(), stream=True,
                              timeout=120) as resp:
                if i == 0:
                    # One client reads a little and goes away.
                    next(resp.iter_content(65536))
                    return None
                h = hashlib.sha256()
                for block in resp.iter_content(1024 * 1024):
                    h.update(block)
                return resp.status_code, h.hexdigest()

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            results = list(pool.map(get, range(32)))
        self.wait_cached(image_id)
        self.assertEqual([(200, digest)] * 31, results[1:])
        self.assertEqual([(len(self.BIG), 0)], self.store_reads(image_id))
        with open(self.entry(image_id), 'rb') as f:
            self.assertEqual(digest, hashlib.sha256(f.read()).hexdigest())
        # A Range of the complete entry comes from the cache too.
        resp = self.download(image_id, self.owner(Range='bytes=5-9'))
        self.assertEqual(self.BIG[5:10], resp.content)
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        self.assertEqual(1, len(self.store_reads(image_id)))


class TestGlanceClientCache(CacheTestBase):
    """python-glanceclient's cache commands against the cache API."""

    def glance(self, *args):
        from glance.tests.functional import test_clients
        return test_clients.CLITest.glance(self, *args)

    def test_cache_list_queue_delete_clear(self):
        first, second = self.upload(), self.upload()
        self.glance('cache-queue', first)
        self.wait_cached(first)
        out = self.glance('cache-list').stdout
        self.assertIn(first, out)
        self.assertNotIn(second, out)
        with open(self.entry(first), 'rb') as f:
            self.assertEqual(DATA, f.read())
        self.glance('cache-delete', first)
        self.assertNotIn(first, self.glance('cache-list').stdout)
        self.assertFalse(os.path.exists(self.entry(first)))
        self.glance('cache-queue', second)
        self.wait_cached(second)
        self.glance('cache-clear', '--target', 'cache')
        state = self.request('GET', '/v2/cache', headers=self.admin()).json()
        self.assertEqual([], state['cached_images'])
        self.assertFalse(os.path.exists(self.entry(second)))


class TestCacheAPI(CacheTestBase):

    def test_policies_and_bad_input(self):
        image_id = self.upload()
        member = self.owner()
        for method, path in (('GET', '/v2/cache'),
                             ('PUT', '/v2/cache/%s' % image_id),
                             ('DELETE', '/v2/cache/%s' % image_id),
                             ('DELETE', '/v2/cache'),
                             ('POST', '/v2/cache/prune'),
                             ('POST', '/v2/cache/clean'),
                             ('GET', '/v2/cache/nodes/%s' % image_id)):
            resp = self.request(method, path, headers=member)
            self.assertEqual(403, resp.status_code, (method, path))
        resp = self.request('DELETE', '/v2/cache', headers=self.admin(
            **{'x-image-cache-clear-target': 'everything'}))
        self.assertEqual(400, resp.status_code)
        queued = self.create_image(headers=self.owner(), disk_format='raw',
                                   container_format='bare')
        resp = self.request('PUT', '/v2/cache/%s' % queued['id'],
                            headers=self.admin())
        self.assertEqual(400, resp.status_code, resp.text)
        for method in ('PUT', 'DELETE'):
            resp = self.request(method, '/v2/cache/%s' % ('0' * 36),
                                headers=self.admin())
            self.assertEqual(404, resp.status_code, (method, resp.text))
            resp = self.request(method, '/v2/cache/..%2F..%2Fetc',
                                headers=self.admin())
            self.assertEqual(404, resp.status_code, (method, resp.text))
        resp = self.request('PUT', '/v2/cache/%s' % image_id,
                            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        self.wait_cached(image_id)
        resp = self.request('GET', '/v2/cache/nodes/%s' % image_id,
                            headers=self.admin())
        self.assertEqual(['http://node-a:9292'], resp.json())
        resp = self.request('GET', '/versions')
        self.assertEqual(['v2.18', 'CURRENT'],
                         [resp.json()['versions'][0][k]
                          for k in ('id', 'status')])

    def test_prune_evicts_least_recently_used_first(self):
        ids = [self.upload(os.urandom(1024 * 1024)) for _ in range(3)]
        for image_id in ids:
            self.download(image_id)
            self.wait_cached(image_id)
        # The first is read again: the second is now the oldest.
        self.assertEqual('hit', self.download(ids[0]).headers[
            'X-Image-Cache'])
        self.daemon.stop()
        with open(self.daemon.conf, 'a') as f:
            f.write('\n[DEFAULT]\nimage_cache_max_size = %d\n'
                    % (2 * 1024 * 1024))
        self.daemon.start()
        resp = self.request('POST', '/v2/cache/prune', headers=self.admin())
        self.assertEqual({'total_files_pruned': 1,
                          'total_bytes_pruned': 1024 * 1024}, resp.json())
        left = [e['image_id'] for e in self.request(
            'GET', '/v2/cache', headers=self.admin()).json()['cached_images']]
        self.assertEqual(sorted([ids[0], ids[2]]), sorted(left))


class TestCacheJobs(CacheTestBase):
    """glance-cache-prefetcher, -pruner and -cleaner beside a serving
    glance-api, on its configuration, and what a process killed while
    caching leaves behind."""

    def tool(self, name, *args, conf=None):
        import subprocess
        import sys
        return subprocess.run(
            [sys.executable, '-m', 'glance.cmd.cache_%s' % name,
             '--config-file', conf or self.daemon.conf] + list(args),
            capture_output=True, text=True, timeout=120, cwd=base.ROOT)

    def test_prefetcher_pruner_and_a_bad_configuration(self):
        image_id = self.upload()
        os.makedirs(os.path.join(self.cache_dir, 'queue'), exist_ok=True)
        open(os.path.join(self.cache_dir, 'queue', image_id), 'w').close()
        proc = self.tool('prefetcher')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('Cached 1 queued images', proc.stdout)
        with open(self.entry(image_id), 'rb') as f:
            self.assertEqual(DATA, f.read())
        self.assertEqual('hit', self.download(image_id).headers[
            'X-Image-Cache'])
        small = os.path.join(self.workdir, 'glance-cache.conf')
        with open(small, 'w') as f:
            f.write('[DEFAULT]\nimage_cache_max_size = 1000\n')
        proc = self.tool('pruner', '--config-file', small)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('Pruned 1 files (%d bytes)' % len(DATA), proc.stdout)
        self.assertFalse(os.path.exists(self.entry(image_id)))
        bad = os.path.join(self.workdir, 'bad.conf')
        with open(bad, 'w') as f:
            f.write('[DEFAULT]\nimage_cache_max_size = lots\n')
        proc = self.tool('pruner', '--config-file', bad)
        self.assertEqual(5, proc.returncode, proc.stderr)
        self.assertIn('image_cache_max_size', proc.stderr)

    def test_what_a_killed_fill_leaves_is_never_served(self):
        image_id = self.upload()
        self.download(image_id)
        self.wait_cached(image_id)
        other = self.upload()
        self.daemon.signal(9)
        self.daemon.proc.wait()
        # A fill killed while writing: half a file, its lock gone with
        # the process. One killed between its rename and its index
        # record: a whole file the index does not know.
        with open(os.path.join(self.cache_dir, 'incomplete', other),
                  'wb') as f:
            f.write(DATA[:1000])
        with open(os.path.join(self.cache_dir, other + '.x'), 'wb') as f:
            f.write(DATA)
        os.rename(os.path.join(self.cache_dir, other + '.x'),
                  self.entry(other))
        # And a cached file cut short on disk.
        with open(self.entry(image_id), 'r+b') as f:
            f.truncate(len(DATA) // 2)
        os.makedirs(os.path.join(self.cache_dir, 'invalid'), exist_ok=True)
        open(os.path.join(self.cache_dir, 'invalid', other), 'w').close()
        proc = self.tool('cleaner')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('invalid 1', proc.stdout)
        self.assertIn('stalled 1', proc.stdout)
        self.assertIn('unknown 1', proc.stdout)
        self.assertIn('stale 1', proc.stdout)
        self.assertEqual([], os.listdir(os.path.join(self.cache_dir,
                                                     'incomplete')))
        self.assertFalse(os.path.exists(self.entry(other)))
        self.assertFalse(os.path.exists(self.entry(image_id)))
        self.daemon.start()
        for image in (image_id, other):
            resp = self.download(image)
            self.assertEqual('miss', resp.headers['X-Image-Cache'])
            self.assertEqual(DATA, resp.content)

    def test_a_killed_fill_is_taken_over_by_the_next_download(self):
        image_id = self.upload()
        os.makedirs(os.path.join(self.cache_dir, 'incomplete'),
                    exist_ok=True)
        with open(os.path.join(self.cache_dir, 'incomplete', image_id),
                  'wb') as f:
            f.write(b'garbage' * 100)
        resp = self.download(image_id)
        self.assertEqual(DATA, resp.content)
        self.wait_cached(image_id)
        with open(self.entry(image_id), 'rb') as f:
            self.assertEqual(DATA, f.read())


class TestCacheManageTool(CacheTestBase):
    """glance-cache-manage against the cachemanagement flavor."""

    flavor = 'cachemanagement'

    def manage(self, *args):
        import subprocess
        import sys
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.cache_manage', '--host',
             '127.0.0.1', '--port', str(self.daemon.port)] + list(args),
            capture_output=True, text=True, timeout=120, cwd=base.ROOT)
        return proc

    def test_queue_list_delete(self):
        image_id = self.upload()
        proc = self.manage('queue-image', image_id)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn(image_id, self.manage('list-queued').stdout)
        # Queued by the older path, it waits for glance-api's periodic
        # pass; a download caches it now.
        self.download(image_id)
        self.wait_cached(image_id)
        out = self.manage('list-cached').stdout
        self.assertIn('Found 1 cached images', out)
        self.assertIn(image_id, out)
        proc = self.manage('-f', 'delete-all-cached-images')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('Deleted 1 images', proc.stdout)
        self.assertFalse(os.path.exists(self.entry(image_id)))
        proc = self.manage('-f', 'delete-cached-image', 'not-an-id')
        self.assertEqual(1, proc.returncode)
        self.assertIn('404', proc.stderr)
        proc = self.manage('queue-image')
        self.assertEqual(2, proc.returncode)


class TestFullCacheDisk(CacheTestBase):
    """A cache that fills up mid-entry (the daemon's file size limit is
    lowered while it runs: its writes past it fail as on a full disk):
    the clients get every byte from the store, nothing half-written is
    kept, and the problem is logged once."""

    def test_fill_that_cannot_finish(self):
        import resource
        image_id = self.upload()
        pid = self.daemon.proc.pid
        old = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (1024 * 1024, old[1]))
        self.addCleanup(resource.prlimit, pid, resource.RLIMIT_FSIZE, old)
        for _ in range(2):
            resp = self.download(image_id)
            self.assertEqual(200, resp.status_code)
            self.assertEqual(hashlib.md5(DATA).hexdigest(),
                             hashlib.md5(resp.content).hexdigest())
        resource.prlimit(pid, resource.RLIMIT_FSIZE, old)
        self.assertFalse(os.path.exists(self.entry(image_id)))
        log = self.daemon.output()
        self.assertEqual(1, log.count('not used, downloads are served from '
                                      'the stores'), log[-3000:])
        self.assertIn('reading the rest from the store', log)
        # Room again: the next download caches it.
        self.download(image_id)
        self.wait_cached(image_id)
        self.assertIn('works again', self.daemon.output())


class TestTwoNodes(CacheTestBase):
    """Two glance-api nodes sharing the database (and the store), each
    with a cache of its own: what one node does to an image reaches the
    other's cache."""

    def setUp(self):
        super().setUp()
        self.other_cache = os.path.join(self.workdir, 'cache-b')
        self.other = self.make_daemon(options=dict(self.options, **{
            'image_cache_dir': self.other_cache,
            'worker_self_reference_url': 'http://node-b:9292'}))
        # Its own configuration file and log beside the first node's.
        self.other.conf = os.path.join(self.workdir, 'glance-api-b.conf')
        self.other.log = os.path.join(self.workdir, 'glance-api-b.log')
        with open(self.daemon.conf) as f:
            text = f.read()
        with open(self.other.conf, 'w') as f:
            f.write(text.replace(self.cache_dir, self.other_cache)
                    .replace('node-a', 'node-b')
                    .replace(str(self.daemon.port), str(self.other.port))
                    .replace(self.daemon.log, self.other.log))
        self.other.start()
        self.addCleanup(self.other.stop)

    def on_b(self, method, path, headers=None):
        return requests.request(method, self.other.url + path,
                                headers=headers or self.owner(), timeout=60)

    def test_delete_and_deactivate_on_one_node_reach_the_other(self):
        image_id = self.upload()
        self.assertEqual(DATA, self.download(image_id).content)
        self.assertEqual(DATA, self.on_b('GET', '/v2/images/%s/file'
                                         % image_id).content)
        self.wait_cached(image_id)
        deadline = time.time() + 20
        while time.time() < deadline:
            nodes = self.request('GET', '/v2/cache/nodes/%s' % image_id,
                                 headers=self.admin()).json()
            if len(nodes) == 2:
                break
            time.sleep(0.1)
        self.assertEqual(['http://node-a:9292', 'http://node-b:9292'],
                         nodes)
        self.assertEqual('hit', self.on_b(
            'GET', '/v2/images/%s/file' % image_id).headers['X-Image-Cache'])
        # Deactivated through node A: node B never serves its entry.
        resp = self.request('POST', '/v2/images/%s/actions/deactivate'
                            % image_id, headers=self.admin())
        self.assertEqual(204, resp.status_code)
        resp = self.on_b('GET', '/v2/images/%s/file' % image_id,
                         headers=self.admin())
        self.assertEqual(200, resp.status_code)
        self.assertNotIn('X-Image-Cache', resp.headers)
        self.assertFalse(os.path.exists(os.path.join(self.other_cache,
                                                     image_id)))
        self.request('POST', '/v2/images/%s/actions/reactivate' % image_id,
                     headers=self.admin())
        self.on_b('GET', '/v2/images/%s/file' % image_id)
        deadline = time.time() + 20
        while time.time() < deadline and not os.path.exists(
                os.path.join(self.other_cache, image_id)):
            time.sleep(0.1)
        # Deleted through node A: node B's index forgets it at once, and
        # its clean removes the file.
        resp = self.request('DELETE', '/v2/images/%s' % image_id,
                            headers=self.owner())
        self.assertEqual(204, resp.status_code)
        state = self.on_b('GET', '/v2/cache', headers=self.admin()).json()
        self.assertEqual([], state['cached_images'])
        resp = self.on_b('POST', '/v2/cache/clean', headers=self.admin())
        self.assertEqual(200, resp.status_code)
        self.assertFalse(os.path.exists(os.path.join(self.other_cache,
                                                     image_id)))


class TestFlavorsStart(CacheTestBase):
    """The four caching flavors of the shipped paste file start, put the
    cache filter in their pipeline and advertise the cache API versions
    (with tokens of a real Keystone: test_upstream_paste)."""

    def test_each_flavor(self):
        for flavor in ('caching', 'cachemanagement', 'keystone+caching',
                       'keystone+cachemanagement'):
            self.daemon.stop()
            with open(self.daemon.conf) as f:
                text = re.sub(r'flavor = \S+', 'flavor = %s' % flavor,
                              f.read())
            with open(self.daemon.conf, 'w') as f:
                f.write(text)
            self.daemon.start()
            resp = self.request('GET', '/versions')
            self.assertEqual(200, resp.status_code, flavor)
            self.assertEqual('v2.18', resp.json()['versions'][0]['id'],
                             flavor)
            if flavor.startswith('keystone'):
                continue
            resp = self.request('GET', '/v2/cached_images')
            self.assertEqual(200 if flavor == 'cachemanagement' else 404,
                             resp.status_code, (flavor, resp.text))
        self.assertNotIn('has no', self.daemon.output())


class TestKilledWhileCaching(CacheTestBase):
    """glance-api killed (SIGKILL) while it writes a cache entry: what it
    leaves is never served, the image is served whole after the restart,
    and the next fill or the cleaner takes the unfinished file."""

    BIG = os.urandom(64 * 1024 * 1024)

    def test_kill_during_fill(self):
        image_id = self.upload(self.BIG)
        with requests.get(self.url + '/v2/images/%s/file' % image_id,
                          headers=self.owner(), stream=True,
                          timeout=60) as resp:
            next(resp.iter_content(1024 * 1024))
            self.daemon.signal(9)
            self.daemon.proc.wait()
        incomplete = os.path.join(self.cache_dir, 'incomplete', image_id)
        left = os.path.exists(incomplete)
        if left:
            self.assertLess(os.path.getsize(incomplete), len(self.BIG))
        self.daemon.start()
        state = self.request('GET', '/v2/cache', headers=self.admin()).json()
        cached = [e['image_id'] for e in state['cached_images']]
        if left:
            self.assertEqual([], cached)
        resp = self.download(image_id)
        self.assertEqual(hashlib.sha256(self.BIG).hexdigest(),
                         hashlib.sha256(resp.content).hexdigest())
        self.wait_cached(image_id)
        with open(self.entry(image_id), 'rb') as f:
            self.assertEqual(hashlib.sha256(self.BIG).hexdigest(),
                             hashlib.sha256(f.read()).hexdigest())
        self.assertFalse(os.path.exists(incomplete))


class TestStoreDataMissing(CacheTestBase):

    def test_missing_store_data_answers_as_without_a_cache(self):
        image_id = self.upload()
        os.unlink(self.store_file(image_id))
        resp = self.download(image_id)
        self.assertLess(resp.status_code, 500, resp.text)
        self.assertGreaterEqual(resp.status_code, 400, resp.text)
        self.assertNotIn('X-Image-Cache', resp.headers)
        self.assertFalse(os.path.exists(self.entry(image_id)))


class TestUpstreamSqliteIndex(CacheTestBase):
    """A node of upstream Glance with the deprecated sqlite driver: its
    cached files and their per-node index (cache.db) are taken into the
    main database, and its entries served."""

    driver = 'sqlite'

    def test_old_entries_are_served(self):
        import sqlite3
        image_id = self.upload()
        gone = '0' * 8 + '-0000-0000-0000-' + '0' * 12
        self.daemon.stop()
        os.makedirs(self.cache_dir, exist_ok=True)
        with open(self.entry(image_id), 'wb') as f:
            f.write(DATA)
        db = sqlite3.connect(os.path.join(self.cache_dir, 'cache.db'))
        db.execute('CREATE TABLE cached_images (image_id TEXT PRIMARY KEY, '
                   'last_accessed REAL DEFAULT 0.0, last_modified REAL '
                   'DEFAULT 0.0, size INTEGER DEFAULT 0, hits INTEGER '
                   'DEFAULT 0, checksum TEXT)')
        db.execute('INSERT INTO cached_images VALUES (?, ?, ?, ?, ?, ?)',
                   (image_id, 1700000000.5, 1700000000.0, len(DATA), 7,
                    hashlib.md5(DATA).hexdigest()))
        db.execute('INSERT INTO cached_images VALUES (?, 0, 0, 5, 1, ?)',
                   (gone, 'x'))
        db.commit()
        db.close()
        self.daemon.start()
        resp = self.download(image_id)
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        self.assertEqual(DATA, resp.content)
        self.assertEqual([8], self.hits(image_id, 8))
        self.assertTrue(os.path.exists(os.path.join(
            self.cache_dir, 'cache.db.migrated')))
        state = self.request('GET', '/v2/cache', headers=self.admin()).json()
        self.assertEqual([image_id],
                         [e['image_id'] for e in state['cached_images']])
