"""Leases on the data of an image being written, and the recovery of the
writes whose process died.

An upload (queued -> saving) or a stage (queued -> uploading) takes a
lease on the image in the transaction that changes its status, and ends
it in the transaction that records the result (or puts the image back to
queued). While it runs, a thread renews the lease every quarter of
``upload_lease_timeout``, whether or not bytes come, and every second
(or sixteenth of the timeout, if less) while the database cannot be
reached, so that it renews as soon as the database is back: a slow
upload of a live process is never taken for dead. Expiries are written
and judged by the database's clock, never a node's own. The lease names
its holder: node name, machine id, boot id, pid namespace, pid and the
start time of that process.

``recover`` (every worker, at start and then every third of the timeout;
glance-api also once before it declares itself ready) takes over the
leases whose holder is dead:

* on this node (same node name and machine id): at once, when the
  holder process is gone (or its pid is another process now) and its
  boot and pid namespace are this process's, or when this host booted
  since (then every process of the old boot is gone). Hosts sharing a
  node name (cloned machines, containers of fixed host names) have
  different machine ids; without a machine id (no ``/etc/machine-id``)
  only the expiry counts, since a boot id of another host would read as
  a reboot of this one;
* anywhere: once the lease lapsed without renewal, as seen by two
  successive sweeps of this process (none failing in between), the
  second at least a renewal interval after the first, with the lease
  unchanged meanwhile. A database outage longer than the timeout makes
  every lease look lapsed when it ends; the holders still alive renew
  theirs within ``retry_interval`` of its return, before the second
  sighting.

Taking over removes the lease row (one taker wins), the partial files of
the write and data it named but did not record, and puts the image back
to queued. A holder that is alive but lost its lease (cut off from the
database longer than the timeout) finds out at its next renewal and
stops; its final transaction fails, since the lease is gone.

Partial files are also swept on their own, at start and then every
``FILE_SWEEP_TIMEOUTS`` times the timeout, the directories listed in a
real thread (a listing of many files would stall the green threads): a
live writer holds a lock on its file (see ``glance.store.filesystem``),
so a file nobody locks is left over by a process that died and goes
(also those of imports).
"""

import datetime
import os
import socket
import threading
import time
import uuid

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.db import api as db
from glance.db import leases as db_leases
from glance.db import session
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

UPLOAD = 'upload'
STAGE = 'stage'
# glance-updater reading an active image's data: nothing is written to a
# store under it, so recovery only removes the row.
UPDATE = 'update'
# The status of the image while each kind of write runs.
STATUS = {UPLOAD: 'saving', STAGE: 'uploading'}
# Added to a lease's expiry before it counts as lapsed: a DATETIME column
# of MariaDB/MySQL drops the fraction of a second.
CLOCK_SLACK = datetime.timedelta(seconds=1)


def timeout() -> float:
    return CONF.upload_lease_timeout


def renew_interval() -> float:
    return timeout() / 4


def sweep_interval() -> float:
    return timeout() / 3


# The partial-file sweep runs every this many timeouts.
FILE_SWEEP_TIMEOUTS = 5


def file_sweep_interval() -> float:
    return timeout() * FILE_SWEEP_TIMEOUTS


def retry_interval() -> float:
    """Seconds between attempts to renew while the database fails: well
    within the renewal interval that recovery waits between two sightings
    of a lapsed lease."""
    return min(1.0, renew_interval() / 4)


# -- who holds a lease ----------------------------------------------------

_BOOT_ID = None
_MACHINE_ID = None
# Where the id of this host's installation is kept (systemd, then D-Bus).
MACHINE_ID_FILES = ('/etc/machine-id', '/var/lib/dbus/machine-id')


def boot_id() -> str:
    """The kernel's id of the current boot ('' where there is none)."""
    global _BOOT_ID
    if _BOOT_ID is None:
        try:
            with open('/proc/sys/kernel/random/boot_id') as f:
                _BOOT_ID = f.read().strip()
        except OSError:
            _BOOT_ID = ''
    return _BOOT_ID


def machine_id() -> str:
    """The id of this host's installation ('' where there is none)."""
    global _MACHINE_ID
    if _MACHINE_ID is None:
        _MACHINE_ID = ''
        for path in MACHINE_ID_FILES:
            try:
                with open(path) as f:
                    _MACHINE_ID = ''.join(f.read().split())
            except OSError:
                continue
            if _MACHINE_ID:
                break
    return _MACHINE_ID


