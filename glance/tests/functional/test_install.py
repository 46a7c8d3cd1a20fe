"""The glance-api.conf tools/install writes does not serve an
unauthenticated API beyond this machine."""

import os
import subprocess
import sys

import fixtures
import testtools

from glance.tests.functional import base

# Prints the flavor, bind_host and what glance-api would refuse, as the
# daemon reads the file.
PROBE = '''
import sys
from oslo_config import cfg
from glance.api import pipeline
from glance.common import config
config.parse_args(['--config-file', sys.argv[1]])
c = cfg.CONF
print(c.paste_deploy.flavor, c.bind_host, pipeline.exposure_problem(c),
      sep='|')
'''


class TestInstalledConfiguration(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.workdir = self.useFixture(fixtures.TempDir()).path

    def install(self, *args):
        root = os.path.join(self.workdir, 'root%d' % len(os.listdir(
            self.workdir)))
        proc = subprocess.run(
            [os.path.join(base.ROOT, 'tools', 'install'), '--destdir', root,
             '--bindir', os.path.dirname(sys.executable)] + list(args),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return os.path.join(root, 'etc', 'glance', 'glance-api.conf'), \
            proc.stderr

    def probe(self, conf):
        proc = subprocess.run([sys.executable, '-c', PROBE, conf],
                              capture_output=True, text=True, timeout=120,
                              cwd=base.ROOT)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return proc.stdout.strip().split('|')

    def test_sample_alone_would_be_refused(self):
        # What the installed file adds is needed: the sample keeps the
        # defaults (no flavor, every address).
        flavor, host, problem = self.probe(
            os.path.join(base.ROOT, 'etc', 'glance-api.conf'))
        self.assertEqual(('None', '0.0.0.0'), (flavor, host))
        self.assertIn('allow_unauthenticated_remote', problem)

    def test_default_install_uses_keystone_with_placeholders(self):
        conf, said = self.install()
        flavor, host, problem = self.probe(conf)
        self.assertEqual(('keystone', 'None'), (flavor, problem))
        with open(conf) as f:
            text = f.read()
        self.assertIn('[keystone_authtoken]', text)
        self.assertIn('CHANGE_ME', text)
        self.assertIn('CHANGE_ME placeholders', said)

    def test_no_keystone_install_binds_loopback(self):
        conf, said = self.install('--no-keystone')
        flavor, host, problem = self.probe(conf)
        self.assertEqual(('None', '127.0.0.1', 'None'),
                         (flavor, host, problem))
        self.assertIn('127.0.0.1 only', said)
