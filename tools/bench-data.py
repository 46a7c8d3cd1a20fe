"""Data path benchmark: upload and download throughput, many parallel
downloads, metadata latency while a big upload runs, and the daemon's peak
memory.

    tools/bench-data --url http://127.0.0.1:9292 [--size-mib 1024]
        [--parallel 32 --parallel-size-mib 256] [--pids PID,...]

Against one running server it prints:

* hashing: what md5 + sha512 over the same data reach in this process
  (the bound an upload that computes both hashes in one thread reaches);
* loopback: what TCP on 127.0.0.1 carries from a cached file to this
  client's reader (the bound of any download);
* upload of --size-mib alone, then again with the latency of
  GET /v2/images/{id} and GET /v2/images?limit=20 requested in a loop
  while it runs, and download (twice: as the upload left it, then from
  the page cache), in MiB/s (run the server with one worker to see
  whether a transfer starves the small requests of its worker);
* --parallel simultaneous downloads of a --parallel-size-mib image:
  aggregate MiB/s and the latency to the first byte;
* with --pids (the server's processes), the peak resident memory of each
  and their sum, from /proc/<pid>/status (VmHWM), and the proportional
  set size of them all (shared pages counted once): the highest sum seen
  while the benchmark ran, and the sum at the end.
"""

import argparse
import fcntl
import hashlib
import http.client
import json
import os
import selectors
import socket
import statistics
import tempfile
import threading
import time
import urllib.parse

CHUNK = 1024 * 1024
F_SETPIPE_SZ = 1031


def connect(url):
    parsed = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port or 80,
                                      timeout=600)


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read()


def create(url, name):
    conn = connect(url)
    status, body = call(conn, 'POST', '/v2/images', json.dumps({
        'name': name, 'disk_format': 'raw', 'container_format': 'bare'}),
        {'Content-Type': 'application/json'})
    assert status == 201, (status, body)
    return json.loads(body)['id']


def probe(url, path, stop, latencies):
    conn = connect(url)
    while not stop.is_set():
        start = time.perf_counter()
        status, _ = call(conn, 'GET', path)
        latencies.append(time.perf_counter() - start)
        assert status == 200, status
        time.sleep(0.01)


def upload(url, image_id, size):
    block = os.urandom(CHUNK)
    conn = connect(url)
    conn.putrequest('PUT', '/v2/images/%s/file' % image_id)
    conn.putheader('Content-Type', 'application/octet-stream')
    conn.putheader('Content-Length', str(size))
    conn.endheaders()
    sent = 0
    while sent < size:
        conn.send(block[:min(CHUNK, size - sent)])
        sent += CHUNK
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 204, resp.status


def download(url, image_id):
    """Bytes of the image's data; the body goes from the socket to
    /dev/null through a pipe (splice), so reading costs this client as
    little CPU as possible and the server's own speed shows."""
    parsed = urllib.parse.urlsplit(url)
    # Blocking: splice does not wait for a non-blocking socket.
    sock = socket.create_connection((parsed.hostname, parsed.port or 80))
    with sock:
        sock.sendall(('GET /v2/images/%s/file HTTP/1.1\r\nHost: %s\r\n'
                      'Connection: close\r\n\r\n'
                      % (image_id, parsed.netloc)).encode())
        head = b''
        while b'\r\n\r\n' not in head:
            data = sock.recv(65536)
            assert data, 'connection closed in the headers'
            head += data
        head, _, body = head.partition(b'\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 200'), head[:40]
        length = [int(line.split(b':')[1]) for line in head.split(b'\r\n')
                  if line.lower().startswith(b'content-length')][0]
        return len(body) + discard(sock, length - len(body))


def discard(sock, count):
    """Read ``count`` bytes of ``sock`` into /dev/null without copying
    them to this process: bytes read."""
    pipe_out, pipe_in = os.pipe()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        fcntl.fcntl(pipe_in, F_SETPIPE_SZ, CHUNK)
        total = 0
        while total < count:
            n = os.splice(sock.fileno(), pipe_in, min(CHUNK, count - total))
            if not n:
                break
            total += n
            while n:
                n -= os.splice(pipe_out, null, n)
        return total
    finally:
        for fd in (pipe_out, pipe_in, null):
            os.close(fd)


def measure(url, probes, work):
    """Run ``work`` while each path of ``probes`` is requested in a loop."""
    stop = threading.Event()
    found = {path: [] for path in probes}
    threads = [threading.Thread(target=probe, args=(url, path, stop, lat))
               for path, lat in found.items()]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    stop.set()
    for thread in threads:
        thread.join()
    return elapsed, result, found


def summary(latencies):
    if len(latencies) < 2:
        return 'n=%d' % len(latencies)
    q = statistics.quantiles(latencies, n=100)
    return 'n=%d p50 %.1f ms p99 %.1f ms max %.1f ms' % (
        len(latencies), q[49] * 1000, q[98] * 1000, max(latencies) * 1000)


