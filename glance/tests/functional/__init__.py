"""Functional tests: real daemons over real sockets.

A test process that has reported all its results but does not end (a
thread or green thread of some library left waiting at interpreter exit)
would hold the whole run until its time limit. When the process starts
to exit, a small watcher process is started: it ends as soon as this
process has ended (its pipe closes) and otherwise kills it after
EXIT_GRACE seconds, saying so on standard error.
"""

import os
import subprocess
import sys
import threading

EXIT_GRACE = 120
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
