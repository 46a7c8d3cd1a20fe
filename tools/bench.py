"""Load generator for the Image API metadata path.

An asyncio HTTP/1.1 client with keep-alive connections (it reconnects when
the server closes), so one client process can push thousands of requests
per second. For each operation it runs ``--concurrency`` connections for
``--duration`` seconds and prints requests/s, errors and p50/p99 latency.

    tools/bench --url http://127.0.0.1:9292 [--duration 10] [--concurrency 16]

With ``--wrk`` the load comes from wrk (a C load generator, Debian's
``wrk`` package) instead, so that the client is never the limit, even with
a thousand connections; it also prints the slowest request and how many
waited longer than ``--timeout`` seconds (wrk gives those up).
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import sys
import time
import urllib.parse
import uuid

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'


_LENGTH = re.compile(rb'\r\ncontent-length:\s*(\d+)', re.I)
_CLOSE = re.compile(rb'\r\nconnection:\s*close', re.I)


class Connection:
    """One keep-alive HTTP/1.1 connection, kept cheap on the client side:
    requests are formatted as bytes and responses parsed with two regular
    expressions, so the load generator leaves the CPU to the server."""

    def __init__(self, host, port, headers):
        self.host, self.port = host, port
        self.head = ''.join('%s: %s\r\n' % kv for kv in headers.items())
        self.head += 'Host: %s:%d\r\n' % (host, port)
        self.reader = self.writer = None

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port)

    async def request(self, method, path, body=None, content_type=None):
        if self.writer is None:
            await self._connect()
        data = b''
        extra = ''
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(
                body).encode()
            extra = 'Content-Type: %s\r\n' % (content_type
                                               or 'application/json')
        self.writer.write(('%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n'
                           '\r\n' % (method, path, self.head, extra,
                                      len(data))).encode() + data)
        try:
            head = await self.reader.readuntil(b'\r\n\r\n')
        except asyncio.IncompleteReadError:
            raise ConnectionError('server closed the connection')
        status = int(head[9:12])
        match = _LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        payload = await self.reader.readexactly(length) if length else b''
        if _CLOSE.search(head):
            self.close()
        return status, payload

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_op(name, url, headers, concurrency, duration, make_request):
    parsed = urllib.parse.urlsplit(url)
    latencies, errors, statuses = [], 0, {}
    deadline = time.perf_counter() + duration

    async def worker(index):
        nonlocal errors
        conn = Connection(parsed.hostname, parsed.port or 80, headers)
        n = 0
        while time.perf_counter() < deadline:
            method, path, body, ctype, ok = make_request(index, n)
            n += 1
            start = time.perf_counter()
            try:
                status, _ = await conn.request(method, path, body, ctype)
            except (OSError, ConnectionError, asyncio.IncompleteReadError):
                conn.close()
                errors += 1
                statuses['conn-error'] = statuses.get('conn-error', 0) + 1
                continue
            latencies.append(time.perf_counter() - start)
            if status != ok:
                errors += 1
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    q = (statistics.quantiles(latencies, n=100) if len(latencies) > 1
         else [0] * 99)
    return {'op': name, 'requests': len(latencies), 'errors': errors,
            'rps': len(latencies) / elapsed, 'p50_ms': q[49] * 1000,
            'p99_ms': q[98] * 1000, 'statuses': statuses}


# wrk runs this per thread: requests from the table OPS (method, path,
# body) in turn, and prints its figures as one parseable line.
WRK_SCRIPT = r"""
local ops = {%(ops)s}
local ok = %(ok)d
local i = 0
local bad = 0
wrk.headers = {%(headers)s}
function request()
  i = i + 1
  local op = ops[(i %% #ops) + 1]
  return wrk.format(op[1], op[2], nil, op[3])
end
function response(status, headers, body)
  if status ~= ok then bad = bad + 1 end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK %%d %%d %%d %%d %%d %%d %%d %%f %%f %%f\n", summary.requests,
    summary.duration, e.connect, e.read + e.write, e.status, e.timeout,
    latency.max, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9)))
end
"""


def _lua(text):
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def wrk_op(name, url, headers, args, requests_, ok):
    """One operation under wrk: the same figures as run_op, from wrk's."""
    ops = ', '.join('{%s, %s, %s}' % (
        _lua(m), _lua(p), _lua(b.decode()) if b else 'nil')
        for m, p, b, _ct in requests_)
    head = dict(headers)
    ctype = requests_[0][3]
    if requests_[0][2] is not None:
        head['Content-Type'] = ctype or 'application/json'
    script = WRK_SCRIPT % {
        'ops': ops, 'ok': ok,
        'headers': ', '.join('[%s] = %s' % (_lua(k), _lua(v))
                             for k, v in head.items())}
    with tempfile.NamedTemporaryFile('w', suffix='.lua') as f:
        f.write(script)
        f.flush()
        out = subprocess.run(
            [args.wrk_path, '-t%d' % min(args.wrk_threads, args.concurrency),
             '-c%d' % args.concurrency, '-d%ds' % max(1, args.duration),
             '--timeout', '%ds' % args.timeout, '-s', f.name, url],
            capture_output=True, text=True)
    line = [x for x in out.stdout.splitlines() if x.startswith('WRK ')]
    if out.returncode or not line:
        raise RuntimeError('wrk failed: %s%s' % (out.stdout, out.stderr))
    (n, micros, conn_err, io_err, status_err, timeouts, max_us, p50, p99,
     p999) = line[0].split()[1:]
    statuses = {}
    for key, value in (('conn-error', conn_err), ('io-error', io_err),
                       ('status', status_err),
                       ('timeout>%ds' % args.timeout, timeouts)):
        if int(value):
            statuses[key] = int(value)
    return {'op': name, 'requests': int(n),
            'errors': sum(statuses.values()),
            'rps': int(n) / (int(micros) / 1e6),
            'p50_ms': float(p50) / 1000, 'p99_ms': float(p99) / 1000,
            'p999_ms': float(p999) / 1000, 'max_ms': int(max_us) / 1000,
            'statuses': statuses}


