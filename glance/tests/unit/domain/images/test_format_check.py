"""glance.domain.images.format_check: content against disk_format, with images
built by qemu-img where it is installed and bytes written by hand."""

import os
import shutil
import subprocess
import tempfile

from glance.common import exception
from glance.domain.images import format_check
from glance.tests import prerequisites
from glance.tests.unit import base

QEMU_IMG = shutil.which('qemu-img')


def feed(disk_format, data, chunk=65536):
    checker = format_check.FormatChecker(disk_format)
    for i in range(0, len(data), chunk):
        checker.feed(data[i:i + chunk])
    return checker


class TestFormatCheck(base.TestCase):

    def qemu_image(self, *args):
        prerequisites.require('QEMU_IMG', QEMU_IMG is not None,
                              'no qemu-img on PATH')
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        subprocess.run([QEMU_IMG] + list(args), check=True, cwd=tmp,
                       capture_output=True)
        with open(os.path.join(tmp, args[-2]), 'rb') as f:
            return f.read()

    def test_uninspected_formats_pass_anything(self):
        self.assertIsNone(feed('ami', b'\x00qcow junk').verdict())
        self.assertIsNone(feed('ploop', os.urandom(1000)).verdict())

    def test_raw(self):
        data = os.urandom(5000)
        self.assertEqual(len(data), feed('raw', data).verdict())

    def test_qcow2_virtual_size(self):
        data = self.qemu_image('create', '-f', 'qcow2', 'a.qcow2', '10M')
        self.assertEqual(10 * 1024 * 1024, feed('qcow2', data).verdict())

    def test_qcow2_declared_raw_is_refused(self):
        data = self.qemu_image('create', '-f', 'qcow2', 'a.qcow2', '1M')
        error = self.assertRaises(exception.Invalid, feed('raw',
                                                          data).verdict)
        self.assertIn('does not match', str(error))

    def test_mismatch_allowed_when_configured(self):
        self.config(require_image_format_match=False, group='image_format')
        data = self.qemu_image('create', '-f', 'qcow2', 'a.qcow2', '1M')
        # The qcow2 still has to be safe; its size is the qcow2's own.
        self.assertEqual(1024 * 1024, feed('raw', data).verdict())

    def test_backing_file_refused(self):
        data = self.qemu_image('create', '-f', 'qcow2', '-F', 'raw', '-b',
                               '/etc/hostname', 'b.qcow2', '1M')
        error = self.assertRaises(exception.Invalid,
                                  feed('qcow2', data).verdict)
        self.assertIn('safety', str(error))

    def test_chunk_size_does_not_matter(self):
        data = self.qemu_image('create', '-f', 'qcow2', 'a.qcow2', '3M')
        for chunk in (1, 512, 1024 * 1024):
            self.assertEqual(3 * 1024 * 1024,
                             feed('qcow2', data, chunk=chunk).verdict())