def process_state(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in ticks since boot) of a process, or
    None when there is no such process."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except (OSError, ValueError):
        return None
    fields = text.rpartition(')')[2].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def pid_namespace() -> str:
    """Which pids this process sees (containers of one host may each
    have their own): the inode of its pid namespace, or '-'."""
    try:
        return os.readlink('/proc/self/ns/pid').partition('[')[2].rstrip(
            ']') or '-'
    except OSError:
        return '-'


def node_name() -> str:
    return CONF.node_name or socket.gethostname()


def holder() -> str:
    """This process, as a lease names it:
    "node machine boot pidns pid start"."""
    pid = os.getpid()
    state = process_state(pid)
    return '%s %s %s %s %d %s' % (node_name(), machine_id() or '-',
                                  boot_id() or '-', pid_namespace(), pid,
                                  state[1] if state else '-')


def holder_gone(name: str) -> bool:
    """True when the holder ``name`` is known dead without waiting for
    its lease to lapse: it ran on this node (same node name and machine
    id), in an earlier boot, or in a process (of the pids this process
    sees) that is no more."""
    try:
        node, machine, boot, pidns, pid, start = name.rsplit(' ', 5)
        pid = int(pid)
    except ValueError:
        return False
    if (node != node_name() or not machine_id() or machine != machine_id()
            or not boot_id()):
        return False
    if boot != boot_id():
        return True
    if pidns == '-' or pidns != pid_namespace():
        return False        # its pids are not ours to look up
    state = process_state(pid)
    return state is None or state[0] in ('Z', 'X') or state[1] != start


# -- taking, renewing, ending ---------------------------------------------

class Lease:
    """The lease of one write on the data of one image."""

    def __init__(self, image_id: str, kind: str):
        self.image_id = image_id
        self.kind = kind
        self.token = uuid.uuid4().hex
        self.lost = False
        self._stop = None

    def take(self, conn, now) -> None:
        """Record it, in the transaction that moves the image to
        ``STATUS[kind]``; then ``start`` renewing it."""
        db_leases.take(conn, self.image_id, self.kind, holder(), self.token,
                       now, db_leases.expiry(db_leases.db_now(conn),
                                             timeout()))

    def start(self) -> None:
        """Renew it in the background until ``stop``: a green thread under
        the eventlet daemon (threading is monkey-patched there), a real
        one under other WSGI servers."""
        self._stop = threading.Event()
        threading.Thread(target=self._renew, args=(self._stop,),
                         daemon=True).start()

    def _renew(self, stop):
        wait = renew_interval()
        while not stop.wait(wait):
            try:
                with session.writer() as conn:
                    held = db_leases.renew(conn, self.image_id, self.token,
                                           db_leases.expiry(
                                               db_leases.db_now(conn),
                                               timeout()))
            except Exception as e:
                LOG.warning('Could not renew the lease on the data of image '
                            '%s: %s', self.image_id, e)
                wait = retry_interval()
                continue
            wait = renew_interval()
            if not held and not stop.is_set():
                LOG.warning('The %s of image %s lost its lease (taken over '
                            'as dead); stopping it', self.kind, self.image_id)
                self.lost = True
                return

    def check(self) -> None:
        """Conflict once the lease is lost: the write must stop."""
        if self.lost:
            raise exception.Conflict(
                'The %s of image %s was given up: it could not renew its '
                'lease in time.' % (self.kind, self.image_id))

    def watch(self, source):
        """``source`` (file-like), stopping with Conflict once the lease
        is lost."""
        return _Watched(source, self)

    def end(self, conn) -> bool:
        """Remove it, in the transaction that records the end of the
        write: False when it was taken over (the write must not count)."""
        return db_leases.end(conn, self.image_id, self.token)

    def stop(self) -> None:
        """Stop renewing it (after ``end``, or when giving up)."""
        if self._stop is not None:
            self._stop.set()


class _Watched:

    def __init__(self, source, lease):
        self.source = source
        self.lease = lease

    def read(self, size=-1):
        self.lease.check()
        return self.source.read(size)


# -- recovery --------------------------------------------------------------

def _file_stores():
    """Every store that can clean up after a dead write, staging last."""
    found, seen = [], set()
    reg = registry.get_registry()
    for store in reg.stores() + [reg.staging_store()]:
        paths = tuple(getattr(store, 'paths', ()) or ())
        if hasattr(store, 'remove_abandoned') and paths not in seen:
            seen.add(paths)
            found.append(store)
    return found


def lapsed(lease, now) -> bool:
    """Whether ``lease`` has lapsed at ``now`` (the database's time)."""
    return lease['expires_at'] + CLOCK_SLACK <= now


# The leases this process last saw lapsed, with the database time of the
# first of the successive sweeps that saw them so:
# (image id, token) -> (expires_at, first seen).
_LAPSED: dict = {}


