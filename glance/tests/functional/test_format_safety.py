"""Uploaded content must match disk_format and pass the safety checks of
its format before the image becomes active. The disk images are built by
qemu-img (qemu-utils) in each test."""

import os
import shutil
import subprocess

from glance.tests import prerequisites
from glance.tests.functional import test_image_data

QEMU_IMG = shutil.which('qemu-img')


def require_qemu_img():
    prerequisites.require('QEMU_IMG', QEMU_IMG is not None,
                          'no qemu-img on PATH')


class TestFormatSafety(test_image_data.ImageDataTest):

    options = {}

    def setUp(self):
        require_qemu_img()
        super().setUp()
        self.tmp = os.path.join(self.workdir, 'fmt-' + self.project)
        os.makedirs(self.tmp)

    def qemu_img(self, *args):
        subprocess.run([QEMU_IMG] + list(args), check=True,
                       capture_output=True, cwd=self.tmp)

    def read(self, name):
        with open(os.path.join(self.tmp, name), 'rb') as f:
            return f.read()

    def upload(self, disk_format, data, status=204):
        image = self.new_image(disk_format=disk_format)
        resp = self.put_data(image['id'], data)
        self.assertEqual(status, resp.status_code, resp.text)
        return image['id'], resp

    def test_valid_qcow2_gets_virtual_size(self):
        self.qemu_img('create', '-f', 'qcow2', 'ok.qcow2', '64M')
        image_id, _ = self.upload('qcow2', self.read('ok.qcow2'))
        shown = self.show(image_id)
        self.assertEqual('active', shown['status'])
        self.assertEqual(64 * 1024 * 1024, shown['virtual_size'])

    def test_qcow2_with_backing_file_refused(self):
        self.qemu_img('create', '-f', 'raw', 'base.raw', '1M')
        self.qemu_img('create', '-f', 'qcow2', '-F', 'raw', '-b',
                      '/etc/hostname', 'backed.qcow2', '1M')
        image_id, resp = self.upload('qcow2', self.read('backed.qcow2'),
                                     status=400)
        self.assertIn('safety', resp.text)
        self.assert_queued_without_data(image_id)

    def test_qcow2_with_data_file_refused(self):
        self.qemu_img('create', '-f', 'qcow2', '-o',
                      'data_file=data.raw', 'external.qcow2', '1M')
        image_id, _ = self.upload('qcow2', self.read('external.qcow2'),
                                  status=400)
        self.assert_queued_without_data(image_id)

    def test_vmdk_with_external_extent_refused(self):
        self.qemu_img('create', '-f', 'vmdk', '-o',
                      'subformat=monolithicFlat', 'flat.vmdk', '1M')
        image_id, _ = self.upload('vmdk', self.read('flat.vmdk'),
                                  status=400)
        self.assert_queued_without_data(image_id)

    def test_stream_optimized_vmdk_accepted(self):
        self.qemu_img('create', '-f', 'vmdk', '-o',
                      'subformat=streamOptimized', 'so.vmdk', '2M')
        image_id, _ = self.upload('vmdk', self.read('so.vmdk'))
        self.assertEqual('active', self.show(image_id)['status'])

    def test_content_must_match_disk_format(self):
        self.qemu_img('create', '-f', 'qcow2', 'q.qcow2', '1M')
        image_id, resp = self.upload('raw', self.read('q.qcow2'),
                                     status=400)
        self.assertIn('does not match', resp.text)
        self.assert_queued_without_data(image_id)
        image_id, _ = self.upload('qcow2', b'\0' * 65536, status=400)
        self.assert_queued_without_data(image_id)

    def test_raw_and_formats_without_inspector(self):
        image_id, _ = self.upload('raw', os.urandom(100000))
        self.assertEqual('active', self.show(image_id)['status'])
        image_id, _ = self.upload('ami', b'anything at all')
        self.assertEqual('active', self.show(image_id)['status'])
        # ami is inspected too: a disk image of a recognised format is not
        # an ami.
        self.qemu_img('create', '-f', 'qcow2', 'q.qcow2', '1M')
        image_id, resp = self.upload('ami', self.read('q.qcow2'),
                                     status=400)
        self.assertIn('does not match', resp.text)
        self.assert_queued_without_data(image_id)

    def test_monolithic_sparse_vmdk(self):
        self.qemu_img('create', '-f', 'vmdk', '-o',
                      'subformat=monolithicSparse', 'ms.vmdk', '2M')
        image_id, _ = self.upload('vmdk', self.read('ms.vmdk'))
        self.assertEqual('active', self.show(image_id)['status'])

    def test_disk_with_bad_partition_table(self):
        image_id, resp = self.upload('raw', bad_mbr_disk(), status=400)
        self.assertIn('safety', resp.text)
        self.assert_queued_without_data(image_id)


def bad_mbr_disk():
    """A 64 KiB disk whose MBR has a partition entry with a bad boot flag."""
    disk = bytearray(65536)
    disk[446] = 0x42                 # boot flag: only 0x00 and 0x80 exist
    disk[446 + 4] = 0x83             # a Linux partition
    disk[510:512] = b'\x55\xaa'
    return bytes(disk)


class TestFormatOptions(TestFormatSafety):
    """[image_format] options relax or tighten the checks."""

    options = {'image_format.gpt_safety_checks_nonfatal': 'mbr',
               'image_format.vmdk_allowed_types': 'streamOptimized'}

    def test_monolithic_sparse_vmdk(self):
        self.qemu_img('create', '-f', 'vmdk', '-o',
                      'subformat=monolithicSparse', 'ms.vmdk', '2M')
        image_id, resp = self.upload('vmdk', self.read('ms.vmdk'),
                                     status=400)
        self.assertIn('monolithicsparse', resp.text)
        self.assert_queued_without_data(image_id)

    def test_disk_with_bad_partition_table(self):
        image_id, _ = self.upload('raw', bad_mbr_disk())
        self.assertEqual('active', self.show(image_id)['status'])
