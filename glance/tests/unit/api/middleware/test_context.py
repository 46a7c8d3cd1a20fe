"""The three identity filters: context (keystone flavor),
unauthenticated_context (default flavor) and fakeauth (tests)."""

import json
import os

import fixtures
import webob
import webob.dec

from glance.api.middleware import context as context_mw
from glance.api.middleware import fakeauth
from glance.api.middleware import request_id
from glance.api.middleware import unauthenticated_context
from glance.domain import policy
from glance.tests.unit import base


class ContextRecorder:
    """An application remembering the context of the last request."""

    def __init__(self):
        self.ctx = None

    @webob.dec.wsgify
    def __call__(self, req):
        self.ctx = req.environ['glance.context']
        return webob.Response('ok')


class TestContextMiddleware(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inner = ContextRecorder()
        self.app = context_mw.filter_factory({})(self.inner)

    def call(self, **headers):
        return webob.Request.blank('/', headers=headers).get_response(
            self.app)

    def test_confirmed_identity(self):
        resp = self.call(**{'X-Identity-Status': 'Confirmed',
                            'X-Auth-Token': 'tok', 'X-User-Id': 'u1',
                            'X-Project-Id': 'p1',
                            'X-Roles': 'Member, reader'})
        self.assertEqual(200, resp.status_int)
        ctx = self.inner.ctx
        self.assertEqual('tok', ctx.auth_token)
        self.assertEqual('u1', ctx.user_id)
        self.assertEqual('p1', ctx.project_id)
        self.assertEqual(['member', 'reader'], ctx.roles)
        self.assertFalse(ctx.is_admin)
        self.assertFalse(ctx.read_only)

    def test_tenant_id_fallback(self):
        self.call(**{'X-Identity-Status': 'Confirmed',
                     'X-Tenant-Id': 'legacy'})
        self.assertEqual('legacy', self.inner.ctx.project_id)

    def test_admin_role_makes_admin(self):
        self.call(**{'X-Identity-Status': 'Confirmed', 'X-Roles': 'ADMIN'})
        self.assertTrue(self.inner.ctx.is_admin)

    def test_unauthenticated_is_401(self):
        for status in (None, 'Invalid'):
            headers = {'X-Identity-Status': status} if status else {}
            resp = self.call(**headers)
            self.assertEqual(401, resp.status_int)
        self.assertIsNone(self.inner.ctx)

    def test_anonymous_access(self):
        self.config(allow_anonymous_access=True)
        resp = self.call(**{'X-Identity-Status': 'Invalid'})
        self.assertEqual(200, resp.status_int)
        ctx = self.inner.ctx
        self.assertTrue(ctx.read_only)
        self.assertFalse(ctx.is_admin)
        self.assertIsNone(ctx.project_id)
        self.assertEqual([], ctx.roles)

    def test_valid_service_catalog(self):
        resp = self.call(**{'X-Identity-Status': 'Confirmed',
                            'X-Service-Catalog': '[]'})
        self.assertEqual(200, resp.status_int)

    def test_invalid_service_catalog(self):
        # Upstream answers 500; here a malformed header is the request's
        # fault and gets a 400 with a reason. The request goes no further.
        resp = self.call(**{'X-Identity-Status': 'Confirmed',
                            'X-Service-Catalog': '{not json'})
        self.assertIsNone(self.inner.ctx)
        self.assertEqual(400, resp.status_int)

    def test_request_id_from_environ(self):
        app = request_id.filter_factory({})(self.app)
        resp = webob.Request.blank(
            '/', headers={'X-Identity-Status': 'Confirmed',
                          'X-Openstack-Request-ID': 'req-42'}
        ).get_response(app)
        self.assertEqual('req-42', resp.headers['x-openstack-request-id'])
        self.assertEqual('req-42', self.inner.ctx.request_id)


class TestUnauthenticatedContext(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inner = ContextRecorder()
        self.app = unauthenticated_context.filter_factory({})(self.inner)

    def call(self, **headers):
        resp = webob.Request.blank('/', headers=headers).get_response(
            self.app)
        self.assertEqual(200, resp.status_int)
        return self.inner.ctx

    def test_no_headers_is_noauth_admin(self):
        ctx = self.call()
        self.assertEqual('admin', ctx.project_id)
        self.assertEqual('admin', ctx.user_id)
        self.assertEqual(['admin', 'member', 'reader'], ctx.roles)
        self.assertTrue(ctx.is_admin)

    def test_noauth_options(self):
        self.config(project_id='ops', user_id='bob', roles=['reader'],
                    group='noauth')
        ctx = self.call()
        self.assertEqual(('ops', 'bob', ['reader']),
                         (ctx.project_id, ctx.user_id, ctx.roles))
        self.assertFalse(ctx.is_admin)

    def test_project_header_gets_header_roles(self):
        ctx = self.call(**{'X-Project-Id': 'p1', 'X-User-Id': 'u1'})
        self.assertEqual('p1', ctx.project_id)
        self.assertEqual('u1', ctx.user_id)
        self.assertEqual(['member', 'reader'], ctx.roles)
        self.assertFalse(ctx.is_admin)

    def test_tenant_header(self):
        self.assertEqual('t1', self.call(**{'X-Tenant-Id': 't1'}).project_id)

    def test_explicit_roles(self):
        ctx = self.call(**{'X-Project-Id': 'p1', 'X-Roles': 'Reader'})
        self.assertEqual(['reader'], ctx.roles)
        ctx = self.call(**{'X-Roles': 'reader'})
        self.assertEqual('admin', ctx.project_id)
        self.assertEqual(['reader'], ctx.roles)
        self.assertFalse(ctx.is_admin)

    def test_user_header_without_project(self):
        ctx = self.call(**{'X-User-Id': 'carol'})
        self.assertEqual('carol', ctx.user_id)
        self.assertEqual('admin', ctx.project_id)

    def test_token_ignored(self):
        ctx = self.call(**{'X-Auth-Token': 'notused'})
        self.assertEqual('notused', ctx.auth_token)
        self.assertTrue(ctx.is_admin)


class TestFakeAuth(base.TestCase):

    def setUp(self):
        super().setUp()

        @webob.dec.wsgify
        def headers_app(req):
            keys = ('X-Identity-Status', 'X-User-Id', 'X-Project-Id',
                    'X-Tenant-Id', 'X-Roles')
            return webob.Response(json={k: req.headers.get(k) for k in keys})

        self.app = fakeauth.filter_factory({})(headers_app)

    def call(self, **headers):
        return json.loads(webob.Request.blank('/', headers=headers)
                          .get_response(self.app).body)

    def test_token_becomes_identity(self):
        seen = self.call(**{'X-Auth-Token': 'alice:p1:member,reader'})
        self.assertEqual({'X-Identity-Status': 'Confirmed',
                          'X-User-Id': 'alice', 'X-Project-Id': 'p1',
                          'X-Tenant-Id': None,
                          'X-Roles': 'member,reader'}, seen)

    def test_no_project(self):
        seen = self.call(**{'X-Auth-Token': 'alice:none:reader',
                            'X-Project-Id': 'spoofed',
                            'X-Tenant-Id': 'spoofed'})
        self.assertEqual('Confirmed', seen['X-Identity-Status'])
        self.assertIsNone(seen['X-Project-Id'])
        self.assertIsNone(seen['X-Tenant-Id'])

    def test_bad_token_invalid(self):
        for token in (None, 'garbage', 'a:b', 'a:b:c:d'):
            headers = {'X-Auth-Token': token} if token else {}
            seen = self.call(**headers)
            self.assertEqual('Invalid', seen['X-Identity-Status'])

    def test_spoofed_status_overwritten(self):
        seen = self.call(**{'X-Identity-Status': 'Confirmed'})
        self.assertEqual('Invalid', seen['X-Identity-Status'])

    def test_with_context_filter(self):
        inner = ContextRecorder()
        app = fakeauth.filter_factory({})(
            context_mw.filter_factory({})(inner))
        resp = webob.Request.blank(
            '/', headers={'X-Auth-Token': 'u:p:admin'}).get_response(app)
        self.assertEqual(200, resp.status_int)
        self.assertTrue(inner.ctx.is_admin)
        self.assertEqual('p', inner.ctx.project_id)


class TestAdminFromPolicy(base.TestCase):
    """Both identity filters decide is_admin by the context_is_admin rule
    in force, not by the admin role."""

    def setUp(self):
        super().setUp()
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'policy.yaml')
        with open(path, 'w') as f:
            f.write('"context_is_admin": "role:cloud_admin"\n')
        policy.get_enforcer()   # registers [oslo_policy]
        self.config(policy_file=path, group='oslo_policy')
        policy.reset()
        self.inner = ContextRecorder()

    def admin(self, app, **headers):
        webob.Request.blank('/', headers=headers).get_response(app)
        return self.inner.ctx.is_admin

    def test_context_filter(self):
        app = context_mw.filter_factory({})(self.inner)
        confirmed = {'X-Identity-Status': 'Confirmed'}
        self.assertTrue(self.admin(app, **confirmed, **{
            'X-Roles': 'cloud_admin'}))
        self.assertFalse(self.admin(app, **confirmed, **{
            'X-Roles': 'admin'}))

    def test_unauthenticated_context_filter(self):
        app = unauthenticated_context.filter_factory({})(self.inner)
        self.assertTrue(self.admin(app, **{'X-Roles': 'cloud_admin'}))
        self.assertFalse(self.admin(app, **{'X-Roles': 'admin'}))


# The scope, domain and service token headers keystonemiddleware sets.
SCOPED = {
    'OpenStack-System-Scope': 'all', 'X-Domain-Id': 'd1',
    'X-Domain-Name': 'Default', 'X-User-Domain-Id': 'ud1',
    'X-Project-Domain-Id': 'pd1', 'X-User-Name': 'alice',
    'X-Tenant-Name': 'legacy-name', 'X-Is-Admin-Project': 'False',
    'X-Service-Roles': 'Service, admin', 'X-Service-User-Id': 'su1',
    'X-Service-Project-Id': 'sp1', 'X-Service-User-Domain-Id': 'sud1',
    'X-Service-Project-Domain-Id': 'spd1'}


class TestScopeHeaders(base.TestCase):
    """Both identity filters read the headers oslo.context's from_environ
    reads, keeping the case of every value but the roles."""

    def setUp(self):
        super().setUp()
        self.inner = ContextRecorder()

    def context(self, app, **headers):
        webob.Request.blank('/', headers=headers).get_response(app)
        return self.inner.ctx

    def assert_scoped(self, ctx):
        self.assertEqual(
            ('all', 'd1', 'Default', 'ud1', 'pd1', 'alice', 'legacy-name',
             False, ['Service', 'admin'], 'su1', 'sp1', 'sud1', 'spd1'),
            (ctx.system_scope, ctx.domain_id, ctx.domain_name,
             ctx.user_domain_id, ctx.project_domain_id, ctx.user_name,
             ctx.project_name, ctx.is_admin_project, ctx.service_roles,
             ctx.service_user_id, ctx.service_project_id,
             ctx.service_user_domain_id, ctx.service_project_domain_id))
        values = policy.creds(ctx)
        self.assertEqual('all', values['system'])
        self.assertEqual(['Service', 'admin'], values['service_roles'])
        self.assertFalse(values['is_admin_project'])
        # A service role is no role of the caller's.
        self.assertFalse(ctx.is_admin)
        # An elevated copy keeps them.
        elevated = ctx.elevated()
        self.assertEqual(('all', 'd1', False, ['Service', 'admin']),
                         (elevated.system_scope, elevated.domain_id,
                          elevated.is_admin_project,
                          elevated.service_roles))

    def assert_unscoped(self, ctx):
        self.assertEqual((None, None, None, None, True, [], None),
                         (ctx.system_scope, ctx.domain_id,
                          ctx.user_domain_id, ctx.project_domain_id,
                          ctx.is_admin_project, ctx.service_roles,
                          ctx.service_user_id))

    def test_context_filter(self):
        app = context_mw.filter_factory({})(self.inner)
        confirmed = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'Member'}
        self.assert_scoped(self.context(app, **confirmed, **SCOPED))
        self.assert_unscoped(self.context(app, **confirmed))

    def test_unauthenticated_context_filter(self):
        app = unauthenticated_context.filter_factory({})(self.inner)
        self.assert_scoped(self.context(app, **{'X-Project-Id': 'p1'},
                                        **SCOPED))
        self.assert_unscoped(self.context(app))

    def test_project_name_first_header_wins(self):
        app = unauthenticated_context.filter_factory({})(self.inner)
        ctx = self.context(app, **{'X-Project-Name': 'new',
                                   'X-Tenant-Name': 'old'})
        self.assertEqual('new', ctx.project_name)

    def test_admin_project_flag_any_case(self):
        app = unauthenticated_context.filter_factory({})(self.inner)
        for sent, meant in (('TRUE', True), ('true', True), ('no', False),
                            ('false', False), ('', False)):
            ctx = self.context(app, **{'X-Is-Admin-Project': sent})
            self.assertIs(meant, ctx.is_admin_project, sent)


class TestAdminRuleTarget(base.TestCase):
    """context_is_admin is checked against the context's own dict, so
    its ``%(...)s`` matches read the caller's values."""

    def setUp(self):
        super().setUp()
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'policy.yaml')
        with open(path, 'w') as f:
            f.write('"context_is_admin": "\'ops\':%(project_domain)s"\n')
        policy.get_enforcer()   # registers [oslo_policy]
        self.config(policy_file=path, group='oslo_policy')
        policy.reset()
        self.addCleanup(policy.reset)
        self.inner = ContextRecorder()

    def test_rule_reads_the_context(self):
        app = context_mw.filter_factory({})(self.inner)
        confirmed = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'reader'}
        webob.Request.blank('/', headers=dict(
            confirmed, **{'X-Project-Domain-Id': 'ops'})).get_response(app)
        self.assertTrue(self.inner.ctx.is_admin)
        webob.Request.blank('/', headers=dict(
            confirmed, **{'X-Project-Domain-Id': 'dev'})).get_response(app)
        self.assertFalse(self.inner.ctx.is_admin)
        webob.Request.blank('/', headers=confirmed).get_response(app)
        self.assertFalse(self.inner.ctx.is_admin)
