"""The standalone eventlet daemon: socket, pre-forked workers, signals.

The parent binds the socket, loads the application and forks ``workers``
children that each serve it from a pool of green threads. It respawns a
child that dies, forwards SIGTERM (children stop accepting and finish
their requests) and on SIGHUP re-reads its configuration, starts a new
generation of children and lets the old one drain. With ``workers = 0``
the parent serves requests itself.
"""

import errno
import gc
import os
import resource
import signal
import socket
import sys
import time
import traceback

import eventlet
import eventlet.greenio
import eventlet.hubs
import eventlet.wsgi
from eventlet import patcher
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import balance
from glance.common import config
from glance.common import framing
from glance.common import systemd
from glance.common import tls

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
# The parent never serves requests: it blocks for real, not green.
_select = patcher.original('select')
_sleep = patcher.original('time').sleep
# Longest a worker defers an accept to a less loaded sibling, in seconds.
BALANCE_WAIT = 0.005
# Connections a worker accepts in one turn of its hub: a busy hub turns
# slowly, and one accept per turn left most of a burst of new clients
# waiting in the backlog for seconds. A turn stops earlier when the worker
# is ahead of its least loaded sibling by a BALANCE_SHARE-th of all open
# connections (by one, while few are open).
ACCEPT_BATCH = 64
BALANCE_SHARE = 16
# Signals a worker handles itself. From just before fork() until the
# worker has set its handlers they are blocked: one sent meanwhile waits
# in the kernel instead of meeting the parent's handlers (or being
# dropped by Python in the child right after fork()).
WORKER_SIGNALS = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT,
                  signal.SIGUSR2}
# Seconds a stopping worker gives the requests it interrupted (after
# graceful_shutdown_timeout) to put their images back and remove partial
# data before it exits.
REVERT_WAIT = 3
# A worker begins its background jobs this many seconds after it begins
# to serve: its first requests are not kept waiting behind a recovery
# pass the parent has just made.
BACKGROUND_DELAY = 1.0


