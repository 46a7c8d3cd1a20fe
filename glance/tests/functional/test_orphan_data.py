"""The data of an image deleted for good is removed even when the process
that deleted it died between its commit and the store: at the next start
(and every file sweep) the files of deleted images go, while those of
live and pending_delete images stay."""

import os

import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import helpers_images as h

OCTETS = {'Content-Type': 'application/octet-stream'}


class TestOrphanData(h.ImageAPIMixin, base.FunctionalTest):

    def uploaded(self):
        image = self.new_image(disk_format='raw', container_format='bare')
        self.assertEqual(204, self.request(
            'PUT', '/v2/images/%s/file' % image['id'], data=b'x' * 1000,
            headers=OCTETS).status_code)
        return image['id']

    def test_files_of_deleted_images_removed_at_start(self):
        live, deleted, pending = (self.uploaded(), self.uploaded(),
                                  self.uploaded())
        self.daemon.stop()
        # As a delete that died after its commit leaves them.
        engine = sa.create_engine(self.db.url)
        self.addCleanup(engine.dispose)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE images SET status = 'deleted', deleted = :yes "
                "WHERE id = :id"), {'yes': True, 'id': deleted})
            conn.execute(sa.text(
                "UPDATE image_locations SET deleted = :yes, "
                "status = 'deleted' WHERE image_id = :id"),
                {'yes': True, 'id': deleted})
            conn.execute(sa.text(
                "UPDATE images SET status = 'pending_delete', deleted = :yes"
                " WHERE id = :id"), {'yes': True, 'id': pending})
        images = os.path.join(self.workdir, 'images')
        stray = os.path.join(images, '0a0b0c0d-0000-4000-8000-000000000001')
        with open(stray, 'wb') as f:
            f.write(b'no image')
        other = os.path.join(images, 'not-an-image-id')
        with open(other, 'wb') as f:
            f.write(b'kept')
        self.daemon.start()
        self.assertEqual(sorted([live, pending, 'not-an-image-id']),
                         sorted(os.listdir(images)))
        self.assertEqual(b'x' * 1000, self.request(
            'GET', '/v2/images/%s/file' % live).content)
