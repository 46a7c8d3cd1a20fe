"""A request waiting for the database does not stop the others of its
process: with one process (no workers), a PATCH blocked on a row lock
the test holds must leave a GET of another image answering."""

import json
import threading

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_images as h

WAITING = {
    'postgresql': "SELECT count(*) FROM pg_stat_activity "
                  "WHERE wait_event_type = 'Lock'",
    'mysql': "SELECT count(*) FROM information_schema.innodb_trx "
             "WHERE trx_state = 'LOCK WAIT'",
}


class _WaitIsCooperative:

    def test_request_waiting_on_a_lock_leaves_others_served(self):
        locked, other = self.new_image(), self.new_image()
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)
        # Statistics are read afresh only outside a transaction.
        watcher = sa.create_engine(self.db.url, isolation_level='AUTOCOMMIT')
        self.addCleanup(watcher.dispose)
        patched = {}

        def patch():
            patched['resp'] = self.request(
                'PATCH', '/v2/images/%s' % locked['id'],
                data=json.dumps([{'op': 'add', 'path': '/k',
                                  'value': 'v'}]),
                headers={'Content-Type': h.PATCH_V21}, timeout=60)

        with engine.connect() as holder, watcher.connect() as probe:
            transaction = holder.begin()
            holder.execute(sa.text('SELECT id FROM images WHERE id = :id '
                                   'FOR UPDATE'), {'id': locked['id']})
            thread = threading.Thread(target=patch)
            thread.start()
            hd.wait_for(lambda: probe.execute(sa.text(
                WAITING[self.db_kind])).scalar() > 0, what='a lock wait')
            # The PATCH waits on the lock held here; the process still
            # answers (a stalled hub times this out).
            resp = self.request('GET', '/v2/images/%s' % other['id'],
                                timeout=10)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertNotIn('resp', patched)
            transaction.rollback()
        thread.join(60)
        self.assertEqual(200, patched['resp'].status_code,
                         patched['resp'].text)


class TestWaitIsCooperativePostgreSQL(
        _WaitIsCooperative, h.ImageAPIMixin, base.FunctionalTest):
    db_kind = 'postgresql'


class TestWaitIsCooperativeMySQL(
        _WaitIsCooperative, h.ImageAPIMixin, base.FunctionalTest):
    db_kind = 'mysql'


class TestWaitIsCooperativeMySQLPyMySQL(TestWaitIsCooperativeMySQL):
    """The same through PyMySQL instead of mysqlclient."""
    options = {'database.mysql_driver': 'pymysql'}
