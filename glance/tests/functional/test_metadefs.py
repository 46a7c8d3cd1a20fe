"""The metadata definitions API (/v2/metadefs/...) and its schemas,
through HTTP against a real daemon, on SQLite, MariaDB and PostgreSQL.

One daemon serves every test of a class; each test names its namespaces
after its own project so tests never see each other's data.
"""

import json
import os
import urllib.parse

import jsonschema

from glance.tests.functional import base

NS = '/v2/metadefs/namespaces'


def q(name):
    return urllib.parse.quote(name, safe='')


class MetadefAPIMixin:

    def admin(self, **extra):
        return self.headers(roles='admin,member,reader', **extra)

    def name(self, suffix=''):
        return 'T::%s::%s' % (self.project, suffix)

    def call(self, method, path, body=None, headers=None, expect=None,
             **kwargs):
        resp = self.request(method, path, json=body,
                            headers=headers if headers is not None
                            else self.admin(), **kwargs)
        if expect is not None:
            self.assertEqual(expect, resp.status_code,
                             '%s %s: %s' % (method, path, resp.text[:400]))
        self.assertLess(resp.status_code, 500, resp.text[:400])
        return resp

    def make_ns(self, suffix='', **body):
        body.setdefault('namespace', self.name(suffix))
        return self.call('POST', NS, body, expect=201).json()

    def ns_path(self, name, *rest):
        return '/'.join([NS, q(name)] + [q(r) for r in rest])


