"""Drivers found through the entry points of installed distributions.

The plugin here lives outside the glance package, in a distribution of
its own on ``sys.path``: it is found, its options are registered and
listed, and stores of its type are built, without any table of glance
naming it.
"""

import io
import os
import textwrap

import fixtures
import testtools
from oslo_config import cfg

from glance.store import discovery
from glance.store import exceptions
from glance.store import options
from glance.store import registry
from glance.tests.unit.store import fixtures_store as fx
from glance.tests.unit.store import test_driver

# The drivers of the glance distribution itself (file, http, swift ...).
OWN_DRIVERS = list(test_driver.own_drivers())

PLUGIN = '''
    """A store keeping image data in memory, keyed by location."""

    from oslo_config import cfg

    from glance.store import driver
    from glance.store import exceptions


    class MemoryStore(driver.Store):

        type_name = 'memory'
        schemes = ('mem',)
        capabilities = frozenset({driver.READ, driver.WRITE})

        @classmethod
        def config_opts(cls, backend_section=False):
            return [cfg.IntOpt('memory_store_limit', default=1024,
                               help='Bytes the memory store holds.')]

        def configure(self):
            self.limit = self.options.memory_store_limit
            self.objects = {}
            self.contexts = []

        def add(self, image_id, reader, size=None, *, context=None):
            self.contexts.append(context)
            data = b''.join(driver.read_chunks(reader))
            if len(data) > self.limit:
                raise exceptions.StorageFull('over %d' % self.limit)
            location = 'mem://%s/%s' % (self.name, image_id)
            self.objects[location] = data
            return location, len(data), self.location_metadata()

        def _data(self, location):
            try:
                return self.objects[location]
            except KeyError:
                raise exceptions.NotFound(location)

        def get(self, location, offset=0, length=None, *, context=None):
            data = self._data(location)
            end = None if length is None else offset + length
            return driver.ChunkIterator([data[offset:end]]), len(data)

        def get_size(self, location, *, context=None):
            return len(self._data(location))
'''

ENTRY_POINT = 'memory = glance_test_memory_store:MemoryStore'


class DiscoveryTestBase(testtools.TestCase):

    def install(self, entry_points=ENTRY_POINT, **kwargs):
        modules = {'glance_test_memory_store': PLUGIN}
        self.useFixture(fx.Distribution(entry_points, modules, **kwargs))


class TestPluginDriver(DiscoveryTestBase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.install()

    def load(self, text):
        return fx.load_conf(self.root, textwrap.dedent(text).replace(
            '$ROOT', self.root))

    def test_found_by_type_name(self):
        cls = discovery.driver_class('memory')
        self.assertEqual('glance_test_memory_store', cls.__module__)
        self.assertIs(cls, registry.driver_class('memory'))
        self.assertEqual(sorted(OWN_DRIVERS + ['memory']),
                         list(discovery.driver_classes()))

    def test_options_listed_and_registered(self):
        glance_store = dict(options.list_opts())['glance_store']
        self.assertIn('memory_store_limit', [o.name for o in glance_store])
        conf = self.load('[glance_store]\nmemory_store_limit = 7\n')
        self.assertEqual(7, conf.glance_store.memory_store_limit)

    def test_single_store(self):
        reg = registry.StoreRegistry(self.load('''
            [DEFAULT]
            node_staging_uri = file://$ROOT/staging
            [glance_store]
            stores = file, memory
            default_store = memory
            filesystem_store_datadir = $ROOT/images
            memory_store_limit = 8
            '''))
        store = reg.default_store()
        self.assertEqual(('memory', 8), (store.name, store.limit))
        location, written, _ = store.add('img', io.BytesIO(b'abc'), 3)
        self.assertEqual(('mem://memory/img', 3), (location, written))
        self.assertIs(store, reg.store_for_location(location))
        chunks, size = store.get(location, 1)
        self.assertEqual((b'bc', 3), (chunks.read_all(), size))
        self.assertRaises(exceptions.StorageFull, store.add, 'big',
                          io.BytesIO(b'x' * 9))

    def test_multi_store_section(self):
        reg = registry.StoreRegistry(self.load('''
            [DEFAULT]
            enabled_backends = ram:memory, disk:file
            node_staging_uri = file://$ROOT/staging
            [glance_store]
            default_backend = ram
            filesystem_store_datadir = $ROOT/images
            [ram]
            memory_store_limit = 2
            weight = 10
            '''))
        ram = reg.get_store('ram')
        self.assertEqual((2, 10), (ram.limit, ram.weight))
        self.assertEqual([os.path.join(self.root, 'disk')],
                         reg.get_store('disk').paths)
        context = object()
        location, _, metadata = ram.add('img', [b'ab'], context=context)
        self.assertEqual({'store': 'ram'}, metadata)
        self.assertEqual([context], ram.contexts)
        self.assertIs(ram, reg.store_for_location(location, 'ram'))


class TestBrokenPlugins(DiscoveryTestBase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name=discovery.__name__))

    def test_driver_that_cannot_load(self):
        self.install('memory = glance_test_memory_store:MemoryStore\n'
                     'broken = glance_test_no_such_module:Store')
        self.assertRaises(exceptions.BadStoreConfiguration,
                          discovery.driver_classes)
        self.assertRaises(exceptions.BadStoreConfiguration,
                          options.list_opts)
        # Registration goes on with the drivers that load; a configuration
        # using the broken one fails when the store is built.
        self.assertEqual(sorted(OWN_DRIVERS + ['memory']),
                         list(discovery.driver_classes(strict=False)))
        conf = cfg.ConfigOpts()
        options.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        self.assertEqual(1024, conf.glance_store.memory_store_limit)
        self.assertIn('Store driver broken', self.log.output)
        error = self.assertRaises(exceptions.BadStoreConfiguration,
                                  discovery.driver_class, 'broken')
        self.assertIn('glance_test_no_such_module', str(error))

    def test_type_name_published_twice(self):
        self.install()
        self.install(name='glance_store_other_plugin',
                     entry_points='memory = glance.store.http:HttpStore')
        self.assertRaises(exceptions.BadStoreConfiguration,
                          discovery.driver_class, 'memory')
        self.assertRaises(exceptions.BadStoreConfiguration,
                          discovery.driver_classes)
        self.assertEqual(test_driver.own_drivers(),
                         discovery.driver_classes(strict=False))
        self.assertIn("named 'memory'", self.log.output)

    def test_unknown_type(self):
        error = self.assertRaises(exceptions.BadStoreConfiguration,
                                  discovery.driver_class, 'sheepdog')
        self.assertIn(discovery.NAMESPACE, str(error))
