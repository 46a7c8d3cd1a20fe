"""An unauthenticated paste flavor is not served beyond loopback unless
the operator says so: glance-api refuses to start (and a reload that
would do it fails), glance-status reports it."""

import json
import signal
import subprocess
import sys

import requests

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd


class TestUnauthenticatedExposure(hd.DaemonTestCase):

    def refused(self, daemon):
        daemon.start(wait=False)
        try:
            out, _ = daemon.proc.communicate(timeout=hd.PATIENCE)
        finally:
            daemon.proc.stdout.close()
        return daemon.proc.returncode, out.decode(errors='replace')

    def test_default_flavor_on_every_address_is_refused(self):
        for host in ('0.0.0.0', '::'):
            daemon = self.make_daemon(options={'bind_host': host})
            code, out = self.refused(daemon)
            self.assertEqual(1, code, out)
            self.assertIn("flavor 'none'", out)
            self.assertIn('on %s,' % host, out)
            self.assertIn('[paste_deploy] flavor = keystone', out)
            self.assertIn('[keystone_authtoken]', out)
            self.assertIn('allow_unauthenticated_remote = true', out)
            self.assertFalse(base.server_answers(daemon.url))

    def test_fakeauth_flavor_is_refused_too(self):
        daemon = self.make_daemon(options={'bind_host': '0.0.0.0'},
                                  flavor='fakeauth')
        code, out = self.refused(daemon)
        self.assertEqual(1, code, out)
        self.assertIn("flavor 'fakeauth'", out)

    def test_operator_opt_in_serves_every_address(self):
        daemon = self.start_daemon(options={
            'bind_host': '0.0.0.0',
            'paste_deploy.allow_unauthenticated_remote': 'true'})
        response = requests.get(daemon.url + '/v2/images', timeout=30)
        self.assertEqual(200, response.status_code)

    def test_reload_onto_every_address_fails_and_keeps_serving(self):
        daemon = self.start_daemon(workers=1)
        mark = hd.log_mark(daemon)
        hd.set_option(daemon, 'DEFAULT', 'bind_host', '0.0.0.0')
        daemon.signal(signal.SIGHUP)
        logged = hd.wait_log(daemon, 'Reload failed', mark)
        self.assertIn('allow_unauthenticated_remote', logged)
        response = requests.get(daemon.url + '/v2/images', timeout=30)
        self.assertEqual(200, response.status_code)

    def test_status_check_reports_it(self):
        daemon = self.make_daemon(options={'bind_host': '0.0.0.0'})
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.status', '--config-file',
             daemon.conf, 'upgrade', 'check', '--json'], cwd=base.ROOT,
            capture_output=True, text=True, timeout=120)
        results = {c['check']: (c['result'], c['details'])
                   for c in json.loads(proc.stdout)['checks']}
        self.assertEqual(2, proc.returncode, results)
        result, details = results['Unauthenticated API exposure']
        self.assertEqual(2, result)
        self.assertIn('allow_unauthenticated_remote', details)
