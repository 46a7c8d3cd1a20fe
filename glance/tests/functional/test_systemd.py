"""glance-api and glance-scrubber as systemd services: notifications on a
real $NOTIFY_SOCKET, the watchdog, start-up failures, and the shipped
unit, tmpfiles, sysusers and logrotate files checked by systemd's own
tools."""

import os
import shutil
import signal
import stat
import subprocess
import sys

import requests

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_systemd as hs

ETC = os.path.join(base.ROOT, 'etc')
UNITS = ('glance-api.service', 'glance-scrubber.service',
         'glance-auditor.service', 'glance-updater.service',
         'glance-updater.timer', 'glance-cache-prefetcher.service',
         'glance-cache-prefetcher.timer', 'glance-cache-pruner.service',
         'glance-cache-pruner.timer', 'glance-cache-cleaner.service',
         'glance-cache-cleaner.timer', 'glance-registry.service')


class NotifyTestCase(hd.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.listener = hs.NotifyListener(self.workdir)
        self.addCleanup(self.listener.close)

    def start_notified(self, workers, options=None, **env):
        daemon = self.make_daemon(workers=workers, options=options)
        daemon.start(wait=False, env=self.listener.env(**env))
        return daemon


class TestNotify(NotifyTestCase):
    """READY, RELOADING, STOPPING from the main process only."""

    def _lifecycle(self, workers):
        daemon = self.start_notified(workers)
        index, ready = self.listener.wait('READY')
        # Ready means ready: the first request after READY is served,
        # by the pipeline, with the database.
        resp = requests.post(daemon.url + '/v2/images',
                             json={'name': 'first'}, timeout=30)
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertIn('Serving on 127.0.0.1:%d' % daemon.port,
                      ready.fields.get('STATUS', ''))
        if workers:
            self.assertEqual(workers, len(hd.worker_pids(daemon.proc.pid)))

        hd.set_option(daemon, 'DEFAULT', 'limit_param_default', 1)
        requests.post(daemon.url + '/v2/images', json={'name': 'second'},
                      timeout=30)
        daemon.signal(signal.SIGHUP)
        reloading_at, reloading = self.listener.wait('RELOADING',
                                                     after=index + 1)
        self.assertGreater(int(reloading.fields['MONOTONIC_USEC']), 0)
        ready_at, _ = self.listener.wait('READY', after=reloading_at + 1)
        # READY after a reload: the new configuration answers. (With
        # workers, an old one may accept a last connection while its
        # SIGHUP is on its way: allow a moment.)
        hd.wait_for(lambda: len(requests.get(
            daemon.url + '/v2/images', headers={'Connection': 'close'},
            timeout=30).json()['images']) == 1,
            timeout=5 if workers else 0, what='the new configuration')

        daemon.signal(signal.SIGTERM)
        self.listener.wait('STOPPING', after=ready_at + 1)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))

        messages = self.listener.snapshot()
        self.assertEqual({daemon.proc.pid}, {m.pid for m in messages},
                         messages)
        states = [s for m in messages for s in ('READY', 'RELOADING',
                                                'STOPPING')
                  if m.fields.get(s) == '1']
        self.assertEqual(['READY', 'RELOADING', 'READY', 'STOPPING'],
                         states)

    def test_lifecycle_workers(self):
        self._lifecycle(workers=2)

    def test_lifecycle_single_process(self):
        self._lifecycle(workers=0)

    def test_failed_reload_reports_ready_again(self):
        daemon = self.start_notified(2)
        index, _ = self.listener.wait('READY')
        hd.set_option(daemon, 'paste_deploy', 'flavor', 'nosuchflavor')
        daemon.signal(signal.SIGHUP)
        at, _ = self.listener.wait('RELOADING', after=index + 1)
        self.listener.wait('READY', after=at + 1)
        self.assertEqual(200, requests.get(daemon.url + '/v2/images',
                                           timeout=30).status_code)

    def test_no_notify_socket_no_messages(self):
        daemon = self.make_daemon(workers=1)
        daemon.start()
        first = hd.wait_for(lambda: hd.worker_pids(daemon.proc.pid),
                            what='the worker')
        daemon.signal(signal.SIGHUP)
        hd.wait_for(lambda: hd.worker_pids(daemon.proc.pid) - first,
                    what='the worker of the reload')
        daemon.stop()
        self.assertEqual(0, daemon.proc.returncode)
        self.assertEqual([], self.listener.snapshot()[:self.listener.sync()])


