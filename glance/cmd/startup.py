"""What the console scripts check before a daemon declares itself ready,
and the exit status of each kind of start-up failure.

Shared by glance-api, glance-scrubber and glance-status; it lives next to
them because the checks reach the database and the stores, which the
modules of ``glance.common`` never import.

The exit codes are upstream glance-api's, so that init scripts and
monitoring written for it read them the same way:

====  ===========================================================
1     RuntimeError: cannot bind, paste file or database unreachable
2     WorkerCreationFailure (kept for compatibility; not raised here)
3     BadStoreConfiguration: a store cannot be used as configured
4     ValueError: a value that passes the file parser but not the code
5     ConfigFileValueError: an option has a value of the wrong type
99    anything else
====  ===========================================================
"""

from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import unused_options
from glance.db import session
from glance.domain.images import leases
from glance.store import exceptions as store_exceptions
from glance.store import options as store_options
from glance.store import registry  # noqa: F401  (registers the store options)

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

OTHER = 99
# Most specific last: ConfigFileValueError is a ValueError.
EXIT_CODES = ((RuntimeError, 1),
              (store_exceptions.BadStoreConfiguration, 3),
              (ValueError, 4),
              (cfg.ConfigFileValueError, 5))


def exit_code(error):
    """The exit status for ``error`` raised while starting."""
    for cls, code in reversed(EXIT_CODES):
        if isinstance(error, cls):
            return code
    return OTHER


def check_options(conf=CONF):
    """Read every option once, store options included (those of stores
    not enabled too), so that a value of the wrong type stops the start
    (ConfigFileValueError) instead of the first request or the shutdown
    that reads it."""
    for group, opts in store_options.list_api_opts():
        for opt in opts:
            try:
                getattr(conf[group] if group else conf, opt.dest)
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                pass   # registered later, where it is used (stores)


def report_unused_options(conf=CONF):
    """Log once each option of the configuration files this service does
    not use (an upstream glance-api.conf sets many): ignored, not an
    error. Run once the pipeline is loaded, so that the options of the
    libraries it loaded count as used."""
    unused_options.report(conf,
                          unused_options.listed(store_options.list_api_opts()))


def check_database(wait=True):
    """Connect to ``[database] connection``; RuntimeError (exit status 1)
    naming the database if that fails, so the service is not reported
    ready without it. With ``wait``, a server that cannot be reached yet
    is given ``[database] max_retries`` x ``retry_interval`` seconds.
    Through glance-registry (``data_api``) there is no database here: a
    registry not answering yet makes requests 503 until it does."""
    if session.remote_factory() is not None:
        return
    if wait:
        session.wait_for_database()
    else:
        session.wait_for_database(max_retries=0)


def recover_writes():
    """Undo the uploads and stages whose process died (on this node: at
    once, e.g. after a crash of the whole service or host), and remove
    partial files nobody writes, before the service declares itself
    ready. The workers go on doing so now and then
    (``leases.recovery_loop``). A failure here is logged, not fatal."""
    try:
        recovered = leases.recover()
    except Exception as e:
        LOG.warning('Could not recover interrupted uploads at start: %s', e)
        return
    finally:
        # The sweep used eventlet's thread pool: its threads would not be
        # there in the workers forked next, which must start their own.
        tpool.killall()
    if recovered:
        LOG.info('Put back to queued after their upload died: %s',
                 ', '.join(recovered))
