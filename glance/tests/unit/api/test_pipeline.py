"""Where glance.api.pipeline adds the filters a pipeline lacks."""

import testtools

from glance.api import pipeline as p

CORS = 'glance.api.middleware.cors'
PROXY = 'glance.api.middleware.http_proxy_to_wsgi'


class TestComplete(testtools.TestCase):

    def test_complete_pipelines_are_left_alone(self):
        for flavor, modules in (
                ('default', [p.REQUEST_ID, CORS, PROXY, p.VERSIONS,
                             p.NOAUTH_CONTEXT]),
                ('keystone', [p.REQUEST_ID, CORS, PROXY, p.VERSIONS,
                              p.AUTHTOKEN, p.CONTEXT]),
                ('fakeauth', [p.REQUEST_ID, p.VERSIONS, p.FAKEAUTH,
                              p.CONTEXT])):
            self.assertEqual(modules, p.complete(modules, flavor))

    def test_empty_pipeline(self):
        self.assertEqual([p.REQUEST_ID, p.VERSIONS, p.NOAUTH_CONTEXT],
                         p.complete([], 'default'))
        self.assertEqual([p.REQUEST_ID, p.VERSIONS, p.AUTHTOKEN, p.CONTEXT],
                         p.complete([], 'keystone'))

    def test_request_id_goes_first(self):
        self.assertEqual([p.REQUEST_ID, CORS, p.VERSIONS, p.NOAUTH_CONTEXT],
                         p.complete([CORS, p.VERSIONS, p.NOAUTH_CONTEXT],
                                    'default'))

    def test_version_negotiation_goes_before_authentication(self):
        self.assertEqual(
            [p.REQUEST_ID, CORS, p.VERSIONS, p.AUTHTOKEN, PROXY, p.CONTEXT],
            p.complete([p.REQUEST_ID, CORS, p.AUTHTOKEN, PROXY, p.CONTEXT],
                       'keystone'))

    def test_keystone_context_pairs_with_authtoken(self):
        # Only context: authtoken goes right before it.
        self.assertEqual(
            [p.REQUEST_ID, p.VERSIONS, CORS, p.AUTHTOKEN, p.CONTEXT],
            p.complete([p.REQUEST_ID, p.VERSIONS, CORS, p.CONTEXT],
                       'keystone+cachemanagement'))
        # Only authtoken: the context filter right after it.
        self.assertEqual(
            [p.REQUEST_ID, p.VERSIONS, p.AUTHTOKEN, p.CONTEXT, CORS],
            p.complete([p.REQUEST_ID, p.VERSIONS, p.AUTHTOKEN, CORS],
                       'keystone'))

    def test_context_of_another_flavor_does_not_count(self):
        # The header-based context would trust anyone under keystone.
        self.assertEqual(
            [p.REQUEST_ID, p.VERSIONS, p.NOAUTH_CONTEXT, p.AUTHTOKEN,
             p.CONTEXT],
            p.complete([p.REQUEST_ID, p.VERSIONS, p.NOAUTH_CONTEXT],
                       'keystone'))


class TestFactoryKind(testtools.TestCase):
    """Upstream's factory paths name the same filters as this package's."""

    def test_upstream_class_factories(self):
        from glance.api.middleware import context
        from glance.api.middleware import unauthenticated_context
        from glance.api.middleware import version_negotiation
        self.assertEqual(p.CONTEXT,
                         p.factory_kind(context.ContextMiddleware.factory))
        self.assertEqual(p.CONTEXT, p.factory_kind(context.filter_factory))
        self.assertEqual(
            p.NOAUTH_CONTEXT,
            p.factory_kind(context.UnauthenticatedContextMiddleware.factory))
        self.assertEqual(
            p.NOAUTH_CONTEXT,
            p.factory_kind(unauthenticated_context.filter_factory))
        self.assertEqual(p.VERSIONS, p.factory_kind(
            version_negotiation.VersionNegotiationFilter.factory))

    def test_oslo_middleware_factories(self):
        import oslo_middleware
        from oslo_middleware import cors
        self.assertEqual(p.CORS, p.factory_kind(cors.filter_factory))
        self.assertEqual(p.CORS, p.factory_kind(oslo_middleware.CORS.factory))
        self.assertEqual(p.PROXY_HEADERS, p.factory_kind(
            oslo_middleware.HTTPProxyToWSGI.factory))
        self.assertEqual(p.REQUEST_ID,
                         p.factory_kind(oslo_middleware.RequestId.factory))
        # Others keep their own name.
        self.assertEqual('oslo_middleware.catch_errors.CatchErrors',
                         p.factory_kind(oslo_middleware.CatchErrors.factory))


class TestCompleteWithCache(testtools.TestCase):

    def test_missing_context_goes_before_the_cache_filters(self):
        self.assertEqual(
            [p.REQUEST_ID, p.VERSIONS, p.NOAUTH_CONTEXT, p.CACHE,
             p.CACHE_MANAGE],
            p.complete([p.REQUEST_ID, p.VERSIONS, p.CACHE, p.CACHE_MANAGE],
                       'cachemanagement'))
        self.assertEqual(
            [p.REQUEST_ID, p.VERSIONS, p.AUTHTOKEN, p.CONTEXT, p.CACHE],
            p.complete([p.REQUEST_ID, p.CACHE], 'keystone+caching'))

    def test_complete_caching_pipelines_are_left_alone(self):
        modules = [p.REQUEST_ID, CORS, PROXY, p.VERSIONS, p.AUTHTOKEN,
                   p.CONTEXT, p.CACHE, p.CACHE_MANAGE]
        self.assertEqual(modules,
                         p.complete(modules, 'keystone+cachemanagement'))

    def test_upstream_class_factories_are_the_cache_filters(self):
        from glance.api.middleware import cache
        from glance.api.middleware import cache_manage
        self.assertEqual(p.CACHE, p.factory_kind(cache.CacheFilter.factory))
        self.assertEqual(p.CACHE_MANAGE, p.factory_kind(
            cache_manage.CacheManageFilter.factory))
