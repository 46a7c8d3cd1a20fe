"""glance-scrubber: removes the data of pending_delete images.

    glance-scrubber [--config-file F]             one pass, then exit
    glance-scrubber --daemon [--config-file F]    a pass every wakeup_time
    glance-scrubber --restore IMAGE_ID            pending_delete -> active

As a daemon under a systemd unit of Type=notify it reports READY once the
database and the stores answer, STOPPING on SIGTERM, and pings the
watchdog when the unit sets WatchdogSec.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance import scrubber
from glance.cmd import startup
from glance.common import config
from glance.common import daemon
from glance.common import exception
from glance.store import registry

CONF = cfg.CONF

EPILOG = ('Without --daemon, one pass removes the data of every '
          'pending_delete image older than scrub_time seconds, then the '
          'command exits. Exit status: 0 done (or, with --daemon, stopped '
          'on SIGTERM); 1 --restore failed or was used with --daemon, or '
          'the database cannot be reached; 3 a store cannot be used as '
          'configured; 4 a value the code refuses; 5 an option of the '
          'wrong type; 99 anything else; 2 wrong usage.')

cli_opts = [
    cfg.BoolOpt('daemon', short='D', default=False,
                help='Run a pass every wakeup_time seconds until stopped.'),
    cfg.StrOpt('restore', metavar='IMAGE_ID',
               help='Restore this pending_delete image to active.'),
]


def main(argv=None):
    CONF.register_cli_opts(cli_opts)
    defaults = (cfg.find_config_files('glance', 'glance-api')
                + cfg.find_config_files('glance', 'glance-scrubber'))
    config.parse_args(sys.argv[1:] if argv is None else argv,
                      prog='glance-scrubber', default_config_files=defaults,
                      epilog=EPILOG)
    logging.setup(CONF, 'glance')
    if CONF.restore and CONF.daemon:
        sys.stderr.write('ERROR: --restore and --daemon cannot be used '
                         'together.\n')
        return 1
    if CONF.restore:
        try:
            scrubber.restore(CONF.restore)
        except exception.GlanceError as e:
            sys.stderr.write('ERROR: %s\n' % e)
            return 1
        print('Image %s restored.' % CONF.restore)
        return 0
    if not CONF.daemon:
        done = ScrubberDaemon().run_once()
        print('Scrubbed %d images.' % len(done))
        return 0
    return run_daemon()


class ScrubberDaemon(daemon.Daemon):
    """glance-scrubber --daemon: a scrubber pass every wakeup_time."""

    name = 'glance-scrubber'
    # SIGHUP keeps its default action (the process ends).
    reload_on_sighup = False

    @property
    def interval(self):
        return CONF.wakeup_time

    def prepare(self):
        """Ready means the options, the database and the stores work."""
        startup.check_options()
        startup.check_database()
        registry.configure()

    def status(self):
        return 'Scrubbing every %ss' % self.interval

    def run_pass(self):
        return scrubber.scrub_once()


def run_daemon():
    try:
        return ScrubberDaemon().run_forever()
    except Exception as e:
        # Passes that fail are logged by the daemon: what comes here
        # stopped the start.
        sys.stderr.write('ERROR: %s\n' % e)
        return startup.exit_code(e)


if __name__ == '__main__':
    sys.exit(main())
