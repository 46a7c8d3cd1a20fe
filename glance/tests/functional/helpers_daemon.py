"""Helpers for tests that drive the glance-api process itself: its worker
children, raw HTTP over sockets, and configuration rewrites."""

import os
import shutil
import socket
import tempfile
import time

import psutil
import testtools
from testtools import content

from glance.tests.functional import base

# Generous upper bound for anything that should happen "soon".
PATIENCE = 30


def wait_for(predicate, timeout=PATIENCE, interval=0.1, what='condition'):
    """Poll ``predicate`` until it returns a truthy value; return it."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('timed out after %ss waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


def worker_pids(pid):
    """Live (non-zombie) direct children of the daemon process."""
    try:
        children = psutil.Process(pid).children(recursive=False)
    except psutil.NoSuchProcess:
        return set()
    pids = set()
    for child in children:
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return pids


def connect(port, timeout=PATIENCE):
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    return sock


def recv_until(sock, marker):
    """Read from ``sock`` until ``marker`` was seen; return everything."""
    data = b''
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError('connection closed before %r; got %r'
                                 % (marker, data))
        data += chunk
    return data


def read_response(sock):
    """Read one HTTP response (not 1xx) from ``sock``.

    Returns (status, headers dict with lower-case names, body bytes,
    leftover bytes read past the response).
    """
    data = b''
    while True:
        while b'\r\n\r\n' not in data:
            data += _recv_more(sock)
        head, _, rest = data.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            data = rest
            continue
        break
    if headers.get('transfer-encoding', '').lower() == 'chunked':
        body = b''
        while True:
            while b'\r\n' not in rest:
                rest += _recv_more(sock)
            size_line, _, rest = rest.partition(b'\r\n')
            size = int(size_line.split(b';')[0], 16)
            while len(rest) < size + 2:
                rest += _recv_more(sock)
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                break
        return status, headers, body, rest
    length = int(headers.get('content-length', 0))
    while len(rest) < length:
        rest += _recv_more(sock)
    return status, headers, rest[:length], rest[length:]


def _recv_more(sock):
    chunk = sock.recv(65536)
    if not chunk:
        raise AssertionError('connection closed in the middle of a response')
    return chunk


def chunk(data):
    """One chunk of a chunked transfer-encoded body."""
    return b'%x\r\n%s\r\n' % (len(data), data)


def is_closed(sock, timeout=PATIENCE):
    """True when the peer closes (or resets) ``sock`` within ``timeout``
    without sending anything; False if data arrives; raises on timeout."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return True
    return data == b''


def server_of(sock, pids):
    """Which of the processes ``pids`` holds the server end of the
    connection ``sock``; None when none of them does (yet)."""
    port = sock.getsockname()[1]
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections('tcp')
        except psutil.NoSuchProcess:
            continue
        if any(c.raddr and c.raddr.port == port for c in connections):
            return pid
    return None


def idle_connections(daemon, pids=None, tries=40):
    """Keep-alive connections to the daemon, idle after one answered
    request, one served by each of the processes ``pids`` (by default
    every worker, or the parent serving alone): {pid: socket}. A
    stopping process closes such a connection as soon as it has taken
    its SIGTERM: a sign the signal was handled."""
    serving = worker_pids(daemon.proc.pid) or {daemon.proc.pid}
    wanted = set(serving if pids is None else pids)
    found, others = {}, []
    try:
        for _ in range(tries):
            if set(found) >= wanted:
                return found
            sock = connect(daemon.port)
            sock.sendall(b'GET /versions HTTP/1.1\r\nHost: x\r\n\r\n')
            read_response(sock)
            pid = server_of(sock, serving | {daemon.proc.pid})
            if pid in wanted and pid not in found:
                found[pid] = sock
            else:
                # Kept open meanwhile: the busier processes let the others
                # accept the next connection.
                others.append(sock)
    finally:
        for other in others:
            other.close()
    for sock in found.values():
        sock.close()
    raise AssertionError('no connection reached processes %s'
                         % (wanted - set(found)))


