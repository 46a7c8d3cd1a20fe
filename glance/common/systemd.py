"""Tell systemd how the service is doing, without libsystemd.

A unit of ``Type=notify`` starts the service with ``$NOTIFY_SOCKET``, the
path of an AF_UNIX datagram socket (a leading ``@`` means the abstract
namespace). The service writes newline-separated ``KEY=value`` states to
it: ``READY=1`` once it serves, ``RELOADING=1`` when a reload begins,
``STOPPING=1`` when it stops, ``STATUS=...`` for ``systemctl status``, and
``WATCHDOG=1`` at least every ``$WATCHDOG_USEC`` microseconds when the
unit sets ``WatchdogSec``.

Only the process that read the environment notifies: the variables are
taken out of ``os.environ`` on first use so that neither forked workers
nor helper programs (qemu-img, ...) speak for the service.
"""

import os
import time

from eventlet import patcher

# A real socket even where eventlet patched the socket module: the parent
# of the workers never runs the hub.
_socket = patcher.original('socket')

_UNSET = object()
_state = {'address': _UNSET, 'owner': None, 'watchdog': None}


def _load():
    if _state['address'] is not _UNSET:
        return
    address = os.environ.pop('NOTIFY_SOCKET', None) or None
    if address and address.startswith('@'):
        address = '\0' + address[1:]
    if address and not address.startswith(('/', '\0')):
        address = None   # vsock and other families: not for us
    _state['address'] = address
    _state['owner'] = os.getpid()
    usec = os.environ.pop('WATCHDOG_USEC', None)
    pid = os.environ.pop('WATCHDOG_PID', None)
    try:
        usec = int(usec) if usec else 0
        pid = int(pid) if pid else None
    except ValueError:
        usec = 0
    if usec > 0 and pid in (None, os.getpid()):
        _state['watchdog'] = usec / 1e6


# Read now, in the process systemd started: before any worker is forked.
_load()


def enabled():
    """True in the process systemd (or a test) asked for notifications."""
    _load()
    return _state['address'] is not None and _state['owner'] == os.getpid()


def notify(*states, **fields):
    """Send ``states`` ("READY=1", ...) and ``KEY=value`` ``fields``.

    Returns True when the message was sent. Never raises: a service must
    not fail because its supervisor is not listening.
    """
    if not enabled():
        return False
    lines = list(states) + ['%s=%s' % (key, value)
                            for key, value in fields.items()]
    message = '\n'.join(lines).encode('utf-8', 'replace')
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
    try:
        sock.settimeout(1)
        sock.sendto(message, _state['address'])
        return True
    except OSError:
        return False
    finally:
        sock.close()


def monotonic_usec():
    """CLOCK_MONOTONIC in microseconds, as ``RELOADING=1`` wants it."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def ready(status=None):
    return notify('READY=1', **({'STATUS': status} if status else {}))


def reloading(status='Reloading the configuration'):
    return notify('RELOADING=1', MONOTONIC_USEC=monotonic_usec(),
                  STATUS=status)


def stopping(status='Stopping: finishing in-flight requests'):
    return notify('STOPPING=1', STATUS=status)


def watchdog_interval():
    """Seconds between two ``WATCHDOG=1`` pings, or None without one.

    Half the timeout systemd set, as sd_watchdog_enabled(3) advises.
    """
    _load()
    if not enabled() or not _state['watchdog']:
        return None
    return _state['watchdog'] / 2


def ping():
    return notify('WATCHDOG=1')