class NamespaceTests(MetadefAPIMixin):

    def test_create_show_update_delete(self):
        name = self.name('crud')
        resp = self.call('POST', NS, {'namespace': name,
                                      'display_name': 'Crud',
                                      'description': 'Some text',
                                      'visibility': 'public',
                                      'protected': False}, expect=201)
        body = resp.json()
        self.assertTrue(resp.headers['Location'].endswith(
            '/v2/metadefs/namespaces/' + name), resp.headers['Location'])
        self.assertEqual(self.project, body['owner'])
        self.assertEqual('public', body['visibility'])
        self.assertEqual('/v2/schemas/metadefs/namespace', body['schema'])
        self.assertTrue(body['created_at'].endswith('Z'))
        shown = self.call('GET', self.ns_path(name), expect=200).json()
        self.assertEqual(body, shown)

        self.call('POST', NS, {'namespace': name}, expect=409)

        new = self.name('crud2')
        updated = self.call('PUT', self.ns_path(name),
                            {'namespace': new, 'description': 'New'},
                            expect=200).json()
        # Omitted fields fall back to their defaults.
        self.assertEqual('private', updated['visibility'])
        self.assertFalse(updated['protected'])
        self.assertEqual('New', updated['description'])
        self.assertNotIn('display_name', updated)
        self.call('GET', self.ns_path(name), expect=404)
        self.call('GET', self.ns_path(new), expect=200)

        other = self.make_ns('other')
        self.call('PUT', self.ns_path(new),
                  {'namespace': other['namespace']}, expect=409)

        self.call('DELETE', self.ns_path(new), expect=204)
        self.call('GET', self.ns_path(new), expect=404)
        self.call('DELETE', self.ns_path(new), expect=404)

    def test_create_refuses_bad_bodies(self):
        name = self.name('bad')
        for body, code in (({}, 400),
                           ({'namespace': name, 'bogus': 1}, 400),
                           ({'namespace': name, 'visibility': 'shared'}, 400),
                           ({'namespace': name, 'protected': 'yes'}, 400),
                           ({'namespace': 'x' * 81}, 400),
                           ({'namespace': name, 'self': '/x'}, 403),
                           ({'namespace': name, 'created_at': 'x'}, 403)):
            self.call('POST', NS, body, expect=code)
        for data in ('{"namespace": ', '[]', '"x"'):
            resp = self.request('POST', NS, data=data, headers=self.admin(
                **{'Content-Type': 'application/json'}))
            self.assertEqual(400, resp.status_code, data)
        self.call('GET', self.ns_path(name), expect=404)

    def test_embedded_content_is_all_or_nothing(self):
        name = self.name('embedded')
        body = {
            'namespace': name,
            'resource_type_associations': [
                {'name': 'OS::Glance::Image', 'prefix': 'hw_'},
                {'name': 'OS::Nova::Flavor', 'prefix': 'hw:',
                 'properties_target': 'extra'}],
            'properties': {'cpu_policy': {'title': 'CPU', 'type': 'string',
                                          'enum': ['shared', 'dedicated']}},
            'objects': [{'name': 'Limits', 'required': ['quota'],
                         'properties': {'quota': {'title': 'Q',
                                                  'type': 'integer'}}}],
            'tags': [{'name': 'fast'}, {'name': 'slow'}],
        }
        bad = json.loads(json.dumps(body))
        bad['objects'][0]['properties']['quota']['minimum'] = 5
        bad['objects'][0]['properties']['quota']['maximum'] = 1
        resp = self.call('POST', NS, bad, expect=400)
        self.assertIn('minimum', resp.text)
        self.call('GET', self.ns_path(name), expect=404)

        created = self.call('POST', NS, body, expect=201).json()
        self.assertEqual({'cpu_policy'}, set(created['properties']))
        self.assertEqual(['fast', 'slow'],
                         sorted(t['name'] for t in created['tags']))

        plain = self.call('GET', self.ns_path(name), expect=200).json()
        self.assertEqual(['quota'], plain['objects'][0]['required'])
        self.assertEqual(
            ['OS::Glance::Image', 'OS::Nova::Flavor'],
            sorted(a['name'] for a in plain['resource_type_associations']))

        prefixed = self.call(
            'GET', self.ns_path(name) + '?resource_type=OS::Nova::Flavor',
            expect=200).json()
        self.assertEqual({'hw:cpu_policy'}, set(prefixed['properties']))
        limits = prefixed['objects'][0]
        self.assertEqual({'hw:quota'}, set(limits['properties']))
        self.assertEqual(['hw:quota'], limits['required'])

    def test_duplicates_inside_one_create_are_refused(self):
        name = self.name('dups')
        self.call('POST', NS, {'namespace': name,
                               'tags': [{'name': 'a'}, {'name': 'a'}]},
                  expect=409)
        self.call('POST', NS, {'namespace': name,
                               'objects': [{'name': 'o'}, {'name': 'o'}]},
                  expect=409)
        self.call('GET', self.ns_path(name), expect=404)

    def test_list_filters_sort_and_pages(self):
        rtype = 'OS::Test::%s' % self.project
        names = []
        for i, (visibility, protected) in enumerate(
                (('public', False), ('private', True), ('public', True))):
            names.append(self.make_ns(
                'list%d' % i, visibility=visibility, protected=protected,
                resource_type_associations=[{'name': rtype}])['namespace'])
        self.make_ns('unrelated')

        def listed(query):
            body = self.call('GET', NS + '?resource_types=%s&%s'
                             % (rtype, query), expect=200).json()
            return [n['namespace'] for n in body['namespaces']], body

        found, body = listed('sort_key=namespace&sort_dir=asc')
        self.assertEqual(names, found)
        self.assertEqual('/v2/schemas/metadefs/namespaces', body['schema'])
        self.assertNotIn('next', body)
        self.assertEqual([rtype], [a['name'] for a in body['namespaces'][0][
            'resource_type_associations']])
        self.assertNotIn('properties', body['namespaces'][0])
        self.assertEqual(list(reversed(names)),
                         listed('sort_key=namespace&sort_dir=desc')[0])
        self.assertEqual([names[0], names[2]], listed(
            'visibility=public&sort_key=namespace&sort_dir=asc')[0])
        self.assertEqual([names[1]], listed('visibility=private')[0])
        self.assertEqual([names[0]], listed('protected=false')[0])

        # Pages of two, following the links.
        path = NS + '?resource_types=%s&sort_key=namespace&sort_dir=asc' \
                    '&limit=2' % rtype
        first = self.call('GET', path, expect=200).json()
        self.assertEqual(names[:2],
                         [n['namespace'] for n in first['namespaces']])
        self.assertIn('marker=', first['next'])
        second = self.call('GET', first['next'], expect=200).json()
        self.assertEqual(names[2:],
                         [n['namespace'] for n in second['namespaces']])
        self.assertNotIn('next', second)

        for query in ('sort_key=bogus', 'sort_dir=up', 'limit=x',
                      'limit=-1', 'visibility=shared', 'protected=maybe'):
            self.call('GET', NS + '?' + query, expect=400)
        self.call('GET', NS + '?marker=' + q(self.name('nope')), expect=404)

    def test_visibility_and_policy(self):
        private = self.make_ns('private')['namespace']
        public = self.make_ns('public', visibility='public')['namespace']
        stranger = self.headers(project=self.project + '-other')
        owner = self.headers()
        # A private namespace of another project does not exist for it.
        self.call('GET', self.ns_path(private), headers=stranger,
                  expect=404)
        self.call('GET', self.ns_path(private, 'properties'),
                  headers=stranger, expect=404)
        self.call('DELETE', self.ns_path(private), headers=stranger,
                  expect=404)
        self.call('GET', self.ns_path(public), headers=stranger, expect=200)
        listed = self.call('GET', NS + '?limit=1000', headers=stranger,
                           expect=200).json()['namespaces']
        names = {n['namespace'] for n in listed}
        self.assertIn(public, names)
        self.assertNotIn(private, names)
        # The owner (not an administrator) sees both but may not write:
        # writes are for administrators by default.
        self.call('GET', self.ns_path(private), headers=owner, expect=200)
        self.call('DELETE', self.ns_path(public), headers=stranger,
                  expect=403)
        self.call('PUT', self.ns_path(private), {'namespace': private},
                  headers=owner, expect=403)
        self.call('POST', NS, {'namespace': self.name('nope')},
                  headers=owner, expect=403)
        self.call('POST', self.ns_path(public, 'tags', 'x'),
                  headers=stranger, expect=403)
        self.call('POST', self.ns_path(private, 'tags', 'x'),
                  headers=stranger, expect=404)
        # Without the reader role there is no listing at all.
        self.call('GET', NS, headers=self.headers(roles='member'),
                  expect=403)
        # An administrator may create namespaces for another project.
        made = self.make_ns('given', owner='someone-else')
        self.assertEqual('someone-else', made['owner'])

    def test_protected_namespace_keeps_its_content(self):
        name = self.make_ns(
            'protected', protected=True,
            resource_type_associations=[{'name': 'OS::Glance::Image'}],
            properties={'p': {'title': 'P', 'type': 'string'}},
            objects=[{'name': 'o'}], tags=[{'name': 't'}])['namespace']
        for path in (self.ns_path(name), self.ns_path(name, 'properties'),
                     self.ns_path(name, 'objects'),
                     self.ns_path(name, 'tags'),
                     self.ns_path(name, 'properties', 'p'),
                     self.ns_path(name, 'objects', 'o'),
                     self.ns_path(name, 'tags', 't'),
                     self.ns_path(name, 'resource_types',
                                  'OS::Glance::Image')):
            self.call('DELETE', path, expect=403)
        shown = self.call('GET', self.ns_path(name), expect=200).json()
        self.assertEqual(['o'], [o['name'] for o in shown['objects']])
        self.call('PUT', self.ns_path(name), {'namespace': name,
                                              'protected': False},
                  expect=200)
        for kind in ('properties', 'objects', 'tags'):
            self.call('DELETE', self.ns_path(name, kind), expect=204)
        shown = self.call('GET', self.ns_path(name), expect=200).json()
        for key in ('properties', 'objects', 'tags'):
            self.assertNotIn(key, shown)
        self.call('DELETE', self.ns_path(name), expect=204)

    def test_delete_cascades(self):
        name = self.make_ns(
            'cascade', properties={'p': {'title': 'P', 'type': 'string'}},
            objects=[{'name': 'o'}], tags=[{'name': 't'}],
            resource_type_associations=[{'name': 'OS::Glance::Image'}]
        )['namespace']
        self.call('DELETE', self.ns_path(name), expect=204)
        self.make_ns('cascade')
        shown = self.call('GET', self.ns_path(name), expect=200).json()
        for key in ('properties', 'objects', 'tags',
                    'resource_type_associations'):
            self.assertNotIn(key, shown)

    def test_odd_names(self):
        for suffix in ('with space', 'café', 'per%cent', 'a:b:c',
                       'quote"s', 'semi;colon', 'q?mark#hash'):
            made = self.make_ns(suffix)
            name = made['namespace']
            self.assertEqual(name, self.call('GET', self.ns_path(name),
                                             expect=200).json()['namespace'])
            self.call('POST', self.ns_path(name, 'tags', suffix),
                      expect=201)
            self.call('POST', self.ns_path(name, 'properties'),
                      {'name': suffix, 'title': 't', 'type': 'string'},
                      expect=201)
            self.call('GET', self.ns_path(name, 'properties', suffix),
                      expect=200)
            self.call('GET', self.ns_path(name, 'tags', suffix), expect=200)
            self.call('DELETE', self.ns_path(name), expect=204)
        holder = self.make_ns('holder')['namespace']
        for bad in ('a/b', 'tab\there', 'nul\x00', 'emoji\U0001F600',
                    ' lead', 'trail ', '', 'x' * 81):
            self.call('POST', NS, {'namespace': bad}, expect=400)
            self.call('POST', self.ns_path(holder, 'objects'),
                      {'name': bad}, expect=400)
        made = self.make_ns('texts')
        self.call('POST', self.ns_path(made['namespace'], 'properties'),
                  {'name': 'p', 'title': 'bad\x01', 'type': 'string'},
                  expect=400)


