"""Image cache benchmark: this service's cache against its filesystem
store, and against upstream Glance's caching flavor, in one run.

    tools/bench-cache [--size-mib 1024] [--herd-mib 256] [--readers 32]
        [--workers 2] [--no-upstream] [--keep DIR]

It starts, on loopback ports, with one SQLite database and one store
directory shared by both of its own servers:

* glance-api in the default flavor (no cache): the filesystem store;
* glance-api in the caching flavor (image_cache_dir set);
* unless --no-upstream, upstream Glance (tools/upstream-glance, flavor
  headers+caching) with its own database, store and cache.

and prints:

* a --size-mib download: from the store (the page cache warm), then from
  the cache once cached (best of three each, curl into /dev/null), MiB/s;
* --readers simultaneous downloads of a --herd-mib image nobody cached:
  the reads of the store's file and the bytes they asked for (from the
  filesystem store's debug log line of each read, upstream's "Found image
  at" included), the aggregate MiB/s, the first-byte latency
  (p50, p99, max), whether every reader got the whole image, and the
  peak resident memory of the server's processes (VmHWM) before and
  after.

Data lives in a temporary directory (or --keep DIR) removed at the end.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MIB = 1024 * 1024
HEADERS = {'X-Project-Id': 'bench', 'X-User-Id': 'bench',
           'X-Roles': 'admin,member,reader',
           'X-Identity-Status': 'Confirmed', 'X-Tenant-Id': 'bench'}


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def request(url, method='GET', body=None, headers=None, timeout=600):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=dict(HEADERS, **(headers or {})))
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


def wait_up(url, proc=None, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('server at %s exited' % url)
        try:
            request(url + '/versions', timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError('%s does not answer' % url)


class Own:
    """One glance-api of this project."""

    def __init__(self, work, name, db, store, workers, cache=None):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.conf = os.path.join(work, '%s.conf' % name)
        lines = ['[DEFAULT]', 'bind_host = 127.0.0.1',
                 'bind_port = %d' % self.port, 'workers = %d' % workers,
                 'debug = true',
                 'log_file = %s' % os.path.join(work, '%s.log' % name),
                 'node_staging_uri = file://%s/staging' % work,
                 'worker_self_reference_url = %s' % self.url]
        if cache:
            lines.append('image_cache_dir = %s' % cache)
        lines += ['[database]', 'connection = %s' % db,
                  '[glance_store]', 'filesystem_store_datadir = %s' % store,
                  '[paste_deploy]',
                  'config_file = %s' % os.path.join(
                      ROOT, 'etc', 'glance-api-paste.ini')]
        if cache:
            lines.append('flavor = caching')
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self.log = os.path.join(work, '%s.log' % name)
        self.proc = None

    def store_reads(self, path, size):
        """(reads, bytes) of the store's file ``path`` in the log."""
        pattern = re.compile(r'Reading (\d+) bytes of %s from byte'
                             % re.escape(path))
        with open(self.log) as f:
            found = [int(n) for n in pattern.findall(f.read())]
        return len(found), sum(found)

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.api', '--config-file',
             self.conf], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_up(self.url, self.proc)

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Upstream:
    """Upstream Glance under gunicorn (tools/upstream-glance)."""

    def __init__(self, work):
        self.data = os.path.join(work, 'upstream')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.store = os.path.join(self.data, 'images')
        self.cache = os.path.join(self.data, 'cache')

    def tool(self, *args):
        return subprocess.run(
            [os.path.join(ROOT, 'tools', 'upstream-glance')] + list(args),
            env=dict(os.environ, UPSTREAM_GLANCE_FLAVOR='headers+caching',
                     UPSTREAM_GLANCE_DEBUG='true'),
            capture_output=True, text=True, timeout=1800)

    def start(self):
        proc = self.tool('start', self.data, str(self.port))
        if proc.returncode:
            raise RuntimeError('upstream glance: %s' % proc.stderr[-2000:])
        wait_up(self.url)

    def store_reads(self, path, size):
        """(reads, bytes) of ``path``: glance_store's filesystem driver
        logs each whole-file read."""
        with open(os.path.join(self.data, 'log', 'glance-api.log')) as f:
            count = f.read().count('Found image at %s.' % path)
        return count, count * size

    def pids(self):
        with open(os.path.join(self.data, 'upstream.pid')) as f:
            pid = int(f.read())
        return [pid] + children(pid)

    def stop(self):
        self.tool('stop', self.data)


