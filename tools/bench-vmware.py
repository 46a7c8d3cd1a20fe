"""VMware store benchmark: the vmware store on the vCenter simulator of
tools/vcsim (started if needed), beside the HTTP client alone on the same
server, and the glance_store adapter (upstream's filesystem driver) beside
the native file store.

    tools/bench-vmware [--size-mib 512] [--stores vmware,file,adapter]

It prints, in MiB/s:

* requests alone: one PUT of --size-mib to the simulator's datastore file
  access with a pyVmomi session's cookie (Content-Length, 1 MiB pieces),
  then one GET read in 1 MiB pieces: what the server and the client
  library give without the Image service;
* through a glance-api of one worker (multi-store: file, vmware, and
  glance_store serving upstream's file driver; SQLite) the upload of
  --size-mib to each store while GET /v2/images/{id} and
  GET /v2/images?limit=20 are requested in a loop (their latency: p50,
  p99, max), then the download;
* the peak resident memory of glance-api (VmHWM).

Upstream Glance's vmware driver cannot be compared here: it needs the
vSphere WSDL, which the simulator does not serve. The simulator writes
into a directory of GLANCE_VCSIM_HOME: the disk's speed bounds every
figure.
"""

import argparse
import importlib.util
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MiB = 1024 * 1024


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_data = _load('bench_data', os.path.join(HERE, 'bench-data.py'))
bench_ceph = _load('bench_ceph', os.path.join(HERE, 'bench-ceph.py'))


def vcsim_env():
    proc = subprocess.run([os.path.join(HERE, 'vcsim'), 'start'],
                          capture_output=True, text=True, check=True)
    return dict(line.split('=', 1) for line in proc.stdout.splitlines()
                if '=' in line)


def rate(size, seconds):
    return '%.0f MiB/s' % (size / MiB / seconds)


def requests_alone(env, size):
    import warnings

    import requests
    from pyVim import connect
    host, port = env['VCSIM_HOST'].rsplit(':', 1)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    warnings.filterwarnings('ignore', 'Unverified HTTPS request')
    si = connect.SmartConnect(host=host, port=int(port),
                              user=env['VCSIM_USER'],
                              pwd=env['VCSIM_PASSWORD'], sslContext=context)
    try:
        cookie = 'vmware_soap_session=%s' % si._stub.GetSessionId()
        url = ('https://%s/folder/bench/%s?dcPath=%s&dsName=%s'
               % (env['VCSIM_HOST'], uuid.uuid4().hex,
                  env['VCSIM_DATACENTER'], env['VCSIM_DATASTORE']))
        source = bench_ceph.Source(size)
        body = _Sized(source, size)
        with bench_data.CpuUse() as cpu:
            resp = requests.put(url, data=body, verify=False,
                                headers={'Cookie': cookie})
        written = cpu.elapsed
        assert resp.status_code in (200, 201), resp.status_code
        start = time.perf_counter()
        resp = requests.get(url, verify=False, stream=True,
                            headers={'Cookie': cookie})
        got = sum(len(c) for c in resp.iter_content(MiB))
        read = time.perf_counter() - start
        assert got == size, got
        path = os.path.join(env['VCSIM_DATASTORE_DIR'], 'bench')
        shutil.rmtree(path, True)
        return written, read, cpu
    finally:
        connect.Disconnect(si)


class _Sized:
    """A file of known length for requests (sent with Content-Length)."""

    def __init__(self, source, size):
        self.source, self.size = source, size

    def __len__(self):
        return self.source.left

    def read(self, n=-1):
        return self.source.read(MiB if n is None or n < 0 else n)


def start_glance(env, workdir):
    sock = bench_data.socket.socket()
    sock.bind(('127.0.0.1', 0))
    number = sock.getsockname()[1]
    sock.close()
    conf = os.path.join(workdir, 'glance-api.conf')
    with open(conf, 'w') as f:
        f.write('''[DEFAULT]
bind_host = 127.0.0.1
bind_port = %(port)d
workers = 1
log_file = %(dir)s/glance-api.log
node_staging_uri = file://%(dir)s/staging
enabled_backends = fast:file,datastore:vmware,adapter:glance_store
image_size_cap = 10995116277760
[database]
connection = sqlite:///%(dir)s/glance.sqlite
[paste_deploy]
config_file = %(root)s/etc/glance-api-paste.ini
[glance_store]
default_backend = fast
[fast]
filesystem_store_datadir = %(dir)s/images
[datastore]
vmware_server_host = %(host)s
vmware_server_username = %(user)s
vmware_server_password = %(password)s
vmware_datastores = %(dc)s:%(ds)s
vmware_store_image_dir = /bench-glance
vmware_insecure = true
[adapter]
glance_store_driver = file
filesystem_store_datadir = %(dir)s/upstream-file
''' % {
            'port': number, 'dir': workdir, 'root': ROOT,
            'host': env['VCSIM_HOST'], 'user': env['VCSIM_USER'],
            'password': env['VCSIM_PASSWORD'],
            'dc': env['VCSIM_DATACENTER'], 'ds': env['VCSIM_DATASTORE']})
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=512)
    parser.add_argument('--stores', default='vmware,file,adapter',
                        help='of vmware, file (the native file store) and '
                             "adapter (upstream's file driver through "
                             'the glance_store type)')
    args = parser.parse_args()
    size = args.size_mib * MiB
    stores = args.stores.split(',')
    env = vcsim_env()
    print('image of %d MiB, simulator on %s'
          % (args.size_mib, env['VCSIM_HOST']))
    print(bench_data.hashing_cost())
    figures = {'size_mib': args.size_mib}
    if 'vmware' in stores:
        w, r, cpu = requests_alone(env, size)
        print('requests alone:  PUT %s  GET %s'
              % (rate(size, w), rate(size, r)))
        print('    PUT: ' + cpu.report(size))
        figures['requests_alone'] = [size / MiB / w, size / MiB / r]
    workdir = tempfile.mkdtemp(prefix='bench-vmware-')
    proc, url = start_glance(env, workdir)
    try:
        other = bench_data.create(url, 'probe')
        probes = ['/v2/images/%s' % other, '/v2/images?limit=20']
        for label, store in (('vmware', 'datastore'), ('file', 'fast'),
                             ('adapter', 'adapter')):
            if label not in stores:
                continue
            image_id = bench_data.create(url, 'bench-%s' % label)
            with bench_data.CpuUse() as cpu:
                elapsed, _, found = bench_data.measure(
                    url, probes,
                    lambda: bench_ceph.upload_to(url, image_id, size, store))
            start = time.perf_counter()
            got = bench_data.download(url, image_id)
            down = time.perf_counter() - start
            assert got == size, got
            print('glance %-8s upload %s  download %s' % (
                label, rate(size, elapsed), rate(size, down)))
            print('    upload: ' + cpu.report(size))
            figures[label] = [size / MiB / elapsed, size / MiB / down]
            for path, latencies in found.items():
                print('    during the upload, GET %-22s %s' % (
                    path.split('?')[0].replace(other, '{id}')
                    + ('?limit=20' if '?' in path else ''),
                    bench_data.summary(latencies)))
            bench_data.call(bench_data.connect(url), 'DELETE',
                            '/v2/images/%s' % image_id)
        pids = [proc.pid] + bench_ceph.children(proc.pid)
        peak = bench_ceph.peak_memory(pids)
        print('glance-api peak RSS (VmHWM, all processes): %d MiB' % peak)
        figures['peak_rss_mib'] = peak
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(workdir, True)
    print(json.dumps(figures))


if __name__ == '__main__':
    main()
