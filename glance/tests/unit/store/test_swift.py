"""Swift location URIs and option checks (no server: the data paths are
tested against a real Swift in glance.tests.functional.test_swift_store)."""

import fixtures
import testtools

from glance.store import exceptions
from glance.store import swift


class TestLocation(testtools.TestCase):

    def test_upstream_single_tenant_uri(self):
        uri = ('swift+http://test%3Atester:se%2Fcr%40t@127.0.0.1:8080/'
               'auth/v1.0/glance/1f6cfa2f-6b3e-4f2f-9c8a-4f1b2a3c4d5e')
        loc = swift.Location.parse(uri)
        self.assertEqual('test:tester', loc.user)
        self.assertEqual('se/cr@t', loc.key)
        self.assertEqual('127.0.0.1:8080/auth/v1.0', loc.address)
        self.assertEqual('glance', loc.container)
        self.assertEqual('http://127.0.0.1:8080/auth/v1.0', loc.http_url())
        self.assertEqual(uri, loc.uri())

    def test_unquoted_project_user(self):
        loc = swift.Location.parse(
            'swift://service:glance:pw@keystone:5000/v3/glance/abc')
        self.assertEqual('service:glance', loc.user)
        self.assertEqual('pw', loc.key)
        # swift:// means https
        self.assertEqual('https://keystone:5000/v3', loc.http_url())

    def test_config_and_multi_tenant_uris(self):
        loc = swift.Location.parse('swift+config://ref1/glance/abc')
        self.assertEqual(('swift+config', 'ref1', 'glance', 'abc', None),
                         (loc.scheme, loc.address, loc.container, loc.obj,
                          loc.user))
        loc = swift.Location.parse(
            'swift+https://swift.example.org/v1/AUTH_p1/glance_abc/abc')
        self.assertIsNone(loc.user)
        self.assertEqual('https://swift.example.org/v1/AUTH_p1',
                         loc.http_url())
        self.assertEqual('glance_abc', loc.container)

    def test_bad_uris(self):
        for uri in ('file:///x/y/z', 'swift+http://host/only',
                    'swift+http://host/container/', 'swift+http:///c/o',
                    'swift+http://nokey@host/a/c/o', None):
            self.assertRaises(exceptions.BadStoreUri, swift.Location.parse,
                              uri)

    def test_display_hides_credentials(self):
        self.assertEqual(
            'swift+http://***@h/auth/v1.0/c/o',
            swift._display('swift+http://u%3Ax:secret@h/auth/v1.0/c/o'))
        self.assertEqual('swift+config://ref/c/o',
                         swift._display('swift+config://ref/c/o'))


class Options:
    def __init__(self, **values):
        for opt in swift.SwiftStore.config_opts():
            setattr(self, opt.dest, opt.default)
        for name, value in values.items():
            setattr(self, name, value)


class TestConfigure(testtools.TestCase):

    def configure(self, **values):
        store = swift.SwiftStore('objects', Options(**values))
        store.configure()
        return store

    def test_missing_credentials(self):
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              self.configure,
                              swift_store_auth_address='http://h/v3')
        self.assertIn('Store objects', str(e))
        self.assertIn('user and key are not set', str(e))

    def test_auth_version_2_is_refused(self):
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              self.configure, swift_store_auth_version='2')
        self.assertIn('use 3', str(e))

    def test_unknown_reference(self):
        path = self.useFixture(fixtures.TempDir()).join('s.conf')
        with open(path, 'w') as f:
            f.write('[ref1]\nuser = a:b\nkey = k\nauth_address = http://h\n')
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              self.configure, swift_store_config_file=path,
                              default_swift_reference='other')
        self.assertIn("'other' is not a section", str(e))

    def test_multi_tenant_needs_no_service_account(self):
        store = self.configure(swift_store_multi_tenant=True)
        self.assertEqual('glance_abc', store._container_for('abc'))
        self.assertNotIn('auth_address', store.properties())

    def test_seeded_containers(self):
        store = self.configure(swift_store_multi_tenant=True)
        store.multi_tenant, store.seed = False, 3
        self.assertEqual('glance_1f6',
                         store._container_for('1f6cfa2f-6b3e-4f2f'))

    def test_location_prefix_names_the_container(self):
        store = self.configure(swift_store_multi_tenant=True)
        store.multi_tenant = False
        store.reference = None
        store.scheme, store.auth_address = 'swift+http', 'h:8080/auth/v1.0'
        store.credentials = swift.Credentials('http://h:8080/auth/v1.0',
                                              'a:u', 'k', '1')
        uri = 'swift+http://a%3Au:k@h:8080/auth/v1.0/glance/img'
        self.assertEqual(len('swift+http://a%3Au:k@h:8080/auth/v1.0/glance'),
                         store.match_location(uri))
        self.assertEqual(len('swift+http://'), store.match_location(
            'swift+http://a%3Au:k@h:8080/auth/v1.0/other/img'))
