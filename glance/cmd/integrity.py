"""What the mains of glance-auditor and glance-updater share: the
configuration files they read, their command-line options, the start-up
checks, the exit statuses and the run itself (one pass or a daemon)."""

import sys
from typing import Callable, Optional

from oslo_config import cfg
from oslo_log import log as logging

from glance import notifier
from glance import version
from glance.cmd import startup
from glance.common import exception
from glance.db import session
from glance.integrity import options
from glance.integrity import walk

CONF = cfg.CONF

# Exit statuses beyond those of glance.cmd.startup (1 database, 3 store,
# 4 and 5 option values, 99 other; 2 is wrong usage).
FOUND = 6
EXIT_TEXT = ('Exit status: 0 the pass found nothing wrong (or, as a daemon, '
             'stopped on SIGTERM); 6 it found something to report (see the '
             'summary); 1 the database cannot be reached; 3 a store cannot '
             'be used as configured; 4 a value the code refuses; 5 an '
             'option of the wrong type; 2 wrong usage; 99 anything else.')
FILES_TEXT = ('Reads glance-api.conf and then %(prog)s.conf (from ~/.glance, '
              '~/, /etc/glance or /etc), or the files --config-file names: '
              'the database, the stores, hashing_algorithm and the '
              'notification driver are the API service\'s.')

common_cli_opts = [
    cfg.BoolOpt('once', default=False,
                help='One pass, then exit (default: a pass every interval '
                     'until SIGTERM).'),
    cfg.StrOpt('image-id', metavar='IMAGE_ID',
               help='Only this image (with --once).'),
    cfg.BoolOpt('json', default=False,
                help='Print the summary of the pass as JSON.'),
    cfg.BoolOpt('progress', default=None,
                help='Show a progress bar (default: when stderr is a '
                     'terminal).'),
]


def parse(prog: str, description: str, extra_cli: list,
          argv: Optional[list]) -> None:
    options.register_opts(CONF)
    CONF.register_cli_opts(common_cli_opts + extra_cli)
    defaults = (cfg.find_config_files('glance', 'glance-api')
                + cfg.find_config_files('glance', prog))
    epilog = FILES_TEXT % {'prog': prog} + ' ' + EXIT_TEXT
    CONF(sys.argv[1:] if argv is None else argv, project='glance',
         prog=prog, version=version.VERSION,
         default_config_files=defaults, description=description,
         epilog=epilog)


def checks(wait: bool) -> None:
    """The start-up checks of a walker (see ``walk.Walker.prepare``)."""
    startup.check_options()
    if session.remote_factory() is not None:
        # Leases and conditional fills are not among the registry's
        # commands: these processes run where the database is.
        raise RuntimeError('data_api = %s: glance-auditor and '
                           'glance-updater need the database itself '
                           '([database] connection, data_api = '
                           'glance.db.api)' % CONF.data_api)
    startup.check_database(wait=wait)


def run(prog: str, make: Callable[[], walk.Walker]) -> int:
    """Run the walker ``make`` builds as the command line asks; returns
    the exit status."""
    logging.setup(CONF, 'glance')
    if CONF.image_id and not CONF.once:
        sys.stderr.write('ERROR: --image-id needs --once.\n')
        return 2
    try:
        walker = make()
        if not CONF.once:
            return walker.run_forever()
        walker.prepare(wait=False)
        summary = walker.run_once()
    except exception.GlanceError as e:
        sys.stderr.write('ERROR: %s: %s\n' % (prog, e))
        return 1
    except Exception as e:
        sys.stderr.write('ERROR: %s: %s\n' % (prog, e))
        return startup.exit_code(e)
    finally:
        notifier.flush(5)
    summary.write(sys.stdout, CONF.json, prog)
    return FOUND if summary.findings else 0
