"""glance-manage: database administration.

    glance-manage [--config-file FILE] db {sync,version,check,upgrade,
        version_control,expand,migrate,contract,purge,purge_images_table,
        load_metadefs,unload_metadefs,export_metadefs}

The legacy spellings (db_sync, db_version, ...) work too.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
from glance.db import migration

CONF = cfg.CONF


def do_sync(args):
    migration.sync()
    print('Database is synced successfully.')


def do_version(args):
    heads = migration.current_heads()
    if not heads:
        print('Database is not under migration control; run '
              '"glance-manage db sync".')
        return 0
    print(', '.join(sorted(heads)))


def do_check(args):
    code = migration.check()
    print({migration.CURRENT: 'Database is up to date. No migrations '
                              'needed.',
           migration.NEED_EXPAND: 'Your database is not up to date. Your '
                                  'first step is to run "glance-manage db '
                                  'expand".',
           migration.NEED_MIGRATE: 'Your database is not up to date. Your '
                                   'next step is to run "glance-manage db '
                                   'migrate".',
           migration.NEED_CONTRACT: 'Your database is not up to date. Your '
                                    'next step is to run "glance-manage db '
                                    'contract".'}[code])
    return code


def do_upgrade(args):
    migration.upgrade(args.version or 'heads')
    print('Upgraded database to: %s'
          % ', '.join(sorted(migration.current_heads())))


def do_version_control(args):
    migration.stamp(args.version or 'base01')


def do_expand(args):
    migration.expand()
    print('Database expansion is up to date.')


def do_migrate(args):
    count = migration.migrate()
    print('Migrated %d rows.' % count)


def do_contract(args):
    migration.contract()
    print('Database is up to date. No migrations needed.')


def do_purge(args):
    counts = migration.purge(args.age_in_days, args.max_rows)
    for table, count in sorted(counts.items()):
        print('Purged %d rows from %s' % (count, table))


def do_purge_images_table(args):
    counts = migration.purge_images(args.age_in_days, args.max_rows)
    print('Purged %d rows from images' % counts['images'])


def _catalog():
    # Imported on use: it brings in policy and schema code the schema
    # commands do not need.
    from glance.domain.metadefs import catalog as metadef_catalog
    return metadef_catalog


def do_load_metadefs(args):
    loaded, skipped, errors = _catalog().load(
        args.path or args.legacy_path, merge=args.merge,
        prefer_new=args.prefer_new, overwrite=args.overwrite)
    print('Loaded %d namespaces, skipped %d that already exist.'
          % (len(loaded), len(skipped)))
    for error in errors:
        sys.stderr.write('ERROR: %s\n' % error)
    return 1 if errors else 0


def do_unload_metadefs(args):
    _catalog().unload()
    print('Removed every metadata definition.')


def do_export_metadefs(args):
    written = _catalog().export(args.path or args.legacy_path)
    print('Exported %d namespaces.' % len(written))


ACTIONS = {
    'sync': do_sync, 'version': do_version, 'check': do_check,
    'upgrade': do_upgrade, 'version_control': do_version_control,
    'expand': do_expand, 'migrate': do_migrate, 'contract': do_contract,
    'purge': do_purge, 'purge_images_table': do_purge_images_table,
    'load_metadefs': do_load_metadefs,
    'unload_metadefs': do_unload_metadefs,
    'export_metadefs': do_export_metadefs,
}


def _add_action(sub, name, prefix=''):
    parser = sub.add_parser(prefix + name)
    if name in ('sync', 'upgrade', 'version_control'):
        parser.add_argument('version', nargs='?')
        parser.add_argument('--version', dest='version')
    if name in ('purge', 'purge_images_table'):
        default_age = 30 if name == 'purge' else 180
        parser.add_argument('--age_in_days', type=int, default=default_age)
        parser.add_argument('--max_rows', type=int, default=100)
    if name in ('load_metadefs', 'export_metadefs'):
        # The legacy spelling takes the path as its first argument.
        parser.add_argument('legacy_path', nargs='?')
        parser.add_argument('--path', dest='path')
    if name == 'load_metadefs':
        for flag in ('merge', 'prefer_new', 'overwrite'):
            parser.add_argument('--' + flag, action='store_true')
    parser.set_defaults(action=name)


def add_command_parsers(subparsers):
    db = subparsers.add_parser('db')
    db_sub = db.add_subparsers(dest='action_name')
    for name in ACTIONS:
        _add_action(db_sub, name)
    for name in ACTIONS:
        _add_action(subparsers, name, prefix='db_')


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    defaults = (cfg.find_config_files('glance', 'glance-api')
                + cfg.find_config_files('glance', 'glance-manage'))
    try:
        config.parse_args(argv, prog='glance-manage',
                          default_config_files=defaults)
    except SystemExit as e:
        return e.code
    logging.setup(CONF, 'glance')
    action = getattr(CONF.command, 'action', None)
    if action is None:
        sys.stderr.write(__doc__)
        return 2
    try:
        return ACTIONS[action](CONF.command) or 0
    except (RuntimeError, ValueError) as e:
        sys.stderr.write('ERROR: %s\n' % e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
