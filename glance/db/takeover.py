"""Taking over a database last migrated by upstream Glance.

Upstream records its alembic revisions (``liberty``, ``mitaka01``...,
``<release>_expand01`` / ``<release>_contract01``) in the same
``alembic_version`` table this project uses for its own chain. Upstream's
schema from its Wallaby expand and Pike contract steps on (every release
since, up to and including 2024.1, whose expand step only adds the image
cache tables) differs from this project's schema at the revisions in
``BRIDGED_TO`` in a few places only; ``bridge`` makes those changes and
then records the database at ``BRIDGED_TO``, from where this project's
own migrations carry on. Every row stays, soft-deleted rows included;
upstream-only tables (``node_reference``, ``cached_images``, an old
``migrate_version``) are kept as they are.

Upstream's revision rows are not lost: they move to the table
``upstream_alembic_version`` (same shape), which says which upstream
schema the database was taken over from.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import migration
from alembic import operations
from sqlalchemy.dialects import mysql

# Upstream's chain, oldest first. The three linear revisions come first,
# then the two branches.
UPSTREAM_LINEAR = ('liberty', 'mitaka01', 'mitaka02')
UPSTREAM_EXPAND = (
    'ocata_expand01', 'pike_expand01', 'queens_expand01', 'rocky_expand01',
    'rocky_expand02', 'train_expand01', 'ussuri_expand01',
    'wallaby_expand01', 'xena_expand01', 'yoga_expand01', 'zed_expand01',
    '2023_1_expand01', '2024_1_expand01')
UPSTREAM_CONTRACT = (
    'ocata_contract01', 'pike_contract01', 'queens_contract01',
    'rocky_contract01', 'rocky_contract02', 'train_contract01',
    'ussuri_contract01', 'wallaby_contract01', 'xena_contract01',
    'yoga_contract01', 'zed_contract01', '2023_1_contract01',
    '2024_1_contract01')
UPSTREAM_REVISIONS = frozenset(
    UPSTREAM_LINEAR + UPSTREAM_EXPAND + UPSTREAM_CONTRACT)
# The oldest upstream steps the bridge starts from: the tasks columns
# (image_id, request_id, user_id) and no is_public column nor artifacts
# tables.
OLDEST_EXPAND = 'wallaby_expand01'
OLDEST_CONTRACT = 'pike_contract01'
# This project's revisions whose schema the bridge produces.
BRIDGED_TO = ('2026_2_expand02', '2026_2_contract01')
RECORD_TABLE = 'upstream_alembic_version'
VERSION_TABLE = 'alembic_version'

METADEF_TABLES = ('metadef_namespaces', 'metadef_objects',
                  'metadef_properties', 'metadef_tags',
                  'metadef_resource_types',
                  'metadef_namespace_resource_types')
# (table, column, nullable) of the metadef name and text columns, which
# are case-sensitive VARCHAR(80) and MEDIUMTEXT on MySQL here.
METADEF_NAMES = (('metadef_namespaces', 'namespace'),
                 ('metadef_objects', 'name'),
                 ('metadef_properties', 'name'),
                 ('metadef_tags', 'name'),
                 ('metadef_resource_types', 'name'))
METADEF_TEXTS = (('metadef_namespaces', 'description', True),
                 ('metadef_objects', 'description', True),
                 ('metadef_objects', 'required', True),
                 ('metadef_objects', 'json_schema', False),
                 ('metadef_properties', 'json_schema', False))


class TakeoverError(RuntimeError):
    """The database cannot be taken over (nothing was changed)."""


def release_of(revision: str) -> str:
    """``2024_1_contract01`` -> ``2024.1``; ``wallaby_expand01`` ->
    ``wallaby``."""
    name = re.sub(r'_(expand|contract)\d+$', '', revision)
    return re.sub(r'^(\d{4})_(\d)$', r'\1.\2', name)


def read_versions(conn: sa.engine.Connection,
                  table: str = VERSION_TABLE) -> set[str]:
    """The revision rows of ``table`` (empty when it does not exist)."""
    if not sa.inspect(conn).has_table(table):
        return set()
    return {row[0] for row in conn.exec_driver_sql(
        'SELECT version_num FROM %s' % table)}


def is_upstream(versions: set[str]) -> bool:
    return bool(versions) and versions <= UPSTREAM_REVISIONS


def describe(versions: set[str]) -> str:
    """Which upstream schema the revision rows stand for."""
    newest = max(versions, key=_position)
    return 'upstream Glance %s (%s)' % (release_of(newest),
                                        ', '.join(sorted(versions)))


def _position(revision: str) -> int:
    for chain in (UPSTREAM_EXPAND, UPSTREAM_CONTRACT):
        if revision in chain:
            return len(UPSTREAM_LINEAR) + chain.index(revision)
    return UPSTREAM_LINEAR.index(revision)


def check_takeable(versions: set[str]) -> None:
    """Raise TakeoverError unless upstream's rows ``versions`` stand for
    a schema the bridge starts from."""
    expand = [v for v in versions if v in UPSTREAM_EXPAND]
    contract = [v for v in versions if v in UPSTREAM_CONTRACT]
    # A contract step depends on the expand step of its release: a lone
    # contract row means that expand step ran too.
    expand_level = max([UPSTREAM_EXPAND.index(v) for v in expand]
                       + [UPSTREAM_CONTRACT.index(v) for v in contract]
                       + [-1])
    contract_level = max([UPSTREAM_CONTRACT.index(v) for v in contract]
                         + [-1])
    if (expand_level < UPSTREAM_EXPAND.index(OLDEST_EXPAND)
            or contract_level < UPSTREAM_CONTRACT.index(OLDEST_CONTRACT)):
        raise TakeoverError(
            'The database is at %s, older than this project can take '
            'over: bring it with upstream Glance to 2023.1 or later, '
            'contract step included (its "glance-manage db sync"), '
            'first.' % describe(versions))


def _operations(conn):
    ctx = migration.MigrationContext.configure(
        conn, opts={'render_as_batch': conn.dialect.name == 'sqlite'})
    return operations.Operations(ctx)


def _fill_metadef_nulls(conn):
    ns = sa.table('metadef_namespaces', sa.column('visibility'),
                  sa.column('protected', sa.Boolean))
    conn.execute(ns.update().where(ns.c.visibility.is_(None))
                 .values(visibility='private'))
    conn.execute(ns.update().where(ns.c.protected.is_(None))
                 .values(protected=False))


def _metadef_namespaces_not_null(op):
    with op.batch_alter_table('metadef_namespaces') as batch:
        batch.alter_column('visibility', existing_type=sa.String(32),
                           nullable=False, server_default='private')
        batch.alter_column('protected', existing_type=sa.Boolean(),
                           nullable=False, server_default=sa.false())


def _mysql_metadef_columns(conn):
    """Case-sensitive utf8mb4 names and MEDIUMTEXT texts, as this
    project's metadef tables have on MySQL (upstream's are utf8mb3 with a
    case-insensitive collation)."""
    for table in METADEF_TABLES:
        conn.exec_driver_sql(
            'ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4' % table)
    ddl = conn.dialect.type_compiler_instance
    name_type = ddl.process(mysql.VARCHAR(80, charset='utf8mb4',
                                          collation='utf8mb4_bin'))
    for table, column in METADEF_NAMES:
        conn.exec_driver_sql('ALTER TABLE %s MODIFY %s %s NOT NULL'
                             % (table, column, name_type))
    for table, column, nullable in METADEF_TEXTS:
        conn.exec_driver_sql('ALTER TABLE %s MODIFY %s MEDIUMTEXT %s'
                             % (table, column,
                                'NULL' if nullable else 'NOT NULL'))


def _bridge_schema(conn):
    op = _operations(conn)
    inspector = sa.inspect(conn)
    if 'ix_images_list' not in {i['name'] for i in
                                inspector.get_indexes('images')}:
        op.create_index('ix_images_list', 'images',
                        ['deleted', 'os_hidden', 'created_at', 'id'])
    _fill_metadef_nulls(conn)
    columns = {c['name']: c for c in
               inspector.get_columns('metadef_namespaces')}
    if columns['visibility']['nullable'] or columns['protected']['nullable']:
        _metadef_namespaces_not_null(op)
    if conn.dialect.name in ('mysql', 'mariadb'):
        _mysql_metadef_columns(conn)


def _record(conn, versions):
    """Move upstream's revision rows to RECORD_TABLE and put this
    project's in their place."""
    record = sa.Table(RECORD_TABLE, sa.MetaData(),
                      sa.Column('version_num', sa.String(32),
                                primary_key=True))
    record.create(conn, checkfirst=True)
    conn.execute(record.delete())
    conn.execute(record.insert(), [{'version_num': v}
                                   for v in sorted(versions)])
    version = sa.table(VERSION_TABLE, sa.column('version_num'))
    conn.execute(version.delete())
    conn.execute(version.insert(), [{'version_num': v}
                                    for v in BRIDGED_TO])


