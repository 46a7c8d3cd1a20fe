"""The bounds of a list request's sort keys and filters."""

import webob

from glance.api.v2 import images
from glance.common import exception
from glance.tests.unit import base


def params(query):
    return images.parse_list_params(webob.Request.blank('/?' + query).GET)


class TestListBounds(base.TestCase):

    def refused(self, query):
        return str(self.assertRaises(exception.BadRequest, params, query))

    def test_sort_key_given_twice(self):
        for query in ('sort=name,name', 'sort=name:asc,id,name:desc',
                      'sort_key=size&sort_key=size',
                      'sort_key=id&sort_key=name&sort_key=id'
                      '&sort_dir=asc&sort_dir=asc&sort_dir=desc',
                      '&'.join(['sort_key=name'] * 200)):
            self.assertIn('more than once', self.refused(query))

    def test_every_key_once(self):
        keys = ','.join(images.SORT_KEYS)
        self.assertEqual(list(images.SORT_KEYS),
                         params('sort=' + keys)['sort_keys'])

    def test_filter_terms(self):
        cap = images.MAX_FILTER_TERMS
        # An in: list is one term, whatever its number of values.
        at_cap = ['p%d=v' % n for n in range(cap - 2)] + [
            'tag=a', 'name=in:x,y']
        got = params('&'.join(at_cap))
        self.assertEqual(cap - 2, len(got['filters']['properties']))
        for extra in ('tag=b', 'size_min=1', 'os_hidden=true', 'owner=o',
                      'protected=false', 'created_at=lt:2020-01-01'):
            message = self.refused('&'.join(at_cap + [extra]))
            self.assertIn('Too many filters: %d terms' % (cap + 1), message)
        # The implicit os_hidden=false and paging parameters are not
        # filters the request adds.
        params('&'.join(at_cap + ['limit=5', 'sort=name', 'marker=m']))
        params('name=in:' + ','.join(['x'] * 1000))
        self.assertIn('Too many values in the name filter: 1001',
                      self.refused('name=in:' + ','.join(['x'] * 1001)))
