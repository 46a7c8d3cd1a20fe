"""The keystone paste flavor against a real Keystone.

tools/keystone installs (first use), starts and provisions a Keystone on
127.0.0.1; glance-api runs with ``[paste_deploy] flavor = keystone`` and
keystonemiddleware's authtoken validating real tokens with it.  The tests
check that token, roles and project decide access exactly as the identity
headers do in the default flavor.

GLANCE_TEST_NO_KEYSTONE=1 skips them without starting Keystone, except
under CI (CI=true); otherwise a Keystone that cannot be installed or
started fails them (see glance.tests.prerequisites).
"""

import fcntl
import os
import subprocess
import uuid

import requests

from glance.tests import prerequisites
from glance.tests.functional import base

TOOL = os.path.join(base.ROOT, 'tools', 'keystone')
PORT = os.environ.get('GLANCE_KEYSTONE_PORT', '5000')
HOME = os.environ.get('GLANCE_KEYSTONE_HOME', os.path.expanduser(
    '~/.cache/glance-keystone'))
TOOL_ENV = dict(os.environ, GLANCE_KEYSTONE_HOME=HOME,
                GLANCE_KEYSTONE_PORT=PORT)
# The test accounts tools/keystone creates.
PROJECT_A, PROJECT_B, PROJECT_C = 'glance-test-a', 'glance-test-b', \
    'glance-test-c'
READER_A, MEMBER_A = 'glance-a-reader', 'glance-a-member'
MEMBER_B, ADMIN_C = 'glance-b-member', 'glance-c-admin'


