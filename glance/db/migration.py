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
from glance.db.migrations.data import location_store_key

DATA_MIGRATIONS = [location_store_key]
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


def current_heads():
    with _engine().connect() as conn:
        return set(migration.MigrationContext.configure(
            conn).get_current_heads())


def _applied():
    scr = _script()
    done = set()
    for head in current_heads():
        for rev in scr.iterate_revisions(head, 'base'):
            done.add(rev.revision)
    return done


def branch_head(label):
    return _script().get_revision('%s@head' % label).revision


def expand():
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
    _upgrade(version)


def stamp(version):
    with _engine().begin() as conn:
        command.stamp(_config(conn), version)


def check():
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
