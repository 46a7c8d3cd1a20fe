"""glance.context.RequestContext."""

import subprocess
import sys

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


class TestAdminCheck(base.TestCase):
    """The check whoever builds a context hands it."""

    def test_given_check_decides_once_on_first_use(self):
        asked = []

        def check(ctx):
            asked.append(ctx)
            return ctx.user_id == 'boss'

        ctx = context.RequestContext(user_id='boss', roles=['member'],
                                     admin_check=check)
        self.assertEqual([], asked)
        self.assertTrue(ctx.is_admin)
        self.assertTrue(ctx.is_admin)
        self.assertEqual([ctx], asked)
        self.assertFalse(context.RequestContext(
            user_id='clerk', roles=['admin'], admin_check=check).is_admin)

    def test_check_reading_is_admin_sees_false(self):
        # A policy check puts is_admin in the credentials it evaluates.
        seen = []

        def check(ctx):
            seen.append(ctx.is_admin)
            return True

        ctx = context.RequestContext(admin_check=check)
        self.assertTrue(ctx.is_admin)
        self.assertEqual([False], seen)

    def test_explicit_admin_skips_the_check(self):
        def check(ctx):
            raise AssertionError('not asked')

        self.assertTrue(context.RequestContext(
            is_admin=True, admin_check=check).is_admin)

    def test_elevated_copy_keeps_the_check(self):
        admin = context.RequestContext(
            roles=['member'], admin_check=lambda ctx: False).elevated()
        admin.is_admin = False
        # A copy asks the same check, not the role default.
        self.assertFalse(admin.is_admin)
        self.assertIn('admin', admin.roles)

    def test_deciding_imports_nothing_of_the_domain(self):
        code = ('import sys\n'
                'from glance import context\n'
                'assert context.RequestContext(roles=["admin"]).is_admin\n'
                'print(sorted(m for m in sys.modules\n'
                '             if m.startswith(("glance.domain", "glance.db",'
                ' "glance.store", "glance.api"))))\n')
        proc = subprocess.run([sys.executable, '-c', code],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual('[]\n', proc.stdout)
