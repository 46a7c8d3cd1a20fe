"""glance.db.api on a real, migrated SQLite file."""

import datetime
import json

import sqlalchemy as sa

from glance.common import exception
from glance.db import api as db
from glance.db import models
from glance.db import session
from glance.tests.unit import base

T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)


class DBApiTestCase(base.DBTestCase):

    def make(self, properties=None, tags=None, **values):
        values = base.image_values(**values)
        with session.writer() as conn:
            db.image_create(conn, values, properties or {}, tags or [])
        return values['id']

    def get(self, image_id, **kwargs):
        with session.reader() as conn:
            return db.image_get(conn, image_id, **kwargs)

    def ids(self, ctx=None, filters=None, **kwargs):
        with session.reader() as conn:
            return [i['id'] for i in db.image_list(
                conn, ctx or base.ctx(), filters or {}, **kwargs)]

    def add_member(self, image_id, member, status='accepted',
                   deleted=False):
        with session.writer() as conn:
            conn.execute(models.image_members.insert().values(
                image_id=image_id, member=member, status=status,
                created_at=T0, deleted=deleted,
                deleted_at=T0 if deleted else None))


class TestCreateGetUpdate(DBApiTestCase):

    def test_round_trip(self):
        iid = self.make(properties={'a': '1'}, tags=['x', 'y'], name='n')
        image = self.get(iid)
        self.assertEqual('n', image['name'])
        self.assertEqual({'a': '1'}, image['properties'])
        self.assertEqual(['x', 'y'], image['tags'])
        self.assertEqual([], image['locations'])
        self.assertIsNone(self.get('c0ffee00-0000-4000-8000-00000000dead'))

    def test_duplicate(self):
        iid = self.make()
        self.assertRaises(exception.Duplicate, self.make, id=iid)

    def test_conditional_update(self):
        iid = self.make(status='active')
        with session.writer() as conn:
            self.assertFalse(db.image_update(conn, iid, {'name': 'x'},
                                             from_status='queued'))
            self.assertTrue(db.image_update(conn, iid, {'name': 'y'},
                                            from_status='active'))
        self.assertEqual('y', self.get(iid)['name'])

    def test_destroy(self):
        iid = self.make(properties={'a': '1'}, tags=['t'])
        self.add_member(iid, 'p2')
        with session.writer() as conn:
            conn.execute(models.image_locations.insert(), [
                {'image_id': iid, 'value': 'file:///a', 'meta_data': '{}',
                 'status': 'active', 'created_at': T0, 'deleted': False},
                {'image_id': iid, 'value': 'file:///b', 'meta_data': '{}',
                 'status': 'pending_delete', 'created_at': T0,
                 'deleted': False}])
            db.image_destroy(conn, iid, 'deleted', T0)
        self.assertIsNone(self.get(iid))
        row = self.get(iid, include_deleted=True)
        self.assertEqual(('deleted', True, T0),
                         (row['status'], row['deleted'], row['deleted_at']))
        self.assertEqual({}, row['properties'])
        self.assertEqual([], row['tags'])
        with session.reader() as conn:
            self.assertFalse(db.is_member(conn, iid, 'p2'))
            locs = {r.value: (r.status, r.deleted) for r in conn.execute(
                sa.select(models.image_locations))}
        self.assertEqual({'file:///a': ('deleted', True),
                          'file:///b': ('pending_delete', False)}, locs)

    def test_locations_attached(self):
        iid = self.make()
        with session.writer() as conn:
            conn.execute(models.image_locations.insert().values(
                image_id=iid, value='file:///a',
                meta_data=json.dumps({'store': 'fast'}), created_at=T0))
        self.assertEqual([{'url': 'file:///a', 'metadata': {'store': 'fast'},
                           'status': 'active'}],
                         [{k: loc[k] for k in ('url', 'metadata', 'status')}
                          for loc in self.get(iid)['locations']])

    def test_count_by_owner(self):
        self.make(owner='p1')
        self.make(owner='p1', status='killed')
        self.make(owner='p2')
        with session.reader() as conn:
            self.assertEqual(1, db.image_count_by_owner(conn, 'p1'))


