"""Unified limits: quotas kept in a real Keystone, read by oslo.limit.

The test registers its own image service and endpoint in the Keystone of
tools/keystone, sets registered (default) limits and one project limit,
and runs glance-api with ``use_keystone_limits`` pointing at that
endpoint. Fresh projects keep other tests' images out of the counts.
"""

import uuid

import requests

from glance.tests import prerequisites
from glance.tests.functional import test_keystone

MIB = 1024 * 1024
DEFAULTS = {'image_count_total': 2, 'image_size_total': 1,
            'image_stage_total': 1, 'image_count_uploading': 1}


class TestUnifiedLimits(test_keystone.KeystoneFlavorTest):

    @classmethod
    def setUpClass(cls):
        cls.cleanups = []
        if prerequisites.skip_requested('KEYSTONE') is not None:
            return super().setUpClass()
        # Held until the class's own hold (in the parent) is taken.
        holder = test_keystone.Keystone()
        try:
            env = holder.acquire()
        except RuntimeError as e:
            cls.keystone = None
            cls._unmet = prerequisites.check('KEYSTONE', False, str(e))
            return
        try:
            cls._provision(env)
            super().setUpClass()
        finally:
            holder.release()

    @classmethod
    def _admin_call(cls, method, path, body=None, expect=(200, 201, 204)):
        resp = requests.request(method, cls.ks_v3 + path, json=body,
                                headers={'X-Auth-Token': cls.admin_token},
                                timeout=60)
        assert resp.status_code in expect, (method, path, resp.status_code,
                                            resp.text)
        return resp.json() if resp.content else None

    @classmethod
    def _provision(cls, env):
        cls.ks_v3 = env['KEYSTONE_URL'] + '/v3'
        resp = requests.post(cls.ks_v3 + '/auth/tokens', json={'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': env['KEYSTONE_ADMIN_USER'],
                'domain': {'id': 'default'},
                'password': env['KEYSTONE_ADMIN_PASSWORD']}}},
            'scope': {'system': {'all': True}}}}, timeout=60)
        assert resp.status_code == 201, resp.text
        cls.admin_token = resp.headers['X-Subject-Token']
        tag = uuid.uuid4().hex[:8]
        service = cls._admin_call('POST', '/services', {'service': {
            'type': 'image', 'name': 'glance-limits-%s' % tag}})['service']
        cls.cleanups.append(('/services/%s' % service['id']))
        endpoint = cls._admin_call('POST', '/endpoints', {'endpoint': {
            'service_id': service['id'], 'interface': 'public',
            'region_id': env['KEYSTONE_REGION'],
            'url': 'http://127.0.0.1:9/limits-%s' % tag}})['endpoint']
        cls.cleanups.insert(0, '/endpoints/%s' % endpoint['id'])
        for name, value in DEFAULTS.items():
            found = cls._admin_call('POST', '/registered_limits', {
                'registered_limits': [{
                    'service_id': service['id'], 'resource_name': name,
                    'default_limit': value,
                    'region_id': env['KEYSTONE_REGION']}]})
            cls.cleanups.insert(0, '/registered_limits/%s'
                                % found['registered_limits'][0]['id'])
        roles = {r['name']: r['id'] for r in cls._admin_call(
            'GET', '/roles')['roles']}
        users = {u['name']: u['id'] for u in cls._admin_call(
            'GET', '/users')['users']}
        # The service user reads limits with a system-scoped token.
        cls._admin_call('PUT', '/system/users/%s/roles/%s' % (
            users[env['KEYSTONE_SERVICE_USER']], roles['reader']))
        cls.projects = {}
        cls.password = env['KEYSTONE_TEST_PASSWORD']
        for key in ('small', 'big'):
            name = 'glance-limits-%s-%s' % (key, tag)
            project = cls._admin_call('POST', '/projects', {'project': {
                'name': name, 'domain_id': 'default'}})['project']
            cls.cleanups.insert(0, '/projects/%s' % project['id'])
            user = cls._admin_call('POST', '/users', {'user': {
                'name': name, 'domain_id': 'default',
                'password': cls.password}})['user']
            cls.cleanups.insert(0, '/users/%s' % user['id'])
            cls._admin_call('PUT', '/projects/%s/users/%s/roles/%s' % (
                project['id'], user['id'], roles['member']))
            cls.projects[key] = (name, project['id'])
        limit = cls._admin_call('POST', '/limits', {'limits': [{
            'service_id': service['id'], 'project_id':
                cls.projects['big'][1], 'resource_name': 'image_count_total',
            'resource_limit': 5, 'region_id': env['KEYSTONE_REGION']}]})
        cls.cleanups.insert(0, '/limits/%s' % limit['limits'][0]['id'])
        cls.extra_options = {
            'use_keystone_limits': 'true',
            'oslo_limit.endpoint_id': endpoint['id'],
            'oslo_limit.auth_url': env['KEYSTONE_URL'],
            'oslo_limit.auth_type': 'password',
            'oslo_limit.username': env['KEYSTONE_SERVICE_USER'],
            'oslo_limit.password': env['KEYSTONE_SERVICE_PASSWORD'],
            'oslo_limit.user_domain_name': 'Default',
            'oslo_limit.system_scope': 'all',
        }

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for path in getattr(cls, 'cleanups', ()):
                try:
                    cls._admin_call('DELETE', path, expect=(204, 404))
                except Exception:
                    pass

    def user(self, key):
        name, _project_id = self.projects[key]
        return self.as_user(name, name)

    def test_usage_and_image_count(self):
        small = self.user('small')
        resp = self.request('GET', '/v2/info/usage', headers=small)
        self.assertEqual(200, resp.status_code, resp.text)
        usage = resp.json()['usage']
        self.assertEqual({'limit': 2, 'usage': 0},
                         usage['image_count_total'])
        self.assertEqual(set(DEFAULTS), set(usage))
        for _ in range(2):
            self.create_image(headers=small, name='counted')
        resp = self.request('POST', '/v2/images', json={'name': 'one more'},
                            headers=small)
        self.assertEqual(413, resp.status_code, resp.text)
        usage = self.request('GET', '/v2/info/usage',
                             headers=small).json()['usage']
        self.assertEqual({'limit': 2, 'usage': 2},
                         usage['image_count_total'])
        # A project limit beats the registered default.
        big = self.user('big')
        for _ in range(3):
            self.create_image(headers=big, name='counted')

    def test_size_limit_on_upload(self):
        big = self.user('big')
        image = self.create_image(headers=big, name='large',
                                  disk_format='raw', container_format='bare')
        headers = dict(big, **{'Content-Type': 'application/octet-stream'})
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=b'\0' * (2 * MIB), headers=headers)
        self.assertEqual(413, resp.status_code, resp.text)
        self.assertEqual('queued', self.request(
            'GET', '/v2/images/%s' % image['id'],
            headers=big).json()['status'])
