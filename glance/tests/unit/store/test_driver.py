"""The driver interface, and the drivers this distribution publishes
holding to it."""

import importlib.metadata
import inspect

import testtools
from oslo_config import cfg

from glance.store import discovery
from glance.store import driver
from glance.store import exceptions

DATA_OPERATIONS = ('add', 'get', 'get_size', 'delete')


def own_drivers():
    """{type name: class} of the glance distribution's entry points."""
    eps = importlib.metadata.distribution('glance').entry_points
    return {ep.name: ep.load()
            for ep in eps.select(group=discovery.NAMESPACE)}


class TestPublishedDrivers(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.drivers = own_drivers()

    def test_file_and_http(self):
        self.assertLessEqual({'file', 'http', 'swift'}, set(self.drivers))

    def test_concrete_stores_named_after_their_entry_point(self):
        for name, cls in self.drivers.items():
            self.assertTrue(issubclass(cls, driver.Store), name)
            self.assertFalse(inspect.isabstract(cls), name)
            self.assertEqual(name, cls.type_name)
            self.assertIs(cls, discovery.driver_class(name))

    def test_schemes_and_capabilities(self):
        for name, cls in self.drivers.items():
            self.assertIsInstance(cls.schemes, tuple, name)
            if name == 'glance_store':
                # The adapter learns both from the upstream driver it is
                # configured with.
                self.assertEqual(((), frozenset()),
                                 (cls.schemes, cls.capabilities))
                continue
            self.assertTrue(cls.schemes, name)
            for scheme in cls.schemes:
                self.assertEqual(scheme.lower(), scheme)
            self.assertIn(driver.READ, cls.capabilities, name)
            self.assertLessEqual(cls.capabilities, driver.CAPABILITIES)

    def test_options_fresh_and_unique(self):
        for name, cls in self.drivers.items():
            for backend_section in (False, True):
                first = cls.config_opts(backend_section=backend_section)
                second = cls.config_opts(backend_section=backend_section)
                self.assertTrue(first, name)
                for opt in first:
                    self.assertIsInstance(opt, cfg.Opt)
                    self.assertTrue(opt.help, opt.name)
                names = [o.name for o in first]
                self.assertEqual(len(names), len(set(names)), name)
                self.assertEqual(names, [o.name for o in second])
                self.assertFalse({id(o) for o in first}
                                 & {id(o) for o in second}, name)
            self.assertEqual(
                [o.name for o in cls.config_opts()],
                [o.name for o in cls.config_opts(backend_section=True)])

    def test_data_operations_take_an_optional_context(self):
        for name, cls in self.drivers.items():
            for method in DATA_OPERATIONS:
                parameter = inspect.signature(
                    getattr(cls, method)).parameters.get('context')
                self.assertIsNotNone(parameter, '%s.%s' % (name, method))
                self.assertEqual(inspect.Parameter.KEYWORD_ONLY,
                                 parameter.kind)
                self.assertIsNone(parameter.default)

    def test_signatures_match_the_interface(self):
        for name, cls in self.drivers.items():
            for method in DATA_OPERATIONS + ('configure', 'local_path'):
                ours = inspect.signature(getattr(cls, method))
                interface = inspect.signature(getattr(driver.Store, method))
                self.assertEqual(list(interface.parameters),
                                 list(ours.parameters),
                                 '%s.%s' % (name, method))


class ReadOnly(driver.Store):

    type_name = 'readonly'
    schemes = ('ro',)
    capabilities = frozenset({driver.READ})

    def get(self, location, offset=0, length=None, *, context=None):
        return driver.ChunkIterator([b'x']), 1

    def get_size(self, location, *, context=None):
        return 1


class TestDefaults(testtools.TestCase):

    def test_cannot_write_or_delete(self):
        store = ReadOnly('ro', None)
        self.assertTrue(store.read_only)
        self.assertRaises(exceptions.StoreAddDisabled, store.add, 'img',
                          [b'x'], context=None)
        self.assertRaises(exceptions.StoreDeleteNotSupported,
                          store.delete, 'ro://x')
        self.assertIsNone(store.local_path('ro://x'))
        self.assertEqual([], ReadOnly.config_opts())
        self.assertEqual({}, ReadOnly.backend_fallbacks(None, 'ro'))

    def test_instance_capabilities_are_its_own(self):
        first, second = ReadOnly('a', None), ReadOnly('b', None)
        first.capabilities.discard(driver.READ)
        self.assertEqual({driver.READ}, second.capabilities)
        self.assertEqual(frozenset({driver.READ}), ReadOnly.capabilities)

    def test_reads_are_required(self):
        class NoReads(driver.Store):
            type_name = 'noreads'

        self.assertRaises(TypeError, NoReads, 'x', None)


class _Started:
    """A read begun by TestReadAhead: its piece is made when waited on."""

    def __init__(self, log, at, count):
        self.log, self.at, self.count = log, at, count
        log.append(('start', at, count))

    def wait(self):
        if self.at == 'fail':
            raise exceptions.RemoteServiceUnavailable('broken')
        self.log.append(('wait', self.at))
        return b'p' * self.count


class TestReadAhead(testtools.TestCase):

    def read_ahead(self, log, offset, end, size=10, depth=2):
        dropped = []
        reads = driver.ReadAhead(
            lambda at, count: _Started(log, at, count), offset, end, size,
            depth, dropped.append)
        return reads, dropped

    def test_pieces_in_order_with_depth_started_ahead(self):
        log = []
        reads, dropped = self.read_ahead(log, 5, 38)
        # The first `depth` are under way as soon as it is made.
        self.assertEqual([('start', 5, 10), ('start', 15, 10)], log)
        got = list(reads)
        self.assertEqual([10, 10, 10, 3], [count for _, count in got])
        self.assertEqual(b'p' * 33, b''.join(piece for piece, _ in got))
        self.assertEqual([('start', 5, 10), ('start', 15, 10),
                          ('wait', 5), ('start', 25, 10),
                          ('wait', 15), ('start', 35, 3),
                          ('wait', 25), ('wait', 35)], log)
        reads.close()
        self.assertEqual([], dropped)

    def test_close_drops_what_is_under_way(self):
        log = []
        reads, dropped = self.read_ahead(log, 0, 100, depth=3)
        next(reads)
        reads.close()
        self.assertEqual([10, 20, 30], [s.at for s in dropped])
        self.assertRaises(StopIteration, next, reads)

    def test_nothing_to_read(self):
        log = []
        reads, _ = self.read_ahead(log, 7, 7)
        self.assertEqual([], list(reads))
        self.assertEqual([], log)

    def test_error_of_a_piece_is_raised_by_next(self):
        reads = driver.ReadAhead(
            lambda at, count: _Started([], 'fail', count), 0, 30, 10, 2,
            lambda started: None)
        self.assertRaises(exceptions.RemoteServiceUnavailable, next, reads)
