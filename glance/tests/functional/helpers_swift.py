"""The Swift of tools/swift for functional tests.

``tools/swift start`` installs (first use) and starts a Swift on
127.0.0.1, shared by every test process (see ``SharedServer``);
``SwiftTest`` gives a daemon whose store is that Swift, in a container of
the class's own, and a swiftclient connection to look at what it wrote.

GLANCE_TEST_NO_SWIFT=1 skips these tests without starting Swift, except
under CI (CI=true); otherwise a Swift that cannot be installed or started
fails them (see glance.tests.prerequisites).
"""

import os
import socket
import uuid

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import test_keystone

TOOL = os.path.join(base.ROOT, 'tools', 'swift')
PORT = os.environ.get('GLANCE_SWIFT_PORT', '8080')
HOME = os.environ.get('GLANCE_SWIFT_HOME', os.path.expanduser(
    '~/.cache/glance-swift'))
TOOL_ENV = dict(os.environ, GLANCE_SWIFT_HOME=HOME, GLANCE_SWIFT_PORT=PORT)
# upstream's "MB" of the large object options
ONE_MB = 1000 * 1024


class Swift(test_keystone.SharedServer):
    """The tools/swift server (with its Keystone proxy when asked)."""

    tool, home, port, tool_env, started_key = TOOL, HOME, PORT, TOOL_ENV, \
        'SWIFT_STARTED'

    def __init__(self, keystone=False):
        super().__init__()
        if keystone:
            self.tool_env = dict(self.tool_env, GLANCE_SWIFT_KEYSTONE='1')


class Servers:
    """The Swift of tools/swift, and with ``keystone`` the Keystone of
    tools/keystone in front of it, held until ``release``."""

    def __init__(self, keystone=False):
        self.held = []
        self.env = {}
        self.keystone = keystone

    def acquire(self):
        """None, or the problem to raise in each test."""
        unmet = prerequisites.skip_requested('SWIFT')
        if unmet is None and self.keystone:
            unmet = prerequisites.skip_requested('KEYSTONE')
        if unmet is not None:
            return unmet
        wanted = [('SWIFT', Swift(self.keystone))]
        if self.keystone:
            wanted.insert(0, ('KEYSTONE', test_keystone.Keystone()))
        for thing, server in wanted:
            try:
                self.env.update(server.acquire())
            except RuntimeError as e:
                self.release()
                return prerequisites.check(thing, False, str(e))
            self.held.append(server)
        return None

    def release(self):
        while self.held:
            self.held.pop().release()


def acquire(keystone=False):
    """(servers, env) or (None, the problem to raise in each test)."""
    servers = Servers(keystone)
    problem = servers.acquire()
    if problem is not None:
        return None, problem
    return servers, servers.env


def connection(env, user=None, key=None):
    from swiftclient import client
    return client.Connection(authurl=env['SWIFT_AUTH_URL'],
                             user=user or env['SWIFT_USER'],
                             key=key or env['SWIFT_KEY'], retries=2)


def flush_tokens(env):
    """Forget every tempauth token: they live in Swift's memcached."""
    host, _, port = env['SWIFT_MEMCACHED'].partition(':')
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b'flush_all\r\n')
        assert sock.recv(64).startswith(b'OK')


def tempauth_options(env, container, **extra):
    options = {
        'glance_store.stores': 'swift,file',
        'glance_store.default_store': 'swift',
        'glance_store.swift_store_auth_version': '1',
        'glance_store.swift_store_auth_address': env['SWIFT_AUTH_URL'],
        'glance_store.swift_store_user': env['SWIFT_USER'],
        'glance_store.swift_store_key': env['SWIFT_KEY'],
        'glance_store.swift_store_container': container,
        'glance_store.swift_store_create_container_on_put': True,
    }
    options.update(extra)
    return options


class SwiftTest(base.SharedDaemonTest):
    """A daemon storing into the Swift of tools/swift (tempauth).

    ``store_options(env, container)`` gives the daemon's options; the
    container is the class's own.
    """

    keystone = False
    swift = None

    @classmethod
    def store_options(cls, env, container):
        return tempauth_options(env, container)

    @classmethod
    def setUpClass(cls):
        cls.swift, problem = acquire(cls.keystone)
        if cls.swift is None:
            cls._unmet = problem
            return
        cls.env = env = cls.swift.env
        cls.container = 'glance-test-%s' % uuid.uuid4().hex[:8]
        cls.options = dict(getattr(cls, 'base_options', {}),
                           **cls.store_options(env, cls.container))
        try:
            super().setUpClass()
        except Exception:
            cls.swift.release()
            raise
        cls.sw = connection(env)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.swift is not None:
                cls.swift.release()

    def objects(self, prefix='', container=None):
        from swiftclient import exceptions
        try:
            _, listing = self.sw.get_container(container or self.container,
                                               prefix=prefix,
                                               full_listing=True)
        except exceptions.ClientException as e:
            if e.http_status == 404:
                return {}
            raise
        return {entry['name']: entry['bytes'] for entry in listing}
