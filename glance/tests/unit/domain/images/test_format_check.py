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


class Fed:
    """A checker fed with ``data``; ``verdict()`` under fixed formats."""

    def __init__(self, disk_format, data, chunk, container_format):
        self.checker = format_check.FormatChecker()
        for i in range(0, len(data), chunk):
            self.checker.feed(data[i:i + chunk])
        self.formats = (disk_format, container_format)

    def verdict(self):
        return self.checker.verdict(*self.formats)


def feed(disk_format, data, chunk=65536, container_format='bare'):
    return Fed(disk_format, data, chunk, container_format)


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

    def test_formats_without_inspector_take_unrecognised_content(self):
        self.assertIsNone(feed('ami', b'\x00qcow junk').verdict())
        self.assertIsNone(feed('ploop', os.urandom(1000)).verdict())

    def test_formats_without_inspector_refuse_a_disk_image(self):
        data = self.qemu_image('create', '-f', 'qcow2', '-F', 'raw', '-b',
                               '/etc/hostname', 'b.qcow2', '1M')
        for disk_format in ('ami', 'ari', 'aki', 'ploop'):
            for container in ('bare', disk_format, 'ovf'):
                error = self.assertRaises(
                    exception.Invalid,
                    feed(disk_format, data,
                         container_format=container).verdict)
                self.assertIn('does not match', str(error))

    def test_boot_sector_in_a_kernel_container(self):
        # A kernel starts with a boot sector; only a bare ami/aki/ari is a
        # whole disk, which may not carry a partition table.
        sector = bytearray(4096)
        sector[510:512] = b'\x55\xaa'
        self.assertIsNone(feed('aki', bytes(sector),
                               container_format='aki').verdict())
        self.assertRaises(exception.Invalid,
                          feed('aki', bytes(sector)).verdict)

    def test_archive_containers_judge_recognised_disks_only(self):
        self.assertIsNone(feed('vmdk', b'tar' * 1000,
                               container_format='ova').verdict())
        data = self.qemu_image('create', '-f', 'qcow2', 'a.qcow2', '1M')
        self.assertIsNone(feed('qcow2', data,
                               container_format='ovf').verdict())
        self.assertRaises(exception.Invalid,
                          feed('vmdk', data, container_format='ova').verdict)

    def test_verdict_uses_the_formats_it_is_given(self):
        data = self.qemu_image('create', '-f', 'qcow2', 'a.qcow2', '1M')
        checker = feed('qcow2', data).checker
        self.assertEqual(1024 * 1024, checker.verdict('qcow2', 'bare'))
        self.assertRaises(exception.Invalid, checker.verdict, 'raw', 'bare')
        self.assertRaises(exception.Invalid, checker.verdict, 'ami', 'ami')

    def test_partition_table_on_another_format_refused(self):
        data = bytearray(self.qemu_image('create', '-f', 'qcow2',
                                         'a.qcow2', '1M'))
        data[446 + 4] = 0x83
        data[510:512] = b'\x55\xaa'
        error = self.assertRaises(exception.Invalid,
                                  feed('qcow2', bytes(data)).verdict)
        self.assertIn('several formats', str(error))
        # Allowing mismatches does not allow ambiguity.
        self.config(require_image_format_match=False, group='image_format')
        self.assertRaises(exception.Invalid,
                          feed('qcow2', bytes(data)).verdict)

    def test_header_that_cannot_be_parsed_refused(self):
        checker = feed('raw', b'\0' * 4096).checker
        inspector = [i for i in checker.inspectors if i.NAME == 'vhd'][0]
        checker.failed['vhd'] = ValueError('bad header')
        inspector.region('header').data = b'conectix' + b'\0' * 504
        error = self.assertRaises(exception.Invalid, checker.verdict,
                                  'raw', 'bare')
        self.assertIn('could not be parsed', str(error))

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
