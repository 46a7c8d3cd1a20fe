"""The $NOTIFY_SOCKET client, talking to a real datagram socket, and the
exit codes of start-up failures."""

import os
import shutil
import socket
import tempfile
import uuid

import fixtures
import testtools
from oslo_config import cfg

from glance.cmd import startup
from glance.common import systemd
from glance.store import exceptions as store_exceptions


class SystemdTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        saved = dict(systemd._state)
        self.addCleanup(systemd._state.update, saved)
        for name in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'):
            self.useFixture(fixtures.EnvironmentVariable(name))

    def listen(self, abstract=False):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        if abstract:
            name = 'glance-test-%s' % uuid.uuid4().hex
            sock.bind('\0' + name)
            address = '@' + name
        else:
            address = os.path.join(self.tmp, 'notify')
            sock.bind(address)
        sock.settimeout(5)
        return sock, address

    def load(self, **env):
        for name, value in env.items():
            os.environ[name] = value
        systemd._state['address'] = systemd._UNSET
        systemd._state['watchdog'] = None
        systemd._load()


class TestNotify(SystemdTestCase):

    def test_states_and_fields_in_one_datagram(self):
        sock, address = self.listen()
        self.load(NOTIFY_SOCKET=address)
        self.assertTrue(systemd.enabled())
        self.assertTrue(systemd.ready('Serving on x:1'))
        self.assertEqual(b'READY=1\nSTATUS=Serving on x:1',
                         sock.recv(4096))
        self.assertTrue(systemd.stopping())
        self.assertTrue(sock.recv(4096).startswith(b'STOPPING=1\n'))

    def test_reloading_carries_the_monotonic_clock(self):
        sock, address = self.listen()
        self.load(NOTIFY_SOCKET=address)
        systemd.reloading()
        fields = dict(line.split('=', 1) for line in
                      sock.recv(4096).decode().split('\n'))
        self.assertEqual('1', fields['RELOADING'])
        usec = int(fields['MONOTONIC_USEC'])
        self.assertLessEqual(abs(usec - systemd.monotonic_usec()), 5000000)

    def test_abstract_socket(self):
        sock, address = self.listen(abstract=True)
        self.load(NOTIFY_SOCKET=address)
        self.assertTrue(systemd.ping())
        self.assertEqual(b'WATCHDOG=1', sock.recv(4096))

    def test_variables_leave_the_environment(self):
        _, address = self.listen()
        self.load(NOTIFY_SOCKET=address, WATCHDOG_USEC='2000000')
        self.assertNotIn('NOTIFY_SOCKET', os.environ)
        self.assertNotIn('WATCHDOG_USEC', os.environ)
        # Still known to this process.
        self.assertTrue(systemd.enabled())
        self.assertEqual(1.0, systemd.watchdog_interval())

    def test_without_notify_socket_nothing_is_sent(self):
        self.load()
        self.assertFalse(systemd.enabled())
        self.assertFalse(systemd.ready())
        self.assertIsNone(systemd.watchdog_interval())

    def test_listener_gone_is_not_an_error(self):
        self.load(NOTIFY_SOCKET=os.path.join(self.tmp, 'nobody'))
        self.assertFalse(systemd.ready())

    def test_other_address_families_are_ignored(self):
        self.load(NOTIFY_SOCKET='vsock:2:1234')
        self.assertFalse(systemd.enabled())

    def test_forked_child_stays_silent(self):
        sock, address = self.listen()
        self.load(NOTIFY_SOCKET=address)
        pid = os.fork()
        if pid == 0:
            # Whatever happens, the child never returns into the test run.
            code = 2
            try:
                code = 1 if systemd.ready('from the child') else 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(0, os.waitstatus_to_exitcode(status))
        systemd.ready('from the parent')
        self.assertEqual(b'READY=1\nSTATUS=from the parent',
                         sock.recv(4096))


class TestWatchdog(SystemdTestCase):

    def test_half_the_timeout(self):
        _, address = self.listen()
        self.load(NOTIFY_SOCKET=address, WATCHDOG_USEC='3000000')
        self.assertEqual(1.5, systemd.watchdog_interval())

    def test_for_this_pid(self):
        _, address = self.listen()
        self.load(NOTIFY_SOCKET=address, WATCHDOG_USEC='3000000',
                  WATCHDOG_PID=str(os.getpid()))
        self.assertEqual(1.5, systemd.watchdog_interval())

    def test_for_another_pid(self):
        _, address = self.listen()
        self.load(NOTIFY_SOCKET=address, WATCHDOG_USEC='3000000',
                  WATCHDOG_PID=str(os.getpid() + 1))
        self.assertIsNone(systemd.watchdog_interval())

    def test_malformed(self):
        _, address = self.listen()
        self.load(NOTIFY_SOCKET=address, WATCHDOG_USEC='soon')
        self.assertIsNone(systemd.watchdog_interval())

    def test_without_notify_socket(self):
        self.load(WATCHDOG_USEC='3000000')
        self.assertIsNone(systemd.watchdog_interval())


class TestExitCodes(testtools.TestCase):

    def test_upstream_codes(self):
        cases = [
            (RuntimeError('x'), 1),
            (store_exceptions.BadStoreConfiguration('x'), 3),
            (ValueError('x'), 4),
            (cfg.ConfigFileValueError('x'), 5),
            (KeyError('x'), 99),
        ]
        for error, code in cases:
            self.assertEqual(code, startup.exit_code(error), repr(error))
