"""glance-api: the standalone Image API daemon."""

import os

# eventlet's own DNS resolver pulls in dnspython and, through it, the
# cryptography stack: about 8 MiB in every process. Names are resolved by
# the system resolver instead (in a real thread where it matters, see
# glance.common.url_filter). Set EVENTLET_NO_GREENDNS=no to keep it.
os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')

import eventlet  # noqa: E402

eventlet.monkey_patch(os=False)

import signal  # noqa: E402
import sys  # noqa: E402

from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402

from glance import notifier  # noqa: E402
from glance.api import pipeline  # noqa: E402
from glance.cmd import startup  # noqa: E402
from glance.common import config  # noqa: E402
from glance.common import server  # noqa: E402
from glance.db import session  # noqa: E402

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

EPILOG = ('Signals: SIGTERM stops after the requests under way end (at '
          'most graceful_shutdown_timeout seconds); SIGHUP reloads the '
          'configuration files, the paste pipeline and the policy, '
          'replacing the workers; SIGUSR2 makes a worker log the stack of '
          'each of its green threads. Exit status: 0 stopped on SIGTERM or '
          'SIGINT; 1 cannot bind, paste file or database unreachable, or '
          'an unauthenticated paste flavor on an address other than '
          'loopback; 3 a store cannot be used as configured; 4 a value the '
          'code refuses; 5 an option of the wrong type or a broken paste '
          'pipeline; 99 anything else; 2 wrong usage.')


def reload_config():
    from glance.domain import policy
    from glance.domain import schema
    CONF.reload_config_files()
    # A reload that would expose an unauthenticated flavor fails: the
    # running workers keep serving.
    pipeline.check_exposure(CONF)
    config.set_config_defaults()
    logging.setup(CONF, 'glance')
    policy.reset()
    schema.reset()
    startup.report_unused_options()


def _lighter_log_records():
    """Log records skip the thread and process names: no default format
    shows them, and asking eventlet for the current thread costs more than
    a third of every record (one per request, for the access line)."""
    import logging as stdlib_logging
    stdlib_logging.logThreads = False
    stdlib_logging.logMultiprocessing = False


def main(argv=None):
    # A parent (a test runner, a shell) may have blocked signals the daemon
    # relies on; the mask survives exec.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {
        signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR2})
    try:
        _lighter_log_records()
        config.parse_api_args(sys.argv[1:] if argv is None else argv,
                              epilog=EPILOG)
        config.set_config_defaults()
        logging.setup(CONF, 'glance')
        from glance.domain.images import leases
        from glance.imports import flow as import_flow
        srv = server.Server(config.load_paste_app, reload_config,
                            background=[import_flow.reaper_loop,
                                        leases.recovery_loop],
                            # Connections of the parent's engine are not
                            # shared with the workers.
                            before_serving=session.dispose,
                            # Notifications still queued at SIGTERM are
                            # sent within the drain bound.
                            after_serving=notifier.flush,
                            # Loads the options of every library: after
                            # the workers are serving.
                            after_ready=startup.report_unused_options)
        # Invalid values fail here, with the exit code of ValueError.
        srv.workers
        pipeline.check_exposure(CONF)
        # Ready means database, stores and pipeline (loaded by start()).
        startup.check_options()
        startup.check_database()
        # The notification options come with oslo.messaging and its
        # dependencies (some 150 modules): imported here, before the
        # workers fork, they are shared instead of loaded by each worker
        # at its first notification.
        notifier.drivers()
        srv.start()
        # After the pipeline is loaded (with the stores it configured) and
        # before the workers fork: nothing is served before this ends.
        startup.recover_writes()
    except Exception as e:
        sys.stderr.write('ERROR: %s\n' % e)
        return startup.exit_code(e)
    return srv.run()


if __name__ == '__main__':
    sys.exit(main())