def hashing_rate(mib=256):
    block = os.urandom(CHUNK)
    md5, sha = hashlib.md5(), hashlib.sha512()
    start = time.perf_counter()
    for _ in range(mib):
        md5.update(block)
        sha.update(block)
    return mib / (time.perf_counter() - start)


def hashing_cost():
    """A line on the CPU time md5 and sha512 take per GiB here: work every
    upload through the Image service does and the client library alone
    does not."""
    return ('md5 + sha512 of the data (done by every upload through an '
            'Image service): %.1f CPU s per GiB' % (1024 / hashing_rate()))


def loopback_rate(mib=512):
    """What loopback TCP carries from a cached file to this reader: a
    forked process sendfile()s it, this one reads it as download() does.
    No server can send faster than that to this client."""
    with tempfile.TemporaryFile() as f:
        block = os.urandom(CHUNK)
        for _ in range(mib):
            f.write(block)
        f.flush()
        listener = socket.create_server(('127.0.0.1', 0))
        address = listener.getsockname()
        pid = os.fork()
        if pid == 0:
            conn, _ = listener.accept()
            offset = 0
            while offset < mib * CHUNK:
                offset += os.sendfile(conn.fileno(), f.fileno(), offset,
                                      mib * CHUNK - offset)
            conn.close()
            os._exit(0)
        listener.close()
        with socket.create_connection(address) as sock:
            start = time.perf_counter()
            total = discard(sock, mib * CHUNK)
            took = time.perf_counter() - start
        os.waitpid(pid, 0)
    return total / CHUNK / took


def _process_name(pid, stat):
    """A short name for a process: its command, or for an interpreter
    the script (or ``-m`` module) it runs."""
    if pid == os.getpid():
        return 'benchmark client'
    name = stat[stat.index('(') + 1:stat.rindex(')')]
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = [a.decode(errors='replace')
                    for a in f.read().split(b'\0') if a]
    except OSError:
        return name
    if argv and os.path.basename(argv[0]).startswith('python'):
        args = [a for a in argv[1:]
                if not a.startswith('-') or a in ('-m', '-c')]
        if args[:1] == ['-c']:
            return 'python -c'
        if args[:1] == ['-m'] and len(args) > 1:
            return args[1]
        if args:
            return os.path.basename(args[0])
    return name


def cpu_times():
    """{pid: (name, CPU seconds used so far, user and system, all threads)}
    for every process of the machine."""
    tick = os.sysconf('SC_CLK_TCK')
    found = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        found[int(entry)] = (_process_name(int(entry), stat),
                             (int(fields[11]) + int(fields[12])) / tick)
    return found


class CpuUse:
    """The CPU time each program of the machine used while a block ran:
    where the cores went during a transfer, what bounds it on a machine
    whose cores are all busy."""

    def __enter__(self):
        self.before = cpu_times()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *failure):
        self.elapsed = time.perf_counter() - self.start
        after = cpu_times()
        self.used = {}
        for pid, (name, seconds) in after.items():
            spent = seconds - self.before.get(pid, (name, 0.0))[1]
            self.used[name] = self.used.get(name, 0.0) + spent

    def report(self, size):
        """One line: CPU seconds per GiB moved, by program, and how many
        cores were busy in all."""
        per_gib = (1024 * 1024 * 1024) / size
        shown = sorted(((s, n) for n, s in self.used.items()
                        if s * per_gib >= 0.05), reverse=True)
        total = sum(self.used.values())
        return ('CPU s per GiB: %s; %.1f cores busy of %d' % (
            ', '.join('%s %.1f' % (n, s * per_gib) for s, n in shown),
            total / self.elapsed, os.cpu_count()))


