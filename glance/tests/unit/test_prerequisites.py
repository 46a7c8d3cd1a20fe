"""glance.tests.prerequisites: a missing server or tool fails a test under
CI and off CI, and is skipped only off CI with GLANCE_TEST_NO_<THING>=1."""

import unittest

import fixtures
import testtools

from glance.tests import prerequisites


class TestRequire(testtools.TestCase):

    def env(self, ci=None, skip=None):
        self.useFixture(fixtures.EnvironmentVariable('CI', ci))
        self.useFixture(fixtures.EnvironmentVariable(
            'GLANCE_TEST_NO_QEMU_IMG', skip))

    def test_available_passes_everywhere(self):
        for ci in (None, 'true'):
            for skip in (None, '1'):
                self.env(ci, skip)
                self.assertIsNone(prerequisites.require('QEMU_IMG', True))
                self.assertIsNone(prerequisites.check(
                    'QEMU_IMG', lambda: True))

    def test_missing_under_ci_fails_whatever_the_variable(self):
        for ci in ('true', 'TRUE', '1'):
            for skip in (None, '1'):
                self.env(ci, skip)
                error = self.assertRaises(
                    prerequisites.Missing, prerequisites.require,
                    'QEMU_IMG', False, 'no qemu-img on PATH')
                self.assertIn('qemu-img is missing (no qemu-img on PATH)',
                              str(error))
                self.assertIn('CI=true runs every test: install qemu-utils',
                              str(error))
                self.assertEqual(skip == '1',
                                 'does not skip under CI' in str(error))

    def test_missing_off_ci_fails_naming_the_variable(self):
        for ci, skip in ((None, None), ('false', None), ('', '0')):
            self.env(ci, skip)
            error = self.assertRaises(prerequisites.Missing,
                                      prerequisites.require, 'QEMU_IMG',
                                      lambda: False)
            self.assertIn('set GLANCE_TEST_NO_QEMU_IMG=1', str(error))
            self.assertIsInstance(error, AssertionError)

    def test_missing_off_ci_with_the_variable_skips(self):
        self.env(None, '1')
        error = self.assertRaises(unittest.SkipTest, prerequisites.require,
                                  'QEMU_IMG', False, 'why')
        self.assertEqual('GLANCE_TEST_NO_QEMU_IMG=1: qemu-img is missing '
                         '(why)', str(error))

    def test_skip_requested(self):
        self.env(None, None)
        self.assertIsNone(prerequisites.skip_requested('QEMU_IMG'))
        self.env(None, '1')
        self.assertIsInstance(prerequisites.skip_requested('QEMU_IMG'),
                              unittest.SkipTest)
        self.env('true', '1')
        self.assertIsNone(prerequisites.skip_requested('QEMU_IMG'))

    def test_raise_copy(self):
        self.env(None, None)
        problem = prerequisites.check('QEMU_IMG', False)
        copy = self.assertRaises(prerequisites.Missing,
                                 prerequisites.raise_copy, problem)
        self.assertIsNot(problem, copy)
        self.assertEqual(str(problem), str(copy))

    def test_unknown_thing(self):
        self.assertRaises(KeyError, prerequisites.require, 'QEMU', True)
        self.assertRaises(KeyError, prerequisites.variable, 'qemu_img')

    def test_every_thing_has_its_variable(self):
        for thing in prerequisites.THINGS:
            self.assertEqual('GLANCE_TEST_NO_' + thing,
                             prerequisites.variable(thing))
