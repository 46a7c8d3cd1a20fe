"""Interoperable image import through the real daemon: staging,
glance-direct and copy-image, the tasks they leave, their failure paths,
and the tasks API."""

import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile

import requests
import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import test_format_safety
from glance.tests.functional import test_image_data

OCTET = test_image_data.OCTET


class ImportTest(test_image_data.ImageDataTest):

    def staging(self):
        path = os.path.join(self.workdir, 'staging')
        return [n for n in os.listdir(path)] if os.path.isdir(path) else []

    def stage(self, image_id, data, headers=None):
        hdrs = self.headers(**OCTET)
        hdrs.update(headers or {})
        return self.request('PUT', '/v2/images/%s/stage' % image_id,
                            data=data, headers=hdrs)

    def start_import(self, image_id, body, headers=None):
        return self.request('POST', '/v2/images/%s/import' % image_id,
                            json=body, headers=headers)

    def wait_status(self, image_id, statuses, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            image = self.show(image_id)
            if image['status'] in statuses:
                return image
            if time.monotonic() > deadline:
                self.fail('image %s stayed %s' % (image_id, image['status']))
            time.sleep(0.1)

    def image_tasks(self, image_id):
        resp = self.request('GET', '/v2/images/%s/tasks' % image_id)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['tasks']

    def wait_task(self, image_id, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            found = self.image_tasks(image_id)
            if found and found[0]['status'] in ('success', 'failure'):
                return found[0]
            if time.monotonic() > deadline:
                self.fail('task of image %s did not end: %s'
                          % (image_id, found))
            time.sleep(0.1)

    def engine(self):
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)
        return engine

    def properties(self, image_id):
        with self.engine().connect() as conn:
            return dict(conn.execute(sa.text(
                'SELECT name, value FROM image_properties WHERE image_id = '
                ':i AND deleted = :f'), {'i': image_id, 'f': False}).all())


class TestGlanceDirect(ImportTest):

    def test_stage_then_import(self):
        data = os.urandom(300000)
        image = self.new_image()
        resp = self.stage(image['id'], data)
        self.assertEqual(204, resp.status_code, resp.text)
        staged = self.show(image['id'])
        self.assertEqual('uploading', staged['status'])
        self.assertEqual(len(data), staged['size'])
        self.assertIn(image['id'], self.staging())
        # Store choices are ignored with a single store.
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}, 'all_stores': True,
            'stores': ['anything']})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('', resp.text)
        done = self.wait_status(image['id'], ('active',))
        self.assertEqual(hashlib.md5(data).hexdigest(), done['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         done['os_hash_value'])
        self.assertEqual(len(data), done['size'])
        self.assertNotIn(image['id'], ' '.join(self.staging()))
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(data, got.content)
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'])
        self.assertEqual('api_image_import', task['type'])
        self.assertEqual({'image_id': image['id']}, task['result'])
        self.assertEqual(image['id'], task['image_id'])
        self.assertIsNotNone(task['expires_at'])
        self.assertNotIn('os_glance_import_task',
                         self.properties(image['id']))

    def test_stage_rules(self):
        image = self.new_image()
        resp = self.request('PUT', '/v2/images/%s/stage' % image['id'],
                            data=b'x', headers=self.headers(
                                **{'Content-Type': 'text/plain'}))
        self.assertEqual(415, resp.status_code)
        self.assertEqual(204, self.stage(image['id'], b'once').status_code)
        resp = self.stage(image['id'], b'twice')
        self.assertEqual(409, resp.status_code, resp.text)
        other = self.request('PUT', '/v2/images/%s/stage' % image['id'],
                             data=b'x', headers=self.headers(
                                 project='someone-else', **OCTET))
        self.assertEqual(404, other.status_code)
        reader = self.stage(image['id'], b'x', headers=self.headers(
            roles='reader', **OCTET))
        self.assertEqual(403, reader.status_code)

    def test_stage_over_size_cap_reverts(self):
        image = self.new_image()
        resp = self.stage(image['id'], b'\0' * (9 * 1024 * 1024))
        self.assertEqual(413, resp.status_code, resp.text)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertNotIn(image['id'], ' '.join(self.staging()))

    def test_import_request_rules(self):
        image = self.new_image()
        direct = {'method': {'name': 'glance-direct'}}
        # Not staged yet.
        self.assertEqual(409, self.start_import(image['id'], direct)
                         .status_code)
        for body in ({}, {'method': {}}, {'method': 'glance-direct'},
                     {'method': {'name': 'no-such-method'}},
                     {'method': {'name': 'glance-direct'},
                      'all_stores': 'yes'},
                     {'method': {'name': 'glance-direct'},
                      'all_stores_must_succeed': False}):
            self.stage(image['id'], b'data')
            resp = self.start_import(image['id'], body)
            self.assertIn(resp.status_code, (400, 409), (body, resp.text))
            self.assertEqual(400, resp.status_code, (body, resp.text))
        resp = self.request('POST', '/v2/images/%s/import' % image['id'],
                            data=b'not json', headers=self.headers(
                                **{'Content-Type': 'application/json'}))
        self.assertEqual(400, resp.status_code)
        self.assertEqual('uploading', self.show(image['id'])['status'])
        self.assertEqual([], self.image_tasks(image['id']))
        no_formats = self.create_image(headers=self.headers(), name='nf')
        self.stage(no_formats['id'], b'data')
        self.assertEqual(409, self.start_import(no_formats['id'], direct)
                         .status_code)
        stranger = self.start_import(image['id'], direct,
                                     headers=self.headers(project='other'))
        self.assertEqual(404, stranger.status_code)

    def test_content_not_matching_disk_format_reverts(self):
        image = self.new_image(disk_format='qcow2')
        self.assertEqual(204, self.stage(image['id'], os.urandom(70000))
                         .status_code)
        self.assertEqual(202, self.start_import(
            image['id'], {'method': {'name': 'glance-direct'}}).status_code)
        task = self.wait_task(image['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('disk_format', task['message'])
        image = self.show(image['id'])
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertNotIn(image['id'], ' '.join(self.staging()))
        self.assertNotIn(image['id'], ' '.join(self.stored_files()))
        self.assertNotIn('os_glance_import_task',
                         self.properties(image['id']))

    def test_import_methods_header_and_info(self):
        resp = self.request('POST', '/v2/images', json={'name': 'x'})
        self.assertIn('glance-direct',
                      resp.headers['OpenStack-image-import-methods'])
        info = self.request('GET', '/v2/info/import').json()
        self.assertIn('glance-direct', info['import-methods']['value'])


class TestImportDisabled(ImportTest):

    options = {'enabled_import_methods': 'web-download'}

    def test_stage_is_404_without_glance_direct(self):
        image = self.new_image()
        resp = self.stage(image['id'], b'data')
        self.assertEqual(404, resp.status_code)
        self.assertIn('glance-direct', resp.text)
        resp = self.start_import(image['id'],
                                 {'method': {'name': 'glance-direct'}})
        self.assertEqual(400, resp.status_code)


class TestMultiStoreImport(ImportTest):

    options = {'enabled_backends': 'fast:file,cheap:file',
               'glance_store.default_backend': 'fast'}

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def active_image(self, data=b'some image data'):
        image = self.new_image()
        self.assertEqual(204, self.put_data(image['id'], data).status_code)
        return image

    def test_glance_direct_to_all_stores(self):
        image = self.new_image()
        self.stage(image['id'], b'everywhere')
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}, 'all_stores': True})
        self.assertEqual(202, resp.status_code, resp.text)
        self.wait_task(image['id'])
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual({'fast', 'cheap'}, set(shown['stores'].split(',')))
        props = self.properties(image['id'])
        self.assertEqual('', props['os_glance_importing_to_stores'])
        self.assertEqual('', props['os_glance_failed_import'])

    def test_unknown_store_is_409(self):
        image = self.new_image()
        self.stage(image['id'], b'data')
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}, 'stores': ['nowhere']})
        self.assertEqual(409, resp.status_code, resp.text)
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}, 'stores': ['cheap']},
            headers=self.headers(**{'X-Image-Meta-Store': 'fast'}))
        self.assertEqual(400, resp.status_code, resp.text)

    def test_copy_image(self):
        data = os.urandom(100000)
        image = self.active_image(data)
        copy = {'method': {'name': 'copy-image'}, 'stores': ['cheap']}
        # Admin only by default.
        self.assertEqual(403, self.start_import(image['id'], copy)
                         .status_code)
        resp = self.start_import(image['id'], copy, headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual({'fast', 'cheap'}, set(shown['stores'].split(',')))
        got = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(data, got.content)
        # Already there.
        resp = self.start_import(image['id'], copy, headers=self.admin())
        self.assertEqual(400, resp.status_code, resp.text)
        # Nothing left to copy to: accepted, nothing to do.
        resp = self.start_import(image['id'], {
            'method': {'name': 'copy-image'}, 'all_stores': True},
            headers=self.admin())
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual(1, len(self.image_tasks(image['id'])))

    def test_copy_needs_active_image(self):
        image = self.new_image()
        resp = self.start_import(image['id'], {
            'method': {'name': 'copy-image'}, 'stores': ['cheap']},
            headers=self.admin())
        self.assertEqual(409, resp.status_code, resp.text)


class TestTasksApi(ImportTest):

    def admin(self):
        return self.headers(roles='admin,member,reader')

    def imported(self):
        image = self.new_image()
        self.stage(image['id'], b'data')
        self.start_import(image['id'], {'method': {'name': 'glance-direct'}})
        return self.wait_task(image['id'])

    def test_tasks_api_is_for_admins(self):
        task = self.imported()
        self.assertEqual(403, self.request('GET', '/v2/tasks').status_code)
        self.assertEqual(403, self.request(
            'GET', '/v2/tasks/%s' % task['id']).status_code)
        resp = self.request('GET', '/v2/tasks/%s' % task['id'],
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        body = resp.json()
        self.assertEqual(task['id'], body['id'])
        self.assertEqual('/v2/tasks/%s' % task['id'], body['self'])
        self.assertEqual('/v2/schemas/task', body['schema'])
        self.assertEqual('success', body['status'])

    def test_list_filters_and_pages(self):
        first, second = self.imported(), self.imported()
        resp = self.request('GET', '/v2/tasks?limit=1&sort_dir=desc',
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        body = resp.json()
        self.assertEqual(1, len(body['tasks']))
        self.assertNotIn('input', body['tasks'][0])
        self.assertIn('next', body)
        self.assertEqual('/v2/schemas/tasks', body['schema'])
        resp = self.request('GET', body['next'], headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertNotEqual(body['tasks'][0]['id'],
                            resp.json()['tasks'][0]['id'])
        resp = self.request('GET', '/v2/tasks?status=success&limit=100',
                            headers=self.admin())
        ids = [t['id'] for t in resp.json()['tasks']]
        self.assertIn(first['id'], ids)
        self.assertIn(second['id'], ids)
        for query in ('status=done', 'type=other', 'limit=-1', 'limit=x',
                      'marker=not-a-uuid', 'sort_key=owner',
                      'sort_dir=up'):
            resp = self.request('GET', '/v2/tasks?' + query,
                                headers=self.admin())
            self.assertEqual(400, resp.status_code, query)

    def test_delete_not_allowed_and_unknown(self):
        task = self.imported()
        resp = self.request('DELETE', '/v2/tasks/%s' % task['id'],
                            headers=self.admin())
        self.assertEqual(405, resp.status_code)
        self.assertEqual('GET', resp.headers['Allow'])
        resp = self.request('GET', '/v2/tasks/%s' % ('0' * 8 + '-0000-'
                                                     '0000-0000-' + '0' * 12),
                            headers=self.admin())
        self.assertEqual(404, resp.status_code)

    def test_expired_tasks_disappear(self):
        task = self.imported()
        with self.engine().begin() as conn:
            conn.execute(sa.text(
                'UPDATE tasks SET expires_at = :t WHERE id = :i'),
                {'t': '2000-01-01 00:00:00', 'i': task['id']})
        ids = [t['id'] for t in self.request(
            'GET', '/v2/tasks?limit=1000', headers=self.admin()).json()[
            'tasks']]
        self.assertNotIn(task['id'], ids)
        self.assertEqual(404, self.request(
            'GET', '/v2/tasks/%s' % task['id'],
            headers=self.admin()).status_code)
        self.assertEqual([], self.image_tasks(task['image_id']))

    def test_task_schemas(self):
        for path in ('/v2/schemas/task', '/v2/schemas/tasks'):
            self.assertEqual(200, self.request('GET', path).status_code)


class TestRecovery(ImportTest):
    """An import whose daemon died is reverted when a daemon starts."""

    def age(self, path):
        old = time.time() - 3600
        os.utime(path, (old, old))

    def test_dead_import_and_orphans_are_cleaned_at_start(self):
        import datetime
        import uuid
        dead = self.new_image()
        self.assertEqual(204, self.stage(dead['id'], b'staged').status_code)
        half = self.new_image()
        orphan = str(uuid.uuid4())
        staging = os.path.join(self.workdir, 'staging')
        self.daemon.stop()
        task_id = str(uuid.uuid4())
        long_ago = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
        with self.engine().begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO tasks (id, type, status, owner, image_id, "
                "created_at, updated_at, deleted) VALUES (:t, "
                "'api_image_import', 'processing', :o, :i, :w, :w, :f)"),
                {'t': task_id, 'o': self.project, 'i': dead['id'],
                 'w': long_ago, 'f': False})
            conn.execute(sa.text(
                "INSERT INTO task_info (task_id, input) VALUES (:t, :in)"),
                {'t': task_id, 'in': '{"import_req": {"method": {"name": '
                                     '"glance-direct"}}}'})
            conn.execute(sa.text(
                "INSERT INTO image_properties (image_id, name, value, "
                "created_at, deleted) VALUES (:i, 'os_glance_import_task', "
                ":t, :w, :f)"), {'i': dead['id'], 't': task_id,
                                 'w': long_ago, 'f': False})
            conn.execute(sa.text(
                "UPDATE images SET status = 'importing' WHERE id = :i"),
                {'i': dead['id']})
            conn.execute(sa.text(
                "UPDATE images SET status = 'uploading' WHERE id = :i"),
                {'i': half['id']})
            # The lease of its stage, left by a holder long gone.
            conn.execute(sa.text(
                "INSERT INTO image_leases (image_id, kind, holder, token, "
                "created_at, expires_at) VALUES (:i, 'stage', "
                "'gone-node - - 1 1', 't', :w, :w)"),
                {'i': half['id'], 'w': long_ago})
        for name in (orphan, '.%s.1234.part' % half['id']):
            with open(os.path.join(staging, name), 'wb') as f:
                f.write(b'left over')
            self.age(os.path.join(staging, name))
        self.age(os.path.join(staging, dead['id']))
        self.daemon.start()
        self.wait_status(dead['id'], ('queued',), timeout=20)
        task = self.wait_task(dead['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('reverted', task['message'])
        self.assertNotIn('os_glance_import_task', self.properties(dead['id']))
        self.wait_status(half['id'], ('queued',), timeout=20)
        self.assertEqual([], self.staging())


class TestImportPlugins(ImportTest):

    options = {'image_import_opts.image_import_plugins':
               'image_decompression,image_conversion,inject_image_metadata,'
               'no_op',
               'inject_metadata_properties.inject': 'color:blue,os_glance_x:y',
               'image_size_cap': 64 * 1024 * 1024}

    def setUp(self):
        test_format_safety.require_qemu_img()
        super().setUp()

    def qcow2(self, *options):
        path = os.path.join(self.workdir, 'q-%s.qcow2' % self.project)
        subprocess.run([test_format_safety.QEMU_IMG, 'create', '-f', 'qcow2']
                       + list(options) + [path, '1M'], check=True,
                       capture_output=True)
        with open(path, 'rb') as f:
            return f.read()

    def run_import(self, data, headers=None, **extra):
        image = self.new_image(**extra)
        self.assertEqual(204, self.stage(image['id'], data).status_code)
        resp = self.start_import(image['id'], {
            'method': {'name': 'glance-direct'}}, headers=headers)
        self.assertEqual(202, resp.status_code, resp.text)
        return image['id'], self.wait_task(image['id'])

    def test_gzipped_qcow2_becomes_raw_with_injected_property(self):
        image_id, task = self.run_import(gzip.compress(self.qcow2()),
                                         disk_format='qcow2')
        self.assertEqual('success', task['status'], task['message'])
        image = self.show(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual('raw', image['disk_format'])
        self.assertEqual('bare', image['container_format'])
        self.assertEqual(1024 * 1024, image['size'])
        self.assertEqual(1024 * 1024, image['virtual_size'])
        self.assertEqual('blue', image['color'])
        self.assertNotIn('os_glance_x', self.properties(image_id))
        got = self.request('GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(b'\0' * 1024 * 1024, got.content)

    def test_admin_import_is_not_injected(self):
        image_id, task = self.run_import(
            self.qcow2(), disk_format='qcow2',
            headers=self.headers(roles='admin,member,reader'))
        self.assertEqual('success', task['status'], task['message'])
        self.assertNotIn('color', self.show(image_id))

    def test_backing_file_refused(self):
        image_id, task = self.run_import(
            self.qcow2('-F', 'raw', '-b', '/etc/hostname'),
            disk_format='qcow2')
        self.assertEqual('failure', task['status'])
        self.assertEqual('queued', self.show(image_id)['status'])
        self.assertNotIn(image_id, ' '.join(self.staging()))

    def test_zip_with_two_members_refused(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, 'w') as archive:
            archive.writestr('a', b'one')
            archive.writestr('b', b'two')
        image_id, task = self.run_import(buf.getvalue())
        self.assertEqual('failure', task['status'])
        self.assertIn('one file', task['message'])
        self.assertEqual('queued', self.show(image_id)['status'])


class _Source(http.server.BaseHTTPRequestHandler):
    """Serves /data (DATA), /slow (a trickle that never ends quickly),
    /trickle (800 KiB in five seconds), /missing (404) and /redirect (to
    the metadata address)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == '/data':
            self.send_response(200)
            self.send_header('Content-Length', str(len(WEB_DATA)))
            self.end_headers()
            self.wfile.write(WEB_DATA)
        elif self.path == '/slow':
            self.send_response(200)
            # A minute's worth, within the image_size_cap of the tests.
            self.send_header('Content-Length', str(600 * 65536))
            self.end_headers()
            try:
                for _ in range(600):
                    self.wfile.write(b'\0' * 65536)
                    time.sleep(0.1)
            except OSError:
                pass
        elif self.path == '/trickle':
            self.send_response(200)
            self.send_header('Content-Length', str(50 * 16384))
            self.end_headers()
            try:
                for _ in range(50):
                    self.wfile.write(b'\1' * 16384)
                    time.sleep(0.1)
            except OSError:
                pass
        elif self.path == '/redirect':
            self.send_response(302)
            self.send_header('Location', 'http://169.254.169.254/latest')
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


WEB_DATA = os.urandom(150000)


class WebDownloadTest(ImportTest):

    extra_options = {}

    @classmethod
    def setUpClass(cls):
        cls.source = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     _Source)
        cls.source.daemon_threads = True
        threading.Thread(target=cls.source.serve_forever,
                         daemon=True).start()
        cls.source_url = 'http://127.0.0.1:%d' % cls.source.server_port
        cls.options = dict({
            'import_filtering_opts.allowed_ports': '',
            'import_filtering_opts.allowed_internal_networks': '127.0.0.1/32',
            'image_size_cap': 64 * 1024 * 1024}, **cls.extra_options)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        cls.source.shutdown()
        cls.source.server_close()
        super().tearDownClass()

    def web_import(self, path):
        image = self.new_image()
        resp = self.start_import(image['id'], {'method': {
            'name': 'web-download', 'uri': self.source_url + path}})
        return image['id'], resp


class TestWebDownload(WebDownloadTest):

    def test_web_download(self):
        image_id, resp = self.web_import('/data')
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image_id)
        self.assertEqual('success', task['status'], task['message'])
        image = self.show(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(hashlib.md5(WEB_DATA).hexdigest(), image['checksum'])
        self.assertEqual([], self.staging())

    def test_failed_download_reverts(self):
        image_id, resp = self.web_import('/missing')
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('404', task['message'])
        self.assertEqual('queued', self.show(image_id)['status'])
        self.assertEqual([], self.staging())

    def test_redirect_to_metadata_address_refused(self):
        image_id, _resp = self.web_import('/redirect')
        task = self.wait_task(image_id)
        self.assertEqual('failure', task['status'])
        # Refused by the URL filter, on the redirect's target, for being
        # link-local: not a connection that merely failed.
        self.assertIn('The URL http://169.254.169.254/latest does not pass '
                      'filtering', task['message'])
        self.assertIn('the host 169.254.169.254 is a link-local address',
                      task['message'])
        self.assertEqual('queued', self.show(image_id)['status'])
        self.assertEqual([], self.staging())

    def test_refused_urls(self):
        image = self.new_image()
        for uri in ('file:///etc/passwd', 'http://169.254.169.254/x',
                    'ftp://example.com/x', 'http://[::1]:%d/data'
                    % self.source.server_port, 'http://2130706433/x'):
            resp = self.start_import(image['id'], {'method': {
                'name': 'web-download', 'uri': uri}})
            self.assertEqual(400, resp.status_code, (uri, resp.text))
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertEqual([], self.image_tasks(image['id']))

    def test_legacy_import_task(self):
        admin = self.headers(roles='admin,member,reader')
        resp = self.request('POST', '/v2/tasks', json={
            'type': 'import', 'input': {
                'import_from': self.source_url + '/data',
                'import_from_format': 'raw',
                'image_properties': {'name': 'legacy'}}}, headers=admin)
        self.assertEqual(201, resp.status_code, resp.text)
        task_id = resp.json()['id']
        self.assertTrue(resp.headers['Location'].endswith(
            '/v2/tasks/%s' % task_id))
        deadline = time.monotonic() + 30
        while True:
            task = self.request('GET', '/v2/tasks/%s' % task_id,
                                headers=admin).json()
            if task['status'] in ('success', 'failure'):
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertEqual('success', task['status'], task['message'])
        image = self.show(task['result']['image_id'])
        self.assertEqual('legacy', image['name'])
        self.assertEqual(hashlib.md5(WEB_DATA).hexdigest(), image['checksum'])
        for body in ({'input': {}}, {'type': 'import'},
                     {'type': 'other', 'input': {}},
                     {'type': 'import', 'input': {
                         'import_from': 'file:///etc/passwd'}}):
            resp = self.request('POST', '/v2/tasks', json=body,
                                headers=admin)
            self.assertEqual(400, resp.status_code, (body, resp.text))
        resp = self.request('POST', '/v2/tasks', json={
            'type': 'import', 'input': {'import_from': 'http://x/'}})
        self.assertEqual(403, resp.status_code)


class TestWebDownloadDefaults(ImportTest):

    def test_loopback_refused_by_default(self):
        image = self.new_image()
        resp = self.start_import(image['id'], {'method': {
            'name': 'web-download', 'uri': 'http://127.0.0.1/data'}})
        self.assertEqual(400, resp.status_code, resp.text)


class TestKilledDuringImport(WebDownloadTest):
    """kill -9 of the daemon in the middle of an import, then a restart:
    the image does not stay importing."""

    # Presumed dead after 2 s without a sign of life (30 by default).
    extra_options = {'task.stale_import_timeout': 2}

    def test_kill_and_restart(self):
        image_id, resp = self.web_import('/slow')
        self.assertEqual(202, resp.status_code, resp.text)
        self.wait_status(image_id, ('importing',))
        self.daemon.proc.kill()
        self.daemon.proc.wait()
        self.daemon.start()
        self.wait_status(image_id, ('queued',), timeout=20)
        task = self.wait_task(image_id)
        self.assertEqual('failure', task['status'])
        self.assertNotIn('os_glance_import_task', self.properties(image_id))
        # The revert removed the staged part.
        self.assertEqual([], self.staging())
        # An import that lasts longer than the threshold, giving signs of
        # life, is not taken for dead.
        image = self.new_image()
        self.assertEqual(202, self.start_import(image['id'], {'method': {
            'name': 'web-download', 'uri': self.source_url + '/trickle'}})
            .status_code)
        self.wait_status(image['id'], ('active',))
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        self.assertEqual(50 * 16384, self.show(image['id'])['size'])


class TestGlanceDownload(ImportTest):
    """glance-download from a second daemon standing for another region."""

    @classmethod
    def setUpClass(cls):
        cls.options = {
            'enabled_import_methods': 'glance-direct,glance-download',
            'import_filtering_opts.allowed_ports': '',
            'import_filtering_opts.allowed_internal_networks': '127.0.0.1/32'}
        super().setUpClass()
        cls.remote_dir = tempfile.mkdtemp(prefix='glance-remote-')
        cls.remote_db = base.Database('sqlite', cls.remote_dir)
        cls.remote = base.Daemon(cls.remote_dir, cls.remote_db.url)
        cls.remote.manage('db', 'sync')
        cls.remote.start()

    @classmethod
    def tearDownClass(cls):
        cls.remote.stop()
        shutil.rmtree(cls.remote_dir, True)
        super().tearDownClass()

    def catalog(self, region='RegionTwo'):
        return json.dumps([{'type': 'image', 'endpoints': [
            {'region': region, 'interface': 'public',
             'url': self.remote.url}]}])

    def remote_image(self, data):
        image = requests.post(self.remote.url + '/v2/images', json={
            'name': 'far', 'disk_format': 'raw', 'container_format': 'bare',
            'hw_disk_bus': 'scsi', 'os_distro': 'debian', 'color': 'red'},
            timeout=10).json()
        requests.put(self.remote.url + '/v2/images/%s/file' % image['id'],
                     data=data, headers=OCTET, timeout=10)
        return image['id']

    def download(self, remote_id, region='RegionTwo'):
        image = self.new_image(name='near', disk_format='qcow2')
        resp = self.start_import(image['id'], {'method': {
            'name': 'glance-download', 'glance_region': region,
            'glance_image_id': remote_id}},
            headers=self.headers(**{'X-Service-Catalog': self.catalog()}))
        return image['id'], resp

    def test_glance_download(self):
        data = os.urandom(120000)
        image_id, resp = self.download(self.remote_image(data))
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image_id)
        self.assertEqual('success', task['status'], task['message'])
        image = self.show(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual('raw', image['disk_format'])
        self.assertEqual('scsi', image['hw_disk_bus'])
        self.assertEqual('debian', image['os_distro'])
        self.assertNotIn('color', image)
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        self.assertNotIn('X-Service-Catalog', json.dumps(task['input']))

    def test_unknown_region_or_image(self):
        for region in ('Nowhere', 'RegionTwo'):
            image_id, resp = self.download(str(uuid.uuid4()), region=region)
            self.assertEqual(202, resp.status_code, resp.text)
            task = self.wait_task(image_id)
            self.assertEqual('failure', task['status'])
            self.assertEqual('queued', self.show(image_id)['status'])
        image = self.create_image(headers=self.headers(), name='x')
        resp = self.start_import(image['id'], {'method': {
            'name': 'glance-download', 'glance_region': 'RegionTwo',
            'glance_image_id': 'not-a-uuid'}})
        self.assertEqual(400, resp.status_code)


class TestStagedOnAnotherNode(ImportTest):
    """Two API nodes on one database: the import of data staged on one
    node, asked of the other, is done by the first."""

    @classmethod
    def setUpClass(cls):
        cls.options = {}
        super().setUpClass()
        cls.daemon.stop()
        cls.other_dir = tempfile.mkdtemp(prefix='glance-node-')
        port, other_port = cls.daemon.port, base.free_port()
        cls.daemon = base.Daemon(cls.workdir, cls.db.url, port=port, options={
            'worker_self_reference_url': 'http://127.0.0.1:%d' % port})
        cls.other = base.Daemon(cls.other_dir, cls.db.url, port=other_port,
                                options={'worker_self_reference_url':
                                         'http://127.0.0.1:%d' % other_port})
        cls.daemon.start()
        cls.other.start()

    @classmethod
    def tearDownClass(cls):
        cls.other.stop()
        shutil.rmtree(cls.other_dir, True)
        super().tearDownClass()

    def test_import_replayed_on_the_stage_host(self):
        image = self.new_image()
        self.assertEqual(204, self.stage(image['id'], b'node one').status_code)
        self.assertEqual(self.daemon.url, self.properties(image['id'])[
            'os_glance_stage_host'])
        resp = requests.post(
            self.other.url + '/v2/images/%s/import' % image['id'],
            json={'method': {'name': 'glance-direct'}},
            headers=self.headers(**{'X-Openstack-Request-Id': 'req-abc'}),
            timeout=30)
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('req-abc', resp.headers['x-openstack-request-id'])
        self.wait_status(image['id'], ('active',))
        self.assertEqual(b'node one', self.request(
            'GET', '/v2/images/%s/file' % image['id']).content)

    def test_stage_host_down_is_504(self):
        image = self.new_image()
        self.stage(image['id'], b'lost')
        with self.engine().begin() as conn:
            conn.execute(sa.text(
                "UPDATE image_properties SET value = 'http://127.0.0.1:9' "
                "WHERE image_id = :i AND name = 'os_glance_stage_host'"),
                {'i': image['id']})
        resp = requests.post(
            self.other.url + '/v2/images/%s/import' % image['id'],
            json={'method': {'name': 'glance-direct'}},
            headers=self.headers(), timeout=30)
        self.assertEqual(504, resp.status_code, resp.text)
        self.assertEqual('uploading', self.show(image['id'])['status'])


class TestDeleteStaged(ImportTest):

    def test_delete_removes_staged_data(self):
        image = self.new_image()
        self.stage(image['id'], b'bye')
        self.assertIn(image['id'], self.staging())
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image['id']).status_code)
        self.assertEqual([], self.staging())


class TestTasksListBounded(ImportTest):
    """The tasks list is paged like the images list: limit_param_default
    without a limit, never more than api_limit_max."""

    options = {'limit_param_default': 1, 'api_limit_max': 2}

    def test_pages_are_bounded(self):
        admin = self.headers(roles='admin,member,reader')
        for _ in range(3):
            image = self.new_image()
            self.stage(image['id'], b'data')
            self.start_import(image['id'],
                              {'method': {'name': 'glance-direct'}})
            self.wait_task(image['id'])
        body = self.request('GET', '/v2/tasks', headers=admin).json()
        self.assertEqual(1, len(body['tasks']))
        self.assertIn('next', body)
        body = self.request('GET', '/v2/tasks?limit=1000',
                            headers=admin).json()
        self.assertEqual(2, len(body['tasks']))
        seen = [t['id'] for t in body['tasks']]
        body = self.request('GET', body['next'], headers=admin).json()
        self.assertEqual(1, len(body['tasks']))
        self.assertNotIn(body['tasks'][0]['id'], seen)
