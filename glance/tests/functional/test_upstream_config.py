"""An operator's upstream configuration files start the daemon unchanged.

``fixtures/upstream/glance-api.conf`` and ``glance-image-import.conf``
are upstream Glance's sample files with every option that has a default
set (``fixtures/upstream/generate`` writes them from upstream's option
definitions). glance-api reads them as they are, followed by a file of
its own with what this machine needs (addresses, database, directories,
the default paste flavor): options it does not use are logged once as
ignored, ``glance-image-import.conf`` next to glance-api.conf is read
(its import plugin runs), and old option names are honoured.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests
import testtools

from glance.tests.functional import base

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'fixtures', 'upstream')
UPSTREAM_CONF = os.path.join(FIXTURES, 'glance-api.conf')
UPSTREAM_PASTE = os.path.join(FIXTURES, 'glance-api-paste.ini')
OCTET = {'Content-Type': 'application/octet-stream'}
IGNORED = re.compile(r'Ignored, not used by this service: options of '
                     r'\[([^\]]+)\] in (\S+): (.*)$')


class UpstreamDaemon(base.Daemon):
    """glance-api --config-file <upstream file> --config-file <own>."""

    def start(self, wait=True, env=None):
        own = {k: v for k, v in os.environ.items()
               if k.lower() not in base.PROXY_VARIABLES}
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.api',
             '--config-file', UPSTREAM_CONF, '--config-file', self.conf],
            cwd=base.ROOT, env=dict(own, **(env or {})),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self


class TestUpstreamConfig(base.FunctionalTest):

    workers = 2

    def make_daemon(self, **kwargs):
        options = {
            # The upstream file names /var/log/glance, a keystone flavor
            # with an example Keystone and MySQL server: this machine's.
            'DEFAULT.log_dir': self.workdir,
            'paste_deploy.config_file': UPSTREAM_PASTE,
            'paste_deploy.flavor': '',
        }
        params = dict(options=options, workers=self.workers)
        params.update(kwargs)
        return UpstreamDaemon(self.workdir, self.db.url, **params)

    def ignored(self):
        """{section: [option, ...]} of the ignored-options log lines of
        the upstream file; fails if one is logged twice. The parent logs
        them once its workers serve: waits for them up to 30 s."""
        deadline = time.monotonic() + 30
        while True:
            with open(self.daemon.log) as f:
                log = f.read()
            if ('options of [DEFAULT] in %s' % UPSTREAM_CONF in log
                    or time.monotonic() > deadline):
                break
            time.sleep(0.1)
        found = {}
        for line in log.splitlines():
            match = IGNORED.search(line)
            if match and match.group(2) == UPSTREAM_CONF:
                names = match.group(3).split(', ')
                self.assertNotIn(match.group(1), found, line)
                found[match.group(1)] = names
        return found, log

    def test_starts_serves_and_logs_ignored_options_once(self):
        # Serves: versions (public_endpoint of the upstream file), images
        # with data.
        resp = self.request('GET', '/versions')
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn('http://glance.example.org:9292/v2/', resp.text)
        image = self.create_image(headers=self.headers('proj-up'),
                                  name='up', disk_format='raw',
                                  container_format='bare')
        path = '/v2/images/%s/file' % image['id']
        resp = self.request('PUT', path, data=b'x' * 4096,
                            headers=self.headers('proj-up', **OCTET))
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.request('GET', path, headers=self.headers('proj-up'))
        self.assertEqual(b'x' * 4096, resp.content)

        found, log = self.ignored()
        # Options this service has no use for, each named once.
        self.assertIn('pydev_worker_debug_host', found.get('DEFAULT', []),
                      log)
        self.assertIn('digest_algorithm', found['DEFAULT'])
        self.assertIn('mysql_sql_mode', found['database'])
        self.assertIn('swift_store_container',
                      found['glance.store.swift.store'])
        self.assertIn('engine_mode', found['taskflow_executor'])
        for names in found.values():
            self.assertEqual(len(names), len(set(names)), names)
        # Options it uses, its libraries' (keystonemiddleware with the
        # auth plugin's, oslo.messaging, oslo.log, oslo.policy, CORS),
        # and those of the stores, are not.
        for section in ('keystone_authtoken', 'oslo_messaging_rabbit',
                        'oslo_messaging_notifications', 'oslo_policy',
                        'cors', 'paste_deploy', 'image_format',
                        'healthcheck', 'oslo_middleware', 'oslo_limit'):
            self.assertNotIn(section, found, found.get(section))
        for used in ('bind_host', 'workers', 'enabled_import_methods',
                     'debug', 'transport_url', 'image_size_cap'):
            self.assertNotIn(used, found['DEFAULT'])
        for used in ('filesystem_store_datadir', 'stores', 'default_store'):
            self.assertNotIn(used, found.get('glance_store', []))
        # Logged by the parent only, not by each worker.
        self.assertEqual(1, log.count("options of [DEFAULT] in %s"
                                      % UPSTREAM_CONF))
        self.assertNotIn('Traceback', log)

    def test_not_logged_again_on_reload(self):
        found, log = self.ignored()
        self.assertIn('DEFAULT', found)
        self.daemon.signal(signal.SIGHUP)
        # The pipeline is built again after the configuration is re-read.
        deadline = time.monotonic() + 30
        while log.count('has no request_id filter') < 2:
            self.assertLess(time.monotonic(), deadline, log[-3000:])
            time.sleep(0.1)
            with open(self.daemon.log) as f:
                log = f.read()
        self.assertEqual(found, self.ignored()[0])
        self.assertEqual(200, self.request('GET', '/versions').status_code)

    def test_image_import_conf_next_to_glance_api_conf_is_read(self):
        # glance-image-import.conf: image_import_plugins =
        # [inject_image_metadata], inject = site:upstream-import, for
        # callers without the admin role.
        self.assertEqual('upstream-import', imported_site(self))


def imported_site(test):
    """The ``site`` property a glance-direct import by a member of a new
    project gives its image (what inject_image_metadata injected)."""
    headers = test.headers('proj-imp', roles='member,reader')
    image = test.create_image(headers=headers, name='imp',
                              disk_format='raw', container_format='bare')
    resp = test.request('PUT', '/v2/images/%s/stage' % image['id'],
                        data=b'y' * 4096, headers=dict(headers, **OCTET))
    test.assertEqual(204, resp.status_code, resp.text)
    resp = test.request('POST', '/v2/images/%s/import' % image['id'],
                        json={'method': {'name': 'glance-direct'}},
                        headers=headers)
    test.assertEqual(202, resp.status_code, resp.text)
    deadline = time.monotonic() + 30
    while True:
        shown = test.request('GET', '/v2/images/%s' % image['id'],
                             headers=headers).json()
        if shown['status'] == 'active' or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    test.assertEqual('active', shown['status'], shown)
    return shown.get('site')


class TestOldOptionNames(base.FunctionalTest):
    """Options under the names and groups upstream still accepts."""

    options = {'DEFAULT.disk_formats': 'raw,qcow2',
               'DEFAULT.container_formats': 'bare',
               'DEFAULT.task_time_to_live': '7'}

    def test_old_names_are_honoured(self):
        ok = self.request('POST', '/v2/images', json={
            'disk_format': 'qcow2', 'container_format': 'bare'})
        self.assertEqual(201, ok.status_code, ok.text)
        for body in ({'disk_format': 'vhd', 'container_format': 'bare'},
                     {'disk_format': 'raw', 'container_format': 'ovf'}):
            resp = self.request('POST', '/v2/images', json=body)
            self.assertEqual(400, resp.status_code, (body, resp.text))
        with open(self.daemon.log) as f:
            log = f.read()
        self.assertNotIn('Ignored, not used', log)


class TestDefaultLocations(testtools.TestCase):
    """Without --config-file the console scripts find their files where
    upstream's do (oslo.config's ~/.glance/, ~/, /etc/glance/, /etc/):
    glance-api reads glance-image-import.conf, glance-api.conf and the
    paste file it names; glance-manage reads glance-api.conf then
    glance-manage.conf, which wins."""

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.home = os.path.join(self.workdir, 'home')
        self.etc = os.path.join(self.home, '.glance')
        os.makedirs(self.etc)
        self.env = dict(os.environ, HOME=self.home)
        for name in ('OS_GLANCE_CONFIG_DIR',):
            self.env.pop(name, None)
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def write(self, name, text):
        with open(os.path.join(self.etc, name), 'w') as f:
            f.write(text)

    def run_script(self, module, *args):
        return subprocess.run([sys.executable, '-m', module] + list(args),
                              cwd=base.ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)

    # What FunctionalTest's helpers need.
    def headers(self, project=None, roles=None, **extra):
        return dict(extra, **{'X-Project-Id': project,
                              'X-User-Id': 'u-' + project,
                              'X-Roles': roles or 'member,reader'})

    def request(self, method, path, json=None, data=None, headers=None):
        return self.http.request(method, self.url + path, json=json,
                                 data=data, headers=headers or {})

    def create_image(self, headers=None, **body):
        resp = self.request('POST', '/v2/images', json=body,
                            headers=headers)
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def test_files_found_in_the_default_places(self):
        api_db = os.path.join(self.workdir, 'api.sqlite')
        manage_db = os.path.join(self.workdir, 'manage.sqlite')
        port = base.free_port()
        self.url = 'http://127.0.0.1:%d' % port
        log = os.path.join(self.workdir, 'glance-api.log')
        self.write('glance-api.conf', (
            '[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = %d\n'
            'workers = 0\nlog_file = %s\n'
            'node_staging_uri = file://%s/staging\n'
            '[database]\nconnection = sqlite:///%s\n'
            '[glance_store]\nfilesystem_store_datadir = %s/images\n'
            % (port, log, self.workdir, api_db, self.workdir)))
        with open(os.path.join(FIXTURES, 'glance-image-import.conf')) as f:
            self.write('glance-image-import.conf', f.read())
        with open(UPSTREAM_PASTE) as f:
            self.write('glance-api-paste.ini', f.read())

        # glance-manage.conf wins over glance-api.conf.
        self.write('glance-manage.conf',
                   '[database]\nconnection = sqlite:///%s\n' % manage_db)
        proc = self.run_script('glance.cmd.manage', 'db', 'sync')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertTrue(os.path.exists(manage_db))
        self.assertFalse(os.path.exists(api_db))
        os.unlink(os.path.join(self.etc, 'glance-manage.conf'))
        proc = self.run_script('glance.cmd.manage', 'db', 'sync')
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertTrue(os.path.exists(api_db))

        daemon = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.api'], cwd=base.ROOT,
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, daemon)
        deadline = time.monotonic() + 30
        while not base.server_answers(self.url):
            if daemon.poll() is not None or time.monotonic() > deadline:
                self.fail('glance-api did not start: %s'
                          % daemon.stdout.read().decode(errors='replace'))
            time.sleep(0.1)
        # Upstream's paste file from ~/.glance: its osprofiler filter.
        with open(log) as f:
            self.assertIn('osprofiler is not installed', f.read())
        self.assertEqual('upstream-import', imported_site(self))

    @staticmethod
    def stop(proc):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
