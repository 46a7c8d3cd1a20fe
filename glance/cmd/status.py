"""glance-status: checks to run before (re)starting an upgraded service.

    glance-status [--config-file F] upgrade check [--json]
    glance-status --version

Reads glance-api.conf like glance-api does. Exit status: 0 every check
passed, 1 a warning, 2 a failure, 255 a check itself crashed.
"""

import sys

from oslo_config import cfg
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck

from glance.cmd import startup
from glance.common import config

CONF = cfg.CONF
Code = upgradecheck.Code
Result = upgradecheck.Result


def _store_types(conf):
    if conf.enabled_backends:
        return sorted({(kind or '').strip()
                       for kind in conf.enabled_backends.values()})
    return sorted({kind.strip() for kind in conf.glance_store.stores})


class Checks(upgradecheck.UpgradeCommands):

    def _check_database(self):
        from glance.db import migration
        try:
            # A check reports what it finds now: no waiting for a
            # server that is not up.
            startup.check_database(wait=False)
            state = migration.check()
        except Exception as e:
            return Result(Code.FAILURE, str(e))
        if state == migration.CURRENT:
            return Result(Code.SUCCESS)
        if state == migration.NEED_EXPAND:
            return Result(Code.FAILURE,
                          'The database schema is older than this release: '
                          'run "glance-manage db sync" (or "db expand", '
                          '"db migrate" and "db contract" for a rolling '
                          'upgrade).')
        if state == migration.NEED_MIGRATE:
            return Result(Code.WARNING,
                          'Data migrations are pending: run "glance-manage '
                          'db migrate", then "db contract".')
        return Result(Code.WARNING,
                      'The database is expanded but not contracted: run '
                      '"glance-manage db contract" once every glance-api '
                      'runs this release.')

    def _check_store_drivers(self):
        # A type whose driver is gone (sheepdog, removed upstream in
        # Ussuri, or a plugin that is not installed) stops glance-api.
        from glance.store import registry
        missing = []
        for kind in _store_types(CONF):
            try:
                registry.driver_class(kind)
            except Exception as e:
                missing.append(str(e))
        if missing:
            return Result(Code.FAILURE, '; '.join(missing))
        return Result(Code.SUCCESS)

    def _check_exposure(self):
        # glance-api refuses to start in this case: say it before.
        from glance.api import pipeline
        problem = pipeline.exposure_problem(CONF)
        if problem:
            return Result(Code.FAILURE, problem)
        return Result(Code.SUCCESS)

    _upgrade_checks = (
        ('Database schema', _check_database),
        ('Unauthenticated API exposure', _check_exposure),
        ('Store drivers', _check_store_drivers),
        ('Policy File JSON to YAML Migration',
         (common_checks.check_policy_json, {'conf': CONF})),
    )


EPILOG = ('Exit status of "upgrade check": 0 every check passed; 1 a '
          'warning (the upgrade can go on, something is left to do); 2 a '
          'failure (fix it before starting the services); 255 a check '
          'crashed. 2 is also wrong usage.')


def add_command_parsers(subparsers):
    upgrade = subparsers.add_parser(
        'upgrade', help='checks for an upgrade (see "upgrade --help")',
        description='Checks for an upgrade.', epilog=EPILOG)
    actions = upgrade.add_subparsers(dest='upgrade_action', metavar='ACTION',
                                     title='actions', required=True,
                                     help='one of:')
    check = actions.add_parser(
        'check', help='run every check and print a table of the results',
        description='Run every check: %s. Exit status: 0 passed, 1 a '
                    'warning, 2 a failure, 255 a check crashed.'
                    % ', '.join(name.lower() for name, _
                                in Checks._upgrade_checks))
    check.add_argument('--json', action='store_true',
                       help='print the results as JSON instead of a table')
    check.set_defaults(action_fn=Checks().check)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                help='the only command: upgrade check',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    defaults = cfg.find_config_files('glance', 'glance-api')
    config.parse_args(sys.argv[1:] if argv is None else argv,
                      prog='glance-status', default_config_files=defaults,
                      epilog=EPILOG)
    # The library's table or JSON output reads --json from its own CONF.
    upgradecheck.CONF = CONF
    return upgradecheck.run(CONF)


if __name__ == '__main__':
    sys.exit(main())
