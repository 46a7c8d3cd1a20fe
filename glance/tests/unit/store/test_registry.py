"""Store loading from real configuration files, and driver discovery."""

import io
import os
import ssl
import textwrap

import fixtures
import testtools
from oslo_config import cfg

from glance.common import config
from glance.store import driver
from glance.store import exceptions
from glance.store import filesystem
from glance.store import http
from glance.store import options
from glance.store import registry
from glance.tests.unit.store import fixtures_store as fx


class MemoryStore(driver.Store):
    """A driver defined outside glance.store, found by entry point."""
    type_name = 'memtest'
    schemes = ('mem',)
    capabilities = frozenset({driver.READ})


class RegistryTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.staging = os.path.join(self.root, 'staging')

    def load(self, text):
        text = textwrap.dedent(text).replace('$ROOT', self.root)
        if 'node_staging_uri' not in text:
            text = text.replace(
                '[DEFAULT]',
                '[DEFAULT]\nnode_staging_uri = file://%s' % self.staging, 1)
        return fx.load_conf(self.root, text)

    def registry(self, text):
        return registry.StoreRegistry(self.load(text))


class TestSingleStore(RegistryTestBase):

    def setUp(self):
        super().setUp()
        self.reg = self.registry('''
            [DEFAULT]
            [glance_store]
            filesystem_store_datadir = $ROOT/images
            filesystem_store_chunk_size = 4096
            ''')

    def test_stores(self):
        self.assertFalse(self.reg.multi_store)
        self.assertEqual(['file', 'http'],
                         [s.name for s in self.reg.stores()])
        self.assertIsInstance(self.reg.get_store('file'),
                              filesystem.FilesystemStore)
        self.assertIsInstance(self.reg.get_store('http'), http.HttpStore)
        self.assertIs(self.reg.get_store('file'), self.reg.default_store())
        store = self.reg.default_store()
        self.assertEqual([os.path.join(self.root, 'images')], store.paths)
        self.assertEqual(4096, store.chunk_size)

    def test_add_through_default_store(self):
        uri, written, metadata = self.reg.default_store().add(
            'img', io.BytesIO(b'data'), 4)
        self.assertEqual('file://%s/images/img' % self.root, uri)
        self.assertEqual({}, metadata)
        self.assertIs(self.reg.get_store('file'),
                      self.reg.store_for_location(uri))

    def test_store_for_location(self):
        self.assertEqual('http', self.reg.store_for_location(
            'HTTPS://example.org/x').name)
        self.assertEqual('file', self.reg.store_for_location(
            'file:///elsewhere/x').name)
        self.assertRaises(exceptions.UnknownScheme,
                          self.reg.store_for_location, 'rbd://a/b/c/d')
        self.assertRaises(exceptions.BadStoreUri,
                          self.reg.store_for_location, '/no/scheme')

    def test_undriven_store_is_503_naming_it(self):
        for url, kind in (('swift+https://a:b@h/v1/c/i', 'swift'),
                          ('rbd://fsid/images/i/snap', 'rbd'),
                          ('s3://k:s@h/b/i', 's3'),
                          ('vsphere://h/folder/i?dcPath=d', 'vmware'),
                          ('cinder://volume-id', 'cinder')):
            error = self.assertRaises(exceptions.StoreNotDriven,
                                      self.reg.store_for_location, url,
                                      'ceph-a')
            self.assertEqual(503, error.code)
            self.assertIn(kind, error.msg)
            self.assertIn('ceph-a', error.msg)
            if kind == 'cinder':
                # No driver of its own: upstream's, through the adapter.
                self.assertIn('glance_store', error.msg)
            else:
                # A driver exists: the store is not configured here.
                self.assertIn('not configured here', error.msg)
            # Adding such a location stays a 400 (UnknownScheme).
            self.assertIsInstance(error, exceptions.UnknownScheme)
        error = self.assertRaises(exceptions.UnknownScheme,
                                  self.reg.store_for_location, 'gopher://x')
        self.assertEqual(400, error.code)

    def test_unknown_store(self):
        error = self.assertRaises(exceptions.StoreNotConfigured,
                                  self.reg.get_store, 'fast')
        self.assertEqual(400, error.code)

    def test_staging_store(self):
        self.assertFalse(os.path.exists(self.staging))   # built on use
        staging = self.reg.staging_store()
        self.assertEqual([self.staging], staging.paths)
        self.assertIs(staging, self.reg.get_store(registry.STAGING_STORE))
        uri, _, _ = staging.add('img', io.BytesIO(b'x'), 1)
        self.assertEqual('file://%s/img' % self.staging, uri)
        self.assertEqual(4096, staging.chunk_size)
        self.assertRaises(exceptions.StoreNotConfigured,
                          self.reg.get_store, registry.TASKS_STORE)

    def test_only_file_store(self):
        reg = self.registry('''
            [DEFAULT]
            [glance_store]
            stores = file
            filesystem_store_datadirs = $ROOT/a:10
            filesystem_store_datadirs = $ROOT/b:20
            ''')
        self.assertEqual(['file'], [s.name for s in reg.stores()])
        self.assertEqual([os.path.join(self.root, n) for n in 'ba'],
                         reg.default_store().paths)
        self.assertRaises(exceptions.UnknownScheme, reg.store_for_location,
                          'http://example.org/x')

    def test_bad_single_store_configs(self):
        for text in ('[glance_store]\nstores = http\n',
                     '[glance_store]\ndefault_store = http\nstores = file\n',
                     '[glance_store]\nstores = file,rbd\n'):
            self.assertRaises(exceptions.BadStoreConfiguration,
                              self.registry, '[DEFAULT]\n' + text)

    def test_bad_staging_uri(self):
        reg = self.registry('''
            [DEFAULT]
            node_staging_uri = http://example.org/staging
            [glance_store]
            filesystem_store_datadir = $ROOT/images
            ''')
        self.assertRaises(exceptions.BadStoreConfiguration,
                          reg.staging_store)


