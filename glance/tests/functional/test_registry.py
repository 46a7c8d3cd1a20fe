"""glance-registry as a daemon: who may call it, how it starts and
refuses to, and glance-api through it when it goes away and comes back.
"""

import concurrent.futures
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

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_registry as hr
from glance.tests.functional import helpers_relay

SECRET = 'test-secret-%s' % uuid.uuid4().hex[:8]
REQUEST_LINE = b'POST /rpc HTTP/1.1\r\n'
GET_MISSING = [{'command': 'image_get', 'kwargs': {'image_id': 'missing'}}]
IDENTITY = {'X-Roles': 'admin', 'X-Identity-Status': 'Confirmed',
            'X-Project-Id': 'admin', 'X-User-Id': 'admin',
            'X-Service-Roles': 'service', 'X-Auth-Token': 'made-up'}


def rpc(registry, body=None, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(
        GET_MISSING if body is None else body)
    return requests.post(registry.url + '/rpc', data=data,
                         headers=headers or {}, timeout=30)


class RegistryTest(testtools.TestCase):
    """A scratch directory and SQLite database per test."""

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db_url = 'sqlite:///%s' % os.path.join(self.workdir,
                                                    'glance.sqlite')

    def registry(self, start=True, **kwargs):
        registry = hr.Registry(self.workdir, self.db_url, **kwargs)
        self.addCleanup(registry.stop)
        if start:
            registry.manage('db', 'sync')
            registry.start()
        return registry

    def refused_start(self, registry):
        """(exit status, output) of a start that must fail."""
        registry.start(wait=False)
        try:
            registry.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.fail('glance-registry started: %s' % registry.output())
        return registry.proc.returncode, registry.output()


class TestRegistrySecret(RegistryTest):

    def test_calls_need_the_shared_secret(self):
        registry = self.registry(
            options={'registry_shared_secret': SECRET})
        for headers in ({}, {'X-Registry-Secret': 'wrong'},
                        {'X-Registry-Secret': SECRET[:-1]},
                        {'X-Registry-Secret': SECRET + 'x'}, IDENTITY):
            resp = rpc(registry, headers=headers)
            self.assertEqual(401, resp.status_code, headers)
            self.assertIn('shared secret', resp.text)
        resp = rpc(registry, headers={'X-Registry-Secret': SECRET})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([None], resp.json())
        # The health check answers anyone (load balancers).
        self.assertEqual(200, requests.get(
            registry.url + '/healthcheck', timeout=30).status_code)

    def test_bad_bodies_are_4xx_never_5xx(self):
        registry = self.registry()
        for raw, status in ((b'{', 400), (b'', 400), (b'{}', 400),
                            (b'[{"command": "no_such"}]', 404),
                            (b'[{"command": "image_get"}]', 400),
                            (b'[{"command": "image_update", "kwargs": '
                             b'{"image_id": 1, "values": 2}}]', 200)):
            resp = rpc(registry, raw=raw)
            self.assertEqual(status, resp.status_code, raw)
            if status != 200:
                self.assertIn('message', resp.json()['error'])
            else:
                self.assertIn('_error', resp.json()[0])
        self.assertEqual(405, requests.get(registry.url + '/rpc',
                                           timeout=30).status_code)

    def test_deprecation_warning_and_loopback_default(self):
        registry = self.registry(options={'bind_host': '127.0.0.1'})
        with open(registry.log) as f:
            log = f.read()
        self.assertIn('glance-registry is deprecated', log)
        self.assertIn('WARNING', log)
        conf = os.path.join(base.ROOT, 'etc', 'glance-registry.conf')
        with open(conf) as f:
            self.assertIn('#bind_port = 9191', f.read())

    def test_help(self):
        out = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.registry', '--help'],
            capture_output=True, text=True, cwd=base.ROOT, timeout=60)
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertIn('DEPRECATED', out.stdout)
        self.assertIn('Exit status', out.stdout)
        self.assertIn('trusted-auth', out.stdout)


class TestRegistryExposure(RegistryTest):

    def test_no_auth_beyond_loopback_refuses_to_start(self):
        registry = self.registry(start=False,
                                 options={'bind_host': '0.0.0.0'})
        status, output = self.refused_start(registry)
        self.assertEqual(1, status, output)
        self.assertIn('registry_shared_secret', output)
        self.assertIn('0.0.0.0', output)

    def test_trusted_auth_without_secret_refuses_to_start(self):
        registry = self.registry(start=False, flavor='trusted-auth')
        status, output = self.refused_start(registry)
        self.assertEqual(1, status, output)
        self.assertIn('trusted-auth', output)

    def test_secret_allows_any_address(self):
        registry = self.registry(options={
            'bind_host': '0.0.0.0', 'registry_shared_secret': SECRET},
            flavor='trusted-auth')
        self.assertEqual(401, rpc(registry, headers=IDENTITY).status_code)
        self.assertEqual(200, rpc(registry, headers={
            'X-Registry-Secret': SECRET}).status_code)


