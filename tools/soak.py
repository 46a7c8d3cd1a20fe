"""Long-running mixed load against a daemon that is reloaded and loses
workers while it serves.

Starts glance-api through ``tools/run`` (SQLite and the filesystem store
by default, ``--database`` for MariaDB or PostgreSQL) with two workers in a
scratch directory, then for ``--duration`` seconds runs ``--clients``
threads, each looping over: create, upload (sized or chunked), download
whole and by Range, patch, share with a member, list, and delete about half
of what it made. Meanwhile the master gets SIGHUP every ``--hup-every``
seconds and one worker is killed (SIGKILL) every ``--kill-every`` seconds.

At the end it waits for the daemon to settle and checks:

- 5xx answers (target 0);
- bytes: every download, and every active image at the end, matches what
  was uploaded (0 wrong);
- rows against files: every active image has its file in the store, every
  file in the store belongs to an image that exists, and no partial
  (``.part``) or staged file is left (0 mismatches);
- descriptors and memory of the master and of the workers, at start (after
  a warm-up) and at the end.

A request cut by a killed worker (connection reset) is counted apart: the
image it was writing must then be back in ``queued`` or be ``active`` with
the right bytes. Exit status 0 when every count above is 0, 1 otherwise.

    tools/soak [--duration 600] [--clients 8] [--database URL]
"""