MULTI = '''
    [DEFAULT]
    enabled_backends = fast:file, cheap:file, web:http
    [glance_store]
    default_backend = fast
    filesystem_store_datadir = $ROOT/lib/images
    [fast]
    filesystem_store_datadir = $ROOT/fast
    store_description = Fast disks
    weight = 100
    [cheap]
    weight = 50
    filesystem_store_file_perm = 640
    [web]
    https_insecure = false
    '''


class TestMultiStore(RegistryTestBase):

    def setUp(self):
        super().setUp()
        self.reg = self.registry(MULTI)

    def test_stores(self):
        self.assertTrue(self.reg.multi_store)
        self.assertEqual(['fast', 'cheap', 'web'],
                         [s.name for s in self.reg.stores()])
        fast, cheap, web = self.reg.stores()
        self.assertIs(fast, self.reg.default_store())
        self.assertEqual(('Fast disks', 100), (fast.description,
                                               fast.weight))
        self.assertEqual((None, 0), (web.description, web.weight))
        self.assertEqual([os.path.join(self.root, 'fast')], fast.paths)
        # No directory of its own: next to [glance_store]'s, by name.
        self.assertEqual([os.path.join(self.root, 'lib', 'cheap')],
                         cheap.paths)
        self.assertEqual(0o640, cheap.file_perm)
        self.assertEqual(ssl.CERT_REQUIRED, web.ssl_context.verify_mode)

    def test_location_metadata_and_lookup(self):
        fast, cheap, web = self.reg.stores()
        uri, _, metadata = cheap.add('img', io.BytesIO(b'abc'), 3)
        self.assertEqual({'store': 'cheap'}, metadata)
        self.assertIs(cheap, self.reg.store_for_location(uri))
        uri, _, metadata = fast.add('img', io.BytesIO(b'abc'), 3)
        self.assertEqual({'store': 'fast'}, metadata)
        self.assertIs(fast, self.reg.store_for_location(uri))
        # Outside every directory: the heaviest file store.
        self.assertIs(fast, self.reg.store_for_location('file:///x/img'))
        self.assertIs(web, self.reg.store_for_location('http://h/img'))
        # The store named in the location metadata wins when it can.
        self.assertIs(cheap, self.reg.store_for_location(uri, 'cheap'))
        self.assertIs(fast, self.reg.store_for_location(uri, 'web'))
        self.assertIs(fast, self.reg.store_for_location(uri, 'gone'))

    def test_reserved_stores(self):
        staging = self.reg.staging_store()
        tasks = self.reg.get_store(registry.TASKS_STORE)
        self.assertEqual([self.staging], staging.paths)
        self.assertEqual(
            [os.path.join(self.staging, registry.TASKS_STORE)], tasks.paths)
        self.assertNotIn(staging, self.reg.stores())
        _, _, metadata = staging.add('img', io.BytesIO(b'x'), 1)
        self.assertEqual({'store': registry.STAGING_STORE}, metadata)

    def test_reserved_store_sections(self):
        reg = self.registry(textwrap.dedent(MULTI) + textwrap.dedent('''
            [os_glance_staging_store]
            filesystem_store_datadir = $ROOT/elsewhere
            '''))
        self.assertEqual([os.path.join(self.root, 'elsewhere')],
                         reg.staging_store().paths)

    def test_reload_registers_again(self):
        conf = self.load(MULTI)
        first = registry.StoreRegistry(conf)
        second = registry.StoreRegistry(conf)
        self.assertEqual([s.name for s in first.stores()],
                         [s.name for s in second.stores()])

    def test_bad_configs(self):
        cases = [
            # reserved name
            ('enabled_backends = os_glance_mine:file', 'os_glance_mine'),
            ('enabled_backends = fast:nosuch', 'fast'),
            ('enabled_backends = fast:file', None),
            ('enabled_backends = fast:file', 'slow'),
        ]
        for backends, default in cases:
            text = '[DEFAULT]\n%s\n[glance_store]\n' % backends
            if default:
                text += 'default_backend = %s\n' % default
            text += 'filesystem_store_datadir = $ROOT/images\n'
            self.assertRaises(exceptions.BadStoreConfiguration,
                              self.registry, text)

    def test_module_level_registry(self):
        conf = self.load(MULTI)
        self.addCleanup(registry.reset)
        reg = registry.configure(conf)
        self.assertIs(reg, registry.get_registry())
        self.assertEqual('fast', registry.default_store().name)
        self.assertEqual('web', registry.get_store('web').name)
        self.assertEqual('web',
                         registry.store_for_location('https://h/x').name)