class TestApiThroughRegistryFaults(RegistryTest):
    """glance-api (two workers) through a registry that stops, is gone,
    comes back and restarts under load."""

    def setUp(self):
        super().setUp()
        self.reg = self.registry(
            options={'registry_shared_secret': SECRET}, workers=1)
        self.api = base.Daemon(self.workdir, hr.NO_DATABASE, workers=2,
                               options=hr.api_options(self.reg, SECRET))
        self.api.start()
        self.addCleanup(self.api.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)
        self.h = {'X-Project-Id': 'p-faults', 'X-Roles': 'member,reader'}

    def call(self, method, path, **kwargs):
        kwargs.setdefault('headers', self.h)
        return self.http.request(method, self.api.url + path, timeout=60,
                                 **kwargs)

    def create(self):
        resp = self.call('POST', '/v2/images', json={'name': 'f'})
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()['id']

    def restart_registry(self):
        self.reg = hr.Registry(self.workdir, self.db_url, port=self.reg.port,
                               options={'registry_shared_secret': SECRET},
                               workers=1)
        self.addCleanup(self.reg.stop)
        self.reg.start()

    def test_registry_down_is_503_and_recovered_without_restart(self):
        image_id = self.create()
        self.reg.stop()
        for method, path, kwargs in (
                ('GET', '/v2/images/%s' % image_id, {}),
                ('GET', '/v2/images', {}),
                ('POST', '/v2/images', {'json': {'name': 'x'}}),
                ('DELETE', '/v2/images/%s' % image_id, {})):
            # Each worker meets the loss on its own connections.
            for _ in range(3):
                resp = self.call(method, path, **kwargs)
                self.assertEqual(503, resp.status_code, resp.text)
                self.assertIn('glance-registry', resp.text)
                self.assertIn('Retry-After', resp.headers)
        self.restart_registry()
        for _ in range(4):
            resp = self.call('GET', '/v2/images/%s' % image_id)
            self.assertEqual(200, resp.status_code, resp.text)
        self.create()

    def test_restart_during_a_burst_loses_no_answered_update(self):
        """Each writer sets its own property to 0, 1, 2, ...: what the
        image holds at the end is the last value answered 2xx, or one
        sent after it (a request answered 503 may have been applied)."""
        image_id = self.create()
        answers = {n: [] for n in range(4)}
        stop = threading.Event()

        def writer(n):
            http = requests.Session()
            i = 0
            while not stop.is_set():
                try:
                    resp = http.patch(
                        self.api.url + '/v2/images/%s' % image_id,
                        data=json.dumps([{'op': 'add', 'path': '/k%d' % n,
                                          'value': str(i)}]),
                        headers=dict(self.h, **{
                            'Content-Type': 'application/openstack-images-'
                                            'v2.1-json-patch'}), timeout=60)
                except requests.RequestException as e:
                    status = repr(e)
                else:
                    status = resp.status_code
                answers[n].append((str(i), status))
                i += 1
                time.sleep(0.01)
            http.close()

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(writer, n) for n in range(4)]
            time.sleep(1.5)
            self.reg.stop(signum=signal.SIGTERM)
            time.sleep(1)
            self.restart_registry()
            time.sleep(1.5)
            stop.set()
            for future in futures:
                future.result()
        statuses = [s for sent in answers.values() for _v, s in sent]
        self.assertIn(503, statuses)
        # A concurrent update of the same image may answer 409: that
        # request changed nothing.
        self.assertFalse([s for s in statuses if s not in (200, 409, 503)],
                         statuses)
        resp = self.call('GET', '/v2/images/%s' % image_id)
        self.assertEqual(200, resp.status_code, resp.text)
        image = resp.json()
        for n, sent in answers.items():
            ok = [i for i, (_v, s) in enumerate(sent) if s == 200]
            self.assertTrue(ok, sent)
            down = [i for i, (_v, s) in enumerate(sent) if s == 503]
            if down:
                # Served again after the restart, by itself.
                self.assertGreater(ok[-1], down[0], sent)
            allowed = [value for value, _s in sent[ok[-1]:]]
            self.assertIn(image.get('k%d' % n), allowed, (n, sent[-5:]))