class TestWatchdog(NotifyTestCase):

    def _pings(self, workers):
        # WATCHDOG_USEC of one second: a ping at least every half second.
        daemon = self.start_notified(workers, WATCHDOG_USEC='1000000')
        self.listener.wait('READY')
        start = len(self.listener.snapshot())
        # Requests meanwhile must not disturb the pings, nor the pings
        # the requests.
        for _ in range(10):
            self.assertEqual(200, requests.get(daemon.url + '/v2/images',
                                               timeout=30).status_code)

        def four_pings():
            pings = self.listener.having('WATCHDOG', after=start)
            return pings if len(pings) >= 4 else None
        pings = hd.wait_for(four_pings, what='4 watchdog pings')
        gaps = [b.at - a.at for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 1.0, gaps)
        self.assertEqual({daemon.proc.pid}, {m.pid for m in pings})
        # Pings go on while the daemon stops.
        daemon.signal(signal.SIGTERM)
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))

    def test_watchdog_pings_workers(self):
        self._pings(workers=2)

    def test_watchdog_pings_single_process(self):
        self._pings(workers=0)

    def test_watchdog_meant_for_another_process(self):
        daemon = self.start_notified(2, WATCHDOG_USEC='200000',
                                     WATCHDOG_PID='1')
        # A daemon that took the watchdog for its own would ping before
        # READY, and again every 0.1 s through a reload and a stop.
        index, _ = self.listener.wait('READY')
        daemon.signal(signal.SIGHUP)
        at, _ = self.listener.wait('RELOADING', after=index + 1)
        at, _ = self.listener.wait('READY', after=at + 1)
        daemon.signal(signal.SIGTERM)
        self.listener.wait('STOPPING', after=at + 1)
        # Not ended by a SIGALRM nobody handles.
        self.assertEqual(0, daemon.proc.wait(hd.PATIENCE))
        messages = self.listener.snapshot()[:self.listener.sync()]
        self.assertEqual([], [m for m in messages
                              if 'WATCHDOG' in m.fields], messages)


class TestStartupFailures(NotifyTestCase):
    """Exit codes of start-up failures (upstream's), and no READY."""

    def _fails(self, code, text, options):
        # No "db sync": the database may be what is wrong.
        daemon = base.Daemon(self.workdir, self.db.url, options=options,
                             workers=1)
        self.addCleanup(self._cleanup_daemon, daemon)
        daemon.start(wait=False, env=self.listener.env())
        try:
            output = daemon.proc.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            daemon.proc.kill()
            output = daemon.proc.communicate()[0]
        output = output.decode(errors='replace')
        self.assertEqual(code, daemon.proc.returncode, output)
        self.assertIn('ERROR:', output)
        self.assertIn(text, output)
        self.assertEqual([], self.listener.having('READY'))

    def test_store_error_exits_3(self):
        self._fails(3, 'nosuchstore',
                    {'glance_store.default_store': 'nosuchstore'})

    def test_store_type_error_exits_3(self):
        self._fails(3, 'sheepdog', {'glance_store.stores': 'file,sheepdog'})

    def test_unreachable_database_exits_1(self):
        missing = os.path.join(self.workdir, 'no', 'such', 'dir', 'db')
        self._fails(1, 'database',
                    {'database.connection': 'sqlite:///' + missing})

    def test_bad_option_value_exits_5(self):
        self._fails(5, 'graceful_shutdown_timeout',
                    {'graceful_shutdown_timeout': 'soon'})

    def test_scrubber_store_error_exits_3(self):
        daemon = self.make_daemon(
            options={'glance_store.default_store': 'nosuchstore'})
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.scrubber', '--daemon',
             '--config-file', daemon.conf], cwd=base.ROOT, timeout=60,
            env=dict(os.environ, **self.listener.env()),
            capture_output=True, text=True)
        self.assertEqual(3, proc.returncode, proc.stderr)
        self.assertIn('nosuchstore', proc.stderr)
        self.assertEqual([], self.listener.having('READY'))


