"""glance.domain.images.locations rules that need no store server."""

import hashlib

import fixtures

from glance.common import exception
from glance.domain.images import images
from glance.domain.images import locations
from glance.store import registry
from glance.tests.unit import base

SHA512 = hashlib.sha512(b'x').hexdigest()
MD5 = hashlib.md5(b'x').hexdigest()


class TestValidationValues(base.TestCase):

    def queued(self, **extra):
        return dict({'status': 'queued', 'checksum': None,
                     'os_hash_algo': None, 'os_hash_value': None}, **extra)

    def loc(self, **data):
        return {'url': 'http://a/b', 'metadata': {}, 'validation_data': data}

    def test_new_values_on_a_queued_image(self):
        self.assertEqual(
            {'checksum': MD5, 'os_hash_algo': 'sha512',
             'os_hash_value': SHA512},
            locations.validation_values(self.queued(), [self.loc(
                checksum=MD5, os_hash_algo='sha512',
                os_hash_value=SHA512)]))
        self.assertEqual({}, locations.validation_values(
            self.queued(), [{'url': 'http://a/b', 'metadata': {}}]))

    def test_same_values_on_an_active_image(self):
        image = self.queued(status='active', checksum=MD5,
                            os_hash_algo='sha512', os_hash_value=SHA512)
        self.assertEqual({}, locations.validation_values(image, [self.loc(
            checksum=MD5, os_hash_algo='sha512', os_hash_value=SHA512)]))

    def test_conflicts(self):
        cases = [
            (self.queued(), [self.loc(os_hash_algo='sha512',
                                      os_hash_value=SHA512),
                             self.loc(os_hash_algo='sha512',
                                      os_hash_value='00' * 64)]),
            (self.queued(os_hash_value='00' * 64),
             [self.loc(os_hash_algo='sha512', os_hash_value=SHA512)]),
            (self.queued(status='active'),
             [self.loc(os_hash_algo='sha512', os_hash_value=SHA512)]),
            (self.queued(), [self.loc(os_hash_algo='sha256',
                                      os_hash_value='00' * 32)]),
            (self.queued(), [self.loc(os_hash_algo='sha512',
                                      os_hash_value='0g' * 64)]),
            (self.queued(), [self.loc(os_hash_algo='sha512',
                                      os_hash_value='00' * 63)]),
            (self.queued(), [self.loc(checksum='zz' * 16,
                                      os_hash_algo='sha512',
                                      os_hash_value=SHA512)]),
        ]
        for image, locs in cases:
            e = self.assertRaises(exception.Conflict,
                                  locations.validation_values, image, locs)
            self.assertEqual(409, e.code)

    def test_algorithm_follows_the_configuration(self):
        self.config(hashing_algorithm='sha256')
        digest = hashlib.sha256(b'x').hexdigest()
        self.assertEqual(
            {'os_hash_algo': 'sha256', 'os_hash_value': digest},
            locations.validation_values(self.queued(), [self.loc(
                os_hash_algo='sha256', os_hash_value=digest)]))


class TestPositions(base.TestCase):

    def test_insert(self):
        self.assertEqual(2, locations._position('-', 2, insert=True))
        self.assertEqual(2, locations._position('2', 2, insert=True))
        self.assertEqual(0, locations._position('0', 2, insert=True))
        for token in ('3', '-1', 'x', '', '1.0', '\u0661'):
            self.assertRaises(exception.BadRequest, locations._position,
                              token, 2, insert=True)

    def test_remove(self):
        self.assertEqual(1, locations._position('-', 2, insert=False))
        self.assertEqual(1, locations._position('1', 2, insert=False))
        self.assertRaises(exception.BadRequest, locations._position, '2', 2,
                          insert=False)


class TestUsableStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.config(filesystem_store_datadir=self.useFixture(
            fixtures.TempDir()).path, group='glance_store')
        registry.reset()
        self.addCleanup(registry.reset)

    def test_known_schemes(self):
        self.assertEqual('http',
                         locations.usable_store('https://h/x').type_name)

    def test_refused(self):
        for url in ('file:///etc/passwd', 'FILE:///etc/passwd',
                    'filesystem:///x', 'swift+config://r/c/o', 'rbd://a/b',
                    'nothing', '', None):
            e = self.assertRaises(exception.BadRequest,
                                  locations.usable_store, url)
            self.assertIn('Invalid location', e.msg)

    def test_http_needs_an_http_store(self):
        self.config(stores=['file'], group='glance_store')
        registry.reset()
        self.assertRaises(exception.BadRequest, locations.usable_store,
                          'http://h/x')

    def test_metadata_types(self):
        locations._check_metadata({'a': 'b', 'c': ['d', {'e': 'f'}]})
        for bad in ({'a': 1}, {'a': ['b', None]}, {'a': {'b': True}}):
            self.assertRaises(exception.BadRequest,
                              locations._check_metadata, bad)


class TestCheckFetchable(base.TestCase):
    """The URL filter of [import_filtering_opts] on http(s) locations;
    every URL here is refused before anything is sent."""

    def setUp(self):
        super().setUp()
        self.config(filesystem_store_datadir=self.useFixture(
            fixtures.TempDir()).path, group='glance_store')
        registry.reset()
        self.addCleanup(registry.reset)

    def test_refused_by_default(self):
        for url, reason in [
                ('http://127.0.0.1/x', 'is a loopback address'),
                ('https://[::1]/x', 'is a loopback address'),
                ('http://[::ffff:10.0.0.1]/x', 'is a private address'),
                ('http://169.254.169.254/latest', 'is a link-local address'),
                ('http://2130706433/x', 'not a standard dotted IPv4'),
                ('http://198.51.100.7:8080/x', 'the port 8080 is not '
                                               'allowed')]:
            for check in (locations.check_fetchable, locations.backend_size):
                e = self.assertRaises(exception.BadRequest, check, url)
                self.assertIn('Invalid location', e.msg)
                self.assertIn(reason, e.msg)

    def test_allowed_internal_network(self):
        self.config(group='import_filtering_opts',
                    allowed_internal_networks=['10.0.0.0/8'])
        self.assertEqual('http', locations.check_fetchable(
            'http://10.1.2.3/x').type_name)
        self.assertRaises(exception.BadRequest, locations.check_fetchable,
                          'http://10.1.2.3:8080/x')

    def test_store_rules_come_first(self):
        e = self.assertRaises(exception.BadRequest,
                              locations.check_fetchable, 'file:///etc/passwd')
        self.assertIn('file locations cannot be added', e.msg)


class TestPatchGate(base.DBTestCase):

    def test_hidden_locations_are_forbidden_and_probe_nothing(self):
        changes = [('add', ['locations', '-'],
                    {'url': 'http://192.0.2.1/x', 'metadata': {}}, '2.1')]
        self.assertEqual({}, locations.probe_patch(base.ctx(), 'x', changes))
        image = images.create(base.ctx(), {'name': 'x'})
        self.assertRaises(exception.Forbidden, images.update, base.ctx(),
                          image['id'], changes)