class TestPropertiesAndTags(DBApiTestCase):

    def set_props(self, iid, old, new):
        with session.writer() as conn:
            db.image_set_properties(conn, iid, old, new, T0)

    def test_properties_full_replace_and_revival(self):
        iid = self.make(properties={'a': '1', 'b': '2'})
        self.set_props(iid, {'a': '1', 'b': '2'}, {'a': '9'})
        self.assertEqual({'a': '9'}, self.get(iid)['properties'])
        self.set_props(iid, {'a': '9'}, {'a': '9', 'b': 'again'})
        self.assertEqual({'a': '9', 'b': 'again'},
                         self.get(iid)['properties'])
        with session.reader() as conn:
            rows = conn.execute(sa.select(models.image_properties).where(
                models.image_properties.c.name == 'b')).all()
        self.assertEqual(1, len(rows))
        self.assertFalse(rows[0].deleted)
        self.assertIsNone(rows[0].deleted_at)

    def test_tags(self):
        iid = self.make(tags=['a', 'b'])
        with session.writer() as conn:
            db.image_set_tags(conn, iid, ['a', 'b'], ['b', 'c'], T0)
        self.assertEqual(['b', 'c'], self.get(iid)['tags'])
        with session.writer() as conn:
            db.image_set_tags(conn, iid, ['b', 'c'], ['b', 'c', 'a'], T0)
        self.assertEqual(['b', 'c', 'a'], self.get(iid)['tags'])


class TestListVisibility(DBApiTestCase):

    def setUp(self):
        super().setUp()
        self.img = {
            'mine_private': self.make(owner='p1', visibility='private'),
            'mine_community': self.make(owner='p1', visibility='community'),
            'other_private': self.make(owner='p2', visibility='private'),
            'other_shared': self.make(owner='p2', visibility='shared'),
            'public': self.make(owner='p2', visibility='public'),
            'community': self.make(owner='p2', visibility='community'),
            'pending': self.make(owner='p2', visibility='shared'),
            'rejected': self.make(owner='p2', visibility='shared'),
            'accepted': self.make(owner='p2', visibility='shared'),
            'killed': self.make(owner='p1', status='killed'),
            'deleted': self.make(owner='p1', deleted=True),
        }
        self.add_member(self.img['pending'], 'p1', 'pending')
        self.add_member(self.img['rejected'], 'p1', 'rejected')
        self.add_member(self.img['accepted'], 'p1', 'accepted')
        self.add_member(self.img['other_shared'], 'p1', 'accepted',
                        deleted=True)

    def names(self, ctx=None, **kwargs):
        by_id = {v: k for k, v in self.img.items()}
        return {by_id[i] for i in self.ids(ctx, **kwargs)}

    def test_default_list(self):
        self.assertEqual({'mine_private', 'mine_community', 'public',
                          'accepted'}, self.names())

    def test_member_status(self):
        base_set = {'mine_private', 'mine_community', 'public'}
        self.assertEqual(base_set | {'pending'},
                         self.names(member_status='pending'))
        self.assertEqual(base_set | {'rejected'},
                         self.names(member_status='rejected'))
        self.assertEqual(base_set | {'pending', 'rejected', 'accepted'},
                         self.names(member_status='all'))

    def test_visibility_filter(self):
        self.assertEqual({'mine_community', 'community'},
                         self.names(visibility='community'))
        self.assertEqual({'public'}, self.names(visibility='public'))
        self.assertEqual({'mine_private'}, self.names(visibility='private'))
        self.assertEqual({'accepted'}, self.names(visibility='shared'))
        self.assertEqual({'mine_private', 'mine_community', 'public',
                          'community', 'accepted'},
                         self.names(visibility='all'))

    def test_admin_sees_all_but_foreign_community(self):
        everything = set(self.img) - {'killed', 'deleted'}
        self.assertEqual(everything - {'community', 'mine_community'},
                         self.names(base.admin_ctx()))
        self.assertEqual(everything, self.names(base.admin_ctx(),
                                                visibility='all'))

    def test_member_visibility(self):
        with session.reader() as conn:
            self.assertTrue(db.is_member(conn, self.img['pending'], 'p1'))
            self.assertFalse(db.is_member(conn, self.img['other_shared'],
                                          'p1'))