class TestScrubberNotify(NotifyTestCase):

    def test_scrubber_daemon_ready_watchdog_stopping(self):
        daemon = self.make_daemon(options={'wakeup_time': 3600})
        proc = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.scrubber', '--daemon',
             '--config-file', daemon.conf], cwd=base.ROOT,
            env=dict(os.environ, **self.listener.env(
                WATCHDOG_USEC='1000000')),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(_reap, proc)
        index, ready = self.listener.wait('READY')
        self.assertIn('3600', ready.fields.get('STATUS', ''))
        # Between two passes (an hour apart) the watchdog is pinged.
        hd.wait_for(lambda: len(self.listener.having(
            'WATCHDOG', after=index)) >= 3, what='3 watchdog pings')
        proc.send_signal(signal.SIGTERM)
        self.listener.wait('STOPPING', after=index)
        self.assertEqual(0, proc.wait(hd.PATIENCE))
        self.assertEqual({proc.pid},
                         {m.pid for m in self.listener.snapshot()})


def _reap(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


class TestShippedFiles(hd.DaemonTestCase):
    """The files under etc/ that tools/install puts in place."""

    def _need(self, program):
        path = shutil.which(program, path=os.pathsep.join(
            [os.environ.get('PATH', ''), '/usr/sbin', '/sbin']))
        prerequisites.require(
            'LOGROTATE' if program == 'logrotate' else 'SYSTEMD',
            path is not None, 'no %s on PATH, /usr/sbin or /sbin' % program)
        return path

    def _install(self):
        """tools/install staged into a scratch root, using the commands
        of this checkout."""
        root = os.path.join(self.workdir, 'root')
        bindir = os.path.dirname(sys.executable)
        proc = subprocess.run(
            [os.path.join(base.ROOT, 'tools', 'install'), '--destdir', root,
             '--bindir', bindir], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return root, bindir

    def test_units_pass_systemd_analyze_verify(self):
        analyze = self._need('systemd-analyze')
        root, bindir = self._install()
        units = [os.path.join(root, 'etc', 'systemd', 'system', u)
                 for u in UNITS]
        proc = subprocess.run([analyze, 'verify'] + units,
                              capture_output=True, text=True, timeout=120)
        # verify exits 0 on some mistakes (an unknown Type=) and only
        # prints them: anything printed is a defect.
        self.assertEqual((0, ''), (proc.returncode,
                                   proc.stdout + proc.stderr))
        with open(units[0]) as f:
            text = f.read()
        self.assertIn('ExecStart=%s/glance-api ' % bindir, text)
        for directive in ('Type=notify', 'NotifyAccess=main',
                          'User=glance', 'TimeoutStopSec=15',
                          'WatchdogSec=', 'KillMode=mixed',
                          'ExecReload=/bin/kill -HUP $MAINPID'):
            self.assertIn(directive, text)

    def test_verify_catches_a_broken_unit(self):
        # The check above is only worth something if verify complains.
        analyze = self._need('systemd-analyze')
        root, _ = self._install()
        unit = os.path.join(root, 'etc', 'systemd', 'system', UNITS[0])
        with open(unit) as f:
            text = f.read()
        with open(unit, 'w') as f:
            f.write(text.replace('Type=notify', 'Type=notifi'))
        proc = subprocess.run([analyze, 'verify', unit],
                              capture_output=True, text=True, timeout=120)
        self.assertIn('notifi', proc.stdout + proc.stderr)

    def test_graceful_shutdown_fits_the_stop_timeout(self):
        from glance.common import config
        from glance.common import server
        default = [o for o in config.server_opts
                   if o.name == 'graceful_shutdown_timeout'][0].default
        with open(os.path.join(ETC, 'systemd', UNITS[0])) as f:
            stop = [int(line.split('=')[1]) for line in f
                    if line.startswith('TimeoutStopSec=')][0]
        self.assertLess(default + server.REVERT_WAIT, stop)

    def test_sysusers_and_tmpfiles_lay_out_the_directories(self):
        sysusers = self._need('systemd-sysusers')
        tmpfiles = self._need('systemd-tmpfiles')
        root = os.path.join(self.workdir, 'root')
        os.makedirs(os.path.join(root, 'etc'))
        with open(os.path.join(root, 'etc', 'passwd'), 'w') as f:
            f.write('root:x:0:0:root:/root:/bin/sh\n')
        with open(os.path.join(root, 'etc', 'group'), 'w') as f:
            f.write('root:x:0:\nadm:x:4:\n')
        subprocess.run([sysusers, '--root', root,
                        os.path.join(ETC, 'sysusers.d', 'glance.conf')],
                       check=True, capture_output=True, timeout=60)
        users = _table(os.path.join(root, 'etc', 'passwd'))
        groups = _table(os.path.join(root, 'etc', 'group'))
        self.assertIn('glance', users)
        self.assertEqual('/var/lib/glance', users['glance'][5])
        self.assertEqual('/usr/sbin/nologin', users['glance'][6])
        glance_uid = int(users['glance'][2])
        glance_gid = int(groups['glance'][2])

        proc = subprocess.run(
            [tmpfiles, '--root', root, '--create',
             os.path.join(ETC, 'tmpfiles.d', 'glance.conf')],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)
        expected = {
            'var/lib/glance': (0o750, glance_gid),
            'var/lib/glance/images': (0o750, glance_gid),
            'var/lib/glance/image-cache': (0o750, glance_gid),
            'var/lib/glance/staging': (0o750, glance_gid),
            'var/log/glance': (0o750, 4),
            'run/glance': (0o755, glance_gid),
        }
        for path, (mode, gid) in expected.items():
            st = os.stat(os.path.join(root, path))
            self.assertEqual((mode, glance_uid, gid),
                             (stat.S_IMODE(st.st_mode), st.st_uid,
                              st.st_gid), path)

    def test_install_stages_configuration_and_directories(self):
        root, _ = self._install()
        for name in ('glance-api.conf', 'glance-api-paste.ini'):
            st = os.stat(os.path.join(root, 'etc', 'glance', name))
            self.assertEqual(0o640, stat.S_IMODE(st.st_mode), name)
        self.assertTrue(os.listdir(os.path.join(root, 'etc', 'glance',
                                                'metadefs')))
        for sub in ('images', 'image-cache', 'staging'):
            self.assertTrue(os.path.isdir(os.path.join(
                root, 'var', 'lib', 'glance', sub)), sub)
        self.assertTrue(os.path.isdir(os.path.join(root, 'var', 'log',
                                                   'glance')))
        for name in ('tmpfiles.d/glance.conf', 'sysusers.d/glance.conf',
                     'logrotate.d/glance'):
            self.assertTrue(os.path.isfile(os.path.join(root, 'etc', name)))
        # An operator's configuration survives a second run.
        conf = os.path.join(root, 'etc', 'glance', 'glance-api.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\nworkers = 3\n')
        self._install()
        with open(conf) as f:
            self.assertEqual('[DEFAULT]\nworkers = 3\n', f.read())

    def test_logrotate_file_parses(self):
        logrotate = self._need('logrotate')
        state = os.path.join(self.workdir, 'logrotate.state')
        proc = subprocess.run(
            [logrotate, '--debug', '--state', state,
             os.path.join(ETC, 'logrotate.d', 'glance')],
            capture_output=True, text=True, timeout=60)
        output = proc.stdout + proc.stderr
        self.assertEqual(0, proc.returncode, output)
        self.assertNotIn('error', output.lower())
        self.assertIn('/var/log/glance/*.log', output)


def _table(path):
    with open(path) as f:
        return {line.split(':')[0]: line.rstrip('\n').split(':')
                for line in f if line.strip()}
