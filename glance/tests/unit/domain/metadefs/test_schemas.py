"""glance.domain.metadefs.schemas: checks of property definitions."""

from glance.common import exception
from glance.domain.metadefs import schemas as metadef_schemas
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