def set_option(daemon, group, name, value):
    """Add or replace ``name = value`` in ``[group]`` of the daemon's
    configuration file."""
    with open(daemon.conf) as f:
        lines = f.read().splitlines()
    out, current, done = [], None, False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith('[') and stripped.endswith(']'):
            if current == group and not done:
                out.append('%s = %s' % (name, value))
                done = True
            current = stripped[1:-1]
        elif current == group and stripped.split('=')[0].strip() == name:
            if not done:
                out.append('%s = %s' % (name, value))
                done = True
            continue
        out.append(line)
    if not done:
        if current != group:
            out.append('[%s]' % group)
        out.append('%s = %s' % (name, value))
    with open(daemon.conf, 'w') as f:
        f.write('\n'.join(out) + '\n')


def log_text(daemon):
    """The daemon's whole log: for a daemon the test started itself.
    Where the log holds more than the test's own doing (a daemon shared
    by a class), assert on ``log_since`` a mark instead."""
    if not os.path.exists(daemon.log):
        return ''
    with open(daemon.log, errors='replace') as f:
        return f.read()


def log_mark(daemon):
    """Where the daemon's log ends now: take it before an action, then
    ``log_since`` it reads only what was logged after."""
    try:
        return os.path.getsize(daemon.log)
    except FileNotFoundError:
        return 0


def log_since(daemon, mark):
    """What the daemon logged after ``mark`` (from ``log_mark``)."""
    try:
        with open(daemon.log, 'rb') as f:
            f.seek(mark)
            return f.read().decode(errors='replace')
    except FileNotFoundError:
        return ''


def wait_log(daemon, text, mark, timeout=PATIENCE):
    """Wait until the daemon logs ``text`` after ``mark``; return what
    it logged after ``mark`` by then. On timeout the assertion shows
    those lines."""
    deadline = time.monotonic() + timeout
    while True:
        since = log_since(daemon, mark)
        if text in since:
            return since
        if time.monotonic() > deadline:
            raise AssertionError(
                'timed out after %ss waiting for %r in the log; logged '
                'since the mark:\n%s' % (timeout, text, since[-8000:]))
        time.sleep(0.05)


class DaemonTestCase(testtools.TestCase):
    """A scratch directory and SQLite database; each test starts its own
    daemon with ``start_daemon`` (stopped on cleanup)."""

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='glance-daemon-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = base.Database('sqlite', self.workdir)
        self.addOnException(self._attach_log)

    def _attach_log(self, exc_info):
        path = os.path.join(self.workdir, 'glance-api.log')
        if os.path.exists(path):
            with open(path, errors='replace') as f:
                text = f.read()
            self.addDetail('glance-api.log', content.text_content(
                text[-20000:]))

    def make_daemon(self, workers=0, options=None, **kwargs):
        daemon = base.Daemon(self.workdir, self.db.url, options=options,
                             workers=workers, **kwargs)
        daemon.manage('db', 'sync')
        self.addCleanup(self._cleanup_daemon, daemon)
        return daemon

    def start_daemon(self, workers=0, options=None, **kwargs):
        daemon = self.make_daemon(workers, options, **kwargs)
        daemon.start()
        return daemon

    @staticmethod
    def _cleanup_daemon(daemon):
        if daemon.proc is None:
            return
        children = worker_pids(daemon.proc.pid)
        daemon.stop()
        # Never leave workers behind, even when the parent misbehaved.
        for pid in children:
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass
        if daemon.proc.stdout and not daemon.proc.stdout.closed:
            daemon.proc.stdout.close()

    def wait_workers(self, daemon, count):
        return wait_for(lambda: (len(worker_pids(daemon.proc.pid)) == count
                                 and worker_pids(daemon.proc.pid)),
                        what='%d workers' % count)
