"""Schema migrations: alembic with expand and contract branches, plus data
migrations run between them (``glance-manage db ...``)."""

import datetime
import os

import sqlalchemy as sa
from alembic import command
from alembic import config as alembic_config
from alembic import migration
from alembic import script

from glance.common import timeutils
from glance.db import models
from glance.db import session
from glance.db import takeover
from glance.db.migrations.data import location_store_key
from glance.db.migrations.data import lower_case_ids

DATA_MIGRATIONS = [location_store_key, lower_case_ids]
# glance-manage db check exit codes.
CURRENT, NEED_EXPAND, NEED_MIGRATE, NEED_CONTRACT = 0, 3, 4, 5


_reached = set()


def _engine():
    """The engine, once the database server answers: the first use in a
    process waits for it as ``[database] max_retries`` and
    ``retry_interval`` say (glance-manage run by a deployment tool while
    the server is still starting)."""
    url = session.CONF.database.connection
    if url not in _reached:
        session.wait_for_database(url)
        _reached.add(url)
    return session.get_engine()


def _config(conn=None):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', os.path.join(
        os.path.dirname(__file__), 'migrations'))
    cfg.attributes['connection'] = conn
    return cfg


def _script():
    return script.ScriptDirectory.from_config(_config())


def _upgrade(target):
    with _engine().begin() as conn:
        command.upgrade(_config(conn), target)


def _revisions():
    return {rev.revision for rev in _script().walk_revisions()}


def _version_rows():
    with _engine().connect() as conn:
        return takeover.read_versions(conn)


def state():
    """Where the database stands: ``(chain, revisions)`` with ``chain``
    one of ``'none'`` (not under migration control), ``'ours'`` or
    ``'upstream'`` (last migrated by upstream Glance, to be taken over).
    A revision neither chain knows raises RuntimeError."""
    rows = _version_rows()
    if not rows:
        return 'none', rows
    if rows <= _revisions():
        return 'ours', rows
    if takeover.is_upstream(rows):
        return 'upstream', rows
    unknown = sorted(rows - _revisions() - takeover.UPSTREAM_REVISIONS)
    if not unknown:
        raise RuntimeError(
            'The database records revisions of both this project and '
            'upstream Glance (%s); restore it from a backup. Nothing was '
            'changed.' % ', '.join(sorted(rows)))
    raise RuntimeError(
        'The database is at revision %s, which neither this project\'s '
        'migrations nor upstream Glance\'s (up to 2024.1) know (a newer '
        'upstream release?). Nothing was changed.'
        % ', '.join(unknown))


def taken_over_from():
    """Upstream's revisions the database was taken over from, if any."""
    with _engine().connect() as conn:
        return takeover.taken_over_from(conn)


def take_over_if_upstream():
    """Bridge a database last migrated by upstream Glance to this
    project's chain; returns upstream's revisions (empty if there was
    nothing to take over). Refuses, changing nothing, a revision neither
    chain knows."""
    chain, rows = state()
    if chain != 'upstream':
        return set()
    try:
        return takeover.bridge(_engine())
    except takeover.TakeoverError as e:
        raise RuntimeError(str(e))


def current_heads():
    chain, rows = state()
    if chain == 'upstream':
        return set()
    with _engine().connect() as conn:
        return set(migration.MigrationContext.configure(
            conn).get_current_heads())


def _applied():
    chain, rows = state()
    if chain == 'upstream':
        raise RuntimeError('The database was last migrated by %s: run '
                           '"glance-manage db sync" (or "db expand") to '
                           'take it over first.' % takeover.describe(rows))
    scr = _script()
    done = set()
    for head in current_heads():
        for rev in scr.iterate_revisions(head, 'base'):
            done.add(rev.revision)
    return done


def branch_head(label):
    return _script().get_revision('%s@head' % label).revision


def expand():
    take_over_if_upstream()
    _upgrade('expand@head')


