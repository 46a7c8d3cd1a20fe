"""Image locations through the real daemon: JSON-patch on /locations (with
show_multiple_locations) and the 2.17 location API, against image data
served by a real HTTP server on 127.0.0.1, which the daemons' URL filter
is told to allow (it refuses loopback and other ports by default)."""

import hashlib
import http.server
import json
import re
import subprocess
import sys
import threading
import time
import uuid

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import test_image_data

DATA = bytes(range(256)) * 64 + b'location data'
MD5 = hashlib.md5(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()
PATCH = 'application/openstack-images-v2.1-json-patch'
# The data server is on loopback, at a port of its own.
ALLOW_DATA_SERVER = {
    'import_filtering_opts.allowed_internal_networks': '127.0.0.1/32',
    'import_filtering_opts.allowed_ports': ''}


class Handler(http.server.BaseHTTPRequestHandler):
    """/image/<anything>: DATA; /empty: no bytes; /sized/<n>: a HEAD
    announcing n bytes; /flaky/<key>: 500 for the first GET of each key;
    /slowhead/<key>: HEAD answered after a second; /slowbody/<key>: DATA
    sent over about four seconds; anything else: 404."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def send(self, status, body, length=None, head=False):
        self.send_response(status)
        self.send_header('Content-Length',
                         str(len(body) if length is None else length))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def serve(self, head):
        path = self.path
        self.server.seen.append((self.command, path))
        if path.startswith('/image/'):
            return self.send(200, DATA, head=head)
        if path == '/empty':
            return self.send(200, b'', head=head)
        sized = re.match(r'/sized/(\d+)$', path)
        if sized and head:
            return self.send(200, b'', length=int(sized.group(1)), head=True)
        if path.startswith('/flaky/'):
            if not head and path not in self.server.failed:
                self.server.failed.add(path)
                return self.send(500, b'')
            return self.send(200, DATA, head=head)
        if path.startswith('/slowhead/'):
            if head:
                time.sleep(1)
            return self.send(200, DATA, head=head)
        if path.startswith('/slowbody/'):
            if head:
                return self.send(200, DATA, head=True)
            self.send_response(200)
            self.send_header('Content-Length', str(len(DATA)))
            self.end_headers()
            step = len(DATA) // 8
            for i in range(0, len(DATA), step):
                self.wfile.write(DATA[i:i + step])
                self.wfile.flush()
                time.sleep(0.5)
            return
        return self.send(404, b'', head=head)


class LocationTest(test_image_data.ImageDataTest):
    """A daemon with the file and http stores, plus the data server."""

    options = {}

    @classmethod
    def setUpClass(cls):
        cls.web = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        cls.web.daemon_threads = True
        cls.web.seen = []
        cls.web.failed = set()
        threading.Thread(target=cls.web.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True).start()
        cls.web_url = 'http://127.0.0.1:%d' % cls.web.server_port
        cls.options = dict(ALLOW_DATA_SERVER, **cls.options)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.web.shutdown()
        cls.web.server_close()

    def data_url(self, path=None):
        return '%s%s' % (self.web_url,
                         path or '/image/%s' % uuid.uuid4().hex)

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def service(self):
        return self.headers(roles='service,member,reader')

    def patch_locations(self, image_id, changes, headers=None):
        return self.patch(image_id, changes, headers=headers or
                          self.headers())

    def post(self, image_id, body, headers=None):
        return self.request('POST', '/v2/images/%s/locations' % image_id,
                            data=json.dumps(body),
                            headers=dict(headers or self.headers(),
                                         **{'Content-Type':
                                            'application/json'}))

    def loc(self, url=None, **extra):
        value = {'url': url or self.data_url(), 'metadata': {}}
        value.update(extra)
        return value

    def add(self, image_id, value, where='-', headers=None):
        return self.patch_locations(image_id, [
            {'op': 'add', 'path': '/locations/%s' % where, 'value': value}],
            headers)

    def wait_for(self, predicate, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail('condition not met within %s s' % timeout)

    def engine(self):
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)
        return engine

    def task_of(self, image_id):
        with self.engine().connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT t.id, t.type, t.status, t.owner, t.expires_at, '
                'i.input, i.result, i.message FROM tasks t JOIN task_info i '
                'ON i.task_id = t.id WHERE t.image_id = :i'),
                {'i': image_id}).all()
        self.assertEqual(1, len(rows), rows)
        return rows[0]

    def finished_task(self, image_id):
        return self.wait_for(
            lambda: (lambda t: t if t.status in ('success', 'failure')
                     else None)(self.task_of(image_id)))

    def assert_untouched_queued(self, image_id):
        image = self.show(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertIsNone(image['checksum'])
        self.assertIsNone(image['os_hash_value'])
        self.assertEqual([], image.get('locations', []))
        self.assertNotIn('os_glance_import_task', image)
        return image


class TestPatchLocations(LocationTest):

    options = {'show_multiple_locations': True, 'image_location_quota': 3,
               'user_storage_quota': '1MB'}

    def test_add_to_queued_image_makes_it_active(self):
        image = self.new_image()
        url = self.data_url()
        resp = self.add(image['id'], self.loc(url, metadata={'a': 'b'}))
        self.assertEqual(200, resp.status_code, resp.text)
        body = resp.json()
        self.assertEqual('active', body['status'])
        self.assertEqual(len(DATA), body['size'])
        self.assertEqual([{'url': url, 'metadata': {'a': 'b'}}],
                         body['locations'])
        self.assertEqual(body['locations'], self.show(image['id'])
                         ['locations'])
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(200, got.status_code)
        self.assertEqual(DATA, got.content)

    def test_add_with_validation_data(self):
        image = self.new_image()
        value = self.loc(validation_data={
            'checksum': MD5, 'os_hash_algo': 'sha512',
            'os_hash_value': SHA512})
        resp = self.add(image['id'], value)
        self.assertEqual(200, resp.status_code, resp.text)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(MD5, shown['checksum'])
        self.assertEqual(SHA512, shown['os_hash_value'])
        self.assertEqual('sha512', shown['os_hash_algo'])
        # The same values again are fine on an active image; others not.
        resp = self.add(image['id'], value)
        self.assertEqual(400, resp.status_code)   # duplicate location
        other = self.loc(validation_data={
            'checksum': 'f' * 32, 'os_hash_algo': 'sha512',
            'os_hash_value': SHA512})
        resp = self.add(image['id'], other)
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertIn('already has value', resp.text)
        self.assertEqual(1, len(self.show(image['id'])['locations']))

    def test_bad_validation_data_is_409_and_changes_nothing(self):
        for data in (
                {'os_hash_algo': 'sha256', 'os_hash_value': SHA256},
                {'os_hash_algo': 'sha512', 'os_hash_value': 'zz' * 64},
                {'os_hash_algo': 'sha512', 'os_hash_value': 'ab' * 32},
                {'checksum': 'x' * 32, 'os_hash_algo': 'sha512',
                 'os_hash_value': SHA512}):
            image = self.new_image()
            resp = self.add(image['id'], self.loc(validation_data=data))
            self.assertEqual(409, resp.status_code, (data, resp.text))
            self.assert_untouched_queued(image['id'])
        image = self.new_image()
        resp = self.patch_locations(image['id'], [
            {'op': 'add', 'path': '/locations/-', 'value': self.loc(
                validation_data={'os_hash_algo': 'sha512',
                                 'os_hash_value': SHA512})},
            {'op': 'add', 'path': '/locations/-', 'value': self.loc(
                validation_data={'os_hash_algo': 'sha512',
                                 'os_hash_value': 'ab' * 64})}])
        # The first operation made the image active: undone with the rest.
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertIn('already has value', resp.text)
        self.assert_untouched_queued(image['id'])
        resp = self.patch_locations(image['id'], [
            {'op': 'replace', 'path': '/locations', 'value': [
                self.loc(validation_data={'os_hash_algo': 'sha512',
                                          'os_hash_value': SHA512}),
                self.loc(validation_data={'os_hash_algo': 'sha512',
                                          'os_hash_value': 'ab' * 64})]}])
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertIn('Conflicting', resp.text)
        self.assert_untouched_queued(image['id'])

    def test_queued_image_needs_formats(self):
        image = self.create_image(headers=self.headers(), name='bare')
        resp = self.add(image['id'], self.loc())
        self.assertEqual(400, resp.status_code, resp.text)
        self.assert_untouched_queued(image['id'])

    def test_refused_urls(self):
        image = self.new_image()
        for url in ('file:///etc/passwd', 'filesystem:///etc/passwd',
                    'swift+config://ref/c/o', 'rbd://fsid/pool/image/snap',
                    'no-scheme', self.data_url('/missing'),
                    self.data_url('/a\u0001b'),
                    self.data_url('/empty')):
            resp = self.add(image['id'], self.loc(url))
            self.assertEqual(400, resp.status_code, (url, resp.text))
            self.assertIn('Invalid location', resp.text)
        resp = self.add(image['id'], self.loc(metadata={'n': 1}))
        self.assertEqual(400, resp.status_code, resp.text)
        self.assert_untouched_queued(image['id'])

    def test_positions_and_duplicates(self):
        image = self.new_image()
        first, second, third = (self.data_url() for _ in range(3))
        self.assertEqual(200, self.add(image['id'], self.loc(first))
                         .status_code)
        self.assertEqual(200, self.add(image['id'], self.loc(second), '0')
                         .status_code)
        resp = self.add(image['id'], self.loc(third), '1')
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([second, third, first],
                         [loc['url'] for loc in resp.json()['locations']])
        self.assertEqual([second, third, first],
                         [loc['url'] for loc in
                          self.show(image['id'])['locations']])
        for where in ('4', 'x', '-1'):
            resp = self.add(image['id'], self.loc(), where)
            self.assertEqual(400, resp.status_code, (where, resp.text))
        resp = self.add(image['id'], self.loc(first))
        self.assertEqual(400, resp.status_code)
        self.assertIn('already has', resp.text)
        # Same url, other metadata: not a duplicate (but over the quota).
        resp = self.add(image['id'], self.loc(first, metadata={'k': 'v'}))
        self.assertEqual(413, resp.status_code, resp.text)
        self.assertEqual(3, len(self.show(image['id'])['locations']))

    def test_storage_quota(self):
        image = self.new_image()
        resp = self.add(image['id'], self.loc(self.data_url(
            '/sized/%d' % (2 * 1024 * 1024))))
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_untouched_queued(image['id'])

    def test_status_rules(self):
        image = self.new_image()
        self.assertEqual(200, self.add(image['id'], self.loc()).status_code)
        self.assertEqual(200, self.add(image['id'], self.loc()).status_code)
        resp = self.request('POST', '/v2/images/%s/actions/deactivate'
                            % image['id'])
        self.assertEqual(204, resp.status_code)
        resp = self.add(image['id'], self.loc(), headers=self.admin())
        self.assertEqual(409, resp.status_code, resp.text)
        resp = self.patch_locations(image['id'], [
            {'op': 'remove', 'path': '/locations/0'}], self.admin())
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertEqual(2, len(self.show(image['id'])['locations']))

    def test_other_project_sees_404_and_probes_nothing(self):
        image = self.new_image()
        url = self.data_url()
        resp = self.add(image['id'], self.loc(url),
                        headers=self.headers(project='someone-else'))
        self.assertEqual(404, resp.status_code)
        self.assert_untouched_queued(image['id'])
        path = url[len(self.web_url):]
        self.assertNotIn(('HEAD', path), self.web.seen)
        self.assertEqual(200, self.add(image['id'], self.loc(url))
                         .status_code)
        self.assertIn(('HEAD', path), self.web.seen)

    def test_remove_deletes_the_data(self):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], DATA).status_code)
        self.assertIn(image['id'], self.stored_files())
        url = self.data_url()
        self.assertEqual(200, self.add(image['id'], self.loc(url))
                         .status_code)
        remove = [{'op': 'remove', 'path': '/locations/0'}]
        resp = self.patch_locations(image['id'], remove)
        self.assertEqual(403, resp.status_code)   # admins only
        for where in ('2', 'x'):
            resp = self.patch_locations(image['id'], [
                {'op': 'remove', 'path': '/locations/%s' % where}],
                self.admin())
            self.assertEqual(400, resp.status_code, resp.text)
        resp = self.patch_locations(image['id'], remove, self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([url], [loc['url'] for loc in
                                 resp.json()['locations']])
        self.wait_for(lambda: image['id'] not in self.stored_files())
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual([url], [loc['url'] for loc in shown['locations']])
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(DATA, got.content)
        resp = self.patch_locations(image['id'], [
            {'op': 'remove', 'path': '/locations/-'}], self.admin())
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertIn('last location', resp.text)

    def test_failed_patch_keeps_the_removed_data(self):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], DATA).status_code)
        self.assertEqual(200, self.add(image['id'], self.loc()).status_code)
        resp = self.patch_locations(image['id'], [
            {'op': 'remove', 'path': '/locations/0'},
            {'op': 'replace', 'path': '/no_such_property', 'value': 'x'}],
            self.admin())
        self.assertEqual(409, resp.status_code, resp.text)
        shown = self.show(image['id'])
        self.assertEqual(2, len(shown['locations']))
        # The sentinel: the data of a removal made afterwards is deleted;
        # a deletion the failed patch started would have run by then.
        later = self.new_image()
        self.assertEqual(204, self.put_data(later['id'], DATA).status_code)
        self.assertEqual(200, self.add(later['id'], self.loc()).status_code)
        resp = self.patch_locations(later['id'], [
            {'op': 'remove', 'path': '/locations/0'}], self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        self.wait_for(lambda: later['id'] not in self.stored_files())
        self.assertIn(image['id'], self.stored_files())
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(DATA, got.content)

    def test_replace(self):
        image = self.new_image()
        url = self.data_url()
        replace = [{'op': 'replace', 'path': '/locations',
                    'value': [self.loc(url)]}]
        resp = self.patch_locations(image['id'], replace)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('active', resp.json()['status'])
        self.assertEqual(len(DATA), resp.json()['size'])
        replace[0]['value'] = [self.loc(url, metadata={'k': 'v'})]
        resp = self.patch_locations(image['id'], replace)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([{'url': url, 'metadata': {'k': 'v'}}],
                         self.show(image['id'])['locations'])
        replace[0]['value'] = [self.loc()]
        resp = self.patch_locations(image['id'], replace)
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertIn('Original locations is not empty', resp.text)
        replace[0]['value'] = []
        resp = self.patch_locations(image['id'], replace)
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual([{'url': url, 'metadata': {'k': 'v'}}],
                         self.show(image['id'])['locations'])
        # Metadata only: fine, even for a file location from an upload.
        uploaded = self.new_image()
        self.put_data(uploaded['id'], DATA)
        file_loc = self.show(uploaded['id'])['locations'][0]
        resp = self.patch_locations(uploaded['id'], [
            {'op': 'replace', 'path': '/locations',
             'value': [dict(file_loc, metadata={'x': 'y'})]}])
        self.assertEqual(200, resp.status_code, resp.text)

    def test_replace_duplicates_and_quota(self):
        image = self.new_image()
        url = self.data_url()
        resp = self.patch_locations(image['id'], [
            {'op': 'replace', 'path': '/locations',
             'value': [self.loc(url), self.loc(url)]}])
        self.assertEqual(400, resp.status_code, resp.text)
        resp = self.patch_locations(image['id'], [
            {'op': 'replace', 'path': '/locations',
             'value': [self.loc() for _ in range(4)]}])
        self.assertEqual(413, resp.status_code, resp.text)
        self.assert_untouched_queued(image['id'])


class TestDelayedDeleteRemoval(LocationTest):

    options = {'show_multiple_locations': True, 'delayed_delete': True}

    def test_removed_data_waits_for_the_scrubber(self):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], DATA).status_code)
        self.assertEqual(200, self.add(image['id'], self.loc()).status_code)
        resp = self.patch_locations(image['id'], [
            {'op': 'remove', 'path': '/locations/0'}], self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(1, len(self.show(image['id'])['locations']))
        time.sleep(1)
        self.assertIn(image['id'], self.stored_files())
        with self.engine().connect() as conn:
            statuses = conn.execute(sa.text(
                'SELECT status, deleted FROM image_locations WHERE '
                'image_id = :i ORDER BY id'), {'i': image['id']}).all()
        self.assertEqual([('pending_delete', True), ('active', False)],
                         [(s, bool(d)) for s, d in statuses])
        out = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.scrubber', '--config-file',
             self.daemon.conf], capture_output=True,
            text=True, cwd=base.ROOT, timeout=60)
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertNotIn(image['id'], self.stored_files())
        self.assertEqual('active', self.show(image['id'])['status'])
        with self.engine().connect() as conn:
            status = conn.execute(sa.text(
                'SELECT status FROM image_locations WHERE image_id = :i '
                'ORDER BY id'), {'i': image['id']}).scalars().first()
        self.assertEqual('deleted', status)


class TestLocationApi(LocationTest):

    options = {'worker_self_reference_url': 'http://worker-1:9292'}

    def live_properties(self, image_id):
        with self.engine().connect() as conn:
            return dict(conn.execute(sa.text(
                'SELECT name, value FROM image_properties WHERE image_id = '
                ':i AND deleted = :f'), {'i': image_id, 'f': False}).all())

    def test_add_with_validation_data_hashes_the_data(self):
        image = self.new_image()
        url = self.data_url()
        resp = self.post(image['id'], {'url': url, 'validation_data': {
            'os_hash_algo': 'sha256', 'os_hash_value': SHA256}})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual(b'', resp.content)
        task = self.finished_task(image['id'])
        self.assertEqual('success', task.status, task.message)
        self.assertEqual('location_import', task.type)
        self.assertEqual(self.project, task.owner)
        self.assertIsNotNone(task.expires_at)
        self.assertEqual({'image_id': image['id'], 'loc_url': url,
                          'validation_data': {'os_hash_algo': 'sha256',
                                              'os_hash_value': SHA256}},
                         json.loads(task.input))
        self.assertEqual({'image_id': image['id']}, json.loads(task.result))
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(len(DATA), shown['size'])
        self.assertEqual(MD5, shown['checksum'])
        self.assertEqual('sha256', shown['os_hash_algo'])
        self.assertEqual(SHA256, shown['os_hash_value'])
        self.assertNotIn('os_glance_import_task', shown)
        self.assertEqual({}, self.live_properties(image['id']))
        path = '/v2/images/%s/locations' % image['id']
        self.assertEqual(403, self.request('GET', path).status_code)
        for headers in (self.admin(), self.service()):
            resp = self.request('GET', path, headers=headers)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertEqual([{'url': url, 'metadata': {}}], resp.json())
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(DATA, got.content)
        resp = self.post(image['id'], {'url': self.data_url()})
        self.assertEqual(409, resp.status_code)   # no longer queued

    def test_hash_mismatch_puts_the_image_back(self):
        image = self.new_image()
        url = self.data_url()
        resp = self.post(image['id'], {'url': url,
                                       'validation_data': {
                                           'os_hash_algo': 'sha256',
                                           'os_hash_value': 'ab' * 32}})
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.finished_task(image['id'])
        self.assertEqual('failure', task.status)
        self.assertIn('digest', task.message)
        shown = self.show(image['id'])
        self.assertEqual('queued', shown['status'])
        self.assertIsNone(shown['checksum'])
        self.assertIsNone(shown['os_hash_value'])
        # An http location stays on the queued image, as upstream keeps it.
        path = '/v2/images/%s/locations' % image['id']
        self.assertEqual([url], [
            loc['url'] for loc in self.request(
                'GET', path, headers=self.admin()).json()])
        # The lock is gone: the image takes a location again.
        resp = self.post(image['id'], {'url': self.data_url()})
        self.assertEqual(202, resp.status_code, resp.text)

    def test_without_validation_data_hashes_afterwards(self):
        image = self.new_image()
        resp = self.post(image['id'], {'url': self.data_url()})
        self.assertEqual(202, resp.status_code, resp.text)
        shown = self.wait_for(lambda: (lambda i: i if i['os_hash_value']
                                       else None)(self.show(image['id'])))
        self.assertEqual('active', shown['status'])
        self.assertEqual(MD5, shown['checksum'])
        self.assertEqual('sha512', shown['os_hash_algo'])
        self.assertEqual(SHA512, shown['os_hash_value'])
        self.assertEqual('success', self.finished_task(image['id']).status)

    def test_unreadable_location_fails_the_task(self):
        for path in ('/missing', '/empty'):
            image = self.new_image()
            resp = self.post(image['id'], {'url': self.data_url(path)})
            self.assertEqual(202, resp.status_code, resp.text)
            task = self.finished_task(image['id'])
            self.assertEqual('failure', task.status)
            self.assertIn('Invalid location', task.message)
            self.assert_untouched_queued(image['id'])

    def test_failed_reads_are_retried(self):
        image = self.new_image()
        resp = self.post(image['id'], {
            'url': self.data_url('/flaky/%s' % uuid.uuid4().hex),
            'validation_data': {'os_hash_algo': 'sha512',
                                'os_hash_value': SHA512}})
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.finished_task(image['id'])
        self.assertEqual('success', task.status, task.message)
        self.assertEqual(SHA512, self.show(image['id'])['os_hash_value'])

    def test_request_rules(self):
        image = self.new_image()
        path = '/v2/images/%s/locations' % image['id']
        url = self.data_url()
        good = {'os_hash_algo': 'sha256', 'os_hash_value': SHA256}
        for body in ({}, {'url': ''}, {'url': 5}, {'url': url, 'x': 1},
                     {'url': 'http://x/' + 'a' * 300},
                     {'url': url, 'validation_data': {
                         'os_hash_algo': 'sha256'}},
                     {'url': url, 'validation_data': dict(good, more=1)},
                     {'url': url, 'validation_data': dict(
                         good, os_hash_algo='crc32')},
                     {'url': url, 'validation_data': dict(
                         good, os_hash_value='zz' * 32)},
                     {'url': url, 'validation_data': dict(
                         good, os_hash_value=SHA512)}):
            resp = self.post(image['id'], body)
            self.assertEqual(400, resp.status_code, (body, resp.text))
        resp = self.request('POST', path, data='[]', headers=self.headers(
            **{'Content-Type': 'application/json'}))
        self.assertEqual(400, resp.status_code)
        # Without the service role only http(s) locations.
        resp = self.post(image['id'], {'url': 'file:///etc/passwd'})
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.post(image['id'], {'url': 'file:///etc/passwd'},
                         headers=self.admin())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.post(image['id'], {'url': 'file:///etc/passwd'},
                         headers=self.service())
        self.assertEqual(400, resp.status_code, resp.text)
        resp = self.post(image['id'], {'url': 'rbd://a/b/c/d'},
                         headers=self.service())
        self.assertEqual(400, resp.status_code, resp.text)
        resp = self.post(image['id'], {'url': url},
                         headers=self.headers(project='intruder'))
        self.assertEqual(404, resp.status_code)
        resp = self.post(image['id'], {'url': url},
                         headers=self.headers(roles='reader'))
        self.assertEqual(403, resp.status_code)
        resp = self.post(str(uuid.uuid4()), {'url': url})
        self.assertEqual(404, resp.status_code)
        bare = self.create_image(headers=self.headers(), name='no formats')
        resp = self.post(bare['id'], {'url': url})
        self.assertEqual(409, resp.status_code, resp.text)
        for image_id in (image['id'], bare['id']):
            self.assert_untouched_queued(image_id)
        with self.engine().connect() as conn:
            count = conn.execute(sa.text(
                'SELECT count(*) FROM tasks WHERE image_id IN (:a, :b)'),
                {'a': image['id'], 'b': bare['id']}).scalar()
        self.assertEqual(0, count)

    def test_service_role_alone_may_add(self):
        image = self.new_image()
        resp = self.post(image['id'], {'url': self.data_url()},
                         headers=self.headers(roles='service,reader'))
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('success', self.finished_task(image['id']).status)

    def test_lock_held_by_a_running_task(self):
        image = self.new_image()
        resp = self.post(image['id'], {'url': self.data_url(
            '/slowhead/%s' % uuid.uuid4().hex)})
        self.assertEqual(202, resp.status_code, resp.text)
        resp = self.post(image['id'], {'url': self.data_url()})
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertIn('active task', resp.text)
        self.assertEqual('success', self.finished_task(image['id']).status)

    def set_lock(self, image_id, holder):
        # Portable SQL: these tests also run on MariaDB and PostgreSQL.
        with self.engine().begin() as conn:
            conn.execute(sa.text(
                "DELETE FROM image_properties WHERE image_id = :i AND "
                "name = 'os_glance_import_task'"), {'i': image_id})
            conn.execute(sa.text(
                "INSERT INTO image_properties (image_id, name, value, "
                "created_at, deleted) VALUES (:i, 'os_glance_import_task', "
                ":t, :at, :f)"), {'i': image_id, 't': holder, 'f': False,
                                  'at': '2000-01-01 00:00:00'})

    def test_stale_locks_are_broken(self):
        image = self.new_image()
        stale, fresh = str(uuid.uuid4()), str(uuid.uuid4())
        now = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())
        with self.engine().begin() as conn:
            for task_id, updated in ((stale, '2000-01-01 00:00:00'),
                                     (fresh, now)):
                conn.execute(sa.text(
                    "INSERT INTO tasks (id, type, status, owner, created_at, "
                    "updated_at, deleted) VALUES (:id, 'location_import', "
                    "'processing', 'p', :at, :at, :f)"),
                    {'id': task_id, 'at': updated, 'f': False})
                conn.execute(sa.text('INSERT INTO task_info (task_id) '
                                     'VALUES (:id)'), {'id': task_id})
        for holder, expected in ((fresh, 409), (stale, 202)):
            self.set_lock(image['id'], holder)
            resp = self.post(image['id'], {'url': self.data_url()})
            self.assertEqual(expected, resp.status_code, resp.text)
        with self.engine().connect() as conn:
            rows = {task_id: '%s:%s' % (status, message or '')
                    for task_id, status, message in conn.execute(sa.text(
                        "SELECT t.id, t.status, i.message FROM tasks t "
                        "JOIN task_info i ON i.task_id = t.id "
                        "WHERE t.id IN (:a, :b)"),
                        {'a': stale, 'b': fresh})}
        self.assertEqual({stale: 'failure:Expired lock preempted',
                          fresh: 'processing:'}, rows)
        self.wait_for(lambda: self.show(image['id'])['status'] == 'active')

    def test_missing_lock_holder_is_no_lock(self):
        image = self.new_image()
        self.set_lock(image['id'], str(uuid.uuid4()))
        resp = self.post(image['id'], {'url': self.data_url()})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('success', self.finished_task(image['id']).status)

    def test_delete_during_hashing_cancels(self):
        image = self.new_image()
        resp = self.post(image['id'], {
            'url': self.data_url('/slowbody/%s' % uuid.uuid4().hex),
            'validation_data': {'os_hash_algo': 'sha512',
                                'os_hash_value': SHA512}})
        self.assertEqual(202, resp.status_code, resp.text)
        self.wait_for(lambda: self.show(image['id'])['status']
                      == 'importing')
        props = self.live_properties(image['id'])
        self.assertEqual('http://worker-1:9292',
                         props['os_glance_hash_op_host'])
        self.assertIn('os_glance_import_task', props)
        self.assertNotIn('os_glance_hash_op_host', self.show(image['id']))
        resp = self.request('DELETE', '/v2/images/%s' % image['id'])
        self.assertEqual(204, resp.status_code)
        task = self.finished_task(image['id'])
        self.assertEqual('failure', task.status)
        self.assertIn('deleted', task.message)


class TestWithoutSecureHash(LocationTest):

    options = {'do_secure_hash': False}

    def test_validation_data_is_recorded(self):
        image = self.new_image()
        resp = self.post(image['id'], {'url': self.data_url(),
                                       'validation_data': {
                                           'os_hash_algo': 'sha256',
                                           'os_hash_value': 'ab' * 32}})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('success', self.finished_task(image['id']).status)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual('ab' * 32, shown['os_hash_value'])
        self.assertEqual('sha256', shown['os_hash_algo'])
        self.assertIsNone(shown['checksum'])
        other = self.new_image()
        self.post(other['id'], {'url': self.data_url()})
        self.assertEqual('success', self.finished_task(other['id']).status)
        shown = self.show(other['id'])
        self.assertEqual('active', shown['status'])
        self.assertIsNone(shown['os_hash_value'])
        self.assertEqual(len(DATA), shown['size'])


class TestWithoutHttpStore(LocationTest):
    """Locations hidden (the default) and no http store."""

    options = {'glance_store.stores': 'file'}

    def test_patch_is_forbidden(self):
        image = self.new_image()
        resp = self.add(image['id'], self.loc())
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertNotIn('locations', self.show(image['id']))

    def test_location_api(self):
        image = self.new_image()
        path = '/v2/images/%s/locations' % image['id']
        body = {'url': self.data_url()}
        resp = self.request('POST', path, json=body)
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertIn('http store', resp.text)
        resp = self.request('POST', path, json=body, headers=self.service())
        self.assertEqual(400, resp.status_code, resp.text)
        resp = self.request('GET', path, headers=self.admin())
        self.assertEqual([], resp.json())


class TestMultiStoreLocations(LocationTest):

    options = {'show_multiple_locations': True,
               'enabled_backends': 'fast:file,web:http',
               'glance_store.default_backend': 'fast'}

    def test_store_of_a_location_is_inferred(self):
        image = self.new_image()
        url = self.data_url()
        resp = self.add(image['id'], self.loc(url))
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([{'url': url, 'metadata': {'store': 'web'}}],
                         resp.json()['locations'])
        self.assertEqual('web', resp.json()['stores'])
        other = self.new_image()
        resp = self.request('POST', '/v2/images/%s/locations' % other['id'],
                            json={'url': url})
        self.assertEqual(202, resp.status_code, resp.text)
        self.wait_for(lambda: self.show(other['id'])['status'] == 'active')
        resp = self.request('GET', '/v2/images/%s/locations' % other['id'],
                            headers=self.admin())
        self.assertEqual([{'url': url, 'metadata': {'store': 'web'}}],
                         resp.json())