def _confirmed(found, now) -> list[dict]:
    """The leases of ``found`` to take over at ``now``: those whose
    holder is known gone, and those seen lapsed, unchanged, by the sweep
    before too, at least a renewal interval ago. Remembers the lapsed
    ones for the next sweep."""
    seen = {}
    dead = []
    for lease in found:
        if holder_gone(lease['holder']):
            dead.append(lease)
        elif lapsed(lease, now):
            key = (lease['image_id'], lease['token'])
            before = _LAPSED.get(key)
            if before is not None and before[0] == lease['expires_at']:
                first = before[1]
            else:
                first = now
            seen[key] = (lease['expires_at'], first)
            if (now - first).total_seconds() >= renew_interval():
                dead.append(lease)
    _LAPSED.clear()
    _LAPSED.update(seen)
    return dead


def recover(sweep_files: bool = True) -> list[str]:
    """Take over the leases of dead holders and undo their writes, then
    (with ``sweep_files``) remove partial files nobody writes. Returns the
    image ids recovered."""
    try:
        with session.reader() as conn:
            now = db_leases.db_now(conn)
            found = db_leases.all_leases(conn)
    except Exception:
        # Lapsed leases must be seen so again after the database is back.
        _LAPSED.clear()
        raise
    recovered = []
    for lease in _confirmed(found, now):
        try:
            if _recover(lease):
                recovered.append(lease['image_id'])
        except Exception:
            LOG.exception('Could not recover the %s of image %s',
                          lease['kind'], lease['image_id'])
    if sweep_files:
        sweep_partial_files()
    return recovered


def sweep_partial_files() -> None:
    """Remove the partial files of every store nobody writes, and the
    data of images deleted for good."""
    for store in _file_stores():
        try:
            store.remove_abandoned()
        except Exception:
            LOG.exception('Could not sweep the partial files of store %s',
                          store.name)
    try:
        sweep_orphan_data()
    except Exception:
        LOG.exception('Could not sweep the data of deleted images')


def sweep_orphan_data() -> list[str]:
    """Remove the files of the stores' directories whose image has no row
    or is deleted for good, and that no live location records: a delete
    whose process died between its commit and the store leaves them.
    Returns the paths removed."""
    reg = registry.get_registry()
    removed = []
    for store in reg.stores():
        if not hasattr(store, 'data_files'):
            continue
        files = store.data_files()
        if not files:
            continue
        with session.reader() as conn:
            gone = db.images_gone(conn, files)
            paths = [p for image_id in gone for p in files[image_id]]
            live = db.location_urls_live(conn, ['file://' + p
                                                for p in paths])
        for path in paths:
            if 'file://' + path in live:
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as e:
                LOG.warning('Could not remove %s: %s', path, e)
                continue
            LOG.info('Removed %s: its image is deleted', path)
            removed.append(path)
    return removed


def _recover(lease):
    image_id = lease['image_id']
    kind = lease['kind']
    with session.writer() as conn:
        image = db.image_get(conn, image_id, include_deleted=True,
                             for_update=True)
        if not db_leases.end(conn, image_id, lease['token']):
            return False        # ended or taken over meanwhile
        if kind not in STATUS:
            # A reader's lease (glance-updater): no partial data to
            # remove, no status to put back.
            return True
        LOG.warning('The %s of image %s stopped with its holder (%s); '
                    'undoing it', kind, image_id, lease['holder'])
        live = image is not None and not image['deleted']
        keep = {loc['url'] for loc in image['locations']} if live else set()
        if kind == STAGE:
            stores = [registry.get_registry().staging_store()]
        else:
            stores = [s for s in registry.get_registry().stores()
                      if hasattr(s, 'remove_unfinished')]
        for store in stores:
            # While the image still shows the write, no new one can start
            # and put data under the names removed here.
            store.remove_unfinished(image_id, keep)
        if live and image['status'] == STATUS.get(kind):
            db.image_update(conn, image_id, {
                'status': 'queued', 'size': None, 'virtual_size': None,
                'updated_at': timeutils.now()}, from_status=STATUS[kind])
    return True


def recovery_loop(stop):
    """``recover`` at once and then every sweep_interval() seconds, the
    partial files swept at once and then every file_sweep_interval()
    seconds, until ``stop`` (an eventlet Event) fires."""
    next_files = 0.0
    while not stop.ready():
        files = time.monotonic() >= next_files
        try:
            recover(sweep_files=False)
        except Exception:
            LOG.exception('Recovery of interrupted uploads failed')
        if files:
            sweep_partial_files()
            next_files = time.monotonic() + file_sweep_interval()
        with eventlet.Timeout(sweep_interval(), False):
            stop.wait()
