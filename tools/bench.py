"""Load generator for the Image API metadata path.

An asyncio HTTP/1.1 client with keep-alive connections (it reconnects when
the server closes), so one client process can push thousands of requests
per second. For each operation it runs ``--concurrency`` connections for
``--duration`` seconds and prints requests/s, errors and p50/p99 latency.

    tools/bench --url http://127.0.0.1:9292 [--duration 10] [--concurrency 16]
"""

import argparse
import asyncio
import json
import re
import statistics
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
        results.append(await run_op(name, args.url, headers, conc, dur,
                                    ops[name]))
    print('%-8s %9s %7s %10s %9s %9s' % ('op', 'requests', 'errors',
                                         'req/s', 'p50 ms', 'p99 ms'))
    for r in results:
        print('%-8s %9d %7d %10.1f %9.2f %9.2f' % (
            r['op'], r['requests'], r['errors'], r['rps'], r['p50_ms'],
            r['p99_ms']))
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
    return parser.parse_args(argv)


if __name__ == '__main__':
    asyncio.run(main(parse_args()))