class SharedServer:
    """A server of a tools/ launcher (``tool start`` prints KEY=value
    lines, ``<started_key>=yes`` when it started the server), shared by
    every test process.

    Each user holds a shared lock on a file while it needs the server;
    the last one to leave stops it if a test process started it (one
    started by hand is left running).
    """

    tool, home, port, tool_env, started_key = TOOL, HOME, PORT, TOOL_ENV, \
        'KEYSTONE_STARTED'

    def __init__(self):
        os.makedirs(self.home, exist_ok=True)
        self.users_file = os.path.join(self.home,
                                       '.test-users-%s' % self.port)
        self.marker = os.path.join(self.home,
                                   '.started-by-tests-%s' % self.port)
        self.users = None
        self.env = {}

    def acquire(self):
        name = os.path.relpath(self.tool, base.ROOT)
        self.users = open(self.users_file, 'a')
        fcntl.flock(self.users, fcntl.LOCK_SH)
        try:
            proc = subprocess.run([self.tool, 'start'], capture_output=True,
                                  text=True, timeout=1800,
                                  env=self.tool_env)
        except subprocess.TimeoutExpired as exc:
            self.release()
            raise RuntimeError('%s start timed out: %s' % (name, exc.stderr))
        if proc.returncode != 0:
            self.release()
            raise RuntimeError('%s start failed (%s):\n%s'
                               % (name, proc.returncode, proc.stderr[-3000:]))
        for line in proc.stdout.splitlines():
            key, sep, value = line.partition('=')
            if sep:
                self.env[key] = value
        if self.env.get(self.started_key) == 'yes':
            open(self.marker, 'w').close()
        return self.env

    def release(self):
        if self.users is None:
            return
        self.users.close()
        self.users = None
        with open(self.users_file, 'a') as last:
            try:
                fcntl.flock(last, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            if os.path.exists(self.marker):
                subprocess.run([self.tool, 'stop'], capture_output=True,
                               timeout=60, env=self.tool_env)
                os.unlink(self.marker)


class Keystone(SharedServer):
    """The tools/keystone server."""


class KeystoneFlavorTest(base.SharedDaemonTest):
    """One Keystone and one keystone-flavor glance-api for the class."""

    flavor = 'keystone'

    @classmethod
    def setUpClass(cls):
        cls.keystone = None
        cls._unmet = prerequisites.skip_requested('KEYSTONE')
        if cls._unmet is not None:
            return
        keystone = Keystone()
        try:
            env = keystone.acquire()
        except RuntimeError as e:
            cls._unmet = prerequisites.check('KEYSTONE', False, str(e))
            return
        cls.keystone = keystone
        cls.keystone_url = env['KEYSTONE_URL']
        cls.identity = cls.keystone_url + '/v3'
        cls.password = env['KEYSTONE_TEST_PASSWORD']
        cls.options = {
            'keystone_authtoken.www_authenticate_uri': env['KEYSTONE_URL'],
            'keystone_authtoken.auth_url': env['KEYSTONE_URL'],
            'keystone_authtoken.auth_type': 'password',
            'keystone_authtoken.username': env['KEYSTONE_SERVICE_USER'],
            'keystone_authtoken.password': env['KEYSTONE_SERVICE_PASSWORD'],
            'keystone_authtoken.project_name':
                env['KEYSTONE_SERVICE_PROJECT'],
            'keystone_authtoken.user_domain_name': 'Default',
            'keystone_authtoken.project_domain_name': 'Default',
            'keystone_authtoken.region_name': env['KEYSTONE_REGION'],
            'keystone_authtoken.service_token_roles_required': 'true',
        }
        cls.options.update(getattr(cls, 'extra_options', {}))
        cls.tokens = {}
        try:
            super().setUpClass()
        except Exception:
            cls.keystone.release()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.keystone is not None:
                cls.keystone.release()

    def setUp(self):
        super().setUp()
        self.http.headers['Accept'] = 'application/json'

    def login(self, user, project):
        """A fresh (token, token body) for ``user`` scoped to ``project``."""
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': self.password}}},
            'scope': {'project': {'name': project,
                                  'domain': {'id': 'default'}}}}}
        resp = requests.post(self.identity + '/auth/tokens', json=body,
                             timeout=60)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.headers['X-Subject-Token'], resp.json()['token']

    def token(self, user, project):
        """A token for ``user`` on ``project``, obtained once per class."""
        key = (user, project)
        if key not in self.tokens:
            self.tokens[key] = self.login(user, project)
        return self.tokens[key][0]

    def project_id(self, user, project):
        self.token(user, project)
        return self.tokens[(user, project)][1]['project']['id']

    def as_user(self, user, project, **extra):
        return dict(extra, **{'X-Auth-Token': self.token(user, project)})

    def reader_a(self):
        return self.as_user(READER_A, PROJECT_A)

    def member_a(self):
        return self.as_user(MEMBER_A, PROJECT_A)

    def member_b(self):
        return self.as_user(MEMBER_B, PROJECT_B)

    def admin_c(self):
        return self.as_user(ADMIN_C, PROJECT_C)

    def new_image(self, headers=None, **body):
        body.setdefault('name', 'ks-%s' % uuid.uuid4().hex[:8])
        image = self.create_image(headers=headers or self.member_a(),
                                  **body)
        self.addCleanup(self.request, 'DELETE', '/v2/images/%s' % image['id'],
                        headers=self.admin_c())
        return image

    def listed_ids(self, headers, **params):
        resp = self.request('GET', '/v2/images', headers=headers,
                            params=dict(params, limit=1000))
        self.assertEqual(200, resp.status_code, resp.text)
        return {image['id'] for image in resp.json()['images']}


