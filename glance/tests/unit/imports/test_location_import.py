"""glance.imports.location_import: who may add a location by import."""

from glance.common import exception
from glance.imports import location_import
from glance.store import registry
from glance.tests.unit import base
from glance.tests.unit.domain.images import test_locations


class TestCallerMayAdd(test_locations.TestUsableStore):

    def test_service_role_anywhere(self):
        for ctx in (base.ctx(roles=('service',)),
                    base.ctx(roles=('member',), service_roles=['service'])):
            location_import._check_caller_may_add(ctx, 'rbd://a/b/c/d')

    def test_others_http_only(self):
        location_import._check_caller_may_add(base.ctx(), 'http://h/x')
        for ctx in (base.ctx(), base.admin_ctx()):
            self.assertRaises(exception.Forbidden,
                              location_import._check_caller_may_add, ctx,
                              'rbd://a/b/c/d')
        self.config(stores=['file'], group='glance_store')
        registry.reset()
        self.assertRaises(exception.Forbidden,
                          location_import._check_caller_may_add, base.ctx(),
                          'http://h/x')
