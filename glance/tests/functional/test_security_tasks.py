"""Tasks stay private: an image's tasks are listed to its owner and to
administrators only, and no task shows the credentials a URL of its input
carries (``http://user:password@host/``) -- not the image's task list,
not the tasks API, not the log nor the notifications -- while the
download itself still uses them."""

import base64
import http.server
import threading
import time

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon
from glance.tests.functional import helpers_images as h

SECRET = 'pa55-w0rd-%d' % id(object())
DATA = b'data behind a password' * 100


class _Source(http.server.BaseHTTPRequestHandler):
    """Serves DATA at /data to the client with the right credentials;
    records the Authorization headers it got."""

    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        auth = self.headers.get('Authorization')
        self.seen.append(auth)
        expected = 'Basic ' + base64.b64encode(
            ('user:' + SECRET).encode()).decode()
        if self.path != '/data' or auth != expected:
            self.send_response(401)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(DATA)))
        self.end_headers()
        self.wfile.write(DATA)


class TestTasksStayPrivate(h.ImageAPIMixin, base.SharedDaemonTest):

    @classmethod
    def setUpClass(cls):
        cls.source = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     _Source)
        cls.source.daemon_threads = True
        threading.Thread(target=cls.source.serve_forever,
                         daemon=True).start()
        port = cls.source.server_port
        cls.plain_url = 'http://127.0.0.1:%d/data' % port
        cls.secret_url = 'http://user:%s@127.0.0.1:%d/data' % (SECRET, port)
        cls.shown_url = 'http://***@127.0.0.1:%d/data' % port
        cls.options = {
            'debug': True,
            'import_filtering_opts.allowed_ports': '',
            'import_filtering_opts.allowed_internal_networks':
                '127.0.0.1/32',
            'oslo_messaging_notifications.driver': 'log',
            'image_size_cap': 64 * 1024 * 1024}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        cls.source.shutdown()
        cls.source.server_close()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.mark = helpers_daemon.log_mark(self.daemon)

    def tasks_of(self, image_id, headers, status=200):
        resp = self.request('GET', '/v2/images/%s/tasks' % image_id,
                            headers=headers)
        self.assertEqual(status, resp.status_code, resp.text)
        self.assertNotIn(SECRET, resp.text)
        return resp

    def raw_image(self):
        return self.new_image(name='secret', disk_format='raw',
                              container_format='bare')

    def web_import(self, image_id, uri):
        resp = self.request('POST', '/v2/images/%s/import' % image_id,
                            json={'method': {'name': 'web-download',
                                             'uri': uri}})
        self.assertEqual(202, resp.status_code, resp.text)

    def wait_task(self, image_id, timeout=30):
        """The image's one task once it ended, as its owner sees it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.tasks_of(image_id, self.headers()).json()['tasks']
            if found and found[0]['status'] in ('success', 'failure'):
                return found[0]
            if time.monotonic() > deadline:
                self.fail('task of image %s did not end: %s'
                          % (image_id, found))
            time.sleep(0.1)

    def wait_task_ended(self, task_id, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            resp = self.request('GET', '/v2/tasks/%s' % task_id,
                                headers=self.admin_headers())
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertNotIn(SECRET, resp.text)
            if resp.json()['status'] in ('success', 'failure'):
                return resp.json()
            if time.monotonic() > deadline:
                self.fail('task %s did not end: %s' % (task_id, resp.text))
            time.sleep(0.1)

    def assert_not_logged(self):
        logged = helpers_daemon.log_since(self.daemon, self.mark)
        # The log driver wrote the task's notifications there too.
        self.assertIn('task.success', logged)
        self.assertNotIn(SECRET, logged)

    def web_imported(self):
        """An image of the test's project, web-downloaded with
        credentials in the URL; its ended task."""
        image = self.raw_image()
        self.web_import(image['id'], self.secret_url)
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task)
        return image['id'], task

    def test_image_tasks_are_for_the_owner_and_administrators(self):
        image_id, task = self.web_imported()
        self.assertEqual(DATA, self.request(
            'GET', '/v2/images/%s/file' % image_id).content)
        # Shared with another project, which accepts it, then public.
        resp = self.request('POST', '/v2/images/%s/members' % image_id,
                            json={'member': self.other_project})
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.request('PUT', '/v2/images/%s/members/%s'
                            % (image_id, self.other_project),
                            json={'status': 'accepted'},
                            headers=self.other_headers())
        self.assertEqual(200, resp.status_code, resp.text)
        self.show(image_id, headers=self.other_headers())
        resp = self.tasks_of(image_id, self.other_headers(), 403)
        self.assertIn('owner', resp.text)
        self.patch_image(image_id, [{'op': 'replace', 'path': '/visibility',
                                     'value': 'public'}],
                         headers=self.admin_headers())
        stranger = self.headers(project=h.new_project())
        self.show(image_id, headers=stranger)
        self.tasks_of(image_id, stranger, 403)
        # A project that cannot see the image: 404 as for the image.
        self.patch_image(image_id, [{'op': 'replace', 'path': '/visibility',
                                     'value': 'private'}],
                         headers=self.admin_headers())
        self.tasks_of(image_id, stranger, 404)
        # The owner, whatever its roles allow, and an administrator of
        # any project.
        for who in (self.headers(), self.headers(roles='reader'),
                    self.headers(project=h.new_project(),
                                 roles='admin,member,reader')):
            shown = self.tasks_of(image_id, who).json()['tasks']
            self.assertEqual([task['id']], [t['id'] for t in shown])
            self.assertEqual(
                self.shown_url,
                shown[0]['input']['import_req']['method']['uri'])
        self.assert_not_logged()

    def test_tasks_api_shows_no_credentials(self):
        image_id, task = self.web_imported()
        body = self.wait_task_ended(task['id'])
        self.assertEqual(self.shown_url,
                         body['input']['import_req']['method']['uri'])
        resp = self.request('GET', '/v2/tasks?limit=1000',
                            headers=self.admin_headers())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn(task['id'], [t['id'] for t in resp.json()['tasks']])
        self.assertNotIn(SECRET, resp.text)
        # Task ids, stored in lower case, are matched in any case.
        resp = self.request('GET', '/v2/tasks/%s' % task['id'].upper(),
                            headers=self.admin_headers())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(task['id'], resp.json()['id'])
        resp = self.request('GET', '/v2/tasks?sort_key=id&sort_dir=asc'
                            '&limit=1000&marker=' + task['id'].upper(),
                            headers=self.admin_headers())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertTrue(all(t['id'] > task['id']
                            for t in resp.json()['tasks']), resp.text)
        self.assert_not_logged()

    def test_legacy_import_task_shows_no_credentials(self):
        seen = len(_Source.seen)
        task_input = {'import_from': self.secret_url,
                      'import_from_format': 'raw',
                      'image_properties': {'disk_format': 'raw',
                                           'container_format': 'bare'}}
        resp = self.request('POST', '/v2/tasks', json={
            'type': 'import', 'input': task_input},
            headers=self.admin_headers())
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertNotIn(SECRET, resp.text)
        self.assertEqual(self.shown_url, resp.json()['input']['import_from'])
        body = self.wait_task_ended(resp.json()['id'])
        self.assertEqual('success', body['status'], body)
        self.assertEqual(self.shown_url, body['input']['import_from'])
        # The download itself had the credentials.
        self.assertIn('Basic ' + base64.b64encode(
            ('user:' + SECRET).encode()).decode(), _Source.seen[seen:])
        image_id = body['result']['image_id']
        self.assertEqual(DATA, self.request(
            'GET', '/v2/images/%s/file' % image_id,
            headers=self.admin_headers()).content)
        self.assert_not_logged()

    def test_failure_message_shows_no_credentials(self):
        image = self.raw_image()
        self.web_import(image['id'],
                        self.secret_url.replace(SECRET, SECRET + '-wrong'))
        task = self.wait_task(image['id'])
        self.assertEqual('failure', task['status'], task)
        resp = self.tasks_of(image['id'], self.headers())
        self.assertNotIn(SECRET + '-wrong', resp.text)
