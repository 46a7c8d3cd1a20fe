"""The vCenter simulator of tools/vcsim, for the vmware store tests.

``tools/vcsim start`` installs and builds it on first use and starts it
on 127.0.0.1, shared by every test process (see ``SharedServer``).
``acquire()`` gives it with its KEY=value settings; without it the tests
fail, or skip off CI with GLANCE_TEST_NO_VCSIM=1
(glance.tests.prerequisites).
"""

import os
import ssl
import time

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import test_keystone

TOOL = os.path.join(base.ROOT, 'tools', 'vcsim')
HOME = os.environ.get('GLANCE_VCSIM_HOME', os.path.expanduser(
    '~/.cache/glance-vcsim'))
PORT = os.environ.get('GLANCE_VCSIM_PORT', '8989')
TOOL_ENV = dict(os.environ, GLANCE_VCSIM_HOME=HOME, GLANCE_VCSIM_PORT=PORT)


class Vcsim(test_keystone.SharedServer):
    """The tools/vcsim simulator."""

    tool, home, port, tool_env, started_key = TOOL, HOME, PORT, TOOL_ENV, \
        'VCSIM_STARTED'


def acquire():
    """``(server, env)``, or ``(None, problem)`` when the simulator cannot
    be had (the problem to raise in each test)."""
    unmet = prerequisites.skip_requested('VCSIM')
    if unmet is not None:
        return None, unmet
    server = Vcsim()
    try:
        env = server.acquire()
    except RuntimeError as e:
        return None, prerequisites.check('VCSIM', False, str(e))
    return server, env


def vmware_options(env, group='glance_store', **changes):
    options = {'vmware_server_host': env['VCSIM_HOST'],
               'vmware_server_username': env['VCSIM_USER'],
               'vmware_server_password': env['VCSIM_PASSWORD'],
               'vmware_datastores': '%s:%s' % (env['VCSIM_DATACENTER'],
                                               env['VCSIM_DATASTORE']),
               'vmware_insecure': True,
               'vmware_api_retry_count': 3,
               'vmware_task_poll_interval': 1}
    options.update(changes)
    return {'%s.%s' % (group, k): v for k, v in options.items()}


class Admin:
    """A pyVmomi session of the test's own on the simulator."""

    def __init__(self, env):
        from pyVim import connect
        host, port = env['VCSIM_HOST'].rsplit(':', 1)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.connect = connect
        self.si = connect.SmartConnect(host=host, port=int(port),
                                       user=env['VCSIM_USER'],
                                       pwd=env['VCSIM_PASSWORD'],
                                       sslContext=context)
        self.content = self.si.RetrieveContent()

    def terminate_other_sessions(self):
        """End every session but this one (as an administrator would, or
        an idle timeout); returns how many ended."""
        manager = self.content.sessionManager
        mine = manager.currentSession.key
        others = [s.key for s in manager.sessionList if s.key != mine]
        if others:
            manager.TerminateSession(sessionId=others)
        return len(others)

    def close(self):
        self.connect.Disconnect(self.si)


def wait_gone(path, timeout=30):
    deadline = time.monotonic() + timeout
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not os.path.exists(path)