class TestListFilters(DBApiTestCase):

    def test_filters(self):
        a = self.make(name='a', size=10, disk_format='raw',
                      properties={'os_distro': 'ubuntu'}, tags=['x', 'y'])
        b = self.make(name='b', size=20, disk_format='qcow2',
                      properties={'os_distro': 'debian'}, tags=['x'])
        c = self.make(name='c', size=None, os_hidden=True)
        hide = {'os_hidden': ('eq', False)}
        cases = [
            ({'columns': dict(hide, name=('eq', 'a'))}, [a]),
            ({'columns': dict(hide, name=('in', ['a', 'b']))}, [a, b]),
            ({'columns': dict(hide, disk_format=('eq', 'qcow2'))}, [b]),
            ({'columns': {'os_hidden': ('eq', True)}}, [c]),
            ({'columns': hide, 'properties': {'os_distro': 'ubuntu'}}, [a]),
            ({'columns': hide, 'tags': ['x']}, [a, b]),
            ({'columns': hide, 'tags': ['x', 'y']}, [a]),
            ({'columns': hide, 'size_min': 15}, [b]),
            ({'columns': hide, 'size_max': 10}, [a]),
            ({'columns': dict(hide, size=('eq', 20))}, [b]),
        ]
        for filters, expected in cases:
            self.assertEqual(set(expected), set(self.ids(filters=filters)),
                             filters)

    def test_time_filters(self):
        old = self.make(created_at=T0, updated_at=T0)
        new = self.make(created_at=T0 + datetime.timedelta(days=1),
                        updated_at=T0 + datetime.timedelta(days=1))
        for op, expected in (('gt', [new]), ('gte', [old, new]),
                             ('lt', []), ('lte', [old]), ('eq', [old]),
                             ('neq', [new])):
            self.assertEqual(set(expected), set(self.ids(
                filters={'columns': {'created_at': (op, T0)}})), op)


class TestPagination(DBApiTestCase):

    def setUp(self):
        super().setUp()
        # Names with NULLs and ties; two creation times.
        specs = [(None, 0), (None, 0), ('a', 0), ('a', 1), ('a', 1),
                 ('b', 0), (None, 1), ('c', 1)]
        for name, day in specs:
            when = T0 + datetime.timedelta(days=day)
            self.make(name=name, created_at=when, updated_at=when,
                      size=None if name is None else 5)

    def walk(self, limit, **kwargs):
        """Every page of the listing, following markers."""
        seen = []
        marker = None
        while True:
            with session.reader() as conn:
                page = db.image_list(conn, base.ctx(), {}, marker=marker,
                                     limit=limit, **kwargs)
            seen.extend(page)
            if len(page) < limit:
                return seen
            marker = page[-1]

    def check(self, **kwargs):
        with session.reader() as conn:
            full = db.image_list(conn, base.ctx(), {}, **kwargs)
        self.assertEqual(8, len(full))
        for limit in (1, 2, 3):
            self.assertEqual([i['id'] for i in full],
                             [i['id'] for i in self.walk(limit, **kwargs)],
                             (limit, kwargs))
        return full

    def test_default_order(self):
        full = self.check()
        created = [i['created_at'] for i in full]
        self.assertEqual(sorted(created, reverse=True), created)

    def test_name_asc_nulls_first(self):
        full = self.check(sort_keys=['name'], sort_dirs=['asc'])
        self.assertEqual([None, None, None, 'a', 'a', 'a', 'b', 'c'],
                         [i['name'] for i in full])

    def test_name_desc(self):
        full = self.check(sort_keys=['name'], sort_dirs=['desc'])
        names = [i['name'] for i in full if i['name'] is not None]
        self.assertEqual(['c', 'b', 'a', 'a', 'a'], names)

    def test_multiple_keys(self):
        self.check(sort_keys=['name', 'created_at'],
                   sort_dirs=['asc', 'desc'])
        self.check(sort_keys=['size', 'name'], sort_dirs=['desc', 'asc'])
        self.check(sort_keys=['id'], sort_dirs=['asc'])

    def test_ties_broken_by_created_at_then_id(self):
        full = self.check(sort_keys=['name'], sort_dirs=['asc'])
        a_rows = [(i['created_at'], i['id']) for i in full
                  if i['name'] == 'a']
        self.assertEqual(sorted(a_rows), a_rows)

    def test_limit(self):
        self.assertEqual(3, len(self.ids(limit=3)))
        self.assertEqual(0, len(self.ids(limit=0)))


