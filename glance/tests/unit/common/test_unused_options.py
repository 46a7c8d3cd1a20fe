"""Options of the configuration files that nothing reads are found (to
be logged as ignored); registered ones, their old names, the options of
the libraries configured from glance-api.conf and of the Keystone auth
plugin a section names are not."""

import os

import fixtures
from oslo_config import cfg

from glance.common import unused_options
from glance.tests.unit import base

CONFIG = """[DEFAULT]
debug = true
image_cache_driver = centralized_db
old_name = 1

[database]
connection = sqlite://
mysql_sql_mode = TRADITIONAL

[keystone_authtoken]
auth_type = password
username = glance
www_authenticate_uri = http://keystone.example.org:5000
no_such_option = x

[oslo_messaging_rabbit]
heartbeat_rate = 3

[glance.store.swift.store]
swift_store_container = glance
"""


class TestUnused(base.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(tmp, 'glance-api.conf')
        with open(self.path, 'w') as f:
            f.write(CONFIG)
        self.conf = cfg.ConfigOpts()
        self.conf.register_opts([
            cfg.StrOpt('new_name', deprecated_name='old_name'),
            cfg.BoolOpt('debug')])
        self.conf.register_opts([cfg.StrOpt('connection')], 'database')
        self.conf(['--config-file', self.path], project='glance',
                  default_config_files=[], default_config_dirs=[])

    def test_unused(self):
        found = unused_options.unused(self.conf)
        self.assertEqual({
            (self.path, 'DEFAULT'): ['image_cache_driver'],
            (self.path, 'database'): ['mysql_sql_mode'],
            (self.path, 'keystone_authtoken'): ['no_such_option'],
            (self.path, 'glance.store.swift.store'):
                ['swift_store_container'],
        }, dict(found))

    def test_known_adds_to_the_used(self):
        known = unused_options.listed(
            [('database', [cfg.StrOpt('mysql_sql_mode')])])
        found = unused_options.unused(self.conf, known)
        self.assertNotIn((self.path, 'database'), found)

    def test_reported_once(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='glance.common.unused_options'))
        unused_options.report(self.conf)
        unused_options.report(self.conf)
        self.assertEqual(1, logger.output.count('image_cache_driver'),
                         logger.output)
        self.assertEqual(1, logger.output.count('swift_store_container'))

    def test_library_namespaces_include_the_sample_configs(self):
        sample = os.path.join(os.path.dirname(unused_options.__file__),
                              '..', '..', 'etc', 'oslo-config-generator',
                              'glance-api.conf')
        with open(sample) as f:
            namespaces = [line.split('=', 1)[1].strip() for line in f
                          if line.startswith('namespace')]
        for namespace in namespaces:
            if namespace != 'glance.api':
                self.assertIn(namespace, unused_options.LIBRARY_NAMESPACES)
