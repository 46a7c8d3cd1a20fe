"""glance.cmd.startup: the checks the console scripts run before a daemon
declares itself ready."""

from oslo_config import cfg

from glance.cmd import startup
from glance.tests.unit.store import test_registry


class TestCheckOptions(test_registry.RegistryTestBase):

    def test_wrong_value_where_no_store_reads_it(self):
        # Read by no enabled store (the http one is off, the tasks store
        # is multi-store only), yet refused at start-up as every other
        # option of the wrong type is.
        for section, option in (('glance_store', 'https_insecure = maybe'),
                                ('os_glance_tasks_store',
                                 'filesystem_store_chunk_size = many')):
            reg = self.registry(
                '[DEFAULT]\n[glance_store]\nstores = file\n'
                'filesystem_store_datadir = $ROOT/images\n'
                '[%s]\n%s\n' % (section, option))
            error = self.assertRaises(cfg.ConfigFileValueError,
                                      startup.check_options, reg.conf)
            self.assertIn(option.split()[0], str(error))

    def test_good_values_pass(self):
        reg = self.registry('[DEFAULT]\n[glance_store]\nstores = file\n'
                            'filesystem_store_datadir = $ROOT/images\n')
        startup.check_options(reg.conf)
