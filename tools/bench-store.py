"""Store benchmark: upload and download of one image through a store of
glance-api, side by side with the store's client library alone and with
upstream Glance on the same server.

    tools/bench-store [--size-mib 1024] [--store-conf FILE --store NAME]
                      [--no-upstream] [--no-client]

Without --store-conf it measures the swift store against the Swift of
tools/swift, authenticated by the Keystone of tools/keystone (identity
v3, which upstream's swift driver requires): both are started if needed.
With --store-conf, FILE holds the store sections of a glance-api.conf
(e.g. "[DEFAULT] enabled_backends = x:swift" and "[x] ..."), NAME the
store to upload to; the client and upstream runs are then skipped
(they need to know the store's server).

It prints, in MiB/s:

* python-swiftclient alone: one PUT of the image from memory, then one
  GET read in 1 MiB pieces (what Swift and its client give without the
  Image service);
* glance-api (this project, one worker, SQLite): PUT /v2/images/{id}/file
  of --size-mib, then GET of the data (read by splice into /dev/null),
  with GET /v2/images/{id} latencies during the upload, and the peak
  resident memory of its processes (VmHWM);
* upstream Glance (tools/upstream-glance, gunicorn, one worker) the same
  way, with the same store settings.
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
HEADERS = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member',
           'X-Project-Id': 'bench', 'X-User-Id': 'bench',
           'X-Tenant-Id': 'bench'}

_spec = importlib.util.spec_from_file_location(
    'bench_data', os.path.join(HERE, 'bench-data.py'))
bench_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_data)


def tool_env(*command, env=None):
    proc = subprocess.run([os.path.join(HERE, command[0])]
                          + list(command[1:]), capture_output=True,
                          text=True, env=env)
    if proc.returncode:
        sys.exit('tools/%s failed:\n%s' % (' '.join(command),
                                           proc.stderr[-2000:]))
    return dict(line.split('=', 1) for line in proc.stdout.splitlines()
                if '=' in line)


def rate(size, seconds):
    return '%6.0f MiB/s' % (size / MiB / seconds)


def free_port():
    sock = bench_data.socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Source:
    """``size`` bytes of one random MiB repeated, as a file."""

    def __init__(self, size):
        self.left = size
        self.block = os.urandom(MiB)

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left, MiB)
        self.left -= n
        return self.block[:n]


def swift_settings(container):
    """(store sections for this project, for upstream, keystone env)."""
    ks = tool_env('keystone', 'start')
    tool_env('swift', 'start', '--keystone')
    workdir = tempfile.mkdtemp(prefix='bench-store-refs-')
    refs = os.path.join(workdir, 'swift.conf')
    with open(refs, 'w') as f:
        f.write('[ref1]\nauth_address = %s/v3\nuser = %s:%s\nkey = %s\n'
                'auth_version = 3\nuser_domain_id = default\n'
                'project_domain_id = default\n' % (
                    ks['KEYSTONE_URL'], ks['KEYSTONE_SERVICE_PROJECT'],
                    ks['KEYSTONE_SERVICE_USER'],
                    ks['KEYSTONE_SERVICE_PASSWORD']))
    common = ('swift_store_config_file = %s\ndefault_swift_reference = ref1\n'
              'swift_store_container = %s\n'
              'swift_store_create_container_on_put = true\n'
              'swift_store_region = %s\n'
              % (refs, container, ks['KEYSTONE_REGION']))
    ours = ('[DEFAULT]\nenabled_backends = objects:swift\n'
            '[glance_store]\ndefault_backend = objects\n[objects]\n' + common)
    upstream = ('[glance_store]\nstores = swift\ndefault_store = swift\n'
                + common)
    return ours, upstream, ks, workdir


def swiftclient_alone(ks, size, container):
    from keystoneauth1.identity import v3
    from keystoneauth1 import session
    from swiftclient import client
    auth = v3.Password(auth_url=ks['KEYSTONE_URL'] + '/v3',
                       username=ks['KEYSTONE_SERVICE_USER'],
                       password=ks['KEYSTONE_SERVICE_PASSWORD'],
                       project_name=ks['KEYSTONE_SERVICE_PROJECT'],
                       user_domain_id='default', project_domain_id='default')
    conn = client.Connection(session=session.Session(auth=auth),
                             os_options={'region_name':
                                         ks['KEYSTONE_REGION']})
    name = 'bench-%s' % uuid.uuid4().hex
    conn.put_container(container)
    with bench_data.CpuUse() as cpu:
        conn.put_object(container, name, Source(size), content_length=size,
                        chunk_size=MiB)
    written = cpu.elapsed
    start = time.perf_counter()
    _, body = conn.get_object(container, name, resp_chunk_size=MiB)
    got = sum(len(chunk) for chunk in body)
    read = time.perf_counter() - start
    assert got == size, got
    conn.delete_object(container, name)
    conn.close()
    return written, read, cpu


def start_ours(stores, workdir):
    port = free_port()
    conf = os.path.join(workdir, 'glance-api.conf')
    with open(conf, 'w') as f:
        f.write('[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = %d\n'
                'workers = 1\nlog_file = %s/glance-api.log\n'
                'node_staging_uri = file://%s/staging\n'
                'image_size_cap = 10995116277760\n'
                '[database]\nconnection = sqlite:///%s/glance.sqlite\n'
                '[paste_deploy]\nconfig_file = %s/etc/glance-api-paste.ini\n'
                % (port, workdir, workdir, workdir, ROOT))
        f.write(stores)
    subprocess.run([sys.executable, '-m', 'glance.cmd.manage',
                    '--config-file', conf, 'db', 'sync'], check=True,
                   cwd=ROOT, capture_output=True)
    proc = subprocess.Popen([sys.executable, '-m', 'glance.cmd.api',
                             '--config-file', conf], cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = 'http://127.0.0.1:%d' % port
    wait_answer(url, lambda: proc.poll() is None,
                '%s/glance-api.log' % workdir)
    return proc.pid, url, lambda: (proc.terminate(), proc.wait(30))


def start_upstream(stores, workdir):
    port = free_port()
    conf = os.path.join(workdir, 'stores.conf')
    with open(conf, 'w') as f:
        f.write(stores)
    env = dict(os.environ, GLANCE_STORES_CONF=conf)
    data = os.path.join(workdir, 'upstream')
    url = tool_env('upstream-glance', 'start', data, str(port),
                   env=env)['UPSTREAM_URL']
    with open(os.path.join(data, 'upstream.pid')) as f:
        pid = int(f.read())
    wait_answer(url, lambda: True, os.path.join(data, 'log'))
    return pid, url, lambda: subprocess.run(
        [os.path.join(HERE, 'upstream-glance'), 'stop', data])


def wait_answer(url, alive, log):
    for _ in range(600):
        try:
            bench_data.call(bench_data.connect(url), 'GET', '/versions')
            return
        except OSError:
            if not alive():
                sys.exit('glance-api exited, see %s' % log)
            time.sleep(0.1)
    sys.exit('%s does not answer' % url)


def create(url):
    conn = bench_data.connect(url)
    status, body = bench_data.call(conn, 'POST', '/v2/images', json.dumps({
        'name': 'bench', 'disk_format': 'raw', 'container_format': 'bare'}),
        dict(HEADERS, **{'Content-Type': 'application/json'}))
    assert status == 201, (status, body)
    return json.loads(body)['id']


def upload(url, image_id, size, store=None):
    block = os.urandom(MiB)
    conn = bench_data.connect(url)
    conn.putrequest('PUT', '/v2/images/%s/file' % image_id)
    for name, value in dict(HEADERS, **{
            'Content-Type': 'application/octet-stream',
            'Content-Length': str(size)}).items():
        conn.putheader(name, value)
    if store:
        conn.putheader('X-Image-Meta-Store', store)
    conn.endheaders()
    sent = 0
    while sent < size:
        conn.send(block[:min(MiB, size - sent)])
        sent += MiB
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 204, (resp.status, body)


def download(url, image_id):
    """Bytes of the data, read by splice into /dev/null."""
    parsed = bench_data.urllib.parse.urlsplit(url)
    sock = bench_data.socket.create_connection((parsed.hostname,
                                                parsed.port))
    with sock:
        head = ''.join('%s: %s\r\n' % item for item in HEADERS.items())
        sock.sendall(('GET /v2/images/%s/file HTTP/1.1\r\nHost: %s\r\n%s'
                      'Connection: close\r\n\r\n'
                      % (image_id, parsed.netloc, head)).encode())
        data = b''
        while b'\r\n\r\n' not in data:
            more = sock.recv(65536)
            assert more, 'connection closed in the headers'
            data += more
        head, _, body = data.partition(b'\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 200'), head[:200]
        lines = head.split(b'\r\n')
        length = [int(line.split(b':')[1]) for line in lines
                  if line.lower().startswith(b'content-length')]
        if length:
            return len(body) + bench_data.discard(sock, length[0] - len(body))
        # chunked (upstream): count the bytes that come
        total = len(body)
        while True:
            more = sock.recv(MiB)
            if not more:
                return total
            total += len(more)


def measure(url, path, work):
    """Run ``work`` while ``path`` is requested in a loop: (seconds,
    latencies of those requests)."""
    stop = bench_data.threading.Event()
    latencies = []

    def probe():
        conn = bench_data.connect(url)
        while not stop.is_set():
            start = time.perf_counter()
            status, _ = bench_data.call(conn, 'GET', path, headers=HEADERS)
            latencies.append(time.perf_counter() - start)
            assert status == 200, status
            time.sleep(0.01)
    thread = bench_data.threading.Thread(target=probe)
    thread.start()
    start = time.perf_counter()
    try:
        work()
    finally:
        elapsed = time.perf_counter() - start
        stop.set()
        thread.join()
    return elapsed, latencies


def peak_memory(pid):
    pids = [pid]
    for parent in list(pids):
        try:
            with open('/proc/%d/task/%d/children' % (parent, parent)) as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    total = 0
    for p in pids:
        try:
            with open('/proc/%d/status' % p) as f:
                total += sum(int(line.split()[1]) for line in f
                             if line.startswith('VmHWM:'))
        except OSError:
            pass
    return total // 1024


def run(label, start, stores, size, store=None):
    workdir = tempfile.mkdtemp(prefix='bench-store-')
    pid, url, stop = start(stores, workdir)
    try:
        other = create(url)
        image_id = create(url)
        with bench_data.CpuUse() as cpu:
            elapsed, latencies = measure(
                url, '/v2/images/%s' % other,
                lambda: upload(url, image_id, size, store))
        start_time = time.perf_counter()
        got = download(url, image_id)
        down = time.perf_counter() - start_time
        assert got >= size, got
        print('%-22s upload %s  download %s  peak RSS %4d MiB' % (
            label, rate(size, elapsed), rate(size, down), peak_memory(pid)))
        print('    GET /v2/images/{id} during the upload: %s'
              % bench_data.summary(latencies))
        print('    upload: ' + cpu.report(size))
        bench_data.call(bench_data.connect(url), 'DELETE',
                        '/v2/images/%s' % image_id, headers=HEADERS)
        return size / MiB / elapsed, size / MiB / down
    finally:
        stop()
        shutil.rmtree(workdir, True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--store-conf')
    parser.add_argument('--store')
    parser.add_argument('--no-upstream', action='store_true')
    parser.add_argument('--no-client', action='store_true')
    args = parser.parse_args()
    size = args.size_mib * MiB
    container = 'bench-%s' % uuid.uuid4().hex[:8]
    figures = {'size_mib': args.size_mib}
    print('image of %d MiB' % args.size_mib)
    print(bench_data.hashing_cost())
    if args.store_conf:
        with open(args.store_conf) as f:
            ours = f.read()
        upstream = ks = refs = None
        args.no_upstream = args.no_client = True
    else:
        ours, upstream, ks, refs = swift_settings(container)
    try:
        if not args.no_client:
            w, r, cpu = swiftclient_alone(ks, size, container)
            print('%-22s upload %s  download %s' % (
                'python-swiftclient', rate(size, w), rate(size, r)))
            print('    upload: ' + cpu.report(size))
            figures['client'] = [size / MiB / w, size / MiB / r]
        figures['ours'] = run('glance-api (this)', start_ours, ours, size,
                              args.store)
        if not args.no_upstream:
            figures['upstream'] = run('upstream Glance', start_upstream,
                                      upstream, size)
    finally:
        if refs:
            shutil.rmtree(refs, True)
    if 'upstream' in figures:
        print('this / upstream: upload %.2fx  download %.2fx' % tuple(
            o / u for o, u in zip(figures['ours'], figures['upstream'])))
    if 'client' in figures:
        print('this / swiftclient: upload %.0f %%  download %.0f %%' % tuple(
            100 * o / c for o, c in zip(figures['ours'], figures['client'])))
    print(json.dumps(figures))


if __name__ == '__main__':
    main()