class ContentTests(MetadefAPIMixin):

    def test_objects(self):
        ns = self.make_ns('objects')['namespace']
        path = self.ns_path(ns, 'objects')
        body = {'name': 'Disk QoS', 'description': 'Limits',
                'required': ['iops'],
                'properties': {'iops': {'title': 'IOPS', 'type': 'integer',
                                        'minimum': 0}}}
        made = self.call('POST', path, body, expect=201).json()
        self.assertEqual('Disk QoS', made['name'])
        self.assertEqual(['iops'], made['required'])
        self.assertEqual('/v2/schemas/metadefs/object', made['schema'])
        self.assertTrue(made['self'].endswith('/objects/Disk%20QoS'),
                        made['self'])
        self.assertEqual(made, self.call('GET', self.ns_path(
            ns, 'objects', 'Disk QoS'), expect=200).json())
        self.call('POST', path, body, expect=409)
        self.call('POST', path, dict(body, created_at='x'), expect=403)
        self.call('POST', path, dict(body, extra=1), expect=400)
        self.call('POST', path, {'name': 'o2', 'properties': {
            'p': {'title': 'P'}}}, expect=400)
        self.call('POST', path, {'name': 'o2', 'required': ['a,b']},
                  expect=400)

        self.call('POST', path, {'name': 'Other'}, expect=201)
        listed = self.call('GET', path, expect=200).json()
        self.assertEqual('/v2/schemas/metadefs/objects', listed['schema'])
        self.assertEqual(['Disk QoS', 'Other'],
                         sorted(o['name'] for o in listed['objects']))
        self.call('GET', path + '?limit=0', expect=400)

        renamed = self.call('PUT', self.ns_path(ns, 'objects', 'Disk QoS'),
                            {'name': 'Disk', 'properties': {}},
                            expect=200).json()
        self.assertEqual({}, renamed['properties'])
        self.assertEqual([], renamed['required'])
        self.call('PUT', self.ns_path(ns, 'objects', 'Disk'),
                  {'name': 'Other'}, expect=409)
        self.call('GET', self.ns_path(ns, 'objects', 'Disk QoS'),
                  expect=404)
        self.call('DELETE', self.ns_path(ns, 'objects', 'Disk'), expect=204)
        self.call('DELETE', self.ns_path(ns, 'objects', 'Disk'), expect=404)
        self.call('GET', self.ns_path(self.name('none'), 'objects'),
                  expect=404)

    def test_properties(self):
        ns = self.make_ns(
            'props', resource_type_associations=[
                {'name': 'OS::Glance::Image', 'prefix': 'hw_'}])['namespace']
        path = self.ns_path(ns, 'properties')
        definition = {'name': 'watchdog', 'title': 'Watchdog',
                      'type': 'string', 'enum': ['reset', 'pause'],
                      'default': 'reset', 'description': 'What to do'}
        made = self.call('POST', path, definition, expect=201).json()
        self.assertEqual(definition, made)
        self.call('POST', path, definition, expect=409)
        self.assertEqual(made, self.call('GET', self.ns_path(
            ns, 'properties', 'watchdog'), expect=200).json())
        listed = self.call('GET', path, expect=200).json()['properties']
        expected = dict(definition)
        del expected['name']
        self.assertEqual({'watchdog': expected}, listed)

        # Names carrying the prefix of a resource type.
        by_type = self.ns_path(ns, 'properties', 'hw_watchdog')
        self.assertEqual('watchdog', self.call(
            'GET', by_type + '?resource_type=OS::Glance::Image',
            expect=200).json()['name'])
        self.call('GET', self.ns_path(ns, 'properties', 'watchdog')
                  + '?resource_type=OS::Glance::Image', expect=404)
        self.call('GET', by_type + '?resource_type=OS::Nova::Flavor',
                  expect=404)

        updated = self.call('PUT', self.ns_path(ns, 'properties',
                                                'watchdog'),
                            {'name': 'wd', 'title': 'W', 'type': 'integer',
                             'minimum': 1, 'maximum': 9},
                            expect=200).json()
        self.assertEqual({'name': 'wd', 'title': 'W', 'type': 'integer',
                          'minimum': 1, 'maximum': 9}, updated)
        self.call('GET', self.ns_path(ns, 'properties', 'watchdog'),
                  expect=404)
        self.call('POST', path, {'name': 'other', 'title': 'O',
                                 'type': 'string'}, expect=201)
        self.call('PUT', self.ns_path(ns, 'properties', 'wd'),
                  {'name': 'other', 'title': 'O', 'type': 'string'},
                  expect=409)
        self.call('DELETE', self.ns_path(ns, 'properties', 'wd'),
                  expect=204)
        self.call('DELETE', self.ns_path(ns, 'properties', 'wd'),
                  expect=404)

    def test_property_constraints(self):
        ns = self.make_ns('constraints')['namespace']
        path = self.ns_path(ns, 'properties')

        def attempt(reason, **fields):
            body = {'name': 'p', 'title': 'P', 'type': 'string'}
            body.update(fields)
            body = {k: v for k, v in body.items() if v is not None}
            resp = self.call('POST', path, body, expect=400,
                             headers=self.admin(Accept='application/json'))
            self.assertIn(reason, resp.json()['message'], fields)

        attempt("'type' is a required property", type=None)
        attempt("'bogus' is not one of", type='bogus')
        attempt('minimum (5) is greater than maximum (1)', type='integer',
                minimum=5, maximum=1)
        attempt('minLength (3) is greater than maxLength (2)',
                minLength=3, maxLength=2)
        attempt('minItems (3) is greater than maxItems (1)', type='array',
                minItems=3, maxItems=1)
        attempt('not a valid regular expression', pattern='((')
        attempt('enum value 1 does not fit', enum=['a', 1])
        attempt('enum lists a value twice', enum=['a', 'a'])
        attempt('enum must list at least one value', enum=[])
        attempt("default 'zz' does not fit", enum=['a'], default='zz')
        attempt('default 3 does not fit', type='integer', maximum=2,
                default=3)
        attempt('items enum value 1 does not fit', type='array',
                items={'type': 'string', 'enum': [1]})
        attempt('-1 is less than the minimum', maxLength=-1)
        attempt("Additional properties are not allowed", format='x')
        self.call('GET', self.ns_path(ns, 'properties', 'p'), expect=404)
        # A full, valid definition round-trips unchanged.
        full = {'name': 'p', 'title': 'P', 'type': 'array',
                'description': 'd', 'operators': ['<or>'],
                'items': {'type': 'string', 'enum': ['a', 'b']},
                'minItems': 1, 'maxItems': 2, 'uniqueItems': True,
                'readonly': False, 'default': ['a']}
        self.assertEqual(full, self.call('POST', path, full,
                                         expect=201).json())

    def test_tags(self):
        ns = self.make_ns('tags')['namespace']
        path = self.ns_path(ns, 'tags')
        made = self.call('POST', self.ns_path(ns, 'tags', 'one'),
                         expect=201).json()
        self.assertEqual('one', made['name'])
        self.assertIn('created_at', made)
        self.call('POST', self.ns_path(ns, 'tags', 'one'), expect=409)
        self.call('POST', self.ns_path(ns, 'tags', 'x' * 81), expect=400)

        # Without the append header, a batch replaces every tag.
        resp = self.call('POST', path, {'tags': [{'name': 'b'},
                                                 {'name': 'a'}]},
                         expect=201).json()
        self.assertEqual({'tags': [{'name': 'b'}, {'name': 'a'}]}, resp)
        names = [t['name'] for t in self.call('GET', path,
                                              expect=200).json()['tags']]
        self.assertEqual(['b', 'a'], names)
        self.call('POST', path, {'tags': [{'name': 'c'}]},
                  headers=self.admin(**{'X-Openstack-Append': 'True'}),
                  expect=201)
        self.call('POST', path, {'tags': [{'name': 'c'}]},
                  headers=self.admin(**{'X-Openstack-Append': 'true'}),
                  expect=409)
        self.call('POST', path, {'tags': [{'name': 'd'}, {'name': 'd'}]},
                  expect=409)
        for body in ({'tags': [{'name': 'e'}], 'x': 1}, {'tags': 'e'},
                     {'tags': [{'name': 'e', 'x': 1}]}, {'tags': ['e']}):
            self.call('POST', path, body, expect=400)
        self.call('POST', path, {'tags': [{'name': 'e',
                                           'created_at': 'x'}]},
                  expect=403)

        def listed(query):
            return [t['name'] for t in self.call(
                'GET', path + '?' + query, expect=200).json()['tags']]

        self.assertEqual(['a', 'b', 'c'], listed('sort_key=name&sort_dir=asc'))
        self.assertEqual(['c', 'b'], listed('sort_key=name&sort_dir=desc'
                                            '&limit=2'))
        self.assertEqual(['c'], listed('sort_key=name&sort_dir=asc'
                                       '&marker=b'))
        self.call('GET', path + '?sort_key=bogus', expect=400)
        self.call('GET', path + '?marker=nope', expect=404)

        renamed = self.call('PUT', self.ns_path(ns, 'tags', 'a'),
                            {'name': 'z'}, expect=200).json()
        self.assertEqual('z', renamed['name'])
        self.call('PUT', self.ns_path(ns, 'tags', 'z'), {'name': 'b'},
                  expect=409)
        self.call('GET', self.ns_path(ns, 'tags', 'a'), expect=404)
        self.call('DELETE', self.ns_path(ns, 'tags', 'z'), expect=204)
        self.call('DELETE', path, expect=204)
        self.assertEqual([], listed(''))

    def test_resource_types(self):
        ns = self.make_ns('rtypes')['namespace']
        rtype = 'OS::Test::%s' % self.project
        path = self.ns_path(ns, 'resource_types')
        made = self.call('POST', path, {'name': rtype, 'prefix': 'x_',
                                        'properties_target': 'image'},
                         expect=201).json()
        self.assertEqual({'name', 'prefix', 'properties_target',
                          'created_at', 'updated_at'}, set(made))
        self.call('POST', path, {'name': rtype}, expect=409)
        self.call('POST', path, {'name': rtype + '2', 'bogus': 1},
                  expect=400)
        self.call('POST', path, {'prefix': 'x'}, expect=400)
        listed = self.call('GET', path, expect=200).json()
        self.assertEqual([rtype], [a['name'] for a in listed[
            'resource_type_associations']])
        known = self.call('GET', '/v2/metadefs/resource_types',
                          expect=200).json()['resource_types']
        self.assertIn(rtype, [t['name'] for t in known])
        self.call('DELETE', self.ns_path(ns, 'resource_types', rtype),
                  expect=204)
        self.call('DELETE', self.ns_path(ns, 'resource_types', rtype),
                  expect=404)
        self.assertEqual([], self.call('GET', path, expect=200).json()[
            'resource_type_associations'])
        # The resource type itself stays known.
        known = self.call('GET', '/v2/metadefs/resource_types',
                          expect=200).json()['resource_types']
        self.assertIn(rtype, [t['name'] for t in known])

    def test_schemas(self):
        kinds = ('namespace', 'namespaces', 'object', 'objects', 'property',
                 'properties', 'resource_type', 'resource_types', 'tag',
                 'tags')
        schemas = {}
        for kind in kinds:
            schemas[kind] = self.call(
                'GET', '/v2/schemas/metadefs/' + kind, expect=200).json()
            jsonschema.Draft4Validator.check_schema(schemas[kind])
        self.call('GET', '/v2/schemas/metadefs/bogus', expect=404)
        self.call('POST', '/v2/schemas/metadefs/tag', expect=405)
        self.assertEqual(['namespace'], schemas['namespace']['required'])
        self.assertFalse(schemas['namespace']['additionalProperties'])
        self.assertEqual(['type', 'title', 'name'],
                         schemas['property']['required'])
        # What the API returns satisfies the schemas it serves.
        ns = self.make_ns(
            'schemas', display_name='S', description='d',
            resource_type_associations=[{'name': 'OS::Glance::Image',
                                         'prefix': 'hw_'}],
            properties={'p': {'title': 'P', 'type': 'string'}},
            objects=[{'name': 'o', 'properties': {
                'q': {'title': 'Q', 'type': 'integer'}}}],
            tags=[{'name': 't'}])
        shown = self.call('GET', self.ns_path(ns['namespace']),
                          expect=200).json()
        jsonschema.validate(shown, schemas['namespace'])
        listed = self.call('GET', NS + '?limit=3', expect=200).json()
        jsonschema.validate(listed, schemas['namespaces'])
        objects = self.call('GET', self.ns_path(ns['namespace'], 'objects'),
                            expect=200).json()
        jsonschema.validate(objects, schemas['objects'])
        props = self.call('GET', self.ns_path(ns['namespace'],
                                              'properties'),
                          expect=200).json()
        jsonschema.validate(props, schemas['properties'])
        tags = self.call('GET', self.ns_path(ns['namespace'], 'tags'),
                         expect=200).json()
        jsonschema.validate(tags, schemas['tags'])

    def test_schemas_have_upstream_shape(self):
        # metadef_schemas.json holds upstream's documents, every
        # description text replaced by "<text>": field by field the same
        # keys, types, constraints, required lists and links, and a
        # description where upstream has one.
        with open(os.path.join(os.path.dirname(__file__),
                               'metadef_schemas.json')) as f:
            expected = json.load(f)
        for kind, document in sorted(expected.items()):
            served = self.call('GET', '/v2/schemas/metadefs/' + kind,
                               expect=200).json()
            self.assertEqual(document, _descriptions_marked(served), kind)

    def test_bodies_are_held_to_the_column_lengths(self):
        # The served namespace document leaves the names of its nested
        # lists unbounded (as upstream's does); the database does not.
        long = 'x' * 81
        for extra in ({'tags': [{'name': long}]},
                      {'objects': [{'name': long}]},
                      {'resource_type_associations': [{'name': long}]}):
            self.call('POST', NS, body=dict(namespace='long-names',
                                            **extra), expect=400)

    def test_methods_and_bodies(self):
        ns = self.make_ns('methods')['namespace']
        resp = self.call('PATCH', self.ns_path(ns), expect=405)
        self.assertEqual('GET, PUT, DELETE', resp.headers['Allow'])
        self.call('PUT', NS, expect=405)
        self.call('GET', self.ns_path(ns), body={'x': 1}, expect=400)
        self.call('POST', self.ns_path(ns, 'tags', 't'), body={'x': 1},
                  expect=400)
        self.call('PUT', self.ns_path(ns), expect=400)
        self.call('POST', self.ns_path(ns, 'objects'), body=[], expect=400)


def _descriptions_marked(document):
    """``document`` with the text of each description replaced by
    "<text>" (a field named description keeps its schema)."""
    if isinstance(document, dict):
        return {key: '<text>' if key == 'description'
                and isinstance(value, str) else _descriptions_marked(value)
                for key, value in document.items()}
    if isinstance(document, list):
        return [_descriptions_marked(value) for value in document]
    return document


class TestNamespacesSQLite(NamespaceTests, base.SharedDaemonTest):
    pass


class TestContentSQLite(ContentTests, base.SharedDaemonTest):
    pass


class TestNamespacesMySQL(NamespaceTests, base.SharedDaemonTest):
    db_kind = 'mysql'


class TestContentMySQL(ContentTests, base.SharedDaemonTest):
    db_kind = 'mysql'


class TestNamespacesPostgreSQL(NamespaceTests, base.SharedDaemonTest):
    db_kind = 'postgresql'


class TestContentPostgreSQL(ContentTests, base.SharedDaemonTest):
    db_kind = 'postgresql'
