"""glance-status upgrade check against real configuration files and
databases."""

import json
import os
import subprocess
import sys

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd


class TestUpgradeCheck(hd.DaemonTestCase):

    def check(self, daemon):
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.status', '--config-file',
             daemon.conf, 'upgrade', 'check', '--json'], cwd=base.ROOT,
            capture_output=True, text=True, timeout=120)
        report = json.loads(proc.stdout)
        results = {c['check']: (c['result'], c['details'])
                   for c in report['checks']}
        return proc.returncode, results

    def unsynced_daemon(self, **options):
        daemon = base.Daemon(self.workdir, self.db.url, options=options)
        self.addCleanup(self._cleanup_daemon, daemon)
        return daemon

    def test_current_installation_passes(self):
        code, results = self.check(self.make_daemon())
        self.assertEqual(0, code, results)
        self.assertEqual({0}, {r for r, _ in results.values()})
        self.assertIn('Database schema', results)
        self.assertIn('Store drivers', results)

    def test_schema_not_upgraded_fails(self):
        code, results = self.check(self.unsynced_daemon())
        self.assertEqual(2, code, results)
        self.assertEqual(2, results['Database schema'][0])
        self.assertIn('db sync', results['Database schema'][1])

    def test_contract_pending_warns(self):
        daemon = self.unsynced_daemon()
        daemon.manage('db', 'expand')
        code, results = self.check(daemon)
        self.assertEqual(1, code, results)
        self.assertEqual(1, results['Database schema'][0])
        self.assertIn('contract', results['Database schema'][1])

    def test_unreachable_database_fails(self):
        missing = os.path.join(self.workdir, 'no', 'such', 'db')
        code, results = self.check(self.unsynced_daemon(
            **{'database.connection': 'sqlite:///' + missing}))
        self.assertEqual(2, code, results)
        self.assertIn('database', results['Database schema'][1])

    def test_removed_store_driver_fails(self):
        code, results = self.check(self.make_daemon(
            options={'glance_store.stores': 'file,sheepdog'}))
        self.assertEqual(2, code, results)
        self.assertEqual(2, results['Store drivers'][0])
        self.assertIn('sheepdog', results['Store drivers'][1])

    def test_json_policy_file_fails(self):
        policy = os.path.join(self.workdir, 'policy.json')
        with open(policy, 'w') as f:
            json.dump({'get_images': ''}, f)
        code, results = self.check(self.make_daemon(
            options={'oslo_policy.policy_file': policy}))
        self.assertEqual(2, code, results)
        self.assertEqual(2, results['Policy File JSON to YAML Migration'][0])
