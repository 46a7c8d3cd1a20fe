"""Checks of metadata definition names and property definitions, and the
file names of exported namespaces."""

from glance.common import exception
from glance.domain.metadefs import catalog as metadef_catalog
from glance.domain.metadefs import schemas as metadef_schemas
from glance.domain.metadefs import records as metadefs
from glance.tests.unit import base


class TestCheckProperty(base.TestCase):

    def check(self, **definition):
        metadef_schemas.check_property('p', dict(
            {'title': 'P', 'type': 'string'}, **definition))

    def refused(self, reason, **definition):
        error = self.assertRaises(exception.Invalid, self.check,
                                  **definition)
        self.assertIn(reason, error.msg)

    def test_sensible_definitions_pass(self):
        self.check()
        self.check(enum=['a', 'b'], default='a')
        self.check(type='integer', minimum=1, maximum=1, default=1)
        self.check(pattern='^[a-z]+$', minLength=1, maxLength=3,
                   default='ab')
        self.check(type='array', items={'type': 'string', 'enum': ['x']},
                   minItems=0, maxItems=2, default=['x'])
        self.check(type=None)

    def test_crossed_bounds(self):
        self.refused('minimum (2) is greater than maximum (1)',
                     type='number', minimum=2, maximum=1)
        self.refused('minLength', minLength=2, maxLength=1)
        self.refused('minItems', type='array', minItems=2, maxItems=1)

    def test_bad_pattern_enum_default(self):
        self.refused('not a valid regular expression', pattern='[')
        self.refused('at least one value', enum=[])
        self.refused('twice', enum=['a', 'a'])
        self.refused('enum value 2', enum=['a', 2])
        self.refused("default 'c'", enum=['a'], default='c')
        self.refused("default 'abc'", pattern='^a$', default='abc')
        self.refused('items enum value 3', type='array',
                     items={'type': 'string', 'enum': [3]})


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


class TestExportFileName(base.TestCase):

    def test_display_name_without_non_word_characters(self):
        taken = set()
        self.assertEqual('CPUPinning.json', metadef_catalog.file_name(
            {'namespace': 'n', 'display_name': 'CPU Pinning'}, taken))
        self.assertEqual('CPUPinning_2.json', metadef_catalog.file_name(
            {'namespace': 'm', 'display_name': 'CPU-Pinning'}, taken))
        self.assertEqual('OSFoo.json', metadef_catalog.file_name(
            {'namespace': 'OS::Foo', 'display_name': None}, taken))
        self.assertEqual('namespace.json', metadef_catalog.file_name(
            {'namespace': '::', 'display_name': '--'}, taken))

    def test_flag_combinations(self):
        metadef_catalog.check_flags(False, False, False)
        metadef_catalog.check_flags(True, True, False)
        metadef_catalog.check_flags(True, False, True)
        for flags in ((False, True, False), (False, False, True),
                      (True, True, True)):
            self.assertRaises(ValueError, metadef_catalog.check_flags,
                              *flags)