class TestDriverLoading(testtools.TestCase):

    def add_distribution(self, entry_points):
        """A real installed distribution declaring ``entry_points``."""
        self.useFixture(fx.Distribution(entry_points))

    def test_builtin_drivers(self):
        self.assertIs(filesystem.FilesystemStore,
                      registry.driver_class('file'))
        self.assertIs(http.HttpStore, registry.driver_class('http'))

    def test_entry_point_driver(self):
        self.add_distribution(
            'memtest = glance.tests.unit.store.test_registry:MemoryStore')
        self.assertIs(MemoryStore, registry.driver_class('memtest'))

    def test_broken_entry_point(self):
        self.add_distribution('broken = glance.no_such_module:Store')
        error = self.assertRaises(exceptions.BadStoreConfiguration,
                                  registry.driver_class, 'broken')
        self.assertIn('glance.no_such_module', str(error))

    def test_unknown_driver(self):
        self.assertRaises(exceptions.BadStoreConfiguration,
                          registry.driver_class, 'nosuch')


class TestOptions(testtools.TestCase):

    def test_list_opts(self):
        groups = dict(options.list_opts())
        self.assertEqual({'glance_store', 'os_glance_staging_store',
                          'os_glance_tasks_store'}, set(groups))
        names = [o.name for o in groups['glance_store']]
        self.assertEqual(['stores', 'default_store', 'default_backend',
                          'filesystem_store_datadir',
                          'filesystem_store_datadirs',
                          'filesystem_store_file_perm',
                          'filesystem_store_chunk_size',
                          'glance_store_driver', 'https_insecure',
                          'https_ca_certificates_file',
                          'http_proxy_information'], names[:11])
        # then those of the other drivers, in type name order
        self.assertIn('swift_store_container', names[11:])
        chunk = groups['glance_store'][6]
        self.assertEqual(1024 * 1024, chunk.default)
        for name in ('os_glance_staging_store', 'os_glance_tasks_store'):
            datadir = groups[name][0]
            self.assertEqual('filesystem_store_datadir', datadir.name)
            self.assertIsNone(datadir.default)

    def test_api_opts_are_common_then_store_options(self):
        self.assertEqual(
            [g for g, _ in config.list_opts()]
            + ['glance_store', 'os_glance_staging_store',
               'os_glance_tasks_store'],
            [g for g, _ in options.list_api_opts()])

    def test_register_twice(self):
        # A second registry (a reload) registers the same definitions.
        conf = cfg.ConfigOpts()
        options.register_opts(conf)
        options.register_opts(conf)
        fx.load_conf(self.useFixture(fixtures.TempDir()).path,
                     '[glance_store]\nfilesystem_store_datadirs = /a:1\n')

    def test_global_configuration_knows_the_store_options(self):
        # Registered by importing the registry, as glance.common.config
        # registers its own: callers may set them before any store exists.
        self.assertEqual(['file', 'http'], cfg.CONF.glance_store.stores)
        self.assertEqual('file', cfg.CONF.glance_store.default_store)
        self.assertEqual('/var/lib/glance/images',
                         cfg.CONF.glance_store.filesystem_store_datadir)
        self.assertTrue(cfg.CONF.glance_store.https_insecure)
        self.assertIsNone(
            cfg.CONF.os_glance_staging_store.filesystem_store_datadir)

    def test_backend_sections(self):
        conf = cfg.ConfigOpts()
        options.register_backend_opts(conf, 'fast', 'file')
        options.register_backend_opts(conf, 'web', 'http')
        options.register_backend_opts(conf, 'os_glance_staging_store',
                                      'file', reserved=True)
        conf([], default_config_files=[], default_config_dirs=[])
        self.assertIsNone(conf.fast.filesystem_store_datadir)
        self.assertEqual(0, conf.fast.weight)
        self.assertTrue(conf.web.https_insecure)
        self.assertRaises(cfg.NoSuchOptError, getattr,
                          conf.os_glance_staging_store, 'weight')
