"""glance-scrubber: removes the data of pending_delete images.

    glance-scrubber [--config-file F]             one pass, then exit
    glance-scrubber --daemon [--config-file F]    a pass every wakeup_time
    glance-scrubber --restore IMAGE_ID            pending_delete -> active

As a daemon under a systemd unit of Type=notify it reports READY once the
database and the stores answer, STOPPING on SIGTERM, and pings the
watchdog when the unit sets WatchdogSec.
"""

import signal
import sys
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
from glance.common import exception
from glance.common import startup
from glance.common import systemd
from glance import scrubber
from glance.store import registry

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

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
                      prog='glance-scrubber', default_config_files=defaults)
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
        done = scrubber.scrub_once()
        print('Scrubbed %d images.' % len(done))
        return 0
    return run_daemon()


def run_daemon():
    try:
        startup.check_options()
        startup.check_database()
        registry.configure()
    except Exception as e:
        sys.stderr.write('ERROR: %s\n' % e)
        return startup.exit_code(e)
    stop = threading.Event()

    def on_stop(signum, frame):
        systemd.stopping('Stopping')
        stop.set()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_stop)
    LOG.info('glance-scrubber running every %ss', CONF.wakeup_time)
    systemd.ready('Scrubbing every %ss' % CONF.wakeup_time)
    while not stop.is_set():
        try:
            scrubber.scrub_once()
        except Exception:
            LOG.exception('Scrubber pass failed')
        _pause(stop, CONF.wakeup_time)
    return 0


def _pause(stop, seconds):
    """Wait ``seconds`` or until ``stop``, pinging the watchdog if any."""
    every = systemd.watchdog_interval()
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if every:
            systemd.ping()
        stop.wait(min(left, every) if every else left)


if __name__ == '__main__':
    sys.exit(main())
