"""glance.domain.images.images: the image operations on a real SQLite
database."""

import uuid

from glance.common import exception
from glance.db import api as db
from glance.db import session
from glance.domain.images import images
from glance.tests.unit import base


class DomainTestCase(base.DBTestCase):

    def create(self, ctx=None, **body):
        return images.create(ctx or base.ctx(), body)


class TestCreate(DomainTestCase):

    def test_defaults(self):
        image = self.create(name='n')
        self.assertEqual('queued', image['status'])
        self.assertEqual('shared', image['visibility'])
        self.assertEqual('p1', image['owner'])
        self.assertFalse(image['protected'])
        self.assertFalse(image['os_hidden'])
        self.assertEqual((0, 0), (image['min_ram'], image['min_disk']))
        self.assertEqual(image['created_at'], image['updated_at'])
        self.assertEqual(0, image['created_at'].microsecond)
        uuid.UUID(image['id'])

    def test_given_id_and_duplicate(self):
        iid = str(uuid.uuid4())
        self.assertEqual(iid, self.create(id=iid)['id'])
        self.assertRaises(exception.Duplicate, self.create, id=iid)

    def test_properties_and_tags(self):
        image = self.create(os_distro='ubuntu', tags=['a', 'b', 'a'])
        self.assertEqual({'os_distro': 'ubuntu'}, image['properties'])
        self.assertEqual(['a', 'b'], image['tags'])

    def test_four_byte_unicode_rejected_everywhere(self):
        bad = '\U0001F600'
        for body in ({'name': bad}, {'tags': [bad]}, {'prop': bad},
                     {bad: 'value'}):
            self.assertRaises(exception.Invalid, self.create, **body)
        self.assertRaises(exception.Invalid, self.create,
                          ctx=base.admin_ctx(), owner=bad)
        with session.reader() as conn:
            self.assertEqual([], db.image_list(
                conn, base.admin_ctx(), {}, visibility='all'))

    def test_reserved_and_readonly(self):
        for key in ('locations', 'deleted', 'deleted_at', 'location',
                    'os_glance_foo'):
            self.assertRaises(exception.ReservedProperty, self.create,
                              **{key: 'x'})
        for key in ('status', 'checksum', 'size', 'virtual_size',
                    'created_at', 'os_hash_value'):
            self.assertRaises(exception.ReadonlyProperty, self.create,
                              **{key: 'x'})

    def test_long_property_name(self):
        self.assertRaises(exception.Invalid, self.create, **{'k' * 256: 'v'})

    def test_quotas(self):
        self.config(image_tag_quota=2, image_property_quota=1)
        self.assertRaises(exception.LimitExceeded, self.create,
                          tags=['a', 'b', 'c'])
        self.assertRaises(exception.LimitExceeded, self.create,
                          a='1', b='2')
        self.create(tags=['a', 'b'], a='1')

    def test_negative_minimums(self):
        self.assertRaises(exception.Invalid, self.create, min_ram=-1)
        self.assertRaises(exception.Invalid, self.create, min_disk=-1)

    def test_owner_and_visibility_policy(self):
        e = self.assertRaises(exception.Forbidden, self.create,
                              owner='someone-else')
        self.assertIn('someone-else', e.msg)
        self.assertRaises(exception.Forbidden, self.create,
                          visibility='public')
        self.assertEqual('community',
                         self.create(visibility='community')['visibility'])
        self.assertEqual('other', self.create(ctx=base.admin_ctx(),
                                              owner='other')['owner'])

    def test_reader_cannot_create(self):
        self.assertRaises(exception.Forbidden, self.create,
                          ctx=base.ctx(roles=('reader',)))


