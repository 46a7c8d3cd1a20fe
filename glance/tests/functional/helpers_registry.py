"""A real glance-registry process for functional tests, and the mixin
that runs a test class's glance-api through it."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from glance.tests.functional import base

PASTE = os.path.join(base.ROOT, 'etc', 'glance-registry-paste.ini')
CLIENT = 'glance.registry.client'
# glance-api of a test reaching the database directly would fail on this.
NO_DATABASE = 'sqlite:////nonexistent/glance-api-has-no-database.sqlite'


class Registry:
    """One glance-registry process on a free loopback port."""

    def __init__(self, workdir, db_url, options=None, flavor=None,
                 workers=0, port=None):
        self.workdir = workdir
        self.port = port or base.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.conf = os.path.join(workdir, 'glance-registry.conf')
        self.log = os.path.join(workdir, 'glance-registry.log')
        self.proc = None
        self.sections = sections = {
            'DEFAULT': {'bind_port': self.port, 'workers': workers,
                        'log_file': self.log},
            'database': {'connection': db_url},
            'paste_deploy': {'config_file': PASTE},
        }
        if flavor:
            sections['paste_deploy']['flavor'] = flavor
        for key, value in (options or {}).items():
            group, _, name = key.rpartition('.')
            sections.setdefault(group or 'DEFAULT', {})[name] = value
        self.write_config()

    def write_config(self):
        with open(self.conf, 'w') as f:
            for group, values in self.sections.items():
                f.write('[%s]\n' % group)
                for name, value in values.items():
                    f.write('%s = %s\n' % (name, value))

    def manage(self, *args):
        return subprocess.run(
            [sys.executable, '-m', 'glance.cmd.manage', '--config-file',
             self.conf] + list(args), capture_output=True, text=True,
            check=True, cwd=base.ROOT)

    def start(self, wait=True, env=None):
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.registry', '--config-file',
             self.conf], cwd=base.ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('glance-registry exited with %s: %s' % (
                    self.proc.returncode, self.output()))
            if base.server_answers(self.url):
                return
            time.sleep(0.1)
        raise RuntimeError('glance-registry not ready: %s' % self.output())

    def output(self):
        text = ''
        if self.proc and self.proc.poll() is not None and self.proc.stdout:
            text += self.proc.stdout.read().decode(errors='replace')
        if os.path.exists(self.log):
            with open(self.log) as f:
                text += f.read()[-4000:]
        return text

    def stop(self, timeout=20, signum=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def api_options(registry, secret=None):
    """glance-api options that send its metadata through ``registry``."""
    options = {'data_api': CLIENT, 'registry_host': '127.0.0.1',
               'registry_port': registry.port,
               'database.connection': NO_DATABASE}
    if secret:
        options['registry_shared_secret'] = secret
    return options


class ThroughRegistry(base.SharedDaemonTest):
    """The last base of a ``base.SharedDaemonTest`` class run again through
    glance-registry (``class T(test_x.TestY, ThroughRegistry)``): it comes
    right before ``SharedDaemonTest`` in the method order, so the test
    class's own ``setUpClass`` runs, then this one starts the daemons. Its
    glance-api has no database of its own and reads and writes everything
    through a glance-registry (with a shared secret) on the test
    database."""

    registry_secret = 'registry-test-secret'

    @classmethod
    def setUpClass(cls):
        super(base.SharedDaemonTest, cls).setUpClass()
        cls._unmet = base.database_problem(cls.db_kind)
        if cls._unmet is not None:
            return
        cls.workdir = tempfile.mkdtemp(prefix='glance-test-')
        cls.db = base.Database(cls.db_kind, cls.workdir)
        cls.registry = Registry(
            cls.workdir, cls.db.url,
            options={'registry_shared_secret': cls.registry_secret})
        cls.registry.manage('db', 'sync')
        cls.registry.start()
        options = dict(cls.options)
        options.update(api_options(cls.registry, cls.registry_secret))
        cls.daemon = base.Daemon(cls.workdir, NO_DATABASE, options=options,
                                 flavor=cls.flavor, workers=cls.workers)
        cls.daemon.start()
        cls.url = cls.daemon.url

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, '_unmet', None) is None and hasattr(cls, 'daemon'):
            cls.daemon.stop()
            cls.registry.stop()
            cls.db.drop()
            shutil.rmtree(cls.workdir, True)
        super(base.SharedDaemonTest, cls).tearDownClass()
