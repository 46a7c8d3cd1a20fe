"""Store errors carry the HTTP status the API answers with."""

import testtools

from glance.common import exception
from glance.store import exceptions


class TestStatusCodes(testtools.TestCase):

    def test_codes(self):
        expected = {
            exceptions.NotFound: 404,
            exceptions.Duplicate: 409,
            exceptions.StorageFull: 413,
            exceptions.StorageWriteDenied: 503,
            exceptions.StoreAddDisabled: 410,
            exceptions.StoreDeleteNotSupported: 403,
            exceptions.SizeMismatch: 400,
            exceptions.BadStoreUri: 400,
            exceptions.UnknownScheme: 400,
            exceptions.StoreNotConfigured: 400,
            exceptions.InvalidRange: 416,
            exceptions.BadStoreConfiguration: 500,
            exceptions.RemoteServiceUnavailable: 503,
        }
        for cls, code in expected.items():
            error = cls()
            self.assertEqual(code, error.code, cls.__name__)
            self.assertIsInstance(error, exceptions.StoreError)
            self.assertIsInstance(error, exception.GlanceError)
            self.assertEqual(cls.message, str(error))

    def test_common_classes(self):
        self.assertIsInstance(exceptions.NotFound(), exception.NotFound)
        self.assertIsInstance(exceptions.StorageFull(),
                              exception.LimitExceeded)
        self.assertIsInstance(exceptions.Duplicate(), exception.Conflict)