def children(pid):
    try:
        out = subprocess.run(['pgrep', '-P', str(pid)], capture_output=True,
                             text=True).stdout
    except OSError:
        return []
    return [int(p) for p in out.split()]


def peak_rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('VmHWM:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0


def make_file(path, mib):
    block = os.urandom(MIB)
    with open(path, 'wb') as f:
        for i in range(mib):
            f.write(block[i % 251:] + block[:i % 251])


def upload(url, path, name):
    status, body = request(url + '/v2/images', 'POST', json.dumps({
        'name': name, 'disk_format': 'raw',
        'container_format': 'bare'}).encode(),
        {'Content-Type': 'application/json'})
    image_id = json.loads(body)['id']
    subprocess.run(
        ['curl', '-sf', '-X', 'PUT', '-T', path,
         '-H', 'Content-Type: application/octet-stream']
        + sum((['-H', '%s: %s' % kv] for kv in HEADERS.items()), [])
        + ['%s/v2/images/%s/file' % (url, image_id)], check=True)
    return image_id


def curl_get(url, image_id):
    """(seconds to the first byte, total seconds, bytes) of one download."""
    out = subprocess.run(
        ['curl', '-s', '-o', '/dev/null', '-w',
         '%{time_starttransfer} %{time_total} %{size_download} '
         '%{http_code}']
        + sum((['-H', '%s: %s' % kv] for kv in HEADERS.items()), [])
        + ['%s/v2/images/%s/file' % (url, image_id)],
        capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2]), out[3]


def best_rate(url, image_id, size, tries=3):
    rates = []
    for _ in range(tries):
        _first, total, got, code = curl_get(url, image_id)
        if got != size or code != '200':
            raise RuntimeError('download got %d bytes, status %s'
                               % (got, code))
        rates.append(size / MIB / total)
    return max(rates)