class AppHolder:
    """The WSGI entry point of a worker; the app can be swapped on reload."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        # eventlet's input stops at the end of a chunked or sized body.
        environ['wsgi.input_terminated'] = True
        # Requests that never wait on I/O (SQLite) would otherwise let one
        # keep-alive connection be served again and again while the others
        # wait: give every ready green thread a turn first.
        eventlet.sleep(0)
        return self.app(environ, start_response)


def bind_socket(host, port, backlog, retry_for=None):
    """A listening socket, retrying while the address is in use (for
    ``retry_for`` seconds, by default bind_retry_timeout)."""
    if retry_for is None:
        retry_for = CONF.bind_retry_timeout
    info = socket.getaddrinfo(host, port, socket.AF_UNSPEC,
                              socket.SOCK_STREAM)[0]
    family, address = info[0], info[4][:2]
    deadline = time.monotonic() + retry_for
    warned = False
    while True:
        try:
            sock = eventlet.listen(address, family=family, backlog=backlog)
            break
        except OSError as e:
            if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise RuntimeError('Could not bind to %s:%s after trying for '
                                   '%d seconds: %s'
                                   % (host, port, retry_for, e))
            if not warned:
                LOG.warning('%s:%s is in use, trying again for up to %d '
                            'seconds', host, port, retry_for)
                warned = True
            _sleep(0.1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, 'TCP_KEEPIDLE'):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE,
                        CONF.tcp_keepidle)
    return sock


class _Signal(Exception):
    pass


def _accept_loop(sock, serv, pool, connections, board=None, slot=None,
                 handle=None):
    """Accept connections and serve each in a green thread of ``pool``
    (with ``handle``, by default ``serv.process_request``).

    Each time the listener is ready it accepts what is pending, up to
    ACCEPT_BATCH. With a ``board``, a worker ahead of its least loaded
    sibling (``Board.ahead``) lets the sibling accept first (up to
    BALANCE_WAIT seconds), and stops a batch there.
    """
    def forget(_thread, conn):
        connections.pop(id(conn), None)
        conn[2] = eventlet.wsgi.STATE_CLOSE
        eventlet.greenio.shutdown_safe(conn[1])
        conn[1].close()
        if board is not None and not conn[3]:
            board.add(slot, -1)

    listener = sock.fd
    while True:
        # Accept only with room in the pool: a connection accepted while
        # spawn() waits for a green thread would be served by no one if
        # the worker stopped meanwhile. Until then siblings (or the
        # backlog) keep it. Only this loop spawns in ``pool``, so the
        # room is still there below.
        pool.sem.acquire()
        pool.sem.release()
        eventlet.hubs.trampoline(listener.fileno(), read=True)
        if board is not None:
            deadline = time.monotonic() + BALANCE_WAIT
            while (board.ahead(slot, BALANCE_SHARE)
                   and time.monotonic() < deadline):
                eventlet.sleep(0.0005)
        for n in range(ACCEPT_BATCH):
            if not pool.free() or (n and board is not None
                                   and board.ahead(slot, BALANCE_SHARE)):
                break
            try:
                client, address = listener.accept()
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno in (errno.EPIPE, errno.ECONNRESET,
                               errno.ECONNABORTED, errno.EMFILE,
                               errno.ENFILE, errno.ENOBUFS):
                    eventlet.sleep(0.01)
                    break
                raise
            client = eventlet.greenio.GreenSocket(client)
            client.settimeout(serv.socket_timeout)
            # [address, socket, state, left the board, green thread]
            conn = [address, client, eventlet.wsgi.STATE_IDLE, False, None]
            connections[id(conn)] = conn
            if board is not None:
                board.add(slot, 1)
            conn[4] = pool.spawn(handle or serv.process_request, conn)
            conn[4].link(forget, conn)


def _drain(serv, connections, board=None, slot=None, linger=False):
    """Stop keep-alive: finish what clients already sent, then close.

    Every response from now on closes its connection. When the service
    goes on (a reload, ``linger``), an idle keep-alive connection stays
    open for the client's next request, which is then answered by this
    worker: closing it could cross a request already on its way. When the
    service stops, an idle connection is closed at once unless its next
    request already arrived (bytes waiting in the socket). A stop after a
    reload drains again without ``linger``: the connections the reload
    left open are still marked idle, and are closed then.
    """
    serv.keepalive = False
    if board is not None:
        board.release(slot)
    for conn in list(connections.values()):
        conn[3] = True
        if conn[2] != eventlet.wsgi.STATE_IDLE:
            # The request under way ends its connection.
            conn[2] = eventlet.wsgi.STATE_CLOSE
        elif not linger:
            conn[2] = eventlet.wsgi.STATE_CLOSE
            try:
                waiting, _, _ = _select.select([conn[1].fileno()], [], [], 0)
            except (OSError, ValueError):
                waiting = []
            if not waiting:
                eventlet.greenio.shutdown_safe(conn[1])


def _wake_on_signals():
    """Wake the hub when a signal arrives.

    A Python signal handler runs between two polls of the hub; without a
    byte to read the next poll would sleep until the hub's next timer, so
    a SIGTERM could wait that long. The C handler writes the signal number
    to this pipe, which ends the poll at once.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd)
    while True:
        eventlet.hubs.trampoline(read_fd, read=True)
        try:
            os.read(read_fd, 512)
        except BlockingIOError:
            pass


def reset_log_locks():
    """Give every log handler of a forked worker its own lock.

    oslo.log's eventlet-aware handler lock is a pipe; after fork() the
    parent and every worker would share it and could wait on each other
    forever.
    """
    import logging as pylogging
    for ref in list(pylogging._handlerList):
        handler = ref()
        if handler is not None:
            handler.createLock()


def dump_green_threads(signum=None, frame=None):
    """Log the stack of every green thread (SIGUSR2 on a worker)."""
    import greenlet
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
            LOG.warning('Green thread %s:\n%s', obj,
                        ''.join(traceback.format_stack(obj.gr_frame)))


def _watchdog(interval):
    """Ping systemd's watchdog while the hub runs, until the process
    exits (draining included)."""
    while True:
        systemd.ping()
        eventlet.sleep(interval)