def contract():
    if branch_head('expand') not in _applied():
        raise RuntimeError('Run "glance-manage db expand" first.')
    if has_pending_data_migrations():
        raise RuntimeError('Data migrations are pending; run '
                           '"glance-manage db migrate" first.')
    _upgrade('contract@head')


def migrate():
    applied = _applied()
    if branch_head('expand') not in applied:
        raise RuntimeError('Run "glance-manage db expand" first.')
    if branch_head('contract') in applied:
        raise RuntimeError('Database is already contracted; nothing to '
                           'migrate.')
    with _engine().begin() as conn:
        return sum(m.migrate(conn) for m in DATA_MIGRATIONS)


def has_pending_data_migrations():
    with _engine().connect() as conn:
        if not sa.inspect(conn).has_table('image_locations'):
            return False
        return any(m.has_migrations(conn) for m in DATA_MIGRATIONS)


def sync():
    """Offline upgrade: expand, data migrations, contract."""
    expand()
    migrate_if_needed()
    _upgrade('heads')


def migrate_if_needed():
    if has_pending_data_migrations():
        with _engine().begin() as conn:
            for m in DATA_MIGRATIONS:
                m.migrate(conn)


def upgrade(version='heads'):
    take_over_if_upstream()
    _upgrade(version)


def stamp(version):
    chain, rows = state()
    if chain == 'upstream':
        raise RuntimeError('The database was last migrated by %s: run '
                           '"glance-manage db sync" to take it over '
                           'instead.' % takeover.describe(rows))
    with _engine().begin() as conn:
        command.stamp(_config(conn), version)


def check():
    if state()[0] == 'upstream':
        return NEED_EXPAND
    applied = _applied()
    if branch_head('expand') not in applied:
        return NEED_EXPAND
    if has_pending_data_migrations():
        return NEED_MIGRATE
    if branch_head('contract') not in applied:
        return NEED_CONTRACT
    return CURRENT


# Tables purged by "db purge"; images rows are kept longer so their ids are
# never reused (purge_images_table).
PURGE_TABLES = [models.image_properties, models.image_tags,
                models.image_locations, models.image_members]


def purge(age_in_days=30, max_rows=100, tables=None):
    """Hard-delete soft-deleted rows older than ``age_in_days``."""
    if age_in_days < 0:
        raise ValueError('Must supply a non-negative value for age.')
    if max_rows < -1:
        raise ValueError('max_rows must be -1 or a non-negative number.')
    cutoff = timeutils.utcnow() - datetime.timedelta(days=age_in_days)
    counts = {}
    with _engine().begin() as conn:
        if tables is None:
            doomed = sa.select(models.tasks.c.id).where(
                models.tasks.c.deleted == sa.true(),
                models.tasks.c.deleted_at < cutoff)
            if max_rows != -1:
                doomed = doomed.limit(max_rows)
            task_ids = [r.id for r in conn.execute(doomed)]
            if task_ids:
                conn.execute(models.task_info.delete().where(
                    models.task_info.c.task_id.in_(task_ids)))
                conn.execute(models.tasks.delete().where(
                    models.tasks.c.id.in_(task_ids)))
            counts['tasks'] = len(task_ids)
        for table in tables if tables is not None else PURGE_TABLES:
            ids = sa.select(table.c.id).where(
                table.c.deleted == sa.true(), table.c.deleted_at < cutoff)
            if max_rows != -1:
                ids = ids.limit(max_rows)
            id_list = [r.id for r in conn.execute(ids)]
            if table is models.images and id_list:
                for child in PURGE_TABLES:
                    conn.execute(child.delete().where(
                        child.c.image_id.in_(id_list)))
            if id_list:
                conn.execute(table.delete().where(table.c.id.in_(id_list)))
            counts[table.name] = len(id_list)
    return counts


def purge_images(age_in_days=180, max_rows=100):
    return purge(age_in_days, max_rows, tables=[models.images])
