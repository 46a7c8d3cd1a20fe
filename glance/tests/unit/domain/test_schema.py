"""glance.domain.schema and the /v2/schemas endpoints (section 4.17)."""

import json
import os

import fixtures
import webob

from glance.api.v2 import router
from glance.common import exception
from glance.common import wsgi
from glance.domain import schema
from glance.tests.unit import base


class TestImageSchema(base.TestCase):

    def test_document(self):
        doc = schema.image_schema().raw()
        self.assertEqual('image', doc['name'])
        self.assertEqual({'type': 'string'}, doc['additionalProperties'])
        self.assertEqual([{'rel': 'self', 'href': '{self}'},
                          {'rel': 'enclosure', 'href': '{file}'},
                          {'rel': 'describedby', 'href': '{schema}'}],
                         doc['links'])
        self.assertNotIn('required', doc)
        self.assertEqual(['community', 'public', 'private', 'shared'],
                         doc['properties']['visibility']['enum'])
        self.assertEqual(9, len(doc['properties']['status']['enum']))

    def test_formats_from_config(self):
        self.config(disk_formats=['raw'], group='image_format')
        enum = schema.image_schema().raw()['properties']['disk_format']['enum']
        self.assertEqual([None, 'raw'], enum)

    def test_cached_until_reset(self):
        first = schema.image_schema()
        self.assertIs(first, schema.image_schema())
        schema.reset()
        self.assertIsNot(first, schema.image_schema())

    def test_raw_is_a_copy(self):
        schema.image_schema().raw()['properties'].clear()
        self.assertIn('name', schema.image_schema().raw()['properties'])

    def test_validate(self):
        s = schema.image_schema()
        s.validate({'name': 'x', 'tags': ['a'], 'foo': 'bar',
                    'id': 'C0FFEE00-0000-4000-8000-000000000001',
                    'disk_format': None, 'min_ram': 3})
        for bad in ({'name': 'x' * 256}, {'foo': 1}, {'id': 'nope'},
                    {'visibility': 'secret'}, {'tags': 'a'},
                    {'tags': ['t' * 256]}, {'protected': 'true'},
                    {'container_format': 'zip'}, {'min_disk': 1.5}):
            e = self.assertRaises(exception.Invalid, s.validate, bad)
            self.assertIn("'image'", e.msg)

    def test_locations_item_schema(self):
        s = schema.image_schema()
        s.validate({'locations': [{'url': 'file:///x', 'metadata': {}}]})
        for bad in ([{'url': 'file:///x'}], [{'url': 'u' * 256,
                                              'metadata': {}}],
                    [{'url': 'x', 'metadata': {},
                      'validation_data': {'os_hash_algo': 'sha512'}}],
                    [{'url': 'x', 'metadata': {},
                      'validation_data': {'os_hash_algo': 'a',
                                          'os_hash_value': 'b',
                                          'checksum': 'short'}}]):
            self.assertRaises(exception.Invalid, s.validate,
                              {'locations': bad})


class TestCustomProperties(base.TestCase):

    def write(self, data):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(tmp, 'schema-image.json'), 'w') as f:
            json.dump(data, f)
        conf = os.path.join(tmp, 'glance-api.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\n')
        base.CONF.reset()
        base.CONF(['--config-file', conf], project='glance',
                  default_config_files=[], default_config_dirs=[])
        return tmp

    def test_no_file(self):
        self.assertFalse(schema.has_custom_schema_file())

    def test_flat_format(self):
        self.write({'os_distro': {'type': 'string'},
                    'kernel_id': {'type': ['null', 'string'],
                                  'pattern': schema.UUID_PATTERN}})
        self.assertTrue(schema.has_custom_schema_file())
        s = schema.image_schema()
        self.assertIn('kernel_id', s.raw()['properties'])
        self.assertRaises(exception.Invalid, s.validate,
                          {'kernel_id': 'not-a-uuid'})
        s.validate({'kernel_id': None})

    def test_extended_format_with_required(self):
        self.write({'properties': {'os_distro': {'type': 'string'}},
                    'required': ['os_distro']})
        s = schema.image_schema()
        self.assertEqual(['os_distro'], s.raw()['required'])
        self.assertRaises(exception.Invalid, s.validate, {'name': 'x'})

    def test_redefining_base_property_fails(self):
        self.write({'name': {'type': 'integer'}})
        self.assertRaises(RuntimeError, schema.image_schema)

    def test_identical_base_property_allowed(self):
        self.write({'min_ram': schema._base_properties()['min_ram']})
        schema.image_schema()


class TestOtherSchemas(base.TestCase):

    def test_images(self):
        doc = schema.images_schema()
        self.assertEqual('images', doc['name'])
        self.assertEqual(schema.image_schema().raw(),
                         doc['properties']['images']['items'])
        self.assertEqual(['first', 'next', 'describedby'],
                         [link['rel'] for link in doc['links']])

    def test_member(self):
        doc = schema.member_schema()
        self.assertEqual({'member_id', 'image_id', 'created_at',
                          'updated_at', 'status', 'schema'},
                         set(doc['properties']))
        self.assertNotIn('additionalProperties', doc)
        self.assertEqual(['pending', 'accepted', 'rejected'],
                         doc['properties']['status']['enum'])

    def test_members(self):
        doc = schema.members_schema()
        self.assertEqual({'members', 'schema'}, set(doc['properties']))
        self.assertEqual([{'rel': 'describedby', 'href': '{schema}'}],
                         doc['links'])

    def test_tasks_items_are_partial(self):
        items = schema.tasks_schema()['properties']['tasks']['items']
        for key in ('input', 'result', 'message'):
            self.assertNotIn(key, items['properties'])
            self.assertIn(key, schema.task_schema()['properties'])


class TestSchemaEndpoints(base.TestCase):

    def get(self, path, body=None):
        req = wsgi.Request.blank('/schemas/' + path)
        req.environ['glance.context'] = base.ctx()
        if body is not None:
            req.body = body
        return req.get_response(router.app_factory({}))

    def test_each_schema(self):
        expected = {'image': schema.image_schema().raw(),
                    'images': schema.images_schema(),
                    'member': schema.member_schema(),
                    'members': schema.members_schema(),
                    'task': schema.task_schema(),
                    'tasks': schema.tasks_schema()}
        for name, doc in expected.items():
            resp = self.get(name)
            self.assertEqual(200, resp.status_int, name)
            self.assertEqual(doc, resp.json, name)

    def test_body_rejected_where_flagged(self):
        for name in ('image', 'images', 'member', 'members'):
            self.assertEqual(400, self.get(name, b'{}').status_int, name)
        for name in ('task', 'tasks'):
            self.assertEqual(200, self.get(name, b'{}').status_int, name)

    def test_post_is_405(self):
        req = webob.Request.blank('/schemas/image', method='POST')
        resp = req.get_response(router.app_factory({}))
        self.assertEqual(405, resp.status_int)
        self.assertEqual('GET', resp.headers['Allow'])
