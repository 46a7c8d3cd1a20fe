"""The Ceph cluster and RADOS Gateway of tools/ceph, for the rbd and s3
store tests.

``CephDaemonTest`` starts them (or finds them running), shares them with
every other test process through ``SharedServer`` and runs one glance-api
for the class with the options ``store_options(env)`` gives, ``env`` being
the KEY=value lines of ``tools/ceph start``. Without the cluster the tests
fail, or skip off CI with GLANCE_TEST_NO_CEPH=1 (glance.tests.prerequisites).
"""

import importlib
import os

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import test_keystone

TOOL = os.path.join(base.ROOT, 'tools', 'ceph')
HOME = os.environ.get('GLANCE_CEPH_HOME', os.path.expanduser(
    '~/.cache/glance-ceph'))
PORT = os.environ.get('GLANCE_CEPH_MON_PORT', '6789')
TOOL_ENV = dict(os.environ, GLANCE_CEPH_HOME=HOME, GLANCE_CEPH_MON_PORT=PORT)


class Ceph(test_keystone.SharedServer):
    """The tools/ceph cluster (monitor, OSD and gateway)."""

    tool, home, port, tool_env, started_key = TOOL, HOME, PORT, TOOL_ENV, \
        'CEPH_STARTED'


def bindings_problem():
    """Why Ceph's Python bindings cannot be imported here, or None."""
    try:
        importlib.import_module('rados')
        importlib.import_module('rbd')
    except ImportError as e:
        return ('%s: install python3-rados and python3-rbd, then run '
                'tools/bootstrap' % e)
    return None


def acquire():
    """``(server, env)``, or ``(None, problem)`` when the cluster cannot
    be had (the problem to raise in each test)."""
    unmet = prerequisites.skip_requested('CEPH')
    if unmet is not None:
        return None, unmet
    problem = bindings_problem()
    if problem:
        return None, prerequisites.check('CEPH', False, problem)
    server = Ceph()
    try:
        env = server.acquire()
    except RuntimeError as e:
        return None, prerequisites.check('CEPH', False, str(e))
    return server, env


class CephDaemonTest(base.SharedDaemonTest):
    """One glance-api for the class, its stores on the tools/ceph cluster."""

    base_options = {}

    @classmethod
    def store_options(cls, env):
        return {}

    @classmethod
    def acquire_server(cls):
        """``acquire()`` of the server the stores use: the Ceph cluster
        unless a class says otherwise."""
        return acquire()

    @classmethod
    def setUpClass(cls):
        cls.ceph, env = cls.acquire_server()
        if cls.ceph is None:
            # SharedDaemonTest's set-up is skipped: no daemon to start.
            cls._unmet = env
            return
        cls.ceph_env = env
        cls.options = dict(cls.base_options, **cls.store_options(env))
        try:
            super().setUpClass()
        except BaseException:
            cls.ceph.release()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.ceph is not None:
                cls.ceph.release()

    def rados(self):
        """A connection as client.admin, closed at the end of the test."""
        import rados
        cluster = rados.Rados(conffile=self.ceph_env['CEPH_CONF'],
                              rados_id='admin')
        cluster.connect(timeout=30)
        self.addCleanup(cluster.shutdown)
        return cluster

    def images_pool(self):
        ioctx = self.rados().open_ioctx(self.ceph_env['CEPH_POOL'])
        self.addCleanup(ioctx.close)
        return ioctx
