"""glance.context.RequestContext."""

from glance import context
from glance.tests.unit import base


class TestRequestContext(base.TestCase):

    def test_admin_from_role(self):
        self.assertTrue(context.RequestContext(roles=['Admin']).is_admin)
        self.assertTrue(context.RequestContext(roles=['admin']).is_admin)
        self.assertFalse(context.RequestContext(roles=['member']).is_admin)

    def test_explicit_admin_kept(self):
        self.assertTrue(context.RequestContext(is_admin=True,
                                               roles=[]).is_admin)

    def test_owner_is_project(self):
        ctx = context.RequestContext(project_id='p1')
        self.assertEqual('p1', ctx.owner)

    def test_can_see_deleted(self):
        self.assertFalse(context.RequestContext(roles=['member'])
                         .can_see_deleted)
        self.assertTrue(context.RequestContext(roles=['member'],
                                               show_deleted=True)
                        .can_see_deleted)
        self.assertTrue(context.RequestContext(roles=['admin'])
                        .can_see_deleted)

    def test_elevated(self):
        ctx = base.ctx(project='p1', roles=('member',), request_id='req-1')
        admin = ctx.elevated()
        self.assertTrue(admin.is_admin)
        self.assertIn('admin', admin.roles)
        self.assertEqual('p1', admin.project_id)
        self.assertEqual('u1', admin.user_id)
        self.assertEqual('req-1', admin.request_id)
        # The original is untouched.
        self.assertFalse(ctx.is_admin)
        self.assertEqual(['member'], ctx.roles)

    def test_elevated_does_not_duplicate_admin(self):
        admin = base.admin_ctx().elevated()
        self.assertEqual(1, admin.roles.count('admin'))