class TestRequestsToRegistry(RegistryTest):
    """How many requests glance-api sends the registry, counted on a
    relay between them: a block of one write call is one request, one of
    several is a transaction (begin with its first call, commit)."""

    def test_create_is_one_request_patch_one_transaction(self):
        reg = self.registry(options={'registry_shared_secret': SECRET},
                            workers=1)
        relay = helpers_relay.Relay(('127.0.0.1', reg.port))
        self.addCleanup(relay.cut)
        api = base.Daemon(self.workdir, hr.NO_DATABASE, workers=1,
                          options=dict(hr.api_options(reg, SECRET),
                                       registry_port=relay.port))
        api.start()
        self.addCleanup(api.stop)
        headers = {'X-Project-Id': 'p-count', 'X-Roles': 'member,reader'}

        def requests_for(method, path, headers=headers, **kwargs):
            before = relay.count(REQUEST_LINE)
            resp = requests.request(method, api.url + path, timeout=30,
                                    headers=headers, **kwargs)
            self.assertLess(resp.status_code, 300, resp.text)
            return relay.count(REQUEST_LINE) - before, resp

        count, resp = requests_for('POST', '/v2/images',
                                   json={'name': 'counted', 'tags': ['t']})
        self.assertEqual(1, count)
        image_id = resp.json()['id']
        # Written: the registry (its transaction ended) has it.
        got = rpc(reg, [{'command': 'image_get',
                         'kwargs': {'image_id': image_id}}],
                  {'X-Registry-Secret': SECRET})
        self.assertEqual(['t'], got.json()[0]['tags'])
        count, resp = requests_for('GET', '/v2/images/%s' % image_id)
        self.assertEqual(1, count)
        count, resp = requests_for(
            'PATCH', '/v2/images/%s' % image_id,
            data=json.dumps([{'op': 'replace', 'path': '/name',
                              'value': 'renamed'}]),
            headers=dict(headers, **{
                'Content-Type': 'application/openstack-images-v2.1-json-'
                                'patch'}))
        self.assertEqual('renamed', resp.json()['name'])
        # Its calls and the commit.
        self.assertGreaterEqual(count, 3)


