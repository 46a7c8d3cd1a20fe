"""An image stored under an id in upper case (by an older release, or by
upstream Glance for an id its client gave) is moved to the lower-case id
by ``glance-manage db sync``, with its properties, tags, members and data,
and answers whatever the case of the request."""

import hashlib

import requests
import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

CHILDREN = ('image_properties', 'image_tags', 'image_locations',
            'image_members', 'tasks')


def store_upper_case(engine, old, new):
    """Move image ``old`` to id ``new`` the way the migration undoes."""
    with engine.begin() as conn:
        if conn.dialect.name == 'mysql':
            conn.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 0')
            conn.execute(sa.text('UPDATE images SET id = :new '
                                 'WHERE id = :old'), {'old': old, 'new': new})
        else:
            columns = [c['name'] for c in sa.inspect(conn).get_columns(
                'images') if c['name'] != 'id']
            conn.execute(sa.text(
                'INSERT INTO images (id, %s) SELECT :new, %s FROM images '
                'WHERE id = :old' % (', '.join(columns), ', '.join(columns))),
                {'old': old, 'new': new})
        for table in CHILDREN:
            conn.execute(sa.text('UPDATE %s SET image_id = :new WHERE '
                                 'image_id = :old' % table),
                         {'old': old, 'new': new})
        if conn.dialect.name == 'mysql':
            conn.exec_driver_sql('SET FOREIGN_KEY_CHECKS = 1')
        else:
            conn.execute(sa.text('DELETE FROM images WHERE id = :old'),
                         {'old': old})


class _LowerCaseIds:

    def test_upper_case_id_moved_by_db_sync(self):
        data = b'upper case' * 1000
        image = self.new_image(name='old', color='red', tags=['t'],
                               disk_format='raw', container_format='bare')
        lower = image['id']
        self.assertEqual(204, self.request(
            'PUT', '/v2/images/%s/file' % lower, data=data,
            headers={'Content-Type': 'application/octet-stream'}
        ).status_code)
        self.assertEqual(200, self.request(
            'POST', '/v2/images/%s/members' % lower,
            json={'member': 'friend'}).status_code)
        self.daemon.stop()
        upper = lower.upper()
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)
        store_upper_case(engine, lower, upper)

        self.daemon.manage('db', 'sync')
        with engine.connect() as conn:
            ids = [row[0] for row in conn.exec_driver_sql(
                'SELECT id FROM images')]
        self.assertEqual([lower], ids)
        self.daemon.start()
        for name in (upper, lower):
            shown = self.show(name)
            self.assertEqual(lower, shown['id'])
            self.assertEqual('red', shown['color'])
            self.assertEqual(['t'], shown['tags'])
            self.assertEqual('active', shown['status'])
        members = self.request('GET', '/v2/images/%s/members' % upper).json()
        self.assertEqual(['friend'],
                         [m['member_id'] for m in members['members']])
        resp = requests.get(self.url + '/v2/images/%s/file' % upper,
                            timeout=30)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         hashlib.sha256(resp.content).hexdigest())
        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % upper).status_code)


class TestLowerCaseIdsSQLite(_LowerCaseIds, h.ImageAPIMixin,
                             base.FunctionalTest):
    db_kind = 'sqlite'


class TestLowerCaseIdsMySQL(_LowerCaseIds, h.ImageAPIMixin,
                            base.FunctionalTest):
    db_kind = 'mysql'


class TestLowerCaseIdsPostgreSQL(_LowerCaseIds, h.ImageAPIMixin,
                                 base.FunctionalTest):
    db_kind = 'postgresql'
