"""glance.domain.images.rules: the state machine of section 5.2 and the
text image metadata may hold."""

from glance.common import exception
from glance.domain.images import rules
from glance.tests.unit import base

STATUSES = ('queued', 'saving', 'uploading', 'importing', 'active',
            'killed', 'pending_delete', 'deleted', 'deactivated')
# Section 5.2, verbatim.
ALLOWED = {
    'queued': {'saving', 'uploading', 'importing', 'active', 'deleted'},
    'saving': {'active', 'killed', 'deleted', 'queued'},
    'uploading': {'importing', 'queued', 'deleted'},
    'importing': {'active', 'deleted', 'queued'},
    'active': {'pending_delete', 'deleted', 'deactivated'},
    'killed': {'deleted'},
    'pending_delete': {'deleted', 'active'},
    'deleted': set(),
    'deactivated': {'active', 'deleted'},
}
FORMATTED = {'disk_format': 'raw', 'container_format': 'bare'}


class TestCheckTransition(base.TestCase):

    def test_full_table(self):
        for current in STATUSES:
            for new in STATUSES:
                image = dict(FORMATTED, status=current)
                if new in ALLOWED[current]:
                    rules.check_transition(image, new)
                else:
                    self.assertRaises(
                        exception.InvalidImageStatusTransition,
                        rules.check_transition, image, new)

    def test_formats_needed_before_data(self):
        for current in ('queued', 'uploading'):
            for new in ALLOWED[current] & {'saving', 'active', 'importing'}:
                for missing in ('disk_format', 'container_format'):
                    image = dict(FORMATTED, status=current)
                    image[missing] = None
                    e = self.assertRaises(exception.Invalid,
                                          rules.check_transition, image,
                                          new)
                    self.assertIn(missing, e.msg)
                    self.assertEqual(400, e.code)

    def test_formats_not_needed_for_delete(self):
        rules.check_transition({'status': 'queued'}, 'deleted')
        rules.check_transition({'status': 'uploading'}, 'queued')


class TestCheckText(base.TestCase):

    def test_four_byte_rejected(self):
        for text in ('\U0001F600', 'abc\U00010000', '\U0010FFFF'):
            self.assertRaises(exception.Invalid, rules.check_text, text)

    def test_bmp_accepted(self):
        for value in ('plain', 'caf\u00e9', '\u4e2d\u6587', '\uffff', None,
                      5, ''):
            rules.check_text(value)
