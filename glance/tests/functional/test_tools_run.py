"""tools/run fills an empty metadata definitions catalog from
etc/metadefs on its first start, and never again."""

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

import requests
import testtools

from glance.tests.functional import base

SHIPPED = len(glob.glob(os.path.join(base.ROOT, 'etc', 'metadefs',
                                     '*.json')))


class TestToolsRun(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.data = tempfile.mkdtemp(prefix='glance-tools-run-')
        self.addCleanup(subprocess.run, ['rm', '-rf', self.data])
        self.port = base.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port

    def start(self):
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in base.PROXY_VARIABLES}
        env.update(GLANCE_DATA_DIR=self.data,
                   GLANCE_VENV=os.path.dirname(os.path.dirname(
                       sys.executable)),
                   OS_DEFAULT__BIND_PORT=str(self.port),
                   OS_DEFAULT__WORKERS='0')
        stderr = open(os.path.join(self.data, 'run.err'), 'w+')
        self.addCleanup(stderr.close)
        proc = subprocess.Popen([os.path.join(base.ROOT, 'tools', 'run')],
                                env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True)
        self.addCleanup(self.stop, proc)
        deadline = time.monotonic() + 120
        while not base.server_answers(self.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                stderr.seek(0)
                self.fail('tools/run did not serve: %s' % stderr.read())
            time.sleep(0.1)
        stderr.seek(0)
        return proc, stderr.read()

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def namespaces(self):
        response = requests.get(self.url + '/v2/metadefs/namespaces',
                                params={'limit': 1000}, timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        return {ns['namespace'] for ns in response.json()['namespaces']}

    def test_catalog_loaded_on_first_start_only(self):
        self.assertLess(0, SHIPPED)
        proc, said = self.start()
        self.assertIn('loading the metadata definitions', said)
        loaded = self.namespaces()
        self.assertEqual(SHIPPED, len(loaded))
        # The operator removes a namespace: it stays removed.
        gone = sorted(loaded)[0]
        response = requests.put(
            self.url + '/v2/metadefs/namespaces/' + gone,
            json={'namespace': gone, 'protected': False}, timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        response = requests.delete(
            self.url + '/v2/metadefs/namespaces/' + gone, timeout=30)
        self.assertEqual(204, response.status_code, response.text)
        self.stop(proc)

        proc, said = self.start()
        self.assertNotIn('loading', said)
        self.assertEqual(loaded - {gone}, self.namespaces())
        self.stop(proc)

        # Without the mark of the first start (a data directory of an
        # older tools/run), a catalog holding namespaces is left alone.
        os.unlink(os.path.join(self.data, 'metadefs-loaded'))
        proc, said = self.start()
        self.assertNotIn('loading', said)
        self.assertEqual(loaded - {gone}, self.namespaces())
