"""Shared scaffolding of the unit tests.

``TestCase`` gives every test a freshly parsed global configuration (no
config files or directories are read) and forgets the cached policy
enforcer, image schema and database engine before and after the test.
``DBTestCase`` adds a real SQLite file in a temporary directory, migrated
to the latest schema.
"""

import os
import uuid

import fixtures
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from glance.common import config  # noqa: F401  (registers the options)
from glance import context
from glance.common import timeutils
from glance.db import migration
from glance.db import session
from glance.domain import policy
from glance.domain import schema

CONF = cfg.CONF


def _forget_global_state():
    session.dispose()
    policy.reset()
    schema.reset()


class TestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        CONF([], project='glance', default_config_files=[],
             default_config_dirs=[])
        _forget_global_state()
        self.addCleanup(_forget_global_state)

    def config(self, **kwargs):
        self.conf.config(**kwargs)


class DBTestCase(TestCase):
    """A migrated SQLite database of its own, in a temporary file."""

    migrate = True

    def setUp(self):
        super().setUp()
        self.tmpdir = self.useFixture(fixtures.TempDir()).path
        self.db_path = os.path.join(self.tmpdir, 'glance.sqlite')
        self.config(connection='sqlite:///%s' % self.db_path,
                    group='database')
        if self.migrate:
            migration.sync()


def ctx(project='p1', roles=('reader', 'member'), user='u1', **kwargs):
    """A request context for ``project`` with ``roles``."""
    return context.RequestContext(user_id=user, project_id=project,
                                  roles=list(roles), **kwargs)


def admin_ctx(project='admin-project'):
    return ctx(project=project, roles=('admin', 'member', 'reader'),
               user='admin')


def image_values(**overrides):
    """Column values of an ``images`` row, as ``db.api.image_create`` takes.

    Created and updated times default to a fixed instant so that ordering
    tests control every tie.
    """
    when = timeutils.now()
    values = {
        'id': str(uuid.uuid4()),
        'name': 'image',
        'status': 'queued',
        'visibility': 'shared',
        'protected': False,
        'os_hidden': False,
        'min_disk': 0,
        'min_ram': 0,
        'disk_format': None,
        'container_format': None,
        'owner': 'p1',
        'created_at': when,
        'updated_at': when,
        'deleted': False,
    }
    values.update(overrides)
    return values
