"""What the replicator plans for one image, from both sides' JSON, and
which images the filters keep."""

import testtools

from glance.replicator import commands
from glance.replicator import planning

ID = '6c7f0c3e-1d2b-4d3a-9a51-6a1f3f0d2b11'


def image(**kw):
    base = {'id': ID, 'name': 'debian', 'status': 'active',
            'visibility': 'private', 'owner': 'p1', 'protected': False,
            'os_hidden': False, 'disk_format': 'raw',
            'container_format': 'bare', 'min_disk': 0, 'min_ram': 0,
            'size': 10, 'virtual_size': None, 'checksum': 'c' * 32,
            'os_hash_algo': 'sha512', 'os_hash_value': 'h' * 128,
            'tags': ['a'], 'created_at': '2024-01-01T00:00:00Z',
            'updated_at': '2024-01-01T00:00:00Z', 'self': '/v2/images/x',
            'file': '/v2/images/x/file', 'schema': '/v2/schemas/image',
            'os_distro': 'debian'}
    base.update(kw)
    return base


class TestPlan(testtools.TestCase):

    def test_missing_image_is_created_with_its_id_and_uploaded(self):
        plan = planning.plan(image(os_glance_importing_to_stores='x'), None)
        self.assertTrue(plan.upload)
        self.assertEqual(ID, plan.create['id'])
        self.assertEqual(['a'], plan.create['tags'])
        self.assertEqual('debian', plan.create['os_distro'])
        for key in ('status', 'checksum', 'size', 'created_at', 'self',
                    'virtual_size', 'os_glance_importing_to_stores'):
            self.assertNotIn(key, plan.create)
        self.assertFalse(plan.empty)

    def test_equal_image_plans_nothing(self):
        other = image(created_at='2025-01-01T00:00:00Z',
                      updated_at='2025-01-02T00:00:00Z', self='elsewhere')
        self.assertTrue(planning.plan(image(), other).empty)

    def test_queued_target_gets_the_data(self):
        plan = planning.plan(image(), image(status='queued', size=None,
                                            checksum=None))
        self.assertTrue(plan.upload)
        self.assertIsNone(plan.create)

    def test_metadata_patch(self):
        plan = planning.plan(image(os_distro='ubuntu', tags=['a', 'b']),
                             image(extra='x', min_ram=64))
        self.assertEqual(
            [{'op': 'replace', 'path': '/min_ram', 'value': 0},
             {'op': 'replace', 'path': '/os_distro', 'value': 'ubuntu'},
             {'op': 'remove', 'path': '/extra'},
             {'op': 'replace', 'path': '/tags', 'value': ['a', 'b']}],
            plan.patch)
        self.assertFalse(plan.upload)

    def test_dontreplicate_keys_are_left_alone(self):
        plan = planning.plan(image(os_distro='ubuntu'), image(),
                             dontreplicate=('os_distro',))
        self.assertTrue(plan.empty)

    def test_other_data_is_a_conflict(self):
        plan = planning.plan(image(), image(checksum='d' * 32))
        self.assertIn('other data', plan.conflict)
        plan = planning.plan(image(), image(os_hash_value='x' * 128))
        self.assertIn('sha512', plan.conflict)
        # Other algorithms: only checksum and size compared.
        plan = planning.plan(image(), image(os_hash_algo='sha256',
                                            os_hash_value='y' * 64))
        self.assertIsNone(plan.conflict)

    def test_disk_format_of_an_image_with_data_is_a_conflict(self):
        plan = planning.plan(image(disk_format='qcow2'), image())
        self.assertIn('disk_format', plan.conflict)

    def test_deleted_or_busy_target_is_a_conflict(self):
        for status in ('deleted', 'killed', 'saving', 'importing'):
            self.assertIsNotNone(planning.plan(
                image(), image(status=status)).conflict, status)

    def test_states_not_copied_are_skipped(self):
        for status in ('killed', 'saving', 'importing', 'pending_delete'):
            plan = planning.plan(image(status=status), None)
            self.assertIn(status, plan.skip)
            self.assertIsNone(plan.create)

    def test_queued_source_is_created_without_data(self):
        plan = planning.plan(image(status='queued', size=None), None)
        self.assertIsNotNone(plan.create)
        self.assertFalse(plan.upload)

    def test_deactivated_source(self):
        plan = planning.plan(image(status='deactivated'), None)
        self.assertTrue(plan.upload)
        self.assertEqual('deactivate', plan.status)
        plan = planning.plan(image(status='deactivated'),
                             image(status='deactivated'))
        self.assertTrue(plan.empty)
        plan = planning.plan(image(), image(status='deactivated'))
        self.assertEqual('reactivate', plan.status)
        # Metadata only: nothing to deactivate.
        plan = planning.plan(image(status='deactivated'), None,
                             metaonly=True)
        self.assertFalse(plan.upload)
        self.assertIsNone(plan.status)

    def test_members(self):
        plan = planning.plan(image(visibility='shared'),
                             image(visibility='shared'),
                             {'p2': 'accepted', 'p3': 'pending',
                              'p4': 'rejected'},
                             {'p3': 'accepted', 'p5': 'pending',
                              'p4': 'rejected'})
        self.assertEqual({'p2': 'accepted'}, plan.add_members)
        self.assertEqual({'p3': 'pending'}, plan.set_members)
        self.assertEqual(['p5'], plan.remove_members)
        plan = planning.plan(image(visibility='shared'),
                             image(visibility='shared'),
                             {'p2': 'accepted'}, {}, members=False)
        self.assertTrue(plan.empty)

    def test_data_equal(self):
        self.assertIsNone(planning.data_equal(image(), image()))
        self.assertIn('size', planning.data_equal(image(), image(size=11)))


class TestSelect(testtools.TestCase):

    def test_filters(self):
        images = [image(id='1', owner='a', visibility='public'),
                  image(id='2', owner='b', status='deactivated'),
                  image(id='3', owner='a', visibility='shared')]

        def ids(**kw):
            return [i['id'] for i in commands.select(
                images, commands.Options(**kw))]
        self.assertEqual(['1', '2', '3'], ids())
        self.assertEqual(['1', '3'], ids(owner='a'))
        self.assertEqual(['3'], ids(owner='a', visibility='shared'))
        self.assertEqual(['2'], ids(status='deactivated'))
        self.assertEqual(['1', '2'], ids(image_ids=['2', '1']))