def memory(pids, path, key):
    """MiB of ``key`` in /proc/<pid>/<path> for each pid."""
    found = {}
    for pid in pids:
        try:
            with open('/proc/%s/%s' % (pid, path)) as f:
                for line in f:
                    if line.startswith(key + ':'):
                        found[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return found


class PeakPss(threading.Thread):
    """The highest sum of the processes' PSS seen, sampled every 100 ms
    while the benchmark runs."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.peak, self.stopped = pids, 0.0, threading.Event()

    def run(self):
        while not self.stopped.wait(0.1):
            total = sum(memory(self.pids, 'smaps_rollup', 'Pss').values())
            self.peak = max(self.peak, total)

    def stop(self):
        self.stopped.set()
        self.join()
        return self.peak


def parallel(url, image_id, count):
    """``count`` simultaneous downloads, read by one thread with epoll (a
    client of threads would measure its own GIL as much as the server):
    (seconds, bytes, seconds to the first byte of each)."""
    parsed = urllib.parse.urlsplit(url)
    request = ('GET /v2/images/%s/file HTTP/1.1\r\nHost: %s\r\n\r\n'
               % (image_id, parsed.netloc)).encode()
    buf = memoryview(bytearray(256 * 1024))
    sel = selectors.DefaultSelector()
    begin = time.perf_counter()
    for _ in range(count):
        sock = socket.create_connection((parsed.hostname, parsed.port or 80))
        state = {'start': time.perf_counter(), 'head': b'', 'left': None}
        sock.sendall(request)
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, state)
    first, total, open_ = [], 0, count
    while open_:
        for key, _ in sel.select():
            sock, state = key.fileobj, key.data
            n = sock.recv_into(buf)
            if n and not first_seen(state):
                first.append(time.perf_counter() - state['start'])
                state['seen'] = True
            if state['left'] is None:
                state['head'] += bytes(buf[:n])
                if b'\r\n\r\n' in state['head']:
                    head, _, body = state['head'].partition(b'\r\n\r\n')
                    assert head.startswith(b'HTTP/1.1 200'), head[:40]
                    length = [int(line.split(b':')[1]) for line in
                              head.split(b'\r\n')
                              if line.lower().startswith(b'content-length')]
                    state['left'] = length[0] - len(body)
                    total += len(body)
            else:
                state['left'] -= n
                total += n
            if n == 0 or state['left'] == 0:
                assert state['left'] == 0, 'connection closed early'
                sel.unregister(sock)
                sock.close()
                open_ -= 1
    return time.perf_counter() - begin, total, first


def first_seen(state):
    return state.get('seen', False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url', default='http://127.0.0.1:9292')
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--parallel', type=int, default=32)
    parser.add_argument('--parallel-size-mib', type=int, default=256)
    parser.add_argument('--pids', default='',
                        help='comma-separated pids of the server processes')
    args = parser.parse_args()
    url = args.url
    print('hashing md5+sha512 in one thread: %.1f MiB/s' % hashing_rate())
    print('loopback TCP, sendfile to this reader: %.1f MiB/s'
          % loopback_rate())
    size = args.size_mib * CHUNK
    pids = args.pids.split(',') if args.pids else []
    sampler = PeakPss(pids)
    if pids:
        sampler.start()
    probe_id = create(url, 'probe')
    data_id = create(url, 'bench-data')
    probes = ('/v2/images/%s' % probe_id, '/v2/images?limit=20')
    _, _, lat = measure(url, probes, lambda: time.sleep(3))
    print('idle:                 show %s; list %s'
          % (summary(lat[probes[0]]), summary(lat[probes[1]])))
    # Throughput first with nothing else running (as the hashing bound
    # was measured), then again while show and list requests keep coming.
    alone_id = create(url, 'bench-upload-alone')
    took, _, _ = measure(url, (), lambda: upload(url, alone_id, size))
    print('upload %5d MiB alone: %.1f MiB/s' % (args.size_mib,
                                                 args.size_mib / took))
    call(connect(url), 'DELETE', '/v2/images/%s' % alone_id)
    took, _, lat = measure(url, probes, lambda: upload(url, data_id, size))
    print('upload %5d MiB:      %.1f MiB/s; show %s; list %s'
          % (args.size_mib, args.size_mib / took, summary(lat[probes[0]]),
             summary(lat[probes[1]])))
    # The first download reads what the upload left wherever the server
    # put it (page cache or disk); the second one is served from memory.
    for label in ('download', 'again   '):
        took, got, _ = measure(url, (), lambda: download(url, data_id))
        assert got == size, (got, size)
        print('%s %5d MiB:    %.1f MiB/s' % (label, args.size_mib,
                                               args.size_mib / took))
    conn = connect(url)
    call(conn, 'DELETE', '/v2/images/%s' % data_id)
    if args.parallel:
        small_id = create(url, 'bench-parallel')
        upload(url, small_id, args.parallel_size_mib * CHUNK)
        took, total, first = parallel(url, small_id, args.parallel)
        print('%d parallel downloads of %d MiB: %.1f MiB/s in all; first '
              'byte %s' % (args.parallel, args.parallel_size_mib,
                           total / CHUNK / took, summary(first)))
        call(conn, 'DELETE', '/v2/images/%s' % small_id)
    call(conn, 'DELETE', '/v2/images/%s' % probe_id)
    if pids:
        peak_pss = sampler.stop()
        rss = memory(pids, 'status', 'VmHWM')
        print('peak RSS: %s; sum %.1f MiB' % (
            ', '.join('%s %.1f MiB' % kv for kv in sorted(rss.items())),
            sum(rss.values())))
        # Forked workers share most pages with their parent: PSS counts
        # each shared page once across the processes.
        pss = memory(pids, 'smaps_rollup', 'Pss')
        print('PSS (shared pages counted once): peak %.1f MiB (sampled '
              'every 100 ms), now %.1f MiB' % (peak_pss, sum(pss.values())))


if __name__ == '__main__':
    main()
