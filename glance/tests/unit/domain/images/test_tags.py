"""glance.domain.images.tags on a real SQLite database."""

from glance.common import exception
from glance.domain.images import images
from glance.domain.images import tags
from glance.tests.unit import base


class TestTags(base.DBTestCase):

    def test_add_and_delete(self):
        image = images.create(base.ctx(), {})
        tags.add_tag(base.ctx(), image['id'], 'x')
        tags.add_tag(base.ctx(), image['id'], 'x')
        self.assertEqual(['x'], images.get(base.ctx(), image['id'])['tags'])
        tags.delete_tag(base.ctx(), image['id'], 'x')
        self.assertRaises(exception.NotFound, tags.delete_tag, base.ctx(),
                          image['id'], 'x')
        self.assertRaises(exception.Invalid, tags.add_tag, base.ctx(),
                          image['id'], '\U0001F600')
        self.config(image_tag_quota=1)
        tags.add_tag(base.ctx(), image['id'], 'a')
        self.assertRaises(exception.LimitExceeded, tags.add_tag,
                          base.ctx(), image['id'], 'b')
