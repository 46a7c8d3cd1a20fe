"""glance-auditor and glance-updater benchmark, on a glance-api of its own
(SQLite, filesystem store, one worker, in a scratch directory).

    tools/bench-integrity [--images 20] [--size-mib 64] [--seconds 30]
        [--rounds 5]

It uploads --images images of --size-mib each, then prints:

* hashing: md5 + sha512 over the same bytes in one thread of this process
  (the rate the updater is compared with);
* updater, unthrottled: the rows stripped of checksum, os_hash_value and
  virtual_size, one `glance-updater --once` pass: MiB/s and its share of
  the hashing rate;
* the latency (p50, p99, max) of GET /v2/images/{id} and
  GET /v2/images?limit=20, requested in a loop for --seconds (in
  --rounds turns, the cases alternating): with nothing else running,
  while `glance-auditor` runs at its default rate
  (auditor_bytes_per_second), and while `glance-updater` runs at its
  default rate (updater_bytes_per_second) on stripped rows, both at the
  priority their systemd units give them (nice 10), measured once their
  pass has begun.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from glance.tests.functional import base  # noqa: E402

MiB = 1024 * 1024
STRIP = ('UPDATE images SET checksum = NULL, os_hash_algo = NULL, '
         'os_hash_value = NULL, virtual_size = NULL')


def hashing_rate(block, total):
    md5, sha = hashlib.md5(), hashlib.sha512()
    start = time.perf_counter()
    done = 0
    while done < total:
        md5.update(block)
        sha.update(block)
        done += len(block)
    return done / MiB / (time.perf_counter() - start)


def upload(url, size, block):
    resp = requests.post(url + '/v2/images', json={
        'name': 'bench', 'disk_format': 'raw', 'container_format': 'bare'})
    resp.raise_for_status()
    image_id = resp.json()['id']

    def body():
        sent = 0
        while sent < size:
            yield block
            sent += len(block)
    resp = requests.put(url + '/v2/images/%s/file' % image_id, data=body(),
                        headers={'Content-Type': 'application/octet-stream'})
    resp.raise_for_status()
    return image_id


def probe(url, path, stop, latencies):
    session = requests.Session()
    while not stop.is_set():
        start = time.perf_counter()
        resp = session.get(url + path)
        latencies.append(time.perf_counter() - start)
        resp.raise_for_status()
        time.sleep(0.01)


def latencies_while(url, image_id, seconds):
    stop = threading.Event()
    found = {'show': [], 'list': []}
    threads = [threading.Thread(target=probe, args=(
        url, path, stop, found[name])) for name, path in (
        ('show', '/v2/images/%s' % image_id),
        ('list', '/v2/images?limit=20'))]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return found


def summary(values):
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return 'n=%5d p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms' % (
        len(values), statistics.median(values) * 1000, p99 * 1000,
        values[-1] * 1000)


def print_latencies(title, found):
    print(title)
    for name in ('show', 'list'):
        print('  %-5s %s' % (name, summary(found[name])))


def tool(prog, conf, *args, log):
    return [sys.executable, '-m', 'glance.cmd.%s' % prog, '--config-file',
            conf, '--log-file', log] + list(args)


def measure(prog, daemon, engine, workdir, image_id, seconds):
    """Latencies for ``seconds`` while ``prog`` (None: nothing) runs."""
    if prog is None:
        return latencies_while(daemon.url, image_id, seconds)
    if prog == 'updater':
        with engine.begin() as conn:
            conn.execute(sa.text(STRIP))
    log = os.path.join(workdir, '%s-daemon.log' % prog)
    if os.path.exists(log):
        os.unlink(log)
    # At the priority the systemd units give them (Nice=10).
    proc = subprocess.Popen(
        ['nice', '-n', '10'] + tool(prog, daemon.conf, log=log),
        cwd=base.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Measured once the pass runs: the start of a Python process is
        # not what is measured.
        deadline = time.time() + 60
        while time.time() < deadline and not (
                os.path.exists(log) and 'checks the catalogue' in open(
                    log).read()):
            time.sleep(0.1)
        time.sleep(0.5)
        return latencies_while(daemon.url, image_id, seconds)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--images', type=int, default=20)
    parser.add_argument('--size-mib', type=int, default=64)
    parser.add_argument('--seconds', type=float, default=30,
                        help='seconds of latency samples for each case')
    parser.add_argument('--rounds', type=int, default=5,
                        help='turns the cases take, sharing --seconds')
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix='bench-integrity-')
    db_url = 'sqlite:///%s' % os.path.join(workdir, 'glance.sqlite')
    daemon = base.Daemon(workdir, db_url, options={
        'image_size_cap': 1024 * MiB,
        'auditor_report_file': os.path.join(workdir, 'audit.jsonl'),
        'auditor_state_file': os.path.join(workdir, 'audit.state'),
        'updater_report_file': os.path.join(workdir, 'update.jsonl'),
        'updater_state_file': os.path.join(workdir, 'update.state')})
    daemon.manage('db', 'sync')
    daemon.start()
    engine = sa.create_engine(db_url)
    try:
        block = os.urandom(MiB)
        size = args.size_mib * MiB
        print('hashing: md5 + sha512 in one thread: %.0f MiB/s'
              % hashing_rate(block, 512 * MiB))
        started = time.perf_counter()
        ids = [upload(daemon.url, size, block) for _ in range(args.images)]
        print('uploaded %d x %d MiB in %.1f s' % (
            args.images, args.size_mib, time.perf_counter() - started))
        hashing = hashing_rate(block, 512 * MiB)

        with engine.begin() as conn:
            conn.execute(sa.text(STRIP))
        own = os.path.join(workdir, 'unthrottled.conf')
        with open(own, 'w') as f:
            f.write('[DEFAULT]\nupdater_bytes_per_second = 0\n')
        out = subprocess.run(
            tool('updater', daemon.conf, '--config-file', own, '--once',
                 '--json', log=os.path.join(workdir, 'updater.log')),
            capture_output=True, text=True, check=False, cwd=base.ROOT)
        result = json.loads(out.stdout)
        rate = result['bytes_read'] / MiB / result['seconds']
        print('updater, unthrottled: %d images, %.0f MiB in %.1f s: '
              '%.0f MiB/s, %.0f %% of the hashing rate (%.0f MiB/s)' % (
                  result['images'], result['bytes_read'] / MiB,
                  result['seconds'], rate, 100 * rate / hashing, hashing))

        # The three cases take turns, --rounds times, each round starting
        # with another, so that the load of a shared machine weighs on
        # them alike.
        found = {case: {'show': [], 'list': []}
                 for case in (None, 'auditor', 'updater')}
        for turn in range(args.rounds):
            cases = list(found)
            for case in cases[turn % 3:] + cases[:turn % 3]:
                measured = measure(case, daemon, engine, workdir, ids[0],
                                   args.seconds / args.rounds)
                for name, values in measured.items():
                    found[case][name].extend(values)
        print_latencies('latency, nothing else running:', found[None])
        for prog in ('auditor', 'updater'):
            print_latencies('latency, glance-%s at its default rate:' % prog,
                            found[prog])
    finally:
        engine.dispose()
        daemon.stop()
        shutil.rmtree(workdir, True)


if __name__ == '__main__':
    main()
