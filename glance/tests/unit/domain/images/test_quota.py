"""glance.domain.images.quota: the storage quota syntax, what an owner's
images hold and the charging of bytes as they arrive."""

import testtools

from glance.common import exception
from glance.db import api as db
from glance.db import session
from glance.db import usage
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


class _Source:
    """Reads ``total`` bytes, ``piece`` at a time."""

    def __init__(self, total, piece=10000):
        self.left = total
        self.piece = piece

    def read(self, size=-1):
        count = min(self.left, self.piece)
        self.left -= count
        return b'x' * count


class TestBytesHeld(base.DBTestCase):
    """What an owner's images hold, and charging bytes as they arrive."""

    def image(self, status='queued', size=None, owner='p1', stores=0,
              copying=''):
        values = base.image_values(status=status, size=size, owner=owner)
        when = values['created_at']
        properties = {usage.IMPORTING: copying} if copying else {}
        with session.writer() as conn:
            db.image_create(conn, values, properties, [])
            for n in range(stores):
                db.location_add(conn, values['id'], 'file:///s%d/%s'
                                % (n, values['id']), {}, when)
        return values['id']

    def size_of(self, image_id):
        with session.reader() as conn:
            return db.image_get(conn, image_id)['size']

    def held(self, owner='p1'):
        with session.reader() as conn:
            return usage.bytes_held(conn, owner)

    def test_what_counts(self):
        self.image('active', 100, stores=1)
        self.image('active', 10, stores=2)           # twice
        self.image('active', 1000, stores=1, copying='a,b')  # 3 copies
        self.image('saving', 7)                      # being written
        self.image('uploading', 5)                   # staged
        self.image('importing', 3, copying='a,b')    # going to 2 stores
        self.image('saving')                         # nothing yet
        self.image('queued')
        self.image('killed', 500, stores=1)
        self.image('pending_delete', 500, stores=1)
        self.image('active', 400, owner='p2', stores=1)
        self.assertEqual(100 + 20 + 3000 + 7 + 5 + 6, self.held())
        self.assertEqual(400, self.held('p2'))

    def test_reserve_grants_what_is_left_and_refuses_more(self):
        self.config(user_storage_quota='1000')
        self.image('active', 600, stores=1)
        saving = self.image('saving')
        self.assertEqual(300, quota.reserve(saving, 'saving', 300))
        self.assertEqual(400, quota.reserve(saving, 'saving', 350, 5000))
        self.assertEqual(400, self.size_of(saving))
        self.assertRaises(exception.RequestEntityTooLarge, quota.reserve,
                          saving, 'saving', 401)
        self.assertEqual(400, self.size_of(saving))
        # Another image in flight takes room from it.
        staged = self.image('uploading', 300)
        self.assertRaises(exception.RequestEntityTooLarge, quota.reserve,
                          saving, 'saving', 101)
        self.assertEqual(100, quota.reserve(saving, 'saving', 100))
        # An image that left the status is not charged.
        self.assertRaises(exception.Conflict, quota.reserve, staged,
                          'saving', 1)

    def test_meter_stops_at_the_quota(self):
        self.config(user_storage_quota='100000')
        self.image('active', 30000, stores=1)
        saving = self.image('saving')
        meter = quota.Meter(_Source(200000), saving, 'saving')
        read = 0
        with testtools.ExpectedException(exception.RequestEntityTooLarge):
            while meter.read(10000):
                read += 10000
                self.assertLessEqual(read, self.size_of(saving))
                self.assertLessEqual(self.held(), 100000)
        self.assertEqual(70000, read)
        # What fits passes whole, its size known or not.
        other = self.image('saving', owner='p3')
        meter = quota.Meter(_Source(100000), other, 'saving')
        meter.charge(100000)
        while meter.read(10000):
            pass
        self.assertEqual(100000, self.size_of(other))

    def test_meter_without_quota_charges_nothing(self):
        saving = self.image('saving')
        meter = quota.Meter(_Source(100000), saving, 'saving')
        while meter.read(10000):
            pass
        self.assertIsNone(self.size_of(saving))

    def test_check_held_counts_the_copies_to_come(self):
        self.config(user_storage_quota='1000')
        image = self.image('active', 400, stores=1, copying='a')
        quota.check_held(image, 'active')
        with session.writer() as conn:
            db.image_set_properties(conn, image, {usage.IMPORTING: 'a'},
                                    {usage.IMPORTING: 'a,b'},
                                    base.timeutils.now())
        self.assertRaises(exception.RequestEntityTooLarge, quota.check_held,
                          image, 'active')