class TestUpdate(DomainTestCase):

    def update(self, image, *changes, ctx=None, media='2.1'):
        parsed = [(op, [path], value, media) for op, path, value in changes]
        return images.update(ctx or base.ctx(), image['id'], parsed)

    def test_add_replace_remove_property(self):
        image = self.create(foo='1')
        image = self.update(image, ('add', 'bar', '2'),
                            ('replace', 'foo', '3'))
        self.assertEqual({'foo': '3', 'bar': '2'}, image['properties'])
        image = self.update(image, ('remove', 'foo', None))
        self.assertEqual({'bar': '2'}, image['properties'])
        self.assertGreaterEqual(image['updated_at'], image['created_at'])

    def test_replace_or_remove_missing_is_conflict(self):
        image = self.create()
        self.assertRaises(exception.Conflict, self.update, image,
                          ('replace', 'nope', 'x'))
        self.assertRaises(exception.Conflict, self.update, image,
                          ('remove', 'nope', None))

    def test_add_existing_v20_conflicts_v21_overwrites(self):
        image = self.create(foo='1')
        self.assertRaises(exception.Conflict, self.update, image,
                          ('add', 'foo', '2'), media='2.0')
        self.assertEqual('2', self.update(image, ('add', 'foo', '2'))
                         ['properties']['foo'])

    def test_remove_base_property_forbidden(self):
        image = self.create(name='n')
        self.assertRaises(exception.Forbidden, self.update, image,
                          ('remove', 'name', None))

    def test_formats_only_while_queued(self):
        image = self.create()
        image = self.update(image, ('replace', 'disk_format', 'raw'),
                            ('replace', 'container_format', 'bare'))
        self.assertEqual('raw', image['disk_format'])
        with session.writer() as conn:
            db.image_update(conn, image['id'], {'status': 'active'})
        self.assertRaises(exception.Forbidden, self.update, image,
                          ('replace', 'disk_format', 'qcow2'))

    def test_owner_admin_only(self):
        image = self.create()
        self.assertRaises(exception.Forbidden, self.update, image,
                          ('replace', 'owner', 'p2'))
        self.assertEqual('p2', self.update(image, ('replace', 'owner', 'p2'),
                                           ctx=base.admin_ctx())['owner'])

    def test_publicize_admin_only(self):
        image = self.create()
        self.assertRaises(exception.Forbidden, self.update, image,
                          ('replace', 'visibility', 'public'))
        self.assertEqual('public', self.update(
            image, ('replace', 'visibility', 'public'),
            ctx=base.admin_ctx())['visibility'])

    def test_four_byte_unicode_rejected(self):
        image = self.create()
        self.assertRaises(exception.Invalid, self.update, image,
                          ('add', 'p', '\U0001F600'))
        self.assertRaises(exception.Invalid, self.update, image,
                          ('replace', 'name', '\U0001F600'))
        self.assertRaises(exception.Invalid, self.update, image,
                          ('replace', 'tags', ['\U0001F600']))

    def test_property_quota_only_for_new_keys(self):
        image = self.create(a='1', b='2')
        self.config(image_property_quota=1)
        self.update(image, ('replace', 'a', '3'))
        self.assertRaises(exception.LimitExceeded, self.update, image,
                          ('add', 'c', '3'))

    def test_changes_atomic(self):
        image = self.create(name='before')
        self.assertRaises(exception.Conflict, self.update, image,
                          ('replace', 'name', 'after'),
                          ('replace', 'missing', 'x'))
        self.assertEqual('before', images.get(base.ctx(), image['id'])
                         ['name'])

    def test_other_project_gets_404_or_403(self):
        image = self.create()
        self.assertRaises(exception.ImageNotFound, self.update, image,
                          ('replace', 'name', 'x'), ctx=base.ctx('p2'))
        public = self.create(ctx=base.admin_ctx(), visibility='public')
        e = self.assertRaises(exception.Forbidden, self.update, public,
                              ('replace', 'name', 'x'), ctx=base.ctx('p2'))
        self.assertNotIsInstance(e, exception.NotFound)

    def test_locations_forbidden(self):
        image = self.create()
        self.assertRaises(exception.Forbidden, images.update, base.ctx(),
                          image['id'],
                          [('add', ['locations', '-'], {}, '2.1')])


class TestDeleteAndActions(DomainTestCase):

    def set_status(self, image, status):
        with session.writer() as conn:
            db.image_update(conn, image['id'], {'status': status})

    def test_delete(self):
        image = self.create()
        images.delete(base.ctx(), image['id'])
        self.assertRaises(exception.ImageNotFound, images.get, base.ctx(),
                          image['id'])
        with session.reader() as conn:
            row = db.image_get(conn, image['id'], include_deleted=True)
        self.assertEqual('deleted', row['status'])
        self.assertTrue(row['deleted'])

    def test_protected(self):
        image = self.create(protected=True)
        self.assertRaises(exception.ProtectedImageDelete, images.delete,
                          base.ctx(), image['id'])

    def test_delayed_delete_of_deactivated_is_400(self):
        image = self.create()
        self.set_status(image, 'deactivated')
        with session.writer() as conn:
            conn.execute(db.locations.insert().values(
                image_id=image['id'], value='file:///x', meta_data='{}',
                created_at=image['created_at']))
        self.config(delayed_delete=True)
        e = self.assertRaises(exception.Invalid, images.delete, base.ctx(),
                              image['id'])
        self.assertEqual(400, e.code)

    def test_deactivate_reactivate(self):
        image = self.create()
        self.assertRaises(exception.Forbidden, images.deactivate,
                          base.ctx(), image['id'])
        self.set_status(image, 'active')
        images.deactivate(base.ctx(), image['id'])
        images.deactivate(base.ctx(), image['id'])   # no-op
        self.assertEqual('deactivated',
                         images.get(base.ctx(), image['id'])['status'])
        images.reactivate(base.ctx(), image['id'])
        images.reactivate(base.ctx(), image['id'])   # no-op
        self.assertEqual('active',
                         images.get(base.ctx(), image['id'])['status'])
