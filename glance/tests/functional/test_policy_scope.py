"""Policy rules see the scope, domains and service token of the caller.

The identity headers Keystone's auth_token sets beyond user, project and
roles (``OpenStack-System-Scope``, ``X-Domain-Id``, ``X-User-Domain-Id``,
``X-Project-Domain-Id``, ``X-Is-Admin-Project``, ``X-Service-Roles``,
``X-Service-User-Id``, ``X-Service-Project-Id`` ...) reach the request
context and the policy credentials, so rules on them decide as upstream's
do. The daemon runs the default flavor, which reads the same headers.
"""

from glance.tests.functional import helpers_images as h
from glance.tests.functional import test_policy_file


class TestScopeRules(test_policy_file.PolicyFileTest):
    policy = {
        # Only a service acting for the caller lists images.
        'get_images': 'service_roles:service',
        # Members of projects of domain d1 create images.
        'add_image': 'role:member and project_domain_id:d1',
        # Only tokens of the admin project delete.
        'delete_image': 'is_admin_project:True and role:member',
        # Administrators: callers whose project is in domain 'ops'
        # (matched against the context's own values). They see the
        # private images of other projects, which readers may show.
        'context_is_admin': "'ops':%(project_domain)s",
        'get_image': 'role:reader',
    }

    def status(self, method, path, **extra):
        resp = self.request(method, path, headers=self.headers(**extra))
        return resp.status_code

    def test_service_roles(self):
        self.assertEqual(200, self.status(
            'GET', '/v2/images', **{'X-Service-Roles': 'reader, service'}))
        # The caller's own roles are not the service's.
        self.assertEqual(403, self.request(
            'GET', '/v2/images',
            headers=self.headers(roles='service,member')).status_code)
        self.assertEqual(403, self.status('GET', '/v2/images'))
        # service_roles: matches the roles as sent, case included.
        self.assertEqual(403, self.status(
            'GET', '/v2/images', **{'X-Service-Roles': 'Service'}))

    def test_project_domain(self):
        resp = self.request('POST', '/v2/images', json={},
                            headers=self.headers(
                                **{'X-Project-Domain-Id': 'd1'}))
        self.assertEqual(201, resp.status_code, resp.text)
        for extra in ({'X-Project-Domain-Id': 'd2'},
                      {'X-User-Domain-Id': 'd1'}, {}):
            resp = self.request('POST', '/v2/images', json={},
                                headers=self.headers(**extra))
            self.assertEqual(403, resp.status_code, extra)

    def test_admin_project(self):
        creator = self.headers(**{'X-Project-Domain-Id': 'd1'})
        first = self.new_image(headers=creator)
        second = self.new_image(headers=creator)
        resp = self.request('DELETE', '/v2/images/%s' % first['id'],
                            headers=self.headers(
                                **{'X-Is-Admin-Project': 'False'}))
        self.assertEqual(403, resp.status_code, resp.text)
        # A token names its admin project unless it says otherwise.
        for image, extra in ((first, {'X-Is-Admin-Project': 'True'}),
                             (second, {})):
            resp = self.request('DELETE', '/v2/images/%s' % image['id'],
                                headers=self.headers(**extra))
            self.assertEqual(204, resp.status_code, resp.text)

    def test_administrator_rule_reads_the_context(self):
        image = self.new_image(
            visibility='private',
            headers=self.headers(**{'X-Project-Domain-Id': 'd1'}))
        path = '/v2/images/%s' % image['id']
        stranger = dict(project=h.new_project(), roles='member,reader')
        resp = self.request('GET', path, headers=self.headers(
            **stranger, **{'X-Project-Domain-Id': 'ops'}))
        self.assertEqual(200, resp.status_code, resp.text)
        for domain in ('dev', None):
            extra = {'X-Project-Domain-Id': domain} if domain else {}
            resp = self.request('GET', path, headers=self.headers(
                **stranger, **extra))
            self.assertEqual(404, resp.status_code, resp.text)


class TestScopedTokens(test_policy_file.PolicyFileTest):
    """With the default rules, which are registered for project scope, a
    system- or domain-scoped token is refused, whatever its roles."""

    def test_system_and_domain_scope_refused(self):
        admin = dict(project=h.new_project(), roles='admin,member,reader')
        self.assertEqual(200, self.request(
            'GET', '/v2/images', headers=self.headers(**admin)).status_code)
        for extra in ({'OpenStack-System-Scope': 'all'},
                      {'X-Domain-Id': 'd1'}):
            resp = self.request('GET', '/v2/images',
                                headers=self.headers(**admin, **extra))
            self.assertEqual(403, resp.status_code, extra)
            resp = self.request('POST', '/v2/images', json={},
                                headers=self.headers(**extra))
            self.assertEqual(403, resp.status_code, extra)


class TestKeystoneFlavor(test_policy_file.PolicyFileTest):
    """The context filter of the keystone flavors reads them too (here
    behind the test flavor's token filter, which stands for auth_token)."""

    flavor = 'fakeauth'
    policy = {'get_images': 'service_roles:service and user_domain_id:d1'}

    def test_service_roles_and_user_domain(self):
        token = {'X-Auth-Token': 'u1:%s:member,reader' % self.project}
        for extra, expected in (
                ({'X-Service-Roles': 'service',
                  'X-User-Domain-Id': 'd1'}, 200),
                ({'X-Service-Roles': 'service'}, 403),
                ({'X-User-Domain-Id': 'd1'}, 403)):
            resp = self.request('GET', '/v2/images',
                                headers=dict(token, **extra))
            self.assertEqual(expected, resp.status_code, extra)