class TestKeystoneTokens(KeystoneFlavorTest):

    def test_token_roles_come_from_keystone(self):
        _, body = self.login(MEMBER_A, PROJECT_A)
        roles = {role['name'] for role in body['roles']}
        # Keystone's implied roles: member brings reader along.
        self.assertTrue({'member', 'reader'} <= roles, roles)
        _, body = self.login(READER_A, PROJECT_A)
        self.assertEqual({'reader'},
                         {role['name'] for role in body['roles']})

    def test_no_token_is_401(self):
        for method, path in (('GET', '/v2/images'),
                             ('POST', '/v2/images'),
                             ('GET', '/v2/schemas/image'),
                             ('GET', '/v2/images/%s' % uuid.uuid4())):
            resp = self.request(method, path, headers={}, json=None)
            self.assertEqual(401, resp.status_code, (method, path))
            self.assertIn('x-openstack-request-id', resp.headers)
            # authtoken tells the client where to authenticate.
            self.assertEqual('Keystone uri="%s"' % self.keystone_url,
                             resp.headers.get('WWW-Authenticate'))

    def test_identity_headers_without_token_are_401(self):
        headers = {'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                   'X-Roles': 'admin', 'X-Identity-Status': 'Confirmed'}
        resp = self.request('GET', '/v2/images', headers=headers)
        self.assertEqual(401, resp.status_code, resp.text)

    def test_bad_token_is_401(self):
        for token in ('nonsense', 'gAAAAAB' + 'x' * 180):
            resp = self.request('GET', '/v2/images',
                                headers={'X-Auth-Token': token})
            self.assertEqual(401, resp.status_code, resp.text)

    def test_revoked_token_is_401(self):
        token, _ = self.login(MEMBER_A, PROJECT_A)
        admin, _ = self.login(ADMIN_C, PROJECT_C)
        resp = requests.delete(self.identity + '/auth/tokens', timeout=60,
                               headers={'X-Auth-Token': admin,
                                        'X-Subject-Token': token})
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images',
                            headers={'X-Auth-Token': token})
        self.assertEqual(401, resp.status_code, resp.text)

    def test_versions_and_healthcheck_need_no_token(self):
        resp = self.request('GET', '/', headers={})
        self.assertEqual(300, resp.status_code, resp.text)
        self.assertIn('v2.0', {v['id'] for v in resp.json()['versions']})
        resp = self.request('GET', '/versions', headers={})
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.request('GET', '/healthcheck', headers={})
        self.assertEqual(200, resp.status_code, resp.text)

    def test_request_id_with_token(self):
        resp = self.request('GET', '/v2/images', headers=self.member_a())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertRegex(resp.headers['x-openstack-request-id'],
                         '^req-[0-9a-f-]{36}$')


