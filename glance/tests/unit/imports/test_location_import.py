"""glance.imports.location_import: who may add a location by import, and
in which order its refusals come."""

import fixtures

from glance.common import exception
from glance.domain.images import images
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


class TestAddLocationRefusals(base.DBTestCase):

    def setUp(self):
        super().setUp()
        self.config(filesystem_store_datadir=self.useFixture(
            fixtures.TempDir()).path, group='glance_store')
        registry.reset()
        self.addCleanup(registry.reset)

    def test_filtered_url_refused_after_the_image_checks(self):
        url = 'http://127.0.0.1/x'
        ctx = base.ctx()
        self.assertRaises(exception.NotFound, location_import.add_location,
                          ctx, 'no-such-image', url)
        image = images.create(ctx, {'name': 'x', 'disk_format': 'raw',
                                    'container_format': 'bare'})
        e = self.assertRaises(exception.BadRequest,
                              location_import.add_location, ctx,
                              image['id'], url)
        self.assertIn('is a loopback address', e.msg)
        # Nothing recorded: no task, no lock.
        shown = images.get(ctx, image['id'])
        self.assertEqual('queued', shown['status'])
        self.assertNotIn('os_glance_import_task', shown['properties'])
