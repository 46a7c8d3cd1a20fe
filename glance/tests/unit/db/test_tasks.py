"""glance.db.tasks: the task rows."""

import datetime
import json

import sqlalchemy as sa

from glance.common import timeutils
from glance.db import models
from glance.db import session
from glance.db import tasks as db_tasks
from glance.tests.unit import base


class TestTaskRows(base.DBTestCase):

    def now(self):
        return timeutils.now()

    def create(self, task_id, status='pending', age_minutes=0):
        at = self.now() - datetime.timedelta(minutes=age_minutes)
        with session.writer() as conn:
            db_tasks.create(conn, {'id': task_id, 'type': 'location_import',
                                   'status': status, 'owner': 'p1',
                                   'image_id': 'i1'}, {'k': 'v'}, at)

    def row(self, task_id):
        with session.reader() as conn:
            return conn.execute(sa.select(
                models.tasks.c.status, models.tasks.c.expires_at,
                models.task_info.c.input, models.task_info.c.result,
                models.task_info.c.message).join(
                models.task_info,
                models.task_info.c.task_id == models.tasks.c.id).where(
                models.tasks.c.id == task_id)).one()

    def test_create_and_update(self):
        self.create('t1')
        row = self.row('t1')
        self.assertEqual(('pending', None, {'k': 'v'}),
                         (row.status, row.expires_at, json.loads(row.input)))
        with session.writer() as conn:
            self.assertTrue(db_tasks.update(
                conn, 't1', {'status': 'success'}, self.now(),
                result={'image_id': 'i1'}))
            self.assertFalse(db_tasks.update(conn, 'nope', {}, self.now()))
        row = self.row('t1')
        self.assertEqual('success', row.status)
        self.assertEqual({'image_id': 'i1'}, json.loads(row.result))

    def test_fail_if_stale(self):
        cases = [('pending', 119, False), ('pending', 121, True),
                 ('processing', 59, False), ('processing', 61, True),
                 ('success', 61, True), ('failure', 61, True)]
        for n, (status, age, stale) in enumerate(cases):
            task_id = 't%d' % n
            self.create(task_id, status, age)
            with session.writer() as conn:
                self.assertEqual(stale, db_tasks.fail_if_stale(
                    conn, task_id, self.now(), 'preempted', self.now()),
                    (status, age))
            row = self.row(task_id)
            if stale:
                self.assertEqual(('failure', 'preempted'),
                                 (row.status, row.message))
                self.assertIsNotNone(row.expires_at)
            else:
                self.assertEqual(status, row.status)
        with session.writer() as conn:
            self.assertTrue(db_tasks.fail_if_stale(conn, 'missing',
                                                   self.now(), 'x', None))
