"""What a task shows of its input, result and message."""

from glance.domain import tasks
from glance.tests.unit import base


class TestRedacted(base.TestCase):

    def test_credentials_of_urls_are_replaced(self):
        cases = {
            'http://user:pass@host/x': 'http://***@host/x',
            'https://token@host:8443/x?a=b': 'https://***@host:8443/x?a=b',
            # The last @ before the path ends the user information.
            'http://us@er:p@ss@host/x': 'http://***@host/x',
            'HTTP://u:p@[::1]/x': 'HTTP://***@[::1]/x',
            'Cannot fetch ftp://u:p@h/f: refused; see http://a:b@c/':
                'Cannot fetch ftp://***@h/f: refused; see http://***@c/',
        }
        for given, expected in cases.items():
            self.assertEqual(expected, tasks.redacted(given), given)

    def test_other_text_is_left_alone(self):
        for text in ('http://host/x', 'http://host/p@th?q=a@b',
                     'http://host/x#me@there', 'user:pass@host',
                     'mailto:someone@example.com', '', 'plain text'):
            self.assertEqual(text, tasks.redacted(text))

    def test_nested_values(self):
        given = {'import_req': {'method': {
            'name': 'web-download', 'uri': 'http://u:p@h/x'}},
            'backend': ['store1'], 'all': True, 'n': 3, 'none': None,
            'list': [{'url': 'https://a:b@c/d'}]}
        expected = {'import_req': {'method': {
            'name': 'web-download', 'uri': 'http://***@h/x'}},
            'backend': ['store1'], 'all': True, 'n': 3, 'none': None,
            'list': [{'url': 'https://***@c/d'}]}
        self.assertEqual(expected, tasks.redacted(given))
        # The task given is not changed.
        self.assertEqual('http://u:p@h/x',
                         given['import_req']['method']['uri'])

    def test_shown_task(self):
        task = {'id': 't', 'input': {'import_from': 'http://u:p@h/x'},
                'result': None, 'message': 'Cannot fetch http://u:p@h/x'}
        self.assertEqual({'id': 't',
                          'input': {'import_from': 'http://***@h/x'},
                          'result': None,
                          'message': 'Cannot fetch http://***@h/x'},
                         tasks.shown(task))