def _interrupt(pool, connections, timeout):
    """End what still runs after ``timeout`` seconds.

    A connection idle in keep-alive (no request since the last response)
    is closed. A request is interrupted: GreenletExit is raised in it; an
    upload puts its image back to queued and removes its partial data on
    the way out, which gets up to REVERT_WAIT seconds.
    """
    idle, busy = [], []
    for conn in list(connections.values()):
        (idle if conn[2] == eventlet.wsgi.STATE_IDLE else busy).append(conn)
    if idle:
        LOG.info('Closing %d idle keep-alive connections after %ss',
                 len(idle), timeout)
        for conn in idle:
            eventlet.greenio.shutdown_safe(conn[1])
    if busy:
        LOG.warning('%d requests still running after %ss, interrupting '
                    'them', len(busy), timeout)
        for conn in busy:
            if conn[4] is not None:
                conn[4].kill()
    with eventlet.Timeout(REVERT_WAIT, False):
        pool.waitall()
    if pool.running():
        LOG.warning('%d interrupted requests did not end within %ss, '
                    'exiting', pool.running(), REVERT_WAIT)


def raise_open_files_limit() -> int:
    """Raise this process's descriptor limit (inherited by the workers)
    to its hard limit: each client connection, idle keep-alive ones
    included, holds a descriptor, and a shell's usual 1024 would refuse
    clients long before ``wsgi_default_pool_size``. The limit set."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as e:
            LOG.warning('Open files limit stays %s: %s', soft, e)
    LOG.debug('Open files limit: %s', soft)
    return soft


class Server:
    """Runs ``load_app()`` on a socket until told to stop."""

    def __init__(self, load_app, reload_config=None, background=(),
                 before_serving=None, after_serving=None, after_ready=None,
                 name='glance-api'):
        self.load_app = load_app
        # The service's name in the log.
        self.name = name
        # Callables run in a green thread of every worker (from
        # BACKGROUND_DELAY seconds after it starts), given the event that
        # fires when the worker stops.
        self.background = background
        self.reload_config = reload_config or (lambda: None)
        # Called in each process that serves, before it serves: a worker
        # just forked, or the parent with workers = 0. What the parent
        # opened and a worker must not share (database connections) is
        # let go of here.
        self.before_serving = before_serving or (lambda: None)
        # Called in each process that served, once its requests ended,
        # with the seconds left of graceful_shutdown_timeout (None: no
        # bound): what the process still has to send goes out in them.
        self.after_serving = after_serving or (lambda timeout: None)
        # Called once in the parent after the first requests can be served
        # (the workers forked): work that only reports, kept off the path
        # to the first answer.
        self.after_ready = after_ready or (lambda: None)
        self.sock = None
        self.holder = None
        self.children = {}     # pid -> (generation, start time, board slot)
        self.board = None
        self.generation = 0
        self.stopping = False
        self.pending = []
        self._in_wait = False

    # -- parent ---------------------------------------------------------------

    def start(self):
        os.umask(0o027)
        raise_open_files_limit()
        self.tls = tls.load_context()
        eventlet.wsgi.MAX_HEADER_LINE = CONF.max_header_line or sys.maxsize
        self.holder = AppHolder(self.load_app())
        self.sock = bind_socket(CONF.bind_host, CONF.bind_port, CONF.backlog)
        self.bound = (CONF.bind_host, CONF.bind_port)
        LOG.info('%s listening on %s://%s:%s', self.name,
                 'https' if self.tls else 'http',
                 *self.sock.getsockname()[:2])

    @property
    def workers(self):
        if CONF.workers is None:
            return config.default_workers()
        return CONF.workers

    def run(self):
        """Serve until stopped; returns the exit status."""
        if self.workers == 0:
            return self._serve_in_parent()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._parent_signal)
        # Room for two generations of workers during a reload.
        self.board = balance.Board(2 * self.workers + 2)
        for _ in range(self.workers):
            self._spawn()
        self._start_watchdog()
        systemd.ready(self._status())
        self._after_ready()
        while self.children or not self.stopping:
            self._handle_pending()
            try:
                self._in_wait = True
                if self.pending:
                    continue
                pid, status = os.wait()
            except _Signal:
                continue
            except ChildProcessError:
                if self.stopping:
                    break
                _sleep(0.1)
                continue
            finally:
                self._in_wait = False
            self._reap(pid, status)
        # Python restores SIGALRM's default action (exit) as it finalizes.
        signal.setitimer(signal.ITIMER_REAL, 0)
        LOG.info('%s stopped', self.name)
        return 0

    def _after_ready(self):
        try:
            self.after_ready()
        except Exception:
            LOG.exception('After start')

    def _parent_signal(self, signum, frame):
        self.pending.append(signum)
        if self._in_wait:
            raise _Signal()

    def _status(self):
        where = 'Serving on %s:%s' % self.bound
        if self.workers == 0:
            return where + ' in a single process'
        return where + ' with %d workers' % self.workers

    def _start_watchdog(self):
        # The ping comes from the main loop (SIGALRM ends its wait), so it
        # stops when that loop hangs.
        interval = systemd.watchdog_interval()
        if interval:
            signal.signal(signal.SIGALRM, self._parent_signal)
            signal.setitimer(signal.ITIMER_REAL, interval, interval)
            systemd.ping()

    def _handle_pending(self):
        while self.pending:
            signum = self.pending.pop(0)
            if signum in (signal.SIGTERM, signal.SIGINT):
                if not self.stopping:
                    LOG.info('Stopping: workers finish in-flight requests')
                    systemd.stopping()
                    self.stopping = True
                    self._signal_children(signal.SIGTERM)
            elif signum == signal.SIGHUP and not self.stopping:
                systemd.reloading()
                self._reload()
                systemd.ready(self._status())
            elif signum == signal.SIGALRM:
                systemd.ping()

    def _signal_children(self, signum, generation=None):
        for pid, (gen, _started, _slot) in list(self.children.items()):
            if generation is None or gen == generation:
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass

    def _reload(self):
        LOG.info('SIGHUP: reloading configuration')
        try:
            self.reload_config()
            app = self.load_app()
            context = tls.load_context()
        except Exception as e:
            LOG.error('Reload failed, old workers keep serving: %s', e)
            return
        if (CONF.bind_host, CONF.bind_port) != self.bound:
            try:
                new_sock = bind_socket(CONF.bind_host, CONF.bind_port,
                                       CONF.backlog, retry_for=0)
            except RuntimeError as e:
                LOG.error('Reload failed, old workers keep serving: %s', e)
                return
            self.sock.close()
            self.sock = new_sock
            self.bound = (CONF.bind_host, CONF.bind_port)
        self.holder = AppHolder(app)
        self.tls = context
        old = self.generation
        self.generation += 1
        for _ in range(self.workers):
            self._spawn()
        self._signal_children(signal.SIGHUP, generation=old)

    def _spawn(self):
        slot = self.board.claim()
        # Objects of the parent are never collected by a worker: out of
        # the collector's sight, they are not written to (and copied) in
        # every worker when it runs.
        gc.freeze()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, WORKER_SIGNALS)
        pid = os.fork()
        if pid != 0:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        else:
            status = 0
            try:
                self._child(slot)
            except BaseException:
                LOG.exception('Worker failed')
                status = 1
            finally:
                os._exit(status)
        self.children[pid] = (self.generation, time.time(), slot)
        LOG.info('Started worker %d', pid)

    def _reap(self, pid, status):
        info = self.children.pop(pid, None)
        if info is None:
            return
        generation, started, slot = info
        if slot not in {s for _g, _t, s in self.children.values()}:
            # A worker killed before it could leave the board.
            self.board.release(slot)
        if self.stopping or generation != self.generation:
            return
        code = os.waitstatus_to_exitcode(status)
        LOG.warning('Worker %d exited (%s), starting a new one', pid, code)
        if code > 0 and time.time() - started < 1:
            _sleep(1)
        self._spawn()

    # -- worker ---------------------------------------------------------------

    def _child(self, slot):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # A hub (and its epoll descriptor) the parent may have used must
        # not be shared with it.
        eventlet.hubs.use_hub()
        reset_log_locks()
        self._serve(parent=os.getppid(), slot=slot)

    def _serve_in_parent(self):
        signal.signal(signal.SIGHUP, self._reload_in_place)
        eventlet.spawn_n(self._after_ready)
        self._serve()
        return 0

    def _reload_in_place(self, signum, frame):
        eventlet.spawn_n(self._do_reload_in_place)

    def _do_reload_in_place(self):
        LOG.info('SIGHUP: reloading configuration')
        systemd.reloading()
        try:
            self.reload_config()
            context = tls.load_context()
            self.holder.app = self.load_app()
            self.tls = context
        except Exception as e:
            LOG.error('Reload failed, keeping the running application: %s',
                      e)
        systemd.ready(self._status())

    def _serve(self, parent=None, slot=None):
        self.before_serving()
        pool = eventlet.GreenPool(CONF.wsgi_default_pool_size)
        # ``stop`` fires on the first SIGHUP (a worker of a generation
        # being replaced) or SIGTERM; ``ending`` on SIGTERM only, also
        # when it comes while the worker drains after a SIGHUP.
        stop = eventlet.event.Event()
        ending = eventlet.event.Event()

        def on_stop(signum, frame):
            if not stop.ready():
                stop.send(signum)
            if signum != signal.SIGHUP and not ending.ready():
                ending.send(signum)

        def orphan_watch():
            # A worker whose parent died (SIGKILL) stops like on SIGTERM.
            while not ending.ready():
                if os.getppid() != parent:
                    LOG.warning('Parent process gone, worker stopping')
                    on_stop(None, None)
                    return
                eventlet.sleep(1)

        if parent is not None:
            eventlet.spawn_n(orphan_watch)
        for job in self.background:
            eventlet.spawn_after(BACKGROUND_DELAY, job, stop)
        eventlet.spawn_n(_wake_on_signals)

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGUSR2, dump_green_threads)
        if self.workers != 0:
            signal.signal(signal.SIGHUP, on_stop)
        # A worker's signals were blocked since fork() (see _spawn): what
        # came meanwhile is delivered now, to the handlers above.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WORKER_SIGNALS)
        serv = eventlet.wsgi.Server(
            self.sock, self.sock.getsockname(), self.holder,
            logging.getLogger('eventlet.wsgi.server'),
            keepalive=CONF.http_keepalive,
            socket_timeout=CONF.client_socket_timeout or None, debug=False,
            protocol=framing.HttpProtocol)
        connections = {}
        board = self.board if slot is not None else None
        acceptor = eventlet.spawn(_accept_loop, self.sock, serv, pool,
                                  connections, board, slot,
                                  tls.connection_handler(serv,
                                                         lambda: self.tls))
        # Only the process systemd started notifies: here, the parent
        # serving with workers = 0 (in a worker these calls do nothing).
        interval = systemd.watchdog_interval()
        if interval:
            eventlet.spawn_n(_watchdog, interval)
        systemd.ready(self._status())
        signum = stop.wait()
        stopped_at = time.monotonic()
        if signum != signal.SIGHUP:
            systemd.stopping()
        acceptor.kill()
        # Read once: a SIGTERM handled from here on (even while _drain
        # runs) is left to stop_lingering.
        linger = not ending.ready()
        _drain(serv, connections, board, slot, linger=linger)
        lingering = None
        if linger:
            # Drained for a reload: idle keep-alive connections wait for
            # their client's next request, unless the service stops.
            def stop_lingering():
                ending.wait()
                _drain(serv, connections, linger=False)
            lingering = eventlet.spawn(stop_lingering)
        timeout = CONF.graceful_shutdown_timeout or None
        with eventlet.Timeout(timeout, False):
            pool.waitall()
        if pool.running():
            _interrupt(pool, connections, timeout)
        if lingering is not None:
            lingering.kill()
        left = None
        if timeout:
            left = max(0.0, timeout - (time.monotonic() - stopped_at))
        self.after_serving(left)
