"""show, list and create requests/s of glance-api reaching the database
directly against glance-api through glance-registry (data_api =
glance.registry.client), on one SQLite database, in one run.

The two set-ups run one after the other (never at once, so they do not
share the CPU), each with tools/bench.py's load (keep-alive connections,
``--concurrency`` of them, ``--duration`` seconds per operation), and the
last table gives through-registry as a percentage of direct.

    tools/bench-registry [--duration 10] [--concurrency 16] [--workers 2]
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


def bench(url, args):
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'bench.py'), '--url',
         url, '--duration', str(args.duration), '--concurrency',
         str(args.concurrency), '--images', str(args.images), '--project',
         'bench-registry', '--ops'] + list(OPS) + ['--json'],
        capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    print('\n'.join(lines[:-1]))
    return {r['op']: r for r in json.loads(lines[-1])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--duration', type=float, default=10.0)
    parser.add_argument('--concurrency', type=int, default=16)
    parser.add_argument('--workers', type=int, default=2,
                        help='workers of glance-api and of glance-registry')
    parser.add_argument('--images', type=int, default=1000)
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix='glance-bench-registry-')
    procs = []
    try:
        db = 'sqlite:///%s' % os.path.join(work, 'glance.sqlite')
        common = {'workers': args.workers, 'log_file': os.path.join(
            work, '%s.log'), 'bind_host': '127.0.0.1'}
        reg_port, api_port = free_port(), free_port()
        reg_conf = os.path.join(work, 'glance-registry.conf')
        write_conf(reg_conf, {
            'DEFAULT': dict(common, bind_port=reg_port,
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
                              registry_port=reg_port)
        write_conf(via_conf, api)
        subprocess.run([sys.executable, '-m', 'glance.cmd.manage',
                        '--config-file', reg_conf, 'db', 'sync'], cwd=ROOT,
                       check=True, capture_output=True)
        url = 'http://127.0.0.1:%d' % api_port
        print('== glance-api, database direct (%d workers, SQLite)'
              % args.workers)
        procs.append(start('glance.cmd.api', direct_conf, url))
        direct = bench(url, args)
        stop(procs.pop())
        print('== glance-api through glance-registry (%d workers each)'
              % args.workers)
        procs.append(start('glance.cmd.registry', reg_conf,
                           'http://127.0.0.1:%d' % reg_port))
        procs.append(start('glance.cmd.api', via_conf, url))
        via = bench(url, args)
        print('== through glance-registry, as a share of direct')
        print('%-8s %12s %12s %8s' % ('op', 'direct r/s', 'registry r/s',
                                      'share'))
        for op in OPS:
            print('%-8s %12.1f %12.1f %7.0f%%' % (
                op, direct[op]['rps'], via[op]['rps'],
                100.0 * via[op]['rps'] / direct[op]['rps']))
    finally:
        for proc in reversed(procs):
            stop(proc)
        shutil.rmtree(work, True)


if __name__ == '__main__':
    main()
