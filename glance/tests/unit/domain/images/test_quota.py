"""glance.domain.images.quota: the storage quota syntax."""

from glance.common import exception
from glance.domain.images import quota
from glance.tests.unit import base


class TestQuotaSyntax(base.TestCase):

    def test_units(self):
        for text, value in (('0', 0), ('100', 100), ('100B', 100),
                            ('2KB', 2048), ('3 MB', 3 * 1024 ** 2),
                            ('1gb', 1024 ** 3), ('5TB', 5 * 1024 ** 4)):
            self.assertEqual(value, quota.parse_quota(text), text)

    def test_bad_values(self):
        for text in ('lots', '1.5GB', 'GB'):
            self.assertRaises(exception.Invalid, quota.parse_quota,
                              text)
