"""glance.common.daemon: a real subclass (daemon_child) in a real process,
its notifications read from a real $NOTIFY_SOCKET."""

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import fixtures
import testtools

from glance.common import daemon

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
# Upper bound for what should happen "at once" on a busy machine.
SOON = 10


class Listener:
    """An AF_UNIX datagram socket playing systemd: every message, with the
    CLOCK_MONOTONIC time it arrived, is kept."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            fields = dict(line.split('=', 1)
                          for line in data.decode().split('\n'))
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def close(self):
        self.closed = True
        self.thread.join()
        self.sock.close()

    def having(self, key):
        """(arrival, fields) of the messages setting ``key=1``."""
        with self.lock:
            return [(at, fields) for at, fields in self.messages
                    if fields.get(key) == '1']

    def sync(self):
        """Send a message of the test's own and wait for it; returns its
        index. What was sent before it has arrived by then (the socket
        queues messages in order)."""
        token = '%016x' % random.getrandbits(64)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(('SENTINEL=%s' % token).encode(), self.path)

        def index():
            with self.lock:
                for i, (_, fields) in enumerate(self.messages):
                    if fields.get('SENTINEL') == token:
                        return i + 1
        return wait_for(index, 'the sentinel message') - 1

    def keys(self):
        """The first key of each message, in order (READY, STOPPING...)."""
        with self.lock:
            return [next(iter(fields)) for _, fields in self.messages]


def wait_for(predicate, what, timeout=SOON):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(0.02)


class DaemonTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.events = os.path.join(self.tmp, 'events')
        self.listener = Listener(os.path.join(self.tmp, 'notify'))
        self.addCleanup(self.listener.close)

    def start(self, *args, watchdog_usec=None):
        env = dict(os.environ, NOTIFY_SOCKET=self.listener.path)
        for name in ('WATCHDOG_USEC', 'WATCHDOG_PID'):
            env.pop(name, None)
        if watchdog_usec:
            env['WATCHDOG_USEC'] = str(watchdog_usec)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.tests.unit.common.daemon_child',
             self.events] + [str(a) for a in args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(self._reap, proc)
        return proc

    def _reap(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def stop(self, proc, sig=signal.SIGTERM):
        """Send ``sig``; the exit status and stderr, and how long it took."""
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=SOON)
        return proc.returncode, err, time.monotonic() - sent

    def lines(self):
        try:
            with open(self.events) as f:
                return [line.split() for line in f]
        except FileNotFoundError:
            return []

    def stamp(self, kind, number):
        """When pass ``number`` started or ended, None if it did not."""
        for words in self.lines():
            if words[:2] == [kind, str(number)]:
                return float(words[2])
        return None

    def wait_stamp(self, kind, number, timeout=SOON):
        return wait_for(lambda: self.stamp(kind, number),
                        '%s of pass %s' % (kind, number), timeout)

    def ready(self, count=1):
        return wait_for(lambda: len(self.listener.having('READY')) >= count
                        and self.listener.having('READY'), 'READY=1')


class TestRunOnce(DaemonTest):

    def test_one_pass_and_its_result(self):
        proc = self.start('--once', '--interval', 0.1)
        out, err = proc.communicate(timeout=SOON)
        self.assertEqual(0, proc.returncode, err)
        self.assertEqual('1\n', out)
        self.assertEqual(['start', 'end'], [w[0] for w in self.lines()])
        # Neither start-up checks nor notifications: a plain pass.
        self.assertEqual([], self.listener.keys()[:self.listener.sync()])


class TestRunForever(DaemonTest):

    def test_passes_every_interval(self):
        proc = self.start('--interval', 0.3)
        ready_at, ready = self.ready()[0]
        self.assertEqual('Probing every 0.3s', ready['STATUS'])
        self.wait_stamp('end', 4)
        # Checked before READY, first pass at once (no jitter).
        self.assertEqual('prepare', self.lines()[0][0])
        self.assertLess(float(self.lines()[0][1]), ready_at)
        self.assertLess(self.stamp('start', 1) - ready_at, 2)
        for n in (1, 2, 3):
            gap = self.stamp('start', n + 1) - self.stamp('end', n)
            self.assertGreaterEqual(gap, 0.3)
            self.assertLess(gap, 0.3 + 2)
        code, err, _ = self.stop(proc)
        self.assertEqual(0, code, err)
        self.assertIn('probe running every 0.3s', err)

    def test_first_pass_waits_with_jitter(self):
        # With jitter 1 the first pass waits a random part of the
        # interval: with an interval of an hour, not now.
        proc = self.start('--jitter', 1)
        self.ready()
        # The sentinel: a SIGHUP, handled while the daemon waits. A first
        # pass run at once would have been recorded before.
        proc.send_signal(signal.SIGHUP)
        self.ready(2)
        self.assertIsNone(self.stamp('start', 1))
        self.assertEqual(0, self.stop(proc)[0])

    def test_a_failing_pass_does_not_stop_the_daemon(self):
        proc = self.start('--interval', 0.1, '--fail', 1, '--fail', 2)
        self.wait_stamp('end', 3)
        self.assertIsNone(self.stamp('end', 1))
        self.assertIsNone(self.stamp('end', 2))
        code, err, _ = self.stop(proc)
        self.assertEqual(0, code, err)
        self.assertIn('probe pass failed', err)
        self.assertIn('RuntimeError: pass 2 broke', err)

    def test_failed_prepare_comes_out_before_ready(self):
        proc = self.start('--fail-prepare')
        _, err = proc.communicate(timeout=SOON)
        self.assertEqual(1, proc.returncode)
        self.assertIn('RuntimeError: not ready', err)
        self.assertEqual([], self.lines())
        self.assertEqual([], self.listener.keys())


class TestStop(DaemonTest):

    def check_signal_ends_the_wait(self, sig):
        proc = self.start()
        self.wait_stamp('end', 1)
        code, err, took = self.stop(proc, sig)
        self.assertEqual(0, code, err)
        self.assertLess(took, 3)
        self.assertEqual(['READY', 'STOPPING'], self.listener.keys())
        self.assertIsNone(self.stamp('start', 2))

    def test_sigterm_ends_the_wait_at_once(self):
        self.check_signal_ends_the_wait(signal.SIGTERM)

    def test_sigint_ends_the_wait_at_once(self):
        self.check_signal_ends_the_wait(signal.SIGINT)

    def test_signal_lets_the_pass_finish(self):
        proc = self.start('--pass-seconds', 1.5, '--interval', 0.1)
        self.wait_stamp('start', 1)
        code, err, _ = self.stop(proc)
        self.assertEqual(0, code, err)
        ended = self.stamp('end', 1)
        self.assertIsNotNone(ended)
        self.assertIsNone(self.stamp('start', 2))
        # STOPPING was sent when the signal came, not after the pass.
        (stopping_at, fields), = self.listener.having('STOPPING')
        self.assertLess(stopping_at, ended)
        self.assertEqual('Stopping', fields['STATUS'])
        self.assertEqual(['READY', 'STOPPING'], self.listener.keys())


class TestReload(DaemonTest):

    def write_config(self, marker):
        path = os.path.join(self.tmp, 'probe.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nmarker = %s\n' % marker)
        return path

    def test_sighup_reads_the_files_and_calls_the_hook(self):
        path = self.write_config('one')
        proc = self.start('--config-file', path)
        self.ready()
        self.wait_stamp('end', 1)
        self.write_config('two')
        proc.send_signal(signal.SIGHUP)
        self.ready(2)
        self.assertEqual(['READY', 'RELOADING', 'READY'],
                         self.listener.keys())
        reloading = self.listener.having('RELOADING')[0][1]
        self.assertIn('MONOTONIC_USEC', reloading)
        self.assertEqual('Probing every 3600s',
                         self.listener.having('READY')[1][1]['STATUS'])
        self.assertIn(['reload', 'two'], self.lines())
        self.assertIsNone(proc.poll())
        self.assertEqual(0, self.stop(proc)[0])

    def test_failed_reload_leaves_the_daemon_running(self):
        path = self.write_config('one')
        proc = self.start('--config-file', path, '--interval', 0.2)
        self.ready()
        os.unlink(path)
        proc.send_signal(signal.SIGHUP)
        self.ready(2)
        end = len(self.lines())
        wait_for(lambda: len(self.lines()) > end + 2, 'more passes')
        self.assertNotIn('reload', [w[0] for w in self.lines()])
        code, err, _ = self.stop(proc)
        self.assertEqual(0, code, err)
        self.assertIn('Reload failed', err)

    def test_without_reload_sighup_ends_the_process(self):
        proc = self.start('--no-reload')
        self.ready()
        proc.send_signal(signal.SIGHUP)
        proc.communicate(timeout=SOON)
        self.assertEqual(-signal.SIGHUP, proc.returncode)
        self.assertNotIn('RELOADING', self.listener.keys())


class TestWatchdog(DaemonTest):

    def test_pings_while_a_long_pass_runs(self):
        # WATCHDOG_USEC 0.4 s: a ping every 0.2 s.
        proc = self.start('--pass-seconds', 2, watchdog_usec=400000)
        ended = self.wait_stamp('end', 1)
        started = self.stamp('start', 1)
        during = [at for at, _ in self.listener.having('WATCHDOG')
                  if started < at < ended]
        self.assertGreaterEqual(len(during), 5)
        # ... and while it waits for the next pass.
        count = len(self.listener.having('WATCHDOG'))
        wait_for(lambda: len(self.listener.having('WATCHDOG')) > count + 2,
                 'pings between passes')
        self.assertEqual(0, self.stop(proc)[0])
        self.assertEqual('READY', self.listener.keys()[0])

    def test_no_pings_without_watchdog_usec(self):
        proc = self.start('--pass-seconds', 1)
        self.wait_stamp('end', 1)
        self.assertEqual(0, self.stop(proc)[0])
        self.assertEqual(['READY', 'STOPPING'], self.listener.keys())

    def test_a_pass_over_its_timeout_stops_the_pings(self):
        proc = self.start('--pass-seconds', 2.5, '--pass-timeout', 0.5,
                          watchdog_usec=200000)
        ended = self.wait_stamp('end', 1)
        started = self.stamp('start', 1)
        pings = [at for at, _ in self.listener.having('WATCHDOG')]
        self.assertTrue([at for at in pings if started < at < started + 0.4])
        # Once the pass is late (plus a ping interval), silence.
        self.assertEqual([], [at for at in pings
                              if started + 0.5 + 0.15 < at < ended])
        # Pings come back when the pass is over.
        wait_for(lambda: [at for at, _ in self.listener.having('WATCHDOG')
                          if at > ended], 'pings after the pass')
        self.assertEqual(0, self.stop(proc)[0])


class _Nothing(daemon.Daemon):
    interval = 100

    def run_pass(self):
        return None


class TestWaits(testtools.TestCase):
    """The wait computations, with a seeded generator."""

    def daemon(self, jitter):
        job = _Nothing(rng=random.Random(42))
        job.jitter = jitter
        return job

    def test_without_jitter(self):
        job = self.daemon(0)
        self.assertEqual(0, job.first_wait())
        self.assertEqual([100] * 5, [job.next_wait() for _ in range(5)])

    def test_with_jitter(self):
        job = self.daemon(0.25)
        firsts = [job.first_wait() for _ in range(200)]
        self.assertTrue(all(0 <= w <= 25 for w in firsts))
        self.assertGreater(max(firsts) - min(firsts), 15)
        waits = [job.next_wait() for _ in range(200)]
        self.assertTrue(all(75 <= w <= 125 for w in waits))
        self.assertGreater(max(waits) - min(waits), 30)

    def test_jitter_out_of_range(self):
        for jitter in (-0.1, 1.5):
            job = self.daemon(jitter)
            self.assertRaises(ValueError, job.next_wait)
            self.assertRaises(ValueError, job.run_forever)

    def test_run_once_returns_the_pass(self):
        self.assertIsNone(self.daemon(0).run_once())
