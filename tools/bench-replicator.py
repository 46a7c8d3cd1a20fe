"""Replicator benchmark: glance-replicator livecopy beside the pipeline
``glance image-download ID | glance image-create ...`` of
python-glanceclient, copying the same images between local daemons.

    tools/bench-replicator [--images 20] [--size-mib 64] [--workers 4]
        [--keep DIR]

Starts four glance-api daemons on loopback (the default flavor: no
Keystone), each with its own SQLite database and filesystem store: a
source holding --images images of --size-mib MiB of random data, and
three empty targets. Then, in one run each:

* the pipeline: a shell loop running, image after image,
  ``glance image-download ID | glance image-create --disk-format raw
  --container-format bare --name NAME`` from the source to the first
  target (what an operator would script with the client);
* ``glance-replicator livecopy --workers 1`` from the source to the
  second target (one image after the other, as the pipeline);
* ``glance-replicator livecopy --workers N`` (--workers, 4) to the third;

and prints the wall time and MiB/s of each, their ratio, and whether
every copy's checksum and os_hash_value are the source's.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from glance.tests.functional import base  # noqa: E402

MIB = 1 << 20


def start(workdir):
    os.makedirs(workdir)
    db = base.Database('sqlite', workdir)
    daemon = base.Daemon(workdir, db.url)
    daemon.manage('db', 'sync')
    daemon.start()
    return daemon


def fill(url, count, size):
    import requests
    block = os.urandom(size)
    ids = []
    with requests.Session() as http:
        for n in range(count):
            resp = http.post(url + '/v2/images', json={
                'name': 'bench-%02d' % n, 'disk_format': 'raw',
                'container_format': 'bare'})
            resp.raise_for_status()
            image_id = resp.json()['id']
            # Each image different: its index in the first bytes.
            data = b'%08d' % n + block[8:]
            http.put(url + '/v2/images/%s/file' % image_id, data=data,
                     headers={'Content-Type': 'application/octet-stream'}
                     ).raise_for_status()
            ids.append(image_id)
    return ids


def hashes(url):
    import requests
    images = requests.get(url + '/v2/images?limit=1000').json()['images']
    return {i['name']: (i['size'], i['checksum'], i['os_hash_value'])
            for i in images}


def pipeline(source, target, ids):
    glance = shlex.quote(os.path.join(os.path.dirname(sys.executable),
                                      'glance'))
    lines = []
    for n, image_id in enumerate(ids):
        lines.append(
            '%s --os-image-url %s --os-auth-token none image-download %s '
            '| %s --os-image-url %s --os-auth-token none image-create '
            '--disk-format raw --container-format bare --name bench-%02d '
            '>/dev/null' % (glance, source, image_id, glance, target, n))
    script = 'set -eo pipefail\n' + '\n'.join(lines) + '\n'
    started = time.monotonic()
    subprocess.run(['bash', '-c', script], check=True)
    return time.monotonic() - started


def replicate(source, target, workers):
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, '-m', 'glance.cmd.replicator', 'livecopy', source,
         target, '--workers', str(workers), '--json'], cwd=ROOT,
        capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit('glance-replicator failed:\n%s%s' % (proc.stdout,
                                                      proc.stderr))
    return seconds, json.loads(proc.stdout)['summary']


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--images', type=int, default=20)
    parser.add_argument('--size-mib', type=int, default=64)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--keep', metavar='DIR',
                        help='work in DIR and leave it (default: a '
                             'temporary directory, removed)')
    args = parser.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix='bench-replicator-')
    daemons = []
    try:
        for name in ('source', 'piped', 'one', 'copied'):
            daemons.append(start(os.path.join(workdir, name)))
        source, piped, one, copied = daemons
        print('filling the source: %d images of %d MiB'
              % (args.images, args.size_mib), flush=True)
        ids = fill(source.url, args.images, args.size_mib * MIB)
        total = args.images * args.size_mib
        want = hashes(source.url)

        print('pipeline: glance image-download | glance image-create, '
              'one image after the other', flush=True)
        piped_s = pipeline(source.url, piped.url, ids)
        print('  %.1f s, %.1f MiB/s, copies equal: %s'
              % (piped_s, total / piped_s, hashes(piped.url) == want),
              flush=True)

        results = {}
        for workers, target in ((1, one), (args.workers, copied)):
            print('glance-replicator livecopy --workers %d' % workers,
                  flush=True)
            seconds, summary = replicate(source.url, target.url, workers)
            results[workers] = seconds
            print('  %.1f s, %.1f MiB/s, copies equal: %s (%s)'
                  % (seconds, total / seconds, hashes(target.url) == want,
                     summary['outcomes']), flush=True)
        print('%d MiB: pipeline %.1f MiB/s in %.1f s' % (
            total, total / piped_s, piped_s))
        for workers, seconds in results.items():
            print('  replicator --workers %d: %.1f MiB/s in %.1f s, '
                  '%.2fx the pipeline' % (workers, total / seconds, seconds,
                                          piped_s / seconds))
    finally:
        for daemon in daemons:
            daemon.stop()
        if not args.keep:
            shutil.rmtree(workdir, True)


if __name__ == '__main__':
    main()
