"""Running glance-auditor and glance-updater against the test's daemon:
its configuration plus a file of their own options, each with its own
log file."""

import json
import os
import subprocess
import sys
import time

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd

OCTET = {'Content-Type': 'application/octet-stream'}


class IntegrityMixin:
    """For a ``base.FunctionalTest`` whose daemon stores files under
    ``<workdir>/images`` (single store) or ``<workdir>/<store>``."""

    def own_conf(self, name, **options):
        """A configuration file of extra [DEFAULT] options."""
        path = os.path.join(self.workdir, '%s.conf' % name)
        with open(path, 'w') as f:
            f.write('[DEFAULT]\n')
            for key, value in options.items():
                f.write('%s = %s\n' % (key, value))
        return path

    def command(self, prog, *args, conf=None, log=None):
        cmd = [sys.executable, '-m', 'glance.cmd.%s' % prog,
               '--config-file', self.daemon.conf]
        if conf:
            cmd += ['--config-file', conf]
        cmd += ['--log-file', log or os.path.join(self.workdir,
                                                  '%s.log' % prog)]
        return cmd + list(args)

    def run_tool(self, prog, *args, conf=None, log=None, timeout=120):
        return subprocess.run(self.command(prog, *args, conf=conf, log=log),
                              capture_output=True, text=True, cwd=base.ROOT,
                              timeout=timeout)

    def run_json(self, prog, *args, expect=0, **kwargs):
        out = self.run_tool(prog, '--once', '--json', *args, **kwargs)
        self.assertEqual(expect, out.returncode, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def start_tool(self, prog, *args, conf=None, log=None, env=None):
        proc = subprocess.Popen(self.command(prog, *args, conf=conf, log=log),
                                cwd=base.ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE,
                                env=dict(os.environ, **(env or {})))
        self.addCleanup(_reap, proc)
        return proc

    # -- images ------------------------------------------------------------

    def image_with(self, data, headers=None, **body):
        fields = {'name': 'audited', 'disk_format': 'raw',
                  'container_format': 'bare'}
        fields.update(body)
        image = self.create_image(headers=self.headers('p1'), **fields)
        hdrs = self.headers('p1', **OCTET)
        hdrs.update(headers or {})
        resp = self.request('PUT', '/v2/images/%s/file' % image['id'],
                            data=data, headers=hdrs)
        self.assertEqual(204, resp.status_code, resp.text)
        return self.show_image(image['id'])

    def show_image(self, image_id):
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            headers=self.headers('p1'))
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def download(self, image_id):
        return self.request('GET', '/v2/images/%s/file' % image_id,
                            headers=self.headers('p1'))

    def data_path(self, image_id, store='images'):
        return os.path.join(self.workdir, store, image_id)

    # -- the database --------------------------------------------------------

    def sql(self, statement, **params):
        engine = sa.create_engine(self.db.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return result.fetchall() if result.returns_rows else None
        finally:
            engine.dispose()

    def row(self, image_id):
        rows = self.sql('SELECT checksum, os_hash_algo, os_hash_value, '
                        'virtual_size, size, status FROM images '
                        'WHERE id = :id', id=image_id)
        return dict(rows[0]._mapping)

    def location_statuses(self, image_id):
        rows = self.sql('SELECT meta_data, status FROM image_locations '
                        'WHERE image_id = :id AND deleted = :f ORDER BY id',
                        id=image_id, f=False)
        return [(json.loads(r.meta_data or '{}').get('store'), r.status)
                for r in rows]


def _reap(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(30)
    if proc.stderr:
        proc.stderr.close()


def wait_state(path, timeout=hd.PATIENCE):
    """The image id an unfinished pass recorded in its state file."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                after = json.load(f).get('after')
            if after:
                return after
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError('no state written to %s' % path)
