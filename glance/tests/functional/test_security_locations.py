"""Image locations and the URL filter, through the real daemon.

Locations read by the http store pass the filter of
``[import_filtering_opts]``, the one web-download obeys: by default no
loopback, link-local, private or other internal address, no port but 80
and 443, http and https only, for every caller. The filter is checked
when a location is added (POST /locations, PATCH of /locations) and again
by every read (sizes, the hashing of the location import, GET /file),
redirects included; a refused location is never fetched.

Two HTTP servers stand for the network: one on 127.0.0.1 is the internal
service an attacker wants to reach (it records every request it gets and
must get none), one on 127.0.0.2 the image server an operator allowed by
``allowed_internal_networks`` (it redirects wherever it is told to).
"""

import hashlib
import http.server
import json
import threading
import time
import uuid

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import test_image_data

DATA = b'secret of an internal service ' * 64
SHA256 = hashlib.sha256(DATA).hexdigest()
PATCH = 'application/openstack-images-v2.1-json-patch'
# The image server the relaxed daemons allow; the internal one stays
# refused.
ALLOW_IMAGE_SERVER = {
    'import_filtering_opts.allowed_internal_networks': '127.0.0.2/32',
    'import_filtering_opts.allowed_ports': ''}


class Handler(http.server.BaseHTTPRequestHandler):
    """/image/<anything>: DATA; /goto?<url>: a redirect to url;
    /getgoto?<url>: HEAD answers with the size of DATA, GET redirects to
    url; anything else: 404."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def send(self, status, body=b'', head=False, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def serve(self, head):
        path = self.path
        self.server.seen.append((self.command, path))
        if path.startswith('/image/'):
            return self.send(200, DATA, head=head)
        if path.startswith('/goto?'):
            return self.send(302, headers=[('Location', path[6:])])
        if path.startswith('/getgoto?'):
            if head:
                return self.send(200, DATA, head=True)
            return self.send(302, headers=[('Location', path[9:])])
        return self.send(404, head=head)


def serve(address):
    server = http.server.ThreadingHTTPServer((address, 0), Handler)
    server.daemon_threads = True
    server.seen = []
    threading.Thread(target=server.serve_forever,
                     kwargs={'poll_interval': 0.05}, daemon=True).start()
    return server


def stop(server):
    server.shutdown()
    server.server_close()


class LocationFilterTest(test_image_data.ImageDataTest):

    options = {'show_multiple_locations': True}

    @classmethod
    def setUpClass(cls):
        cls.internal = serve('127.0.0.1')
        cls.image_server = serve('127.0.0.2')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        stop(cls.internal)
        stop(cls.image_server)

    def setUp(self):
        super().setUp()
        self.internal.seen[:] = []
        self.image_server.seen[:] = []

    def internal_url(self, path=None, host='127.0.0.1'):
        return 'http://%s:%d%s' % (host, self.internal.server_port,
                                   path or '/image/%s' % uuid.uuid4().hex)

    def allowed_url(self, path=None):
        return 'http://127.0.0.2:%d%s' % (
            self.image_server.server_port,
            path or '/image/%s' % uuid.uuid4().hex)

    def roles(self, roles):
        return self.headers(roles=roles)

    def post(self, image_id, body, headers=None):
        return self.request('POST', '/v2/images/%s/locations' % image_id,
                            data=json.dumps(body),
                            headers=dict(headers or self.headers(),
                                         **{'Content-Type':
                                            'application/json'}))

    def patch_locations(self, image_id, changes, headers=None):
        return self.patch(image_id, changes, headers=headers or
                          self.headers())

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail('condition not met within %s s' % timeout)

    def finished_task(self, image_id):
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)

        def task():
            with engine.connect() as conn:
                row = conn.execute(sa.text(
                    'SELECT t.status, i.message FROM tasks t JOIN task_info '
                    'i ON i.task_id = t.id WHERE t.image_id = :i'),
                    {'i': image_id}).first()
            return row if row and row.status in ('success',
                                                 'failure') else None
        return self.wait_for(task)

    def assert_refused(self, resp, *reasons):
        self.assertEqual(400, resp.status_code, resp.text)
        for reason in reasons:
            self.assertIn(reason, resp.text)

    def assert_nothing_fetched(self):
        self.assertEqual([], self.internal.seen)


# (URL, what the refusal says); ports and names are filled in by the test.
REFUSED = [
    ('http://127.0.0.1:{port}/image/a', 'the port {port} is not allowed'),
    ('http://127.0.0.1/image/a', 'is a loopback address'),
    ('https://127.0.0.1/image/a', 'is a loopback address'),
    ('http://127.8.9.10/image/a', 'is a loopback address'),
    ('http://localhost/image/a', 'resolves to a loopback address'),
    ('http://[::1]/image/a', 'is a loopback address'),
    ('http://0.0.0.0/image/a', 'is an unspecified address'),
    ('http://169.254.169.254/latest/meta-data/', 'is a link-local address'),
    ('http://[fd00:ec2::254]/latest/', 'is a private address'),
    ('http://10.1.2.3/image/a', 'is a private address'),
    ('http://172.16.5.4/image/a', 'is a private address'),
    ('http://192.168.1.1/image/a', 'is a private address'),
    ('http://100.64.0.1/image/a', 'which is not allowed'),
    ('http://[::ffff:127.0.0.1]/image/a', 'is a loopback address'),
    ('http://[::ffff:a9fe:a9fe]/latest/', 'is a link-local address'),
    ('http://2130706433/image/a', 'is not a standard dotted IPv4 address'),
    ('http://017700000001/image/a', 'is not a standard dotted IPv4'),
    ('http://0x7f000001/image/a', 'is not a standard dotted IPv4'),
    ('http://0x7f.0.0.1/image/a', 'is not a standard dotted IPv4'),
    ('http://127.1/image/a', 'is not a standard dotted IPv4'),
    ('http://93.184.215.14:22/image/a', 'the port 22 is not allowed'),
    ('http://93.184.215.14:6379/image/a', 'the port 6379 is not allowed'),
]


class TestRefusedByDefault(LocationFilterTest):
    """A daemon with the filter's defaults."""

    def refused(self):
        port = self.internal.server_port
        return [(url.format(port=port), reason.format(port=port))
                for url, reason in REFUSED]

    def test_location_api_refuses_internal_urls(self):
        image = self.new_image()
        for roles in ('member,reader', 'admin,member,reader',
                      'service,member,reader'):
            for url, reason in self.refused():
                resp = self.post(image['id'], {'url': url},
                                 headers=self.roles(roles))
                self.assert_refused(resp, 'may not be fetched', reason,
                                    'Invalid location')
            body = {'url': self.internal_url('/image/b', host='localhost'),
                    'validation_data': {'os_hash_algo': 'sha256',
                                        'os_hash_value': SHA256}}
            resp = self.post(image['id'], body, headers=self.roles(roles))
            self.assert_refused(resp, 'not allowed')
        shown = self.show(image['id'])
        self.assertEqual('queued', shown['status'])
        self.assertNotIn('os_glance_import_task', shown)
        self.assert_nothing_fetched()

    def test_other_schemes(self):
        image = self.new_image()
        for url in ('file:///etc/passwd', 'ftp://127.0.0.1/x',
                    'gopher://127.0.0.1:70/_x'):
            resp = self.post(image['id'], {'url': url},
                             headers=self.roles('member,reader'))
            self.assertEqual(403, resp.status_code, resp.text)
            resp = self.post(image['id'], {'url': url},
                             headers=self.roles('service,member,reader'))
            self.assert_refused(resp, 'Invalid location')
            resp = self.patch_locations(image['id'], [
                {'op': 'add', 'path': '/locations/-',
                 'value': {'url': url, 'metadata': {}}}])
            self.assert_refused(resp, 'Invalid location')
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assert_nothing_fetched()

    def test_patch_refuses_internal_urls(self):
        image = self.new_image()
        for roles in ('member,reader', 'admin,member,reader'):
            for url, reason in self.refused():
                value = {'url': url, 'metadata': {}}
                for change in ({'op': 'add', 'path': '/locations/-',
                                'value': value},
                               {'op': 'replace', 'path': '/locations',
                                'value': [value]}):
                    resp = self.patch_locations(
                        image['id'], [change], headers=self.roles(roles))
                    self.assert_refused(resp, 'may not be fetched', reason)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assert_nothing_fetched()

    def test_the_allowed_server_is_refused_too(self):
        # Without the operator's allowance 127.0.0.2 is loopback as well.
        image = self.new_image()
        resp = self.post(image['id'], {'url': self.allowed_url()})
        self.assert_refused(resp, 'is not allowed')
        self.assertEqual([], self.image_server.seen)