def find_wrk(path=None):
    found = path or shutil.which('wrk')
    if not found or not os.access(found, os.X_OK):
        sys.exit('wrk not found (apt-get install wrk, or --wrk-path)')
    return found


async def seed(url, headers, count, concurrency=8):
    parsed = urllib.parse.urlsplit(url)
    ids = []

    async def worker(n):
        conn = Connection(parsed.hostname, parsed.port or 80, headers)
        for i in range(n):
            status, payload = await conn.request('POST', '/v2/images', {
                'name': 'bench-%s' % uuid.uuid4().hex[:8],
                'disk_format': 'raw', 'container_format': 'bare',
                'bench': 'seed'})
            if status != 201:
                raise RuntimeError('seeding failed: %s %s' % (status,
                                                              payload[:200]))
            ids.append(json.loads(payload)['id'])
        conn.close()

    per = [count // concurrency + (1 if i < count % concurrency else 0)
           for i in range(concurrency)]
    await asyncio.gather(*(worker(n) for n in per))
    return ids


async def count_images(url, headers):
    parsed = urllib.parse.urlsplit(url)
    conn = Connection(parsed.hostname, parsed.port or 80, headers)
    total, path = 0, '/v2/images?limit=1000'
    while path:
        status, payload = await conn.request('GET', path)
        body = json.loads(payload)
        total += len(body['images'])
        path = body.get('next')
    conn.close()
    return total


async def main(args):
    headers = {'X-Auth-Token': 'bench', 'Accept': 'application/json'}
    if args.project:
        headers.update({'X-Project-Id': args.project, 'X-User-Id': 'bench',
                        'X-Roles': 'admin,member,reader',
                        'X-Identity-Status': 'Confirmed'})
    existing = await count_images(args.url, headers)
    missing = max(0, args.images - existing)
    if missing:
        print('seeding %d images (found %d)' % (missing, existing),
              file=sys.stderr)
        await seed(args.url, headers, missing)
    ids = await seed(args.url, headers, args.concurrency)
    show_id = ids[0]
    conc, dur = args.concurrency, args.duration
    ops = {
        'show': lambda i, n: ('GET', '/v2/images/%s' % show_id, None, None,
                              200),
        'list': lambda i, n: ('GET', '/v2/images?limit=20', None, None, 200),
        'patch': lambda i, n: ('PATCH', '/v2/images/%s' % ids[i],
                               b'[{"op": "replace", "path": "/name", '
                               b'"value": "patched-%d"}]' % n,
                               PATCH_TYPE, 200),
        'create': lambda i, n: ('POST', '/v2/images',
                                b'{"name": "bench-create-%d-%d", '
                                b'"disk_format": "raw", '
                                b'"container_format": "bare"}' % (i, n),
                                None, 201),
    }
    results = []
    for name in args.ops:
        if args.wrk:
            # A cycle of distinct requests (patch: one image per slot).
            cycle = [ops[name](i % conc, i)
                     for i in range(max(conc, 64))]
            results.append(wrk_op(name, args.url, headers, args,
                                  [r[:4] for r in cycle], cycle[0][4]))
        else:
            results.append(await run_op(name, args.url, headers, conc, dur,
                                        ops[name]))
    print('%-8s %9s %7s %10s %9s %9s%s' % (
        'op', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms',
        ' %9s %9s' % ('p99.9 ms', 'max ms') if args.wrk else ''))
    for r in results:
        print('%-8s %9d %7d %10.1f %9.2f %9.2f%s' % (
            r['op'], r['requests'], r['errors'], r['rps'], r['p50_ms'],
            r['p99_ms'], ' %9.1f %9.1f' % (r['p999_ms'], r['max_ms'])
            if args.wrk else ''))
        if r['statuses']:
            print('         unexpected: %s' % r['statuses'])
    if args.json:
        print(json.dumps(results))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url', default='http://127.0.0.1:9292')
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds per operation (default 10)')
    parser.add_argument('--concurrency', type=int, default=16,
                        help='connections per operation (default 16)')
    parser.add_argument('--images', type=int, default=1000,
                        help='images present before list runs (default 1000)')
    parser.add_argument('--project',
                        help='send identity headers for this project')
    parser.add_argument('--ops', nargs='+',
                        default=['show', 'list', 'patch', 'create'],
                        choices=['show', 'list', 'patch', 'create'])
    parser.add_argument('--json', action='store_true',
                        help='also print the results as JSON')
    parser.add_argument('--wrk', action='store_true',
                        help='drive the load with wrk (C) instead of this '
                             'script')
    parser.add_argument('--wrk-path', help='the wrk binary (default: PATH)')
    parser.add_argument('--wrk-threads', type=int, default=2,
                        help='wrk threads (default 2)')
    parser.add_argument('--timeout', type=int, default=10,
                        help='with --wrk: seconds after which a request '
                             'counts as an error (default 10)')
    args = parser.parse_args(argv)
    if args.wrk:
        args.wrk_path = find_wrk(args.wrk_path)
    return args


if __name__ == '__main__':
    asyncio.run(main(parse_args()))