def bridge(engine: sa.engine.Engine) -> set[str]:
    """Bring the schema of a database at upstream's revisions to this
    project's at BRIDGED_TO, and return upstream's revision rows.

    Raises TakeoverError, changing nothing, when the rows are not all
    upstream's or stand for too old a schema. On PostgreSQL and SQLite
    the whole bridge is one transaction; on MySQL (where DDL commits)
    every step can be run again, and the revision rows change last, so a
    bridge cut short is finished by running it again.
    """
    with engine.connect() as conn:
        versions = read_versions(conn)
    if not is_upstream(versions):
        raise TakeoverError('The database is not at an upstream Glance '
                            'revision (%s).' % ', '.join(sorted(versions)))
    check_takeable(versions)
    sqlite = engine.dialect.name == 'sqlite'
    with engine.connect() as conn:
        if sqlite:
            # The table rebuild of metadef_namespaces would otherwise
            # trip over the foreign keys that point at it (the pragma
            # cannot change inside a transaction).
            conn.exec_driver_sql('PRAGMA foreign_keys=OFF')
            conn.commit()
        try:
            conn = conn.execution_options(glance_write=True)
            with conn.begin():
                _bridge_schema(conn)
                _record(conn, versions)
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql('PRAGMA foreign_keys=ON')
                conn.commit()
    return versions


def taken_over_from(conn: sa.engine.Connection) -> set[str]:
    """Upstream's revision rows of a database taken over (empty if it
    never was)."""
    return read_versions(conn, RECORD_TABLE)