class TestAllowedImageServer(LocationFilterTest):
    """The operator allows its image server (127.0.0.2, any port); the
    internal service on 127.0.0.1 stays refused, redirects included."""

    options = dict(LocationFilterTest.options, **ALLOW_IMAGE_SERVER)

    def test_allowed_server_serves_locations(self):
        image = self.new_image()
        resp = self.post(image['id'], {'url': self.allowed_url()})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('success', self.finished_task(image['id']).status)
        self.wait_for(lambda: self.show(image['id'])['os_hash_value'])
        resp = self.request('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(DATA, resp.content)
        other = self.new_image()
        resp = self.patch_locations(other['id'], [
            {'op': 'add', 'path': '/locations/-',
             'value': {'url': self.allowed_url(), 'metadata': {}}}])
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('active', resp.json()['status'])
        self.assert_nothing_fetched()

    def test_internal_server_still_refused(self):
        image = self.new_image()
        for url in (self.internal_url(),
                    self.internal_url(host='localhost'),
                    self.internal_url(host='[::ffff:127.0.0.1]')):
            resp = self.post(image['id'], {'url': url})
            self.assert_refused(resp, 'loopback address')
            resp = self.patch_locations(image['id'], [
                {'op': 'add', 'path': '/locations/-',
                 'value': {'url': url, 'metadata': {}}}])
            self.assert_refused(resp, 'loopback address')
        self.assert_nothing_fetched()

    def test_patch_redirect_inward_is_refused(self):
        image = self.new_image()
        for target in (self.internal_url(),
                       'http://169.254.169.254/latest/meta-data/',
                       'http://2130706433:%d/image/x'
                       % self.internal.server_port,
                       'file:///etc/passwd'):
            url = self.allowed_url('/goto?' + target)
            resp = self.patch_locations(image['id'], [
                {'op': 'add', 'path': '/locations/-',
                 'value': {'url': url, 'metadata': {}}}])
            self.assert_refused(resp, 'may not be fetched')
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assert_nothing_fetched()

    def test_location_api_redirect_inward_fails_the_task(self):
        image = self.new_image()
        url = self.allowed_url('/goto?' + self.internal_url())
        resp = self.post(image['id'], {'url': url})
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.finished_task(image['id'])
        self.assertEqual('failure', task.status)
        self.assertIn('loopback address', task.message)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assert_nothing_fetched()

    def test_hashing_does_not_follow_a_redirect_inward(self):
        # The size comes from a HEAD the server answers itself; the data
        # would come from the internal service.
        image = self.new_image()
        url = self.allowed_url('/getgoto?' + self.internal_url())
        resp = self.post(image['id'], {'url': url, 'validation_data': {
            'os_hash_algo': 'sha256', 'os_hash_value': SHA256}})
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.finished_task(image['id'])
        self.assertEqual('failure', task.status)
        self.assertIn('loopback address', task.message)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assert_nothing_fetched()

    def test_download_does_not_follow_a_redirect_inward(self):
        # Without validation data the image is active at once and hashed
        # afterwards: the hashing fails, and so does every download.
        image = self.new_image()
        url = self.allowed_url('/getgoto?' + self.internal_url())
        resp = self.post(image['id'], {'url': url})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual('success', self.finished_task(image['id']).status)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertIsNone(shown['os_hash_value'])
        for headers in ({}, {'Range': 'bytes=10-20'}):
            resp = self.request('GET', '/v2/images/%s/file' % image['id'],
                                headers=self.headers(**headers))
            self.assertEqual(403, resp.status_code, resp.text)
            self.assertIn('may not fetch from', resp.text)
            self.assertNotIn(url, resp.text)
        self.assert_nothing_fetched()


class TestConfigurationChange(base.FunctionalTest):
    """A location added while its server was allowed is not read once
    the allowance is gone."""

    def setUp(self):
        self.internal = serve('127.0.0.1')
        self.addCleanup(stop, self.internal)
        self.options = {
            'show_multiple_locations': True,
            'import_filtering_opts.allowed_internal_networks':
                '127.0.0.1/32',
            'import_filtering_opts.allowed_ports': ''}
        super().setUp()

    def test_download_refused_after_the_change(self):
        headers = {'X-Project-Id': 'p1', 'X-Roles': 'member,reader'}
        image = self.create_image(headers=headers, name='x',
                                  disk_format='raw', container_format='bare')
        url = 'http://127.0.0.1:%d/image/x' % self.internal.server_port
        resp = self.patch(image['id'], [
            {'op': 'add', 'path': '/locations/-',
             'value': {'url': url, 'metadata': {}}}], headers=headers)
        self.assertEqual(200, resp.status_code, resp.text)
        path = '/v2/images/%s/file' % image['id']
        resp = self.request('GET', path, headers=headers)
        self.assertEqual(DATA, resp.content)

        self.daemon.stop()
        # Any port still, but no internal network allowed any more.
        self.daemon = self.make_daemon(options={
            'show_multiple_locations': True,
            'import_filtering_opts.allowed_ports': ''})
        self.daemon.start()
        self.addCleanup(self.daemon.stop)
        self.url = self.daemon.url
        self.internal.seen[:] = []
        for extra in ({}, {'Range': 'bytes=0-9'}):
            resp = self.request('GET', path, headers=dict(headers, **extra))
            self.assertEqual(403, resp.status_code, resp.text)
            self.assertIn('may not fetch from', resp.text)
            self.assertIn('[import_filtering_opts]', resp.text)
            self.assertNotIn(url, resp.text)
        self.assertEqual([], self.internal.seen)
        with open(self.daemon.log) as f:
            self.assertIn('is a loopback address', f.read())
