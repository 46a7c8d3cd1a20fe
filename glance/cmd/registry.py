"""glance-registry: the deprecated internal image metadata service.

Serves ``POST /rpc`` (``glance.registry.rpc``) for glance-api configured
with ``data_api = glance.registry.client``, on the same daemon code as
glance-api: pre-forked workers, SIGHUP reload, SIGTERM drain, sd_notify,
TLS. Listens on 127.0.0.1:9191 unless told otherwise.
"""

import os

os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')

import eventlet  # noqa: E402

eventlet.monkey_patch(os=False)

import signal  # noqa: E402
import sys  # noqa: E402

from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402

from glance.cmd import startup  # noqa: E402
from glance.common import config  # noqa: E402
from glance.common import server  # noqa: E402
from glance.db import session  # noqa: E402
from glance.registry import auth  # noqa: E402

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

PROG = 'glance-registry'
DEFAULT_HOST = '127.0.0.1'
DEFAULT_PORT = 9191
ACCESS_LOG_LEVEL = 'eventlet.wsgi.server=WARN'
DEPRECATION = ('glance-registry is deprecated: upstream removed it in '
               'Ussuri. Configure glance-api with data_api = glance.db.api '
               'and its [database] connection, then stop this service.')
EPILOG = ('Reads glance-registry.conf and the paste pipelines of '
          'glance-registry-paste.ini (flavors: none, keystone, '
          'trusted-auth). Calls are not logged one by one unless '
          'default_log_levels sets eventlet.wsgi.server=INFO. Signals as '
          'glance-api: SIGTERM stops after the '
          'calls under way end, SIGHUP reloads the configuration and the '
          'pipeline. Exit status: 0 stopped on SIGTERM or SIGINT; 1 cannot '
          'bind, paste file or database unreachable, or no authentication '
          'on an address other than loopback; 4 a value the code refuses; '
          '5 an option of the wrong type; 99 anything else; 2 wrong usage.')


def load_app():
    return config.load_paste_app(PROG)


def check_exposure():
    problem = auth.exposure_problem(CONF)
    if problem:
        raise RuntimeError(problem)


def reload_config():
    CONF.reload_config_files()
    check_exposure()
    logging.setup(CONF, 'glance')


def main(argv=None):
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {
        signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR2})
    try:
        CONF.set_default('bind_host', DEFAULT_HOST)
        CONF.set_default('bind_port', DEFAULT_PORT)
        # glance-api logs each request it serves; a line for each of its
        # calls here would cost the registry a quarter of its time.
        logging.set_defaults(default_log_levels=(
            logging.get_default_log_levels() + [ACCESS_LOG_LEVEL]))
        config.parse_args(sys.argv[1:] if argv is None else argv,
                          prog=PROG, epilog=EPILOG)
        logging.setup(CONF, 'glance')
        LOG.warning(DEPRECATION)
        srv = server.Server(load_app, reload_config,
                            before_serving=session.dispose,
                            name='glance-registry')
        srv.workers
        check_exposure()
        session.wait_for_database()
        srv.start()
    except Exception as e:
        sys.stderr.write('ERROR: %s\n' % e)
        return startup.exit_code(e)
    return srv.run()


if __name__ == '__main__':
    sys.exit(main())
