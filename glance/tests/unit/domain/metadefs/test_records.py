"""glance.domain.metadefs.records: checks of names and text."""

from glance.common import exception
from glance.domain.metadefs import records as metadefs
from glance.tests.unit import base


class TestNames(base.TestCase):

    def test_accepted(self):
        for name in ('OS::Compute::Watchdog', 'hw:cpu_policy', 'a b',
                     'café', 'x' * 80, '%20'):
            metadefs.check_name('namespace', name)

    def test_refused(self):
        for name in ('', ' ', 'a/b', 'x' * 81, ' a', 'a ', 'a\nb',
                     '\U0001F600', None, 3):
            self.assertRaises(exception.Invalid, metadefs.check_name,
                              'namespace', name)

    def test_text_at_any_depth(self):
        metadefs.check_text({'a': ['b', {'c': 'd\te'}]})
        self.assertRaises(exception.Invalid, metadefs.check_text,
                          {'a': ['b', {'c': 'd\x00'}]})
        self.assertRaises(exception.Invalid, metadefs.check_text,
                          {'\x01': 1})