def wait_cached(server_url, image_id, cache_dir, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(os.path.join(cache_dir, image_id)):
            try:
                status, body = request(server_url + '/v2/cache')
                if status == 200 and image_id in [
                        e['image_id']
                        for e in json.loads(body)['cached_images']]:
                    return
            except Exception:
                return      # upstream without the cache API in this flavor
        time.sleep(0.2)
    raise RuntimeError('image %s not cached' % image_id)


def herd(server, image_id, size, readers, store_file):
    pids = server.pids()
    before = peak_rss_mib(pids)
    reads_before, bytes_before = server.store_reads(store_file, size)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(readers) as pool:
        results = list(pool.map(lambda _i: curl_get(server.url, image_id),
                                range(readers)))
    wall = time.monotonic() - started
    time.sleep(1)
    reads, read = server.store_reads(store_file, size)
    reads, read = reads - reads_before, read - bytes_before
    firsts = sorted(r[0] for r in results)
    whole = sum(1 for r in results if r[2] == size and r[3] == '200')
    p99 = firsts[min(len(firsts) - 1, int(round(0.99 * len(firsts))) - 1)]
    return {
        'store reads': reads,
        'store bytes read': '%d MiB (%.1fx the image)' % (
            read // MIB, read / size),
        'whole downloads': '%d of %d' % (whole, readers),
        'aggregate': '%.0f MiB/s' % (readers * size / MIB / wall),
        'first byte': 'p50 %.3f s, p99 %.3f s, max %.3f s' % (
            statistics.median(firsts), p99, firsts[-1]),
        'peak RSS': '%.0f MiB before, %.0f MiB after (sum of %d '
                    'processes)' % (before, peak_rss_mib(pids), len(pids)),
    }


def show(title, figures):
    print(title)
    for key, value in figures.items():
        print('  %-17s %s' % (key + ':', value))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    parser.add_argument('--size-mib', type=int, default=1024,
                        help='Size of the image of the single download.')
    parser.add_argument('--herd-mib', type=int, default=256,
                        help='Size of the image the readers share.')
    parser.add_argument('--readers', type=int, default=32,
                        help='Simultaneous downloads of the uncached image.')
    parser.add_argument('--workers', type=int, default=2,
                        help='Workers of this project\'s caching glance-api.')
    parser.add_argument('--no-upstream', action='store_true',
                        help='Do not start upstream Glance.')
    parser.add_argument('--keep', metavar='DIR',
                        help='Work in DIR and leave it there.')
    args = parser.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix='bench-cache-')
    os.makedirs(work, exist_ok=True)
    db = 'sqlite:///%s' % os.path.join(work, 'glance.sqlite')
    store = os.path.join(work, 'images')
    cache = os.path.join(work, 'cache')
    servers = []
    try:
        plain = Own(work, 'plain', db, store, 1)
        subprocess.run([sys.executable, '-m', 'glance.cmd.manage',
                        '--config-file', plain.conf, 'db', 'sync'],
                       cwd=ROOT, check=True, capture_output=True)
        cached = Own(work, 'caching', db, store, args.workers, cache)
        servers += [plain, cached]
        plain.start()
        cached.start()
        upstream = None
        if not args.no_upstream:
            upstream = Upstream(work)
            servers.append(upstream)
            upstream.start()

        big = os.path.join(work, 'big.raw')
        small = os.path.join(work, 'herd.raw')
        make_file(big, args.size_mib)
        make_file(small, args.herd_mib)
        size, herd_size = args.size_mib * MIB, args.herd_mib * MIB

        print('== %d MiB download (curl, best of 3) ==' % args.size_mib)
        big_id = upload(plain.url, big, 'bench-big')
        curl_get(plain.url, big_id)
        curl_get(cached.url, big_id)
        wait_cached(cached.url, big_id, cache)
        # Each process of the caching server hashes an entry on its
        # first hit: one download per worker first. Then both paths in
        # turn, once the written data is on disk.
        for _ in range(args.workers):
            curl_get(cached.url, big_id)
        os.sync()
        store_rate = cache_rate = 0.0
        for _ in range(3):
            store_rate = max(store_rate, best_rate(plain.url, big_id, size,
                                                   1))
            cache_rate = max(cache_rate, best_rate(cached.url, big_id,
                                                   size, 1))
        print('  this project, filesystem store (page cache): %.0f MiB/s'
              % store_rate)
        print('  this project, image cache hit:               %.0f MiB/s'
              % cache_rate)
        if upstream:
            up_id = upload(upstream.url, big, 'bench-big')
            os.sync()
            up_store = best_rate(upstream.url, up_id, size)
            # Upstream's first download through its cache writes the
            # entry; the next ones are hits.
            up_cache = best_rate(upstream.url, up_id, size)
            print('  upstream (caching flavor), downloads 1-3 (first '
                  'fills its cache): %.0f MiB/s best' % up_store)
            wait_cached(upstream.url, up_id, upstream.cache)
            print('  upstream, image cache hit:                   '
                  '%.0f MiB/s' % up_cache)

        print('\n== %d simultaneous downloads of an uncached %d MiB image =='
              % (args.readers, args.herd_mib))
        herd_id = upload(plain.url, small, 'bench-herd')
        show('this project (caching flavor, %d workers):' % args.workers,
             herd(cached, herd_id, herd_size, args.readers,
                  os.path.join(store, herd_id)))
        if upstream:
            up_herd = upload(upstream.url, small, 'bench-herd')
            show('upstream (caching flavor, gunicorn 1 worker x 8 threads):',
                 herd(upstream, up_herd, herd_size, args.readers,
                      os.path.join(upstream.store, up_herd)))
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as e:
                print('could not stop a server: %s' % e, file=sys.stderr)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
