"""Takeover benchmark: how long ``glance-manage db sync`` takes to take
over a large database made by upstream Glance.

    tools/bench-takeover [--images 100000] [--properties 8] [--members 2]
        [--server mysql+pymysql://root@127.0.0.1:3306] [--keep]

Creates a scratch database on the server (MariaDB/MySQL by default; a
postgresql+psycopg:// URL works too), has upstream Glance's own
``glance-manage db sync`` (tools/upstream-glance) create its schema, fills
it by SQL in upstream's schema (--images images, each with --properties
properties, two tags, a file location with multi-store metadata, and
--members members on every other image; a tenth of the images
soft-deleted with their rows), then times this project's ``glance-manage
db sync`` on it, checks that every row is still there and prints the
figure. The database is dropped at the end unless --keep.
"""

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, 'tools', 'upstream-glance')
BATCH = 5000
TABLES = ('images', 'image_properties', 'image_tags', 'image_locations',
          'image_members')


def upstream_schema(url, data):
    env = dict(os.environ, GLANCE_DB_URL=url)
    subprocess.run([TOOL, 'config', data], check=True, env=env)
    subprocess.run([TOOL, 'manage', data, 'db', 'sync'], check=True,
                   env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def rows(args):
    """Batches of (table, rows) in upstream's schema."""
    now = datetime.datetime(2024, 5, 1, 12, 0, 0)
    images, props, tags, locs, members = [], [], [], [], []
    for n in range(args.images):
        image_id = str(uuid.UUID(int=n + 1, version=4))
        deleted = n % 10 == 9
        common = {'created_at': now, 'updated_at': now,
                  'deleted_at': now if deleted else None, 'deleted': deleted}
        images.append(dict(
            common, id=image_id, name='bench-%d' % n, size=1024,
            virtual_size=1024,
            status='deleted' if deleted else 'active',
            disk_format='raw', container_format='bare',
            checksum='%032x' % n, owner='project-%d' % (n % 100),
            min_disk=0, min_ram=0, protected=False,
            visibility=('private', 'public', 'shared', 'community')[n % 4],
            os_hidden=False, os_hash_algo='sha512',
            os_hash_value='%0128x' % n))
        for p in range(args.properties):
            props.append(dict(common, image_id=image_id,
                              name='prop_%d' % p, value='value %d' % n))
        for t in ('alpha', 'beta'):
            tags.append(dict(common, image_id=image_id, value=t))
        locs.append(dict(
            common, image_id=image_id,
            value='file:///var/lib/glance/images/%s' % image_id,
            meta_data=json.dumps({'store': 'fast'}),
            status='deleted' if deleted else 'active'))
        if n % 2 == 0:
            for m in range(args.members):
                members.append(dict(common, image_id=image_id,
                                    member='member-%d' % m,
                                    can_share=False, status='accepted'))
        if len(images) >= BATCH:
            yield from (('images', images), ('image_properties', props),
                        ('image_tags', tags), ('image_locations', locs),
                        ('image_members', members))
            images, props, tags, locs, members = [], [], [], [], []
    yield from (('images', images), ('image_properties', props),
                ('image_tags', tags), ('image_locations', locs),
                ('image_members', members))


def fill(engine, args):
    meta = sa.MetaData()
    meta.reflect(engine, only=TABLES)
    with engine.begin() as conn:
        for table, batch in rows(args):
            if batch:
                conn.execute(meta.tables[table].insert(), batch)


def counts(engine):
    with engine.connect() as conn:
        return {t: conn.exec_driver_sql('SELECT COUNT(*) FROM %s'
                                        % t).scalar() for t in TABLES}


def first_answer(conf, work, url):
    """Seconds from starting glance-api on the taken-over database to
    its first answer to an image list."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    with open(conf, 'w') as f:
        f.write('[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = %d\n'
                'workers = 2\nlog_file = %s\nnode_staging_uri = file://%s\n'
                '[database]\nconnection = %s\n'
                '[glance_store]\nfilesystem_store_datadir = %s\n'
                '[paste_deploy]\nconfig_file = %s\n'
                % (port, os.path.join(work, 'api.log'),
                   os.path.join(work, 'staging'), url,
                   os.path.join(work, 'images'),
                   os.path.join(ROOT, 'etc', 'glance-api-paste.ini')))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, '-m', 'glance.cmd.api',
                             '--config-file', conf], cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            try:
                with urllib.request.urlopen(
                        'http://127.0.0.1:%d/v2/images?limit=1' % port,
                        timeout=5) as resp:
                    if resp.status == 200:
                        return time.monotonic() - t0
            except OSError:
                time.sleep(0.02)
        raise RuntimeError('glance-api exited; see %s'
                           % os.path.join(work, 'api.log'))
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--images', type=int, default=100000)
    parser.add_argument('--properties', type=int, default=8)
    parser.add_argument('--members', type=int, default=2)
    parser.add_argument('--server',
                        default='mysql+pymysql://root@127.0.0.1:3306')
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args()

    mysql = args.server.startswith('mysql')
    name = 'glance_bench_takeover_%s' % uuid.uuid4().hex[:8]
    admin = sa.create_engine(args.server + ('/mysql' if mysql
                                            else '/postgres'),
                             isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.exec_driver_sql('CREATE DATABASE %s' % name)
    url = '%s/%s' % (args.server, name)
    if mysql:
        url += '?charset=utf8mb4'
    work = tempfile.mkdtemp(prefix='glance-bench-takeover-')
    try:
        t0 = time.monotonic()
        upstream_schema(url, os.path.join(work, 'upstream'))
        engine = sa.create_engine(url)
        fill(engine, args)
        before = counts(engine)
        engine.dispose()
        print('filled %s in upstream schema in %.1f s: %s'
              % (name, time.monotonic() - t0,
                 ', '.join('%s %d' % kv for kv in before.items())),
              flush=True)
        conf = os.path.join(work, 'glance-api.conf')
        with open(conf, 'w') as f:
            f.write('[database]\nconnection = %s\n' % url)
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.manage', '--config-file',
             conf, 'db', 'sync'], cwd=ROOT, capture_output=True, text=True)
        took = time.monotonic() - t0
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            return 1
        engine = sa.create_engine(url)
        after = counts(engine)
        engine.dispose()
        if after != before:
            print('ROWS CHANGED: before %s, after %s' % (before, after))
            return 1
        print('takeover (glance-manage db sync) of %d images: %.1f s; '
              'every row kept' % (args.images, took), flush=True)
        print('glance-api answering a list %.2f s after the migration '
              'ended' % first_answer(conf, work, url))
        return 0
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.exec_driver_sql('DROP DATABASE IF EXISTS %s' % name)
        admin.dispose()
        subprocess.run(['rm', '-rf', work])


if __name__ == '__main__':
    sys.exit(main())
