"""glance.api.pipeline.exposure_problem: an unauthenticated flavor is
served on loopback only, unless the operator opts in."""

import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from glance.api import pipeline
from glance.common import config


class TestExposure(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts()))
        config.register_opts(self.conf.conf)

    def problem(self, bind_host, flavor=None, allow=False):
        self.conf.config(bind_host=bind_host)
        self.conf.config(flavor=flavor, allow_unauthenticated_remote=allow,
                         group='paste_deploy')
        return pipeline.exposure_problem(self.conf.conf)

    def test_loopback_addresses_pass(self):
        for host in ('127.0.0.1', '127.0.0.2', '::1', 'localhost',
                     '::ffff:127.0.0.1'):
            for flavor in (None, '', 'fakeauth'):
                self.assertIsNone(self.problem(host, flavor), host)

    def test_unauthenticated_flavor_elsewhere_is_refused(self):
        for host in ('0.0.0.0', '::', '192.0.2.10', '2001:db8::1'):
            for flavor in (None, 'fakeauth', 'default'):
                problem = self.problem(host, flavor)
                self.assertIsNotNone(problem, (host, flavor))
                self.assertIn(host, problem)
                self.assertIn('flavor = keystone', problem)
                self.assertIn('[keystone_authtoken]', problem)
                self.assertIn('allow_unauthenticated_remote = true',
                              problem)

    def test_keystone_flavors_pass_anywhere(self):
        for flavor in ('keystone', 'keystone+cachemanagement'):
            self.assertIsNone(self.problem('0.0.0.0', flavor))

    def test_operator_opt_in(self):
        self.assertIsNone(self.problem('0.0.0.0', None, allow=True))
        self.assertIsNone(self.problem('::', 'fakeauth', allow=True))

    def test_check_raises_runtime_error(self):
        # RuntimeError: exit status 1 at start (glance.cmd.startup).
        self.problem('0.0.0.0')
        self.assertRaises(RuntimeError, pipeline.check_exposure,
                          self.conf.conf)
        self.problem('127.0.0.1')
        pipeline.check_exposure(self.conf.conf)
