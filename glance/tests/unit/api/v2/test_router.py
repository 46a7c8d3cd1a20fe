"""glance.api.v2.router: the route table binds to controllers at start."""

import re

import webob

from glance.api.v2 import router
from glance.common import wsgi
from glance.tests.unit import base

METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH')


def _sample_path(template):
    """``template`` with each {variable} filled in."""
    return re.sub(r'\{([^}]+)\}', lambda m: 'x-' + m.group(1), template)


class TestTable(base.TestCase):

    def setUp(self):
        super().setUp()
        self.app = router.build()

    def test_every_route_resolves_to_a_controller_action(self):
        instances = {}
        for route in router.ROUTES:
            path = _sample_path(route.path)
            for method, (cls, action) in route.methods.items():
                self.assertIsInstance(cls, type, route.path)
                match = self.app.mapper.match(path,
                                              {'REQUEST_METHOD': method})
                self.assertIsNotNone(match, '%s %s' % (method, path))
                handler = match['handler']
                self.assertTrue(callable(handler), '%s %s' % (method, path))
                # The class's own action, bound to the one instance of
                # that class the app holds.
                self.assertIs(getattr(cls, action), handler.__func__)
                self.assertIs(instances.setdefault(cls, handler.__self__),
                              handler.__self__)
                self.assertIs(cls, type(handler.__self__))

    def test_every_mapper_route_is_bound_or_rejects(self):
        bound = 0
        for route in self.app.mapper.matchlist:
            handler = route.defaults['handler']
            if handler is None:
                self.assertTrue(route.defaults['allowed'], route.routepath)
                continue
            self.assertTrue(callable(handler), route.routepath)
            self.assertIsNotNone(getattr(handler, '__self__', None))
            bound += 1
        self.assertEqual(sum(len(r.methods) for r in router.ROUTES), bound)

    def test_one_instance_per_controller_class(self):
        made = router.controllers(router.ROUTES)
        classes = {cls for r in router.ROUTES for cls, _a in
                   r.methods.values()}
        self.assertEqual(classes, set(made))
        for cls, instance in made.items():
            self.assertIs(cls, type(instance))

    def test_other_methods_are_405_with_allow(self):
        for route in router.ROUTES:
            path = _sample_path(route.path)
            for method in METHODS:
                if method in route.methods or (
                        method == 'HEAD' and 'GET' in route.methods):
                    continue
                resp = webob.Request.blank(path, method=method).get_response(
                    self.app)
                self.assertEqual(405, resp.status_int, '%s %s'
                                 % (method, path))
                self.assertEqual(', '.join(route.methods),
                                 resp.headers['Allow'])

    def test_unknown_paths(self):
        resp = webob.Request.blank('/no/such/path').get_response(self.app)
        self.assertEqual(404, resp.status_int)
        resp = webob.Request.blank('/no/such/path', method='BREW'
                                   ).get_response(self.app)
        self.assertEqual(501, resp.status_int)

    def test_dispatch_through_the_table(self):
        resp = webob.Request.blank('/schemas/image').get_response(self.app)
        self.assertEqual(200, resp.status_int)
        self.assertEqual('image', resp.json['name'])


class Controller:
    """A controller with one action and one attribute that is not."""

    label = 'not an action'

    def show(self, req):
        return wsgi.json_response({})


class TestBuildFails(base.TestCase):

    def test_missing_action(self):
        table = [wsgi.Route('/things', {'GET': (Controller, 'show'),
                                        'POST': (Controller, 'create')})]
        e = self.assertRaises(ValueError, router.build, table)
        self.assertIn("'create'", str(e))
        self.assertIn('POST /things', str(e))

    def test_attribute_that_is_not_an_action(self):
        table = [wsgi.Route('/things', {'GET': (Controller, 'label')})]
        self.assertRaises(ValueError, router.build, table)

    def test_misspelt_action_in_the_v2_table(self):
        table = list(router.ROUTES) + [
            wsgi.Route('/images/{image_id}/copy',
                       {'POST': (router.Images, 'cpoy')})]
        e = self.assertRaises(ValueError, router.build, table)
        self.assertIn('ImagesController', str(e))

    def test_a_valid_table_builds(self):
        table = [wsgi.Route('/things', {'GET': (Controller, 'show')})]
        resp = webob.Request.blank('/things').get_response(
            router.build(table))
        self.assertEqual(200, resp.status_int)
