"""The request parsing of POST /v2/images/{image_id}/locations."""

import hashlib


from glance.api.v2 import image_locations
from glance.common import exception
from glance.tests.unit import base

MD5 = hashlib.md5(b'x').hexdigest()


class TestParseLocation(base.TestCase):

    def test_good(self):
        self.assertEqual(('http://h/x', None),
                         image_locations.parse_location({'url':
                                                         'http://h/x'}))
        # Clients send an empty object for no validation data.
        self.assertEqual(('http://h/x', None), image_locations.parse_location(
            {'url': 'http://h/x', 'validation_data': {}}))
        data = {'os_hash_algo': 'md5', 'os_hash_value': MD5}
        self.assertEqual(('http://h/x', data), image_locations.parse_location(
            {'url': 'http://h/x', 'validation_data': data}))

    def test_bad(self):
        for body in ({}, {'url': None}, {'url': ' '}, {'url': ['x']},
                     {'url': 'http://h/' + 'x' * 260},
                     {'url': 'u', 'extra': 1},
                     {'url': 'u', 'validation_data': 'x'},
                     {'url': 'u', 'validation_data': {'os_hash_algo': 'md5'}},
                     {'url': 'u', 'validation_data': {
                         'os_hash_algo': 'crc', 'os_hash_value': 'x'}},
                     {'url': 'u', 'validation_data': {
                         'os_hash_algo': 'md5', 'os_hash_value': 5}}):
            e = self.assertRaises(exception.BadRequest,
                                  image_locations.parse_location, body)
            self.assertEqual(400, e.code)