class TestKeystoneAccess(KeystoneFlavorTest):

    def test_member_creates_image_owned_by_token_project(self):
        image = self.new_image(visibility='private')
        self.assertEqual(self.project_id(MEMBER_A, PROJECT_A),
                         image['owner'])
        self.assertEqual('private', image['visibility'])

    def test_identity_headers_do_not_override_the_token(self):
        # authtoken replaces whatever identity headers the client sent.
        headers = self.member_a()
        headers.update({'X-Project-Id': 'someone-else',
                        'X-Tenant-Id': 'someone-else',
                        'X-Roles': 'admin', 'X-User-Id': 'root'})
        image = self.new_image(headers=headers)
        self.assertEqual(self.project_id(MEMBER_A, PROJECT_A),
                         image['owner'])
        resp = self.request('POST', '/v2/images', json={'visibility':
                                                         'public'},
                            headers=headers)
        self.assertEqual(403, resp.status_code, resp.text)

    def test_reader_lists_and_shows_but_cannot_write(self):
        image = self.new_image()
        path = '/v2/images/%s' % image['id']
        self.assertIn(image['id'], self.listed_ids(self.reader_a()))
        resp = self.request('GET', path, headers=self.reader_a())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(image['id'], resp.json()['id'])
        resp = self.request('POST', '/v2/images', json={'name': 'no'},
                            headers=self.reader_a())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.patch(image['id'], [{'op': 'replace', 'path': '/name',
                                         'value': 'no'}],
                          headers=self.reader_a())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('DELETE', path, headers=self.reader_a())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('GET', path, headers=self.member_a())
        self.assertEqual(image['name'], resp.json()['name'])

    def test_other_project_cannot_see_private_image(self):
        image = self.new_image(visibility='private')
        path = '/v2/images/%s' % image['id']
        resp = self.request('GET', path, headers=self.member_b())
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertNotIn(image['id'], self.listed_ids(self.member_b()))
        resp = self.request('DELETE', path, headers=self.member_b())
        self.assertEqual(404, resp.status_code, resp.text)

    def test_shared_image_without_membership_is_invisible(self):
        image = self.new_image(visibility='shared')
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.member_b())
        self.assertEqual(404, resp.status_code, resp.text)

    def test_admin_sees_every_project(self):
        image = self.new_image(visibility='private')
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.admin_c())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn(image['id'], self.listed_ids(self.admin_c()))
        resp = self.patch(image['id'], [{'op': 'replace', 'path': '/name',
                                         'value': 'renamed-by-admin'}],
                          headers=self.admin_c())
        self.assertEqual(200, resp.status_code, resp.text)

    def test_public_image_needs_admin(self):
        resp = self.request('POST', '/v2/images',
                            json={'visibility': 'public'},
                            headers=self.member_a())
        self.assertEqual(403, resp.status_code, resp.text)
        image = self.new_image(headers=self.admin_c(), visibility='public')
        self.assertEqual(self.project_id(ADMIN_C, PROJECT_C),
                         image['owner'])
        for headers in (self.member_b(), self.reader_a()):
            self.assertIn(image['id'], self.listed_ids(headers))

    def test_member_cannot_give_image_to_other_project(self):
        other = self.project_id(MEMBER_B, PROJECT_B)
        resp = self.request('POST', '/v2/images', json={'owner': other},
                            headers=self.member_a())
        self.assertEqual(403, resp.status_code, resp.text)
        image = self.new_image(headers=self.admin_c(), owner=other)
        self.assertEqual(other, image['owner'])
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.member_b())
        self.assertEqual(200, resp.status_code, resp.text)


class TestKeystoneMembers(KeystoneFlavorTest):
    """Sharing decided by the projects and roles of real tokens."""

    def members_path(self, image_id, member=None):
        path = '/v2/images/%s/members' % image_id
        return path if member is None else '%s/%s' % (path, member)

    def test_share_accept_and_list(self):
        image = self.new_image(visibility='shared')
        project_b = self.project_id(MEMBER_B, PROJECT_B)
        path = self.members_path(image['id'])
        resp = self.request('POST', path, json={'member': project_b},
                            headers=self.reader_a())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('POST', path, json={'member': project_b},
                            headers=self.member_a())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('pending', resp.json()['status'])
        # A pending member can read the image but does not list it.
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.member_b())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertNotIn(image['id'], self.listed_ids(self.member_b()))
        # Only the member project decides its status.
        member_path = self.members_path(image['id'], project_b)
        resp = self.request('PUT', member_path, json={'status': 'accepted'},
                            headers=self.member_a())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('PUT', member_path, json={'status': 'accepted'},
                            headers=self.member_b())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn(image['id'], self.listed_ids(self.member_b()))
        # The member sees its own row; the owner's reader sees them all.
        resp = self.request('GET', path, headers=self.member_b())
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([project_b], [m['member_id']
                                       for m in resp.json()['members']])
        resp = self.request('GET', path, headers=self.reader_a())
        self.assertEqual(200, resp.status_code, resp.text)
        # A member cannot share further nor change the image.
        resp = self.request('POST', path, json={'member': 'someone'},
                            headers=self.member_b())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.patch(image['id'], [{'op': 'replace', 'path': '/name',
                                         'value': 'no'}],
                          headers=self.member_b())
        self.assertEqual(403, resp.status_code, resp.text)

    def test_private_image_cannot_be_shared(self):
        image = self.new_image(visibility='private')
        resp = self.request('POST', self.members_path(image['id']),
                            json={'member': self.project_id(MEMBER_B,
                                                            PROJECT_B)},
                            headers=self.member_a())
        self.assertEqual(403, resp.status_code, resp.text)
