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
from glance.db import takeover

CONF = cfg.CONF


def do_sync(args):
    migration.sync()
    print('Database is synced successfully.')


def do_version(args):
    chain, rows = migration.state()
    if chain == 'upstream':
        print('This project: none yet; the database was last migrated by '
              '%s. Run "glance-manage db sync" to take it over.'
              % takeover.describe(rows))
        return 0
    heads = migration.current_heads()
    if not heads:
        print('Database is not under migration control; run '
              '"glance-manage db sync".')
        return 0
    print(', '.join(sorted(heads)))
    upstream = migration.taken_over_from()
    if upstream:
        print('Taken over from %s.' % takeover.describe(upstream))


def do_check(args):
    chain, rows = migration.state()
    if chain == 'upstream':
        print('Your database was last migrated by %s. Your next step is '
              'to run "glance-manage db sync" (or, for a rolling upgrade, '
              '"glance-manage db expand"), which takes it over.'
              % takeover.describe(rows))
        return migration.NEED_EXPAND
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


# Summary (the subcommand list) and description (its own --help).
HELP = {
    'sync': ('create or upgrade the schema to the newest version',
             'Run every migration not applied yet (expand, data migrations '
             'and contract) up to VERSION, by default the newest. Use it '
             'for a new database or an upgrade with the service stopped. '
             'A database last migrated by upstream Glance (2023.1 or '
             'later) is taken over, keeping every row.'),
    'version': ('print the schema version(s) of the database',
                'Print the revision of each migration branch the database '
                'is at, or say it is not under migration control. A '
                'database last migrated by upstream Glance is named as '
                'such (and, once taken over, the upstream revisions it '
                'was taken over from).'),
    'check': ('say which step of a rolling upgrade is due',
              'Exit status 0: up to date; 3: run "db expand"; 4: run '
              '"db migrate"; 5: run "db contract".'),
    'upgrade': ('same as sync',
                'Apply the migrations up to VERSION (default: the newest).'),
    'version_control': ('mark the database as being at VERSION',
                        'Record VERSION (default: the first revision) '
                        'without running any migration: for a database '
                        'whose schema was made by other means.'),
    'expand': ('add what the new release needs (rolling upgrade, step 1)',
               'Add the new tables, columns and indexes; the running '
               'services of the previous release keep working.'),
    'migrate': ('move the data to the new schema (rolling upgrade, step 2)',
                'Copy the rows the new release reads in its new places; '
                'prints how many rows moved.'),
    'contract': ('remove what the old release needed (rolling upgrade, '
                 'step 3)',
                 'Drop what only the previous release used. Run it once '
                 'every glance-api runs the new release.'),
    'purge': ('hard-delete soft-deleted rows of every table',
              'Remove rows deleted more than --age_in_days days ago, at '
              'most --max_rows of each table.'),
    'purge_images_table': ('hard-delete soft-deleted image rows',
                           'Remove image rows deleted more than '
                           '--age_in_days days ago, at most --max_rows.'),
    'load_metadefs': ('load the metadata definitions catalog',
                      'Load every *.json namespace file of PATH (default '
                      '[DEFAULT] metadata_source_path). A namespace that '
                      'exists already is skipped unless --merge. Exit '
                      'status 1 when a file could not be loaded.'),
    'unload_metadefs': ('remove every metadata definition',
                        'Delete every namespace with its objects, '
                        'properties, tags and resource type associations.'),
    'export_metadefs': ('write the metadata definitions to files',
                        'Write one *.json file per namespace into PATH '
                        '(default [DEFAULT] metadata_source_path).'),
}

EPILOG = ('Exit status: 0 done; 1 the command failed (the reason is on '
          'stderr); 2 wrong usage; "db check" also 3, 4 or 5 (see "db '
          'check --help").')


def _add_action(sub, name, prefix=''):
    summary, description = HELP[name]
    if prefix:
        summary = 'same as "db %s"' % name
    parser = sub.add_parser(prefix + name, help=summary,
                            description=description, epilog=EPILOG)
    if name in ('sync', 'upgrade', 'version_control'):
        parser.add_argument('version', nargs='?', metavar='VERSION',
                            help='migration revision (also --version)')
        parser.add_argument('--version', dest='version', metavar='VERSION',
                            help='migration revision')
    if name in ('purge', 'purge_images_table'):
        default_age = 30 if name == 'purge' else 180
        parser.add_argument('--age_in_days', type=int, default=default_age,
                            help='only rows deleted at least this many days '
                                 'ago (default %(default)s)')
        parser.add_argument('--max_rows', type=int, default=100,
                            help='at most this many rows per table, -1 for '
                                 'no limit (default %(default)s)')
    if name in ('load_metadefs', 'export_metadefs'):
        # The legacy spelling takes the path as its first argument.
        parser.add_argument('legacy_path', nargs='?', metavar='PATH',
                            help='directory of the *.json files (also '
                                 '--path)')
        parser.add_argument('--path', dest='path', metavar='PATH',
                            help='directory of the *.json files')
    if name == 'load_metadefs':
        parser.add_argument('--merge', action='store_true',
                            help='add to a namespace that exists already '
                                 'what it lacks')
        parser.add_argument('--prefer_new', action='store_true',
                            help='with --merge: the file wins where both '
                                 'define something')
        parser.add_argument('--overwrite', action='store_true',
                            help='with --merge: replace the namespace\'s '
                                 'content with the file\'s')
    parser.set_defaults(action=name)


def add_command_parsers(subparsers):
    db = subparsers.add_parser(
        'db', help='database administration (see "db --help")',
        description='Database schema and content administration. A '
                    'rolling upgrade runs expand, migrate and contract in '
                    'turn; sync does all three at once.', epilog=EPILOG)
    db_sub = db.add_subparsers(dest='action_name', metavar='ACTION',
                               title='actions', help='one of:')
    for name in ACTIONS:
        _add_action(db_sub, name)
    for name in ACTIONS:
        _add_action(subparsers, name, prefix='db_')


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                help='db ACTION, or the legacy db_ACTION '
                                     'spellings',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    # As upstream: glance-api.conf then glance-manage.conf (which wins),
    # and the files of their .conf.d directories.
    defaults = (cfg.find_config_files('glance', 'glance-api')
                + cfg.find_config_files('glance', 'glance-manage'))
    dirs = (cfg.find_config_dirs('glance', 'glance-api')
            + cfg.find_config_dirs('glance', 'glance-manage'))
    try:
        config.parse_args(argv, prog='glance-manage',
                          default_config_files=defaults,
                          default_config_dirs=dirs, epilog=EPILOG)
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
