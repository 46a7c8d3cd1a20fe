"""Ceph store benchmark: the rbd and s3 stores on the cluster and RADOS
Gateway of tools/ceph (started if needed), side by side with the client
libraries alone and with upstream Glance on the same servers.

    tools/bench-ceph [--size-mib 512] [--stores rbd,s3] [--no-upstream]
                     [--s3-server rgw|seaweedfs]

It prints, in MiB/s:

* librbd alone (Ceph's Python bindings, writes of rbd_store_chunk_size,
  one at a time, then reads of that size), and boto3 alone (a multipart
  upload of s3_store_large_object_chunk_size parts, s3_store_thread_pools
  at a time, then one GET): what the store's server and client library
  give without the Image service;
* through a glance-api of one worker (multi-store: file, rbd, s3, SQLite)
  the upload of --size-mib to each store while GET /v2/images/{id} and
  GET /v2/images?limit=20 are requested in a loop (their latency: p50,
  p99, max), then the download;
* the peak resident memory of glance-api (VmHWM);
* unless --no-upstream, upstream Glance (tools/upstream-glance, gunicorn,
  one worker; its rbd and s3 drivers on the same cluster and gateway)
  the same way for each store, and the ratios of the two.

With --s3-server seaweedfs, the s3 figures are taken on the SeaweedFS
of tools/seaweedfs (started if needed) instead of the RADOS Gateway.

The OSD of tools/ceph holds GLANCE_CEPH_SIZE_MB (16 GiB by default);
images near that size need a bigger one.
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MiB = 1024 * 1024

_spec = importlib.util.spec_from_file_location(
    'bench_data', os.path.join(HERE, 'bench-data.py'))
bench_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_data)
_spec = importlib.util.spec_from_file_location(
    'bench_store', os.path.join(HERE, 'bench-store.py'))
bench_store = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_store)


def tool_env(tool):
    proc = subprocess.run([os.path.join(HERE, tool), 'start'],
                          capture_output=True, text=True, check=True)
    return dict(line.split('=', 1) for line in proc.stdout.splitlines()
                if '=' in line)


def ceph_env(s3_server='rgw'):
    """The settings of tools/ceph, their S3_* those of the S3 server
    asked for."""
    env = tool_env('ceph')
    if s3_server == 'seaweedfs':
        env.update((k, v) for k, v in tool_env('seaweedfs').items()
                   if k.startswith('S3_'))
    return env


def rate(size, seconds):
    return '%.0f MiB/s' % (size / MiB / seconds)


def librbd_alone(env, size, chunk=8 * MiB):
    import rados
    import rbd
    cluster = rados.Rados(conffile=env['CEPH_CONF'], rados_id='glance')
    cluster.connect()
    ioctx = cluster.open_ioctx(env['CEPH_POOL'])
    name = 'bench-%s' % uuid.uuid4().hex
    block = os.urandom(chunk)
    try:
        with bench_data.CpuUse() as cpu:
            rbd.RBD().create(ioctx, name, size, order=23, old_format=False,
                             features=rbd.RBD_FEATURE_LAYERING)
            with rbd.Image(ioctx, name) as image:
                for offset in range(0, size, chunk):
                    image.write(block[:min(chunk, size - offset)], offset)
        written = cpu.elapsed
        start = time.perf_counter()
        with rbd.Image(ioctx, name, read_only=True) as image:
            for offset in range(0, size, chunk):
                image.read(offset, min(chunk, size - offset))
        read = time.perf_counter() - start
    finally:
        rbd.RBD().remove(ioctx, name)
        ioctx.close()
        cluster.shutdown()
    return written, read, cpu


class Source:
    """``size`` bytes of one random block, repeated, as a file."""

    def __init__(self, size):
        self.left = size
        self.block = os.urandom(MiB)

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        out = (self.block * (n // MiB + 1))[:n]
        self.left -= n
        return out


class Sink:
    def write(self, data):
        return len(data)


def boto3_alone(env, size, bucket):
    import boto3
    from boto3.s3.transfer import TransferConfig
    import botocore.config
    client = boto3.session.Session().client(
        's3', endpoint_url=env['S3_ENDPOINT'],
        aws_access_key_id=env['S3_ACCESS_KEY'],
        aws_secret_access_key=env['S3_SECRET_KEY'],
        config=botocore.config.Config(
            s3={'addressing_style': 'path'},
            request_checksum_calculation='when_required',
            response_checksum_validation='when_required'))
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    config = TransferConfig(multipart_threshold=100 * MiB,
                            multipart_chunksize=10 * MiB, max_concurrency=10)
    key = 'bench-%s' % uuid.uuid4().hex
    with bench_data.CpuUse() as cpu:
        client.upload_fileobj(Source(size), bucket, key, Config=config)
    written = cpu.elapsed
    start = time.perf_counter()
    body = client.get_object(Bucket=bucket, Key=key)['Body']
    while body.read(MiB):
        pass
    read = time.perf_counter() - start
    client.delete_object(Bucket=bucket, Key=key)
    return written, read, cpu


def start_glance(env, workdir, bucket):
    port = bench_data.socket.socket()
    port.bind(('127.0.0.1', 0))
    number = port.getsockname()[1]
    port.close()
    conf = os.path.join(workdir, 'glance-api.conf')
    with open(conf, 'w') as f:
        f.write('''[DEFAULT]
bind_host = 127.0.0.1
bind_port = %(port)d
workers = 1
log_file = %(dir)s/glance-api.log
node_staging_uri = file://%(dir)s/staging
enabled_backends = fast:file,ceph:rbd,objects:s3
image_size_cap = 10995116277760
[database]
connection = sqlite:///%(dir)s/glance.sqlite
[paste_deploy]
config_file = %(root)s/etc/glance-api-paste.ini
[glance_store]
default_backend = fast
[fast]
filesystem_store_datadir = %(dir)s/images
''' % {'port': number, 'dir': workdir, 'root': ROOT}
                + ceph_sections(env, bucket))
    subprocess.run([sys.executable, '-m', 'glance.cmd.manage',
                    '--config-file', conf, 'db', 'sync'], check=True,
                   cwd=ROOT, capture_output=True)
    proc = subprocess.Popen([sys.executable, '-m', 'glance.cmd.api',
                             '--config-file', conf], cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = 'http://127.0.0.1:%d' % number
    for _ in range(300):
        try:
            bench_data.call(bench_data.connect(url), 'GET', '/versions')
            return proc, url
        except OSError:
            if proc.poll() is not None:
                sys.exit('glance-api exited, see %s/glance-api.log'
                         % workdir)
            time.sleep(0.1)
    proc.kill()
    sys.exit('glance-api did not answer')


def ceph_sections(env, bucket):
    """The store sections of the rbd store ``ceph`` and the s3 store
    ``objects`` on the pool and gateway of ``env``, for this project and
    upstream alike."""
    return '''[ceph]
rbd_store_ceph_conf = %(ceph_conf)s
rbd_store_user = glance
rbd_store_pool = %(pool)s
[objects]
s3_store_host = %(s3)s
s3_store_access_key = %(access)s
s3_store_secret_key = %(secret)s
s3_store_bucket = %(bucket)s
s3_store_create_bucket_on_put = true
s3_store_bucket_url_format = path
''' % {'ceph_conf': env['CEPH_CONF'], 'pool': env['CEPH_POOL'],
       's3': env['S3_ENDPOINT'], 'access': env['S3_ACCESS_KEY'],
       'secret': env['S3_SECRET_KEY'], 'bucket': bucket}


def upstream_stores(env, workdir, bucket):
    """Store sections for upstream Glance: the same pool and bucket."""
    for name in ('staging', 'tasks'):
        os.makedirs(os.path.join(workdir, name), exist_ok=True)
    return '''[DEFAULT]
enabled_backends = ceph:rbd, objects:s3
[glance_store]
default_backend = ceph
[os_glance_staging_store]
filesystem_store_datadir = %(dir)s/staging/
[os_glance_tasks_store]
filesystem_store_datadir = %(dir)s/tasks/
''' % {'dir': workdir} + ceph_sections(env, bucket)


def upload_to(url, image_id, size, store):
    block = os.urandom(MiB)
    conn = bench_data.connect(url)
    conn.putrequest('PUT', '/v2/images/%s/file' % image_id)
    conn.putheader('Content-Type', 'application/octet-stream')
    conn.putheader('Content-Length', str(size))
    conn.putheader('X-Image-Meta-Store', store)
    conn.endheaders()
    sent = 0
    while sent < size:
        conn.send(block[:min(MiB, size - sent)])
        sent += MiB
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 204, (resp.status, body)


def peak_memory(pids):
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('VmHWM:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total // 1024


def children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=512)
    parser.add_argument('--stores', default='rbd,s3',
                        help='also "file": the file store of the same '
                             'glance-api, for comparison')
    parser.add_argument('--no-upstream', action='store_true',
                        help='skip upstream Glance')
    parser.add_argument('--s3-server', choices=('rgw', 'seaweedfs'),
                        default='rgw')
    args = parser.parse_args()
    size = args.size_mib * MiB
    stores = args.stores.split(',')
    env = ceph_env(args.s3_server)
    bucket = 'bench-%s' % uuid.uuid4().hex[:12]
    print('image of %d MiB, Ceph in %s, S3 on %s (%s)' % (
        args.size_mib, env['CEPH_HOME'], env['S3_ENDPOINT'], args.s3_server))
    print(bench_data.hashing_cost())
    if 'rbd' in stores:
        w, r, cpu = librbd_alone(env, size)
        print('librbd alone:  write %s  read %s' % (rate(size, w),
                                                    rate(size, r)))
        print('    write: ' + cpu.report(size))
    if 's3' in stores:
        w, r, cpu = boto3_alone(env, size, bucket)
        print('boto3 alone:   upload %s  download %s' % (rate(size, w),
                                                         rate(size, r)))
        print('    upload: ' + cpu.report(size))
    figures = {}
    workdir = tempfile.mkdtemp(prefix='bench-ceph-')
    proc, url = start_glance(env, workdir, bucket)
    try:
        other = bench_data.create(url, 'probe')
        probes = ['/v2/images/%s' % other, '/v2/images?limit=20']
        for type_name, store in (('file', 'fast'), ('rbd', 'ceph'),
                                 ('s3', 'objects')):
            if type_name not in stores:
                continue
            image_id = bench_data.create(url, 'bench-%s' % type_name)
            with bench_data.CpuUse() as cpu:
                elapsed, _, found = bench_data.measure(
                    url, probes,
                    lambda: upload_to(url, image_id, size, store))
            start = time.perf_counter()
            got = bench_data.download(url, image_id)
            down = time.perf_counter() - start
            assert got == size, got
            figures[type_name] = [size / MiB / elapsed, size / MiB / down]
            print('glance %-4s   upload %s  download %s' % (
                type_name, rate(size, elapsed), rate(size, down)))
            print('    upload: ' + cpu.report(size))
            for path, latencies in found.items():
                print('    during the upload, GET %-22s %s' % (
                    path.split('?')[0].replace(other, '{id}')
                    + ('?limit=20' if '?' in path else ''),
                    bench_data.summary(latencies)))
            bench_data.call(bench_data.connect(url), 'DELETE',
                            '/v2/images/%s' % image_id)
        pids = [proc.pid] + children(proc.pid)
        print('glance-api peak RSS (VmHWM, all processes): %d MiB'
              % peak_memory(pids))
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(workdir, True)
    if not args.no_upstream:
        upstream_run(env, bucket, size, stores, figures)
    print(json.dumps(dict(figures, size_mib=args.size_mib)))


def upstream_run(env, bucket, size, stores, figures):
    """Upstream Glance on the same pool and bucket, a daemon per store."""
    workdir = tempfile.mkdtemp(prefix='bench-ceph-upstream-')
    try:
        conf = upstream_stores(env, workdir, bucket)
        for type_name, store in (('rbd', 'ceph'), ('s3', 'objects')):
            if type_name not in stores:
                continue
            theirs = bench_store.run('upstream Glance %s' % type_name,
                                     bench_store.start_upstream, conf,
                                     size, store)
            figures['upstream_' + type_name] = list(theirs)
            if type_name in figures:
                print('    this / upstream (%s): upload %.2fx  download '
                      '%.2fx' % ((type_name,) + tuple(
                          o / u for o, u in zip(figures[type_name],
                                                theirs))))
    finally:
        shutil.rmtree(workdir, True)


if __name__ == '__main__':
    main()