import argparse
import collections
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import psutil
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = {'X-Project-Id': 'soak-admin', 'X-User-Id': 'soak-admin',
         'X-Roles': 'admin,member,reader'}
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Stats:
    """Per-operation latencies and the counts the soak is judged on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latency = collections.defaultdict(list)
        self.status = collections.Counter()
        self.counts = collections.Counter()
        self.samples = []

    def record(self, op, seconds, status):
        with self.lock:
            self.latency[op].append(seconds)
            self.status[status] += 1
            if status >= 500:
                self.counts['5xx'] += 1

    def count(self, what, sample=None):
        with self.lock:
            self.counts[what] += 1
            if sample and what != 'cut' and len(self.samples) < 20:
                self.samples.append('%s: %s' % (what, sample))


class Client(threading.Thread):
    """One user: a project of its own and a loop of mixed operations."""

    def __init__(self, index, url, stats, stop, max_size):
        super().__init__(daemon=True)
        self.url, self.stats, self.stop, self.max_size = (
            url, stats, stop, max_size)
        self.project = 'soak-project-%d' % index
        self.headers = {'X-Project-Id': self.project,
                        'X-User-Id': 'soak-user-%d' % index,
                        'X-Roles': 'member,reader'}
        self.http = requests.Session()
        self.rng = random.Random(index)
        # image id -> sha256 of its data, or None while not uploaded.
        self.images = {}
        # image ids whose upload was cut: queued or right bytes.
        self.cut = set()

    def call(self, op, method, path, **kwargs):
        headers = dict(self.headers, **kwargs.pop('headers', {}))
        start = time.perf_counter()
        try:
            resp = self.http.request(method, self.url + path,
                                     headers=headers, timeout=60, **kwargs)
        except requests.RequestException as exc:
            self.stats.count('cut', '%s %s: %s' % (method, path, exc))
            self.http.close()
            self.http = requests.Session()
            return None
        self.stats.record(op, time.perf_counter() - start, resp.status_code)
        if resp.status_code >= 500:
            self.stats.count('5xx-detail', '%s %s -> %d %s' % (
                method, path, resp.status_code, resp.text[:200]))
        return resp

    def run(self):
        while not self.stop.is_set():
            try:
                self.cycle()
            except Exception as exc:  # a bug in the soak, not the server
                self.stats.count('client-error', repr(exc))

    def cycle(self):
        resp = self.call('create', 'POST', '/v2/images', json={
            'name': 'soak', 'disk_format': 'raw',
            'container_format': 'bare', 'soak': 'yes'})
        if resp is None or resp.status_code != 201:
            return
        image_id = resp.json()['id']
        self.images[image_id] = None
        data = self.rng.randbytes(self.rng.randint(0, self.max_size))
        body = data
        if self.rng.random() < 0.5:
            body = iter([data[i:i + 65536]
                         for i in range(0, len(data), 65536)] or [b''])
        resp = self.call('upload', 'PUT', '/v2/images/%s/file' % image_id,
                         data=body, headers={
                             'Content-Type': 'application/octet-stream'})
        if resp is None:
            self.cut.add(image_id)
            return
        if resp.status_code != 204:
            return
        self.images[image_id] = hashlib.sha256(data).hexdigest()
        self.download(image_id, data)
        self.call('patch', 'PATCH', '/v2/images/%s' % image_id,
                  data='[{"op": "add", "path": "/soak_round", "value": "%d"}]'
                  % self.rng.randint(0, 10 ** 6),
                  headers={'Content-Type': PATCH_TYPE})
        self.call('member', 'POST', '/v2/images/%s/members' % image_id,
                  json={'member': 'soak-friend'})
        self.call('list', 'GET', '/v2/images?limit=20')
        if self.rng.random() < 0.5:
            resp = self.call('delete', 'DELETE', '/v2/images/%s' % image_id)
            if resp is None or resp.status_code == 204:
                # A cut delete may or may not have happened.
                del self.images[image_id]

    def download(self, image_id, data):
        resp = self.call('download', 'GET', '/v2/images/%s/file' % image_id)
        if resp is not None and resp.status_code == 200 \
                and resp.content != data:
            self.stats.count('wrong-bytes', 'download of %s' % image_id)
        if len(data) < 2:
            return
        first = self.rng.randrange(len(data) - 1)
        last = self.rng.randrange(first, len(data))
        resp = self.call('range', 'GET', '/v2/images/%s/file' % image_id,
                         headers={'Range': 'bytes=%d-%d' % (first, last)})
        if resp is not None and resp.status_code == 206 \
                and resp.content != data[first:last + 1]:
            self.stats.count('wrong-bytes', 'range of %s' % image_id)


class Daemon:
    """glance-api started the way an operator's first try starts it."""

    def __init__(self, workdir, database):
        self.workdir = workdir
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        env = dict(os.environ, GLANCE_DATA_DIR=workdir,
                   OS_DEFAULT__BIND_PORT=str(self.port),
                   OS_DEFAULT__WORKERS='2', OS_DEFAULT__USE_STDERR='false')
        extra = []
        if database:
            conf = os.path.join(workdir, 'database.conf')
            with open(conf, 'w') as f:
                f.write('[database]\nconnection = %s\n' % database)
            extra = ['--config-file', conf]
            subprocess.run(
                [os.path.join(ROOT, '.venv/bin/glance-manage'),
                 '--config-file', conf, 'db', 'sync'],
                check=True, capture_output=True, cwd=ROOT)
        self.out = open(os.path.join(workdir, 'daemon.out'), 'wb')
        self.proc = subprocess.Popen([os.path.join(ROOT, 'tools/run')]
                                     + extra, env=env, cwd=ROOT,
                                     stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit('glance-api exited with %s; see %s' % (
                    self.proc.returncode, self.out.name))
            try:
                requests.get(self.url + '/healthcheck', timeout=1)
                if len(self.workers()) >= 2:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        sys.exit('glance-api did not answer within %ds' % timeout)

    def workers(self):
        try:
            return [p for p in psutil.Process(self.proc.pid).children()
                    if p.status() != psutil.STATUS_ZOMBIE]
        except psutil.NoSuchProcess:
            return []

    def resources(self):
        """(master fds, master RSS, worker fds, worker RSS) in MiB."""
        master = psutil.Process(self.proc.pid)
        fds, rss = 0, 0
        for worker in self.workers():
            try:
                fds += worker.num_fds()
                rss += worker.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return (master.num_fds(), master.memory_info().rss / 2 ** 20,
                fds, rss / 2 ** 20)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def chaos(daemon, stop, stats, hup_every, kill_every):
    """SIGHUP the master and SIGKILL a worker on their schedules."""
    start = time.monotonic()
    next_hup, next_kill = start + hup_every, start + kill_every
    while not stop.wait(0.5):
        now = time.monotonic()
        if hup_every and now >= next_hup:
            daemon.proc.send_signal(signal.SIGHUP)
            stats.count('sighup')
            next_hup += hup_every
        if kill_every and now >= next_kill:
            workers = daemon.workers()
            if workers:
                random.choice(workers).kill()
                stats.count('worker-killed')
            next_kill += kill_every


def settle(daemon, timeout=60):
    """Wait until the images of the soak are no longer being written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        images = all_images(daemon.url)
        if images is not None and not any(
                i['status'] in ('saving', 'importing') for i in images):
            return images
        time.sleep(1)
    return all_images(daemon.url) or []


def all_images(url):
    images, path = [], '/v2/images?limit=1000'
    while path:
        try:
            resp = requests.get(url + path, headers=ADMIN, timeout=60)
        except requests.RequestException:
            return None
        if resp.status_code != 200:
            return None
        body = resp.json()
        images.extend(body['images'])
        path = body.get('next')
    return images


def check_end(daemon, clients, stats):
    images = {i['id']: i for i in settle(daemon)}
    expected = {}
    for client in clients:
        expected.update(client.images)
        for image_id in client.cut:
            image = images.get(image_id)
            if image and image['status'] not in ('queued', 'active',
                                                 'deleted'):
                stats.count('stuck-after-cut', '%s is %s' % (
                    image_id, image['status']))
    for image_id, image in images.items():
        if image['status'] != 'active':
            continue
        resp = requests.get(daemon.url + '/v2/images/%s/file' % image_id,
                            headers=ADMIN, timeout=60)
        digest = hashlib.sha256(resp.content).hexdigest()
        if resp.status_code != 200:
            stats.count('lost-data', '%s: %d' % (image_id, resp.status_code))
        elif expected.get(image_id) not in (None, digest):
            stats.count('wrong-bytes', 'active %s at the end' % image_id)
    for image_id, digest in expected.items():
        if digest is not None and image_id not in images:
            stats.count('lost-image', image_id)
    store = os.path.join(daemon.workdir, 'images')
    staging = os.path.join(daemon.workdir, 'staging')
    files = set(os.listdir(store))
    for name in sorted(files):
        if name.endswith('.part'):
            stats.count('partial-file-left', name)
        elif images.get(name, {}).get('status') != 'active':
            stats.count('file-without-image', name)
    for image_id, image in images.items():
        if image['status'] == 'active' and image['size'] \
                and image_id not in files:
            stats.count('image-without-file', image_id)
    for name in os.listdir(staging) if os.path.isdir(staging) else ():
        stats.count('staged-file-left', name)
    return len(images)


def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))]


def report(stats, elapsed, resources, image_count):
    print('\n%-10s %8s %8s %9s %9s' % (
        'operation', 'requests', 'req/s', 'p50 ms', 'p99 ms'))
    total = 0
    for op in ('create', 'upload', 'download', 'range', 'patch', 'member',
               'list', 'delete'):
        values = stats.latency.get(op, [])
        total += len(values)
        if values:
            print('%-10s %8d %8.1f %9.1f %9.1f' % (
                op, len(values), len(values) / elapsed,
                percentile(values, 0.5) * 1000,
                percentile(values, 0.99) * 1000))
    print('%-10s %8d %8.1f' % ('all', total, total / elapsed))
    print('\nstatus codes: %s' % dict(sorted(stats.status.items())))
    print('sighup sent: %d, workers killed: %d, requests cut by a kill: %d'
          % (stats.counts['sighup'], stats.counts['worker-killed'],
             stats.counts['cut']))
    print('images left at the end: %d' % image_count)
    (mfd0, mrss0, wfd0, wrss0), (mfd1, mrss1, wfd1, wrss1) = resources
    print('master: fds %d -> %d, RSS %.1f -> %.1f MiB' % (
        mfd0, mfd1, mrss0, mrss1))
    print('workers (sum of 2): fds %d -> %d, RSS %.1f -> %.1f MiB' % (
        wfd0, wfd1, wrss0, wrss1))
    judged = ('5xx', 'wrong-bytes', 'lost-data', 'lost-image',
              'stuck-after-cut', 'partial-file-left', 'file-without-image',
              'image-without-file', 'staged-file-left', 'client-error')
    print()
    for what in judged:
        print('%-20s %d' % (what, stats.counts[what]))
    for sample in stats.samples:
        if not sample.startswith('cut:'):
            print('  ' + sample)
    return 1 if any(stats.counts[what] for what in judged) else 0


def main():
    parser = argparse.ArgumentParser(
        description='Mixed load against glance-api while it is reloaded '
                    'and loses workers; prints per-operation figures and '
                    'the counts that must be 0. Exit status 1 when any '
                    'is not.')
    parser.add_argument('--duration', type=float, default=600,
                        help='seconds of load (default 600)')
    parser.add_argument('--clients', type=int, default=8,
                        help='concurrent clients (default 8)')
    parser.add_argument('--hup-every', type=float, default=30,
                        help='seconds between SIGHUPs (default 30, 0: none)')
    parser.add_argument('--kill-every', type=float, default=60,
                        help='seconds between worker kills (default 60, '
                             '0: none)')
    parser.add_argument('--max-size', type=int, default=512 * 1024,
                        help='largest upload in bytes (default 524288)')
    parser.add_argument('--database', metavar='URL',
                        help='SQLAlchemy URL of an empty database '
                             '(default: SQLite in the scratch directory)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the scratch directory')
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix='glance-soak-')
    daemon = Daemon(workdir, args.database)
    print('glance-api pid %d at %s, data in %s' % (
        daemon.proc.pid, daemon.url, workdir))
    stats = Stats()
    stop = threading.Event()
    clients = [Client(i, daemon.url, stats, stop, args.max_size)
               for i in range(args.clients)]
    try:
        for client in clients:
            client.start()
        time.sleep(min(10, args.duration / 10))
        before = daemon.resources()
        chaos_thread = threading.Thread(
            target=chaos, args=(daemon, stop, stats, args.hup_every,
                                args.kill_every), daemon=True)
        chaos_thread.start()
        started = time.monotonic()
        while time.monotonic() - started < args.duration:
            time.sleep(1)
        stop.set()
        for client in clients:
            client.join(120)
        elapsed = time.monotonic() - started
        daemon.wait_ready()
        image_count = check_end(daemon, clients, stats)
        after = daemon.resources()
        status = report(stats, elapsed, (before, after), image_count)
    finally:
        stop.set()
        daemon.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