class TestReadCache(DBApiTestCase):
    """image_get may answer from memory only while nobody committed."""

    def test_commit_by_another_process_is_seen(self):
        import multiprocessing
        iid = self.make(properties={'a': '1'})
        self.assertEqual({'a': '1'}, self.get(iid)['properties'])
        self.assertEqual({'a': '1'}, self.get(iid)['properties'])

        def other(path):
            import sqlite3
            conn = sqlite3.connect(path)
            conn.execute("UPDATE image_properties SET value = '2' WHERE "
                         "image_id = ?", (iid,))
            conn.commit()
            conn.close()

        proc = multiprocessing.get_context('fork').Process(
            target=other, args=(self.db_path,))
        proc.start()
        proc.join(30)
        self.assertEqual(0, proc.exitcode)
        self.assertEqual({'a': '2'}, self.get(iid)['properties'])

    def test_callers_get_copies(self):
        iid = self.make(properties={'a': '1'}, tags=['t'])
        self.get(iid)['properties']['a'] = 'changed'
        self.get(iid)['tags'].append('x')
        image = self.get(iid)
        self.assertEqual({'a': '1'}, image['properties'])
        self.assertEqual(['t'], image['tags'])

    def listing(self, ctx=None, filters=None):
        with session.reader() as conn:
            return db.image_list(conn, ctx or base.ctx(), filters or {})

    def test_listings_answer_from_memory_until_a_commit(self):
        first = self.make(properties={'a': '1'})
        self.assertEqual([first], [i['id'] for i in self.listing()])
        with session.reader() as conn:
            statements = []
            sa.event.listen(conn, 'before_cursor_execute',
                            lambda *a: statements.append(a[2]))
            db.image_list(conn, base.ctx(), {})
        self.assertEqual([], statements)    # served from memory
        second = self.make()
        self.assertEqual({first, second}, {i['id'] for i in self.listing()})
        with session.writer() as conn:
            db.image_update(conn, first, {'name': 'renamed'})
        self.assertEqual('renamed', [i for i in self.listing()
                                     if i['id'] == first][0]['name'])

    def test_listing_depends_on_who_asks_and_on_memberships(self):
        private = self.make(owner='p1', visibility='shared')
        self.assertEqual([private], [i['id'] for i in self.listing(
            base.ctx(project='p1'))])
        self.assertEqual([], [i['id'] for i in self.listing(
            base.ctx(project='p2'))])
        self.add_member(private, 'p2')
        self.assertEqual([private], [i['id'] for i in self.listing(
            base.ctx(project='p2'))])

    def test_listed_images_are_copies(self):
        self.make(properties={'a': '1'}, tags=['t'])
        self.listing()[0]['properties']['a'] = 'changed'
        self.listing()[0]['tags'].append('x')
        image = self.listing()[0]
        self.assertEqual({'a': '1'}, image['properties'])
        self.assertEqual(['t'], image['tags'])
