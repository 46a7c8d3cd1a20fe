"""Functional tests: real daemons over real sockets.

A test process stuck for good (a thread or green thread of some library
left waiting) would hold the whole run until its time limit. Two guards
end it, saying so on standard error: when the process starts to exit, a
small watcher process kills it if it has not ended EXIT_GRACE seconds
later; and a thread kills it when no test has started or ended for
STALL_LIMIT seconds (far more than any test or class fixture takes,
installs of Keystone, Barbican or upstream Glance included), after
writing the stacks of its threads and green threads there.

A test process must never be monkey-patched by eventlet (its threads,
locks and sockets would turn green under the tests' feet): the test that
patched it is named on standard error and fails.
"""

import faulthandler
import gc
import importlib
import traceback

import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import testtools

EXIT_GRACE = 120
STALL_LIMIT = 900
WATCHER = '''
import os, select, signal, sys
pid, grace = int(sys.argv[1]), float(sys.argv[2])
if not select.select([sys.stdin], [], [], grace)[0]:
    sys.stderr.write("glance functional tests: process %d still exiting "
                     "after %d s; killed\\n" % (pid, grace))
    os.kill(pid, signal.SIGKILL)
'''


def _watch_exit():
    try:
        subprocess.Popen([sys.executable, '-c', WATCHER, str(os.getpid()),
                          str(EXIT_GRACE)], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, close_fds=True)
    except Exception:
        pass


# Run where the interpreter starts to exit, before it waits for threads.
threading._register_atexit(_watch_exit)


_progress = [time.monotonic()]


def _patched():
    patcher = sys.modules.get('eventlet.patcher')
    return bool(patcher) and any(patcher.is_monkey_patched(name)
                                 for name in ('socket', 'thread', 'select'))


def _noting_progress(run):
    def run_noting_progress(self, result=None):
        _progress[0] = time.monotonic()
        was_patched = _patched()
        try:
            return run(self, result)
        finally:
            _progress[0] = time.monotonic()
            if not was_patched and _patched():
                sys.stderr.write('glance functional tests: %s monkey-patched '
                                 'the test process (eventlet)\n' % self.id())
                if result is not None:
                    try:
                        raise AssertionError(
                            'this test monkey-patched the test process')
                    except AssertionError:
                        result.addError(self, sys.exc_info())
    return run_noting_progress


def _dump_stacks():
    """Every thread's stack, then every suspended green thread's."""
    faulthandler.dump_traceback(sys.stderr, all_threads=True)
    greenlet = sys.modules.get('greenlet')
    if greenlet is None:
        return
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
            sys.stderr.write('Green thread %r:\n%s' % (
                obj, ''.join(traceback.format_stack(obj.gr_frame))))


def _watch_stall():
    while True:
        time.sleep(30)
        stalled = time.monotonic() - _progress[0]
        if stalled > STALL_LIMIT:
            sys.stderr.write('glance functional tests: no test started or '
                             'ended for %d s; process %d killed\n'
                             % (stalled, os.getpid()))
            try:
                _dump_stacks()
            except Exception:
                pass
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


def _real_stdlib_packages():
    """eventlet.wsgi imports eventlet's green copy of http.server, made by
    importing http.server again under its own name while green socket,
    socketserver and threading modules stand in sys.modules: sys.modules
    gets the real module back, but the ``http`` package's ``server``
    attribute keeps the green copy. A test that then writes
    ``http.server.ThreadingHTTPServer`` serves from green threads that
    never run in this unpatched process, and hangs. eventlet makes each
    green copy once: made here, first, and the package attributes put
    back, no later import brings them again."""
    importlib.import_module('http.server')
    importlib.import_module('eventlet.wsgi')
    for name, module in list(sys.modules.items()):
        parent, _, child = name.rpartition('.')
        package = sys.modules.get(parent) if parent else None
        if (package is not None and module is not None
                and getattr(package, child, module) is not module):
            setattr(package, child, module)


_real_stdlib_packages()

for _case in (unittest.TestCase, testtools.TestCase):
    _case.run = _noting_progress(_case.run)
threading.Thread(target=_watch_stall, daemon=True,
                 name='stall-watch').start()
