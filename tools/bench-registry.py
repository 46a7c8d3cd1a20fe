"""show, list and create requests/s of glance-api reaching the database
directly against glance-api through glance-registry (data_api =
glance.registry.client), on one SQLite database, in one run.

Both set-ups run at once but are loaded in turns, never together (so
they do not share the CPU): for each operation, ``--rounds`` turns of
``--duration`` seconds of tools/bench.py's load (keep-alive connections,
``--concurrency`` of them) on direct, then on through-registry, so that
a change in the machine's load falls on both. The last table gives
through-registry as a percentage of direct.

    tools/bench-registry [--duration 5] [--rounds 3] [--concurrency 16]
                         [--workers 2] [--registry-workers N]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = ('show', 'list', 'create')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def write_conf(path, sections):
    with open(path, 'w') as f:
        for group, values in sections.items():
            f.write('[%s]\n' % group)
            for name, value in values.items():
                f.write('%s = %s\n' % (name, value))


def start(module, conf, url):
    proc = subprocess.Popen([sys.executable, '-m', module, '--config-file',
                             conf], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('%s exited with %s (see %s)'
                               % (module, proc.returncode, conf))
        try:
            urllib.request.urlopen(url + '/healthcheck', timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError('%s did not answer' % module)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench(url, args, op):
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'bench.py'), '--url',
         url, '--duration', str(args.duration), '--concurrency',
         str(args.concurrency), '--images', str(args.images), '--project',
         'bench-registry', '--ops', op, '--json'],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])[0]


def add(total, result):
    if total is None:
        return dict(result, seconds=result['requests'] / result['rps'])
    seconds = total['seconds'] + result['requests'] / result['rps']
    requests = total['requests'] + result['requests']
    return dict(total, requests=requests, seconds=seconds,
                rps=requests / seconds, errors=total['errors']
                + result['errors'], p50_ms=max(total['p50_ms'],
                                               result['p50_ms']),
                p99_ms=max(total['p99_ms'], result['p99_ms']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--duration', type=float, default=5.0,
                        help='seconds of each turn (default 5)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='turns of each set-up per operation '
                             '(default 3)')
    parser.add_argument('--concurrency', type=int, default=16)
    parser.add_argument('--workers', type=int, default=2,
                        help='workers of each glance-api (default 2)')
    parser.add_argument('--registry-workers', type=int,
                        help='workers of glance-registry (default: as '
                             'many as glance-api)')
    parser.add_argument('--images', type=int, default=1000)
    args = parser.parse_args(argv)
    if args.registry_workers is None:
        args.registry_workers = args.workers
    work = tempfile.mkdtemp(prefix='glance-bench-registry-')
    procs = []
    try:
        db = 'sqlite:///%s' % os.path.join(work, 'glance.sqlite')
        common = {'workers': args.workers, 'log_file': os.path.join(
            work, '%s.log'), 'bind_host': '127.0.0.1'}
        reg_port, api_port, via_port = free_port(), free_port(), free_port()
        reg_conf = os.path.join(work, 'glance-registry.conf')
        write_conf(reg_conf, {
            'DEFAULT': dict(common, bind_port=reg_port,
                            workers=args.registry_workers,
                            log_file=os.path.join(work, 'registry.log')),
            'database': {'connection': db},
            'paste_deploy': {'config_file': os.path.join(
                ROOT, 'etc', 'glance-registry-paste.ini')}})
        api = {
            'DEFAULT': dict(common, bind_port=api_port,
                            log_file=os.path.join(work, 'api.log'),
                            node_staging_uri='file://%s/staging' % work),
            'database': {'connection': db},
            'glance_store': {'filesystem_store_datadir':
                             os.path.join(work, 'images')},
            'paste_deploy': {'config_file': os.path.join(
                ROOT, 'etc', 'glance-api-paste.ini')}}
        direct_conf = os.path.join(work, 'direct.conf')
        write_conf(direct_conf, api)
        via_conf = os.path.join(work, 'via-registry.conf')
        api['DEFAULT'].update(data_api='glance.registry.client',
                              registry_port=reg_port, bind_port=via_port,
                              log_file=os.path.join(work, 'api-via.log'))
        write_conf(via_conf, api)
        subprocess.run([sys.executable, '-m', 'glance.cmd.manage',
                        '--config-file', reg_conf, 'db', 'sync'], cwd=ROOT,
                       check=True, capture_output=True)
        direct_url = 'http://127.0.0.1:%d' % api_port
        via_url = 'http://127.0.0.1:%d' % via_port
        procs.append(start('glance.cmd.api', direct_conf, direct_url))
        procs.append(start('glance.cmd.registry', reg_conf,
                           'http://127.0.0.1:%d' % reg_port))
        procs.append(start('glance.cmd.api', via_conf, via_url))
        # Turns of --duration seconds, direct then through the registry,
        # --rounds times per operation: a change of the machine's load
        # falls on both.
        totals = {}
        for op in OPS:
            for _ in range(args.rounds):
                for name, url in (('direct', direct_url),
                                  ('registry', via_url)):
                    totals[name, op] = add(totals.get((name, op)),
                                           bench(url, args, op))
        for name, title in (('direct', 'glance-api, database direct'),
                            ('registry', 'glance-api through '
                                         'glance-registry')):
            print('== %s (glance-api %d workers, glance-registry %d; '
                  'SQLite)' % (title, args.workers, args.registry_workers))
            print('%-8s %9s %7s %10s %9s %9s' % (
                'op', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms'))
            for op in OPS:
                r = totals[name, op]
                print('%-8s %9d %7d %10.1f %9.2f %9.2f' % (
                    op, r['requests'], r['errors'], r['rps'], r['p50_ms'],
                    r['p99_ms']))
        print('== through glance-registry, as a share of direct')
        print('%-8s %12s %12s %8s' % ('op', 'direct r/s', 'registry r/s',
                                      'share'))
        for op in OPS:
            direct, via = totals['direct', op], totals['registry', op]
            print('%-8s %12.1f %12.1f %7.0f%%' % (
                op, direct['rps'], via['rps'],
                100.0 * via['rps'] / direct['rps']))
    finally:
        for proc in reversed(procs):
            stop(proc)
        shutil.rmtree(work, True)


if __name__ == '__main__':
    main()
