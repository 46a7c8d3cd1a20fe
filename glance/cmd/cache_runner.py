"""What glance-cache-prefetcher, -pruner and -cleaner share: the command
line, the configuration files (glance-api.conf, then glance-cache.conf,
which wins), one pass or --daemon, and the exit status."""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance.cmd import startup
from glance.common import config

CONF = cfg.CONF

EPILOG = ('Without --daemon, one pass, then the command exits (a systemd '
          'timer or cron runs it). It is safe while glance-api serves. '
          'Exit status: 0 done (or, with --daemon, stopped on SIGTERM); 1 '
          'the cache directory or the database cannot be used; 3 a store '
          'cannot be used as configured; 4 a value the code refuses (such '
          'as no image_cache_dir); 5 an option of the wrong type; 99 '
          'anything else; 2 wrong usage.')

cli_opts = [
    cfg.BoolOpt('daemon', short='D', default=False,
                help='Run a pass every cache_prefetcher_interval seconds '
                     'until stopped.'),
]


def main(job_class, argv=None, report=None):
    prog = 'glance-cache-%s' % job_class.job
    CONF.register_cli_opts(cli_opts)
    defaults = (cfg.find_config_files('glance', 'glance-api')
                + cfg.find_config_files('glance', 'glance-cache'))
    config.parse_args(sys.argv[1:] if argv is None else argv, prog=prog,
                      default_config_files=defaults, epilog=EPILOG)
    logging.setup(CONF, 'glance')
    job = job_class()
    try:
        if CONF.daemon:
            return job.run_forever()
        job.prepare()
        result = job.run_once()
    except Exception as e:
        sys.stderr.write('ERROR: %s: %s\n' % (prog, e))
        return startup.exit_code(e)
    if report is not None:
        print(report(result))
    return 0
