"""The statements of listing shapes are kept in a bounded LRU."""

from glance.db import api as db
from glance.db import read_cache
from glance.db import session
from glance.tests.unit import base


class TestListQueryCache(base.DBTestCase):

    def setUp(self):
        super().setUp()
        self.patch(db, '_LIST_QUERIES', type(db._LIST_QUERIES)())
        self.patch(db, '_LIST_QUERIES_MAX', 4)
        values = base.image_values(name='only')
        with session.writer() as conn:
            db.image_create(conn, values, {'p': 'v'}, ['t'])
        self.image_id = values['id']

    def list_with(self, n_tags):
        """A listing whose shape differs for each ``n_tags``."""
        # Not answered from the cache of results.
        read_cache.reset()
        with session.reader() as conn:
            found = db.image_list(conn, base.ctx(),
                                  {'tags': ['t'] * n_tags})
        self.assertEqual([self.image_id], [i['id'] for i in found])

    def shapes(self):
        return [shape[6] for shape, _whole in db._LIST_QUERIES]

    def test_bounded_and_least_recent_goes(self):
        for n in range(1, 5):
            self.list_with(n)
        self.assertEqual([1, 2, 3, 4], self.shapes())
        # A hit makes its shape the most recent one.
        first = db._LIST_QUERIES[next(iter(db._LIST_QUERIES))]
        self.list_with(1)
        self.assertEqual([2, 3, 4, 1], self.shapes())
        self.assertIs(first, db._LIST_QUERIES[list(db._LIST_QUERIES)[-1]])
        for n in range(5, 40):
            self.list_with(n)
        self.assertEqual([36, 37, 38, 39], self.shapes())
        # Shapes pushed out are built again, and answer the same.
        self.list_with(2)
        self.assertEqual([37, 38, 39, 2], self.shapes())
