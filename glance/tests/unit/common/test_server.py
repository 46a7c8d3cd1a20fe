"""glance.common.server's before_serving hook, in a real server process:
it runs in each process that serves, and only there; signals a worker
gets while it runs (before the worker has its own handlers) are not
lost."""

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
import os, sys, time
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
    time.sleep(float(sys.argv[3]))


def app(environ, start_response):
    start_response('204 No Content', [])
    return [b'']


srv = server.Server(lambda: app, before_serving=record)
srv.start()
sys.exit(srv.run())
'''


class ServerProcess(testtools.TestCase):
    """Runs SERVER in a process of its own."""

    def serve(self, workers, pause=0):
        """The server; before_serving sleeps ``pause`` seconds after it
        recorded its pid."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'pids')
        proc = subprocess.Popen(
            [sys.executable, '-c', SERVER, path, str(workers), str(pause)],
            cwd=ROOT,
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


class TestBeforeServing(ServerProcess):

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


class TestSignalsWhileWorkersStart(ServerProcess):
    """Until a new worker has set its own signal handlers (here, while its
    before_serving sleeps), the signals it gets wait; it acts on them once
    it has them."""

    def test_sigterm(self):
        proc, path = self.serve(workers=2, pause=1)
        self.pids(path, 2)
        started = time.monotonic()
        self.stop(proc)
        self.assertLess(time.monotonic() - started, 10)

    def test_sighup(self):
        proc, path = self.serve(workers=2, pause=1)
        old = set(self.pids(path, 2))
        proc.send_signal(signal.SIGHUP)
        new = set(self.pids(path, 4)) - old
        self.assertEqual(2, len(new))

        def workers():
            pids = set()
            for child in psutil.Process(proc.pid).children():
                try:
                    if child.status() != psutil.STATUS_ZOMBIE:
                        pids.add(child.pid)
                except psutil.NoSuchProcess:
                    pass
            return pids
        # The replaced generation leaves once it has its handlers.
        deadline = time.monotonic() + 10
        while workers() != new and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(new, workers())
        self.stop(proc)
