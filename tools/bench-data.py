"""Data path benchmark: upload and download throughput, and whether a
transfer starves small requests served by the same worker.

Run the daemon with one worker (OS_DEFAULT__WORKERS=0 or 1) so that the
transfer and the small requests share it, then:

    tools/bench-data --url http://127.0.0.1:9292 [--size-mib 512]

It measures GET /v2/images/{id} latency idle, then while an upload of
--size-mib runs, then while the download runs, and prints MiB/s.
"""

import argparse
import http.client
import json
import os
import statistics
import threading
import time
import urllib.parse

CHUNK = 1024 * 1024


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


def probe(url, image_id, stop, latencies):
    conn = connect(url)
    while not stop.is_set():
        start = time.perf_counter()
        status, _ = call(conn, 'GET', '/v2/images/%s' % image_id)
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
    conn = connect(url)
    conn.request('GET', '/v2/images/%s/file' % image_id)
    resp = conn.getresponse()
    total = 0
    while True:
        data = resp.read(CHUNK)
        if not data:
            break
        total += len(data)
    assert resp.status == 200, resp.status
    return total


def measure(url, probe_id, work):
    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=probe,
                              args=(url, probe_id, stop, latencies))
    thread.start()
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    stop.set()
    thread.join()
    return elapsed, result, latencies


def summary(latencies):
    if len(latencies) < 2:
        return 'n=%d' % len(latencies)
    q = statistics.quantiles(latencies, n=100)
    return 'n=%d p50 %.1f ms p99 %.1f ms max %.1f ms' % (
        len(latencies), q[49] * 1000, q[98] * 1000, max(latencies) * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url', default='http://127.0.0.1:9292')
    parser.add_argument('--size-mib', type=int, default=512)
    args = parser.parse_args()
    size = args.size_mib * CHUNK
    probe_id = create(args.url, 'probe')
    data_id = create(args.url, 'bench-data')
    idle, _, lat = measure(args.url, probe_id, lambda: time.sleep(3))
    print('idle:              small GET %s' % summary(lat))
    took, _, lat = measure(args.url, probe_id,
                           lambda: upload(args.url, data_id, size))
    print('upload %d MiB:   %.1f MiB/s; small GET %s'
          % (args.size_mib, args.size_mib / took, summary(lat)))
    took, got, lat = measure(args.url, probe_id,
                             lambda: download(args.url, data_id))
    assert got == size, (got, size)
    print('download %d MiB: %.1f MiB/s; small GET %s'
          % (args.size_mib, args.size_mib / took, summary(lat)))
    conn = connect(args.url)
    for image_id in (probe_id, data_id):
        call(conn, 'DELETE', '/v2/images/%s' % image_id)


if __name__ == '__main__':
    main()
