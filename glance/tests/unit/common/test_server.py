"""glance.common.server's before_serving hook, in a real server process:
it runs in each process that serves, and only there."""

import os
import signal
import subprocess
import sys
import time

import fixtures
import psutil
import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

# A server of a do-nothing application on a free port of 127.0.0.1;
# before_serving appends the pid of the process it runs in to a file.
SERVER = '''
import os, sys
import eventlet
eventlet.monkey_patch(os=False)
from oslo_config import cfg
from glance.common import config  # noqa: F401 (registers the options)
from glance.common import server

CONF = cfg.CONF
CONF([], project='glance', default_config_files=[], default_config_dirs=[])
CONF.set_override('bind_host', '127.0.0.1')
CONF.set_override('bind_port', 0)
CONF.set_override('workers', int(sys.argv[2]))


def record():
    with open(sys.argv[1], 'a') as f:
        f.write('%d\\n' % os.getpid())


def app(environ, start_response):
    start_response('204 No Content', [])
    return [b'']


srv = server.Server(lambda: app, before_serving=record)
srv.start()
sys.exit(srv.run())
'''


class TestBeforeServing(testtools.TestCase):

    def serve(self, workers):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'pids')
        proc = subprocess.Popen(
            [sys.executable, '-c', SERVER, path, str(workers)], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self._reap, proc)
        return proc, path

    def _reap(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def pids(self, path, count):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    found = [int(line) for line in f]
            except FileNotFoundError:
                found = []
            if len(found) >= count:
                return found
            time.sleep(0.05)
        self.fail('before_serving ran %d times, not %d'
                  % (len(found), count))

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        self.assertEqual(0, proc.returncode, err)

    def test_runs_in_each_worker(self):
        proc, path = self.serve(workers=2)
        pids = self.pids(path, 2)
        children = {c.pid for c in psutil.Process(proc.pid).children()}
        self.assertEqual(2, len(set(pids)))
        self.assertLessEqual(set(pids), children)
        self.assertNotIn(proc.pid, pids)
        self.stop(proc)

    def test_runs_in_the_parent_serving_alone(self):
        proc, path = self.serve(workers=0)
        self.assertEqual([proc.pid], self.pids(path, 1))
        self.stop(proc)
