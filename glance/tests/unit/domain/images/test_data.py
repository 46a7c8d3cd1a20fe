"""The upload service against a real SQLite database and filesystem
store, where the database's answer to the activating COMMIT is lost."""

import io
import os
from unittest import mock

import fixtures
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from glance.db import api as db
from glance.db import session
from glance.domain.images import data
from glance.store import registry
from glance.tests.unit import base


class TestCommitAnswerLost(base.DBTestCase):
    """The server committed the activation but the client saw the
    connection drop (a failover during COMMIT): the image is active, so
    its data must stay."""

    def setUp(self):
        super().setUp()
        self.datadir = self.useFixture(fixtures.TempDir()).path
        self.config(filesystem_store_datadir=self.datadir,
                    group='glance_store')
        registry.reset()
        self.addCleanup(registry.reset)
        values = base.image_values(disk_format='raw',
                                   container_format='bare')
        with session.writer() as conn:
            db.image_create(conn, values, {}, [])
        self.image_id = values['id']

    def upload_losing(self, lose):
        """Upload; ``lose`` says whether the COMMIT that records the
        location happens (True) or not (False) before the error."""
        armed = {}
        real_add, real_commit = (db.location_add,
                                 sa.engine.base.RootTransaction.commit)

        def location_add(conn, *args, **kwargs):
            armed['now'] = True
            return real_add(conn, *args, **kwargs)

        def commit(transaction):
            if armed.pop('now', False):
                if lose:
                    real_commit(transaction)
                raise sa_exc.OperationalError('COMMIT', {}, Exception(
                    '(2013, Lost connection to MySQL server during query)'))
            real_commit(transaction)

        with mock.patch.object(db, 'location_add', location_add), \
                mock.patch.object(sa.engine.base.RootTransaction, 'commit',
                                  commit):
            self.assertRaises(Exception, data.upload, base.ctx(),
                              self.image_id, io.BytesIO(b'x' * 4096), 4096)
        with session.reader() as conn:
            return db.image_get(conn, self.image_id)

    def test_committed_activation_keeps_its_data(self):
        image = self.upload_losing(lose=True)
        self.assertEqual('active', image['status'])
        self.assertEqual(1, len(image['locations']))
        self.assertEqual([self.image_id], os.listdir(self.datadir))
        with open(os.path.join(self.datadir, self.image_id), 'rb') as f:
            self.assertEqual(b'x' * 4096, f.read())

    def test_failed_activation_removes_its_data(self):
        image = self.upload_losing(lose=False)
        self.assertEqual('queued', image['status'])
        self.assertEqual([], image['locations'])
        self.assertEqual([], os.listdir(self.datadir))