class TestRegistryKeystone(testtools.TestCase):
    """The keystone flavor against the Keystone of tools/keystone: only
    an administrator's token passes; glance-api takes one for its
    configured administrator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from glance.tests import prerequisites
        from glance.tests.functional import test_keystone as ks
        cls.keystone = None
        cls._unmet = prerequisites.skip_requested('KEYSTONE')
        if cls._unmet is not None:
            return
        keystone = ks.Keystone()
        try:
            env = keystone.acquire()
        except RuntimeError as e:
            cls._unmet = prerequisites.check('KEYSTONE', False, str(e))
            return
        cls.keystone = keystone
        cls.ks, cls.env = ks, env
        cls.workdir = tempfile.mkdtemp(prefix='glance-test-')
        try:
            db_url = 'sqlite:///%s' % os.path.join(cls.workdir,
                                                   'glance.sqlite')
            authtoken = {
                'www_authenticate_uri': env['KEYSTONE_URL'],
                'auth_url': env['KEYSTONE_URL'],
                'auth_type': 'password',
                'username': env['KEYSTONE_SERVICE_USER'],
                'password': env['KEYSTONE_SERVICE_PASSWORD'],
                'project_name': env['KEYSTONE_SERVICE_PROJECT'],
                'user_domain_name': 'Default',
                'project_domain_name': 'Default',
                'region_name': env['KEYSTONE_REGION']}
            cls.reg = hr.Registry(
                cls.workdir, db_url, flavor='keystone',
                options={'keystone_authtoken.' + k: v
                         for k, v in authtoken.items()})
            cls.reg.manage('db', 'sync')
            cls.reg.start()
            options = hr.api_options(cls.reg)
            options.update({'auth_url': env['KEYSTONE_URL'] + '/v3',
                            'admin_user': ks.ADMIN_C,
                            'admin_password': env['KEYSTONE_TEST_PASSWORD'],
                            'admin_tenant_name': ks.PROJECT_C})
            cls.api = base.Daemon(cls.workdir, hr.NO_DATABASE,
                                  options=options)
            cls.api.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ('api', 'reg'):
            if hasattr(cls, name):
                getattr(cls, name).stop()
        if getattr(cls, 'workdir', None):
            shutil.rmtree(cls.workdir, True)
        if cls.keystone is not None:
            cls.keystone.release()
            cls.keystone = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._unmet is not None:
            from glance.tests import prerequisites
            prerequisites.raise_copy(self._unmet)

    def token(self, user, project):
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': self.env['KEYSTONE_TEST_PASSWORD']}}},
            'scope': {'project': {'name': project,
                                  'domain': {'id': 'default'}}}}}
        resp = requests.post(self.env['KEYSTONE_URL'] + '/v3/auth/tokens',
                             json=body, timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.headers['X-Subject-Token']

    def test_only_an_administrator_token_passes(self):
        self.assertEqual(401, rpc(self.reg).status_code)
        self.assertEqual(401, rpc(self.reg, headers=IDENTITY).status_code)
        self.assertEqual(401, rpc(self.reg, headers={
            'X-Registry-Secret': SECRET}).status_code)
        member = self.token(self.ks.MEMBER_A, self.ks.PROJECT_A)
        resp = rpc(self.reg, headers=dict(IDENTITY, **{
            'X-Auth-Token': member}))
        self.assertEqual(403, resp.status_code, resp.text)
        admin = self.token(self.ks.ADMIN_C, self.ks.PROJECT_C)
        resp = rpc(self.reg, headers={'X-Auth-Token': admin})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([None], resp.json())

    def test_api_works_through_it(self):
        headers = {'X-Project-Id': 'p-ks', 'X-Roles': 'member,reader'}
        resp = requests.post(self.api.url + '/v2/images', json={'name': 'k'},
                             headers=headers, timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        resp = requests.get(self.api.url + '/v2/images/' + resp.json()['id'],
                            headers=headers, timeout=60)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('k', resp.json()['name'])


class TestRegistryDaemon(RegistryTest):
    """The daemon code glance-api runs on: TLS, sd_notify, SIGHUP reload
    and SIGTERM, with a worker."""

    def test_tls_notify_reload_and_stop(self):
        from glance.tests.functional import helpers_systemd as hs
        from glance.tests.functional import test_tls
        certs = test_tls.Certificates(self.workdir)
        listener = hs.NotifyListener(self.workdir)
        self.addCleanup(listener.close)
        reg = self.registry(start=False, workers=1, options={
            'cert_file': certs.server, 'key_file': certs.server_key,
            'registry_shared_secret': SECRET})
        reg.manage('db', 'sync')
        reg.start(wait=False, env=listener.env())
        listener.wait('READY')
        url = 'https://127.0.0.1:%d' % reg.port
        resp = requests.post(url + '/rpc', data=json.dumps(GET_MISSING),
                             headers={'X-Registry-Secret': SECRET},
                             verify=certs.ca, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertRaises(requests.RequestException, requests.post,
                          'http://127.0.0.1:%d/rpc' % reg.port, timeout=5,
                          data=json.dumps(GET_MISSING))

        # glance-api through it over https, checking its certificate.
        options = hr.api_options(reg, SECRET)
        options.update(registry_client_protocol='https',
                       registry_client_ca_file=certs.ca)
        api = base.Daemon(self.workdir, hr.NO_DATABASE, options=options)
        api.start()
        self.addCleanup(api.stop)
        h = {'X-Project-Id': 'p-tls', 'X-Roles': 'member,reader'}
        resp = requests.post(api.url + '/v2/images', json={'name': 't'},
                             headers=h, timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        image_id = resp.json()['id']

        # SIGHUP: the new secret is required, the old one refused.
        reg.sections['DEFAULT']['registry_shared_secret'] = SECRET + '2'
        reg.write_config()
        mark = listener.sync()
        reg.proc.send_signal(signal.SIGHUP)
        listener.wait('RELOADING', after=mark)
        listener.wait('READY', after=mark + 1)

        def answered(secret):
            return requests.post(
                url + '/rpc', data=json.dumps(GET_MISSING), timeout=30,
                headers={'X-Registry-Secret': secret},
                verify=certs.ca).status_code
        hd.wait_for(lambda: answered(SECRET) == 401,
                    what='the old secret refused')
        self.assertEqual(200, answered(SECRET + '2'))
        # glance-api still has the old secret: once the worker of before
        # the reload has answered its kept-alive connection, a clear error.

        def refused():
            resp = requests.get(api.url + '/v2/images/' + image_id,
                                headers=h, timeout=60)
            return [resp] if resp.status_code != 200 else None
        resp, = hd.wait_for(refused,
                            what='glance-api refused by the registry')
        self.assertEqual(500, resp.status_code, resp.text)
        self.assertIn('glance-registry refused', resp.text)

        mark = listener.sync()
        reg.proc.send_signal(signal.SIGTERM)
        listener.wait('STOPPING', after=mark)
        self.assertEqual(0, reg.proc.wait(30))
