"""glance.imports.plugins.conversion: qemu-img under process limits, and
what it reports checked against the format inspectors."""

import os
import shutil
import subprocess
import tempfile

from glance.common import exception
from glance.imports.plugins import conversion
from glance.tests import prerequisites
from glance.tests.unit import base

QEMU_IMG = shutil.which('qemu-img')


class TestConversion(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def qemu_image(self, fmt, *options):
        prerequisites.require('QEMU_IMG', QEMU_IMG is not None,
                              'no qemu-img on PATH')
        path = os.path.join(self.tmp, 'img')
        subprocess.run([QEMU_IMG, 'create', '-f', fmt] + list(options)
                       + [path, '2M'], check=True, capture_output=True)
        return path

    def image(self, disk_format):
        return {'id': 'image-1', 'disk_format': disk_format}

    def test_converted_under_default_limits(self):
        path = self.qemu_image('qcow2')
        changes = conversion.run(self.image('qcow2'), path, [])
        self.assertEqual({'disk_format': 'raw', 'container_format': 'bare',
                          'size': 2 * 1024 * 1024,
                          'virtual_size': 2 * 1024 * 1024}, changes)
        self.assertEqual(['img'], os.listdir(self.tmp))

    def test_tool_fails_cleanly_under_a_tiny_limit(self):
        path = self.qemu_image('qcow2')
        with open(path, 'rb') as f:
            before = f.read()
        for mib in (1, 16):
            self.config(qemu_img_address_space=mib, group='image_conversion')
            error = self.assertRaises(exception.Invalid, conversion.run,
                                      self.image('qcow2'), path, [])
            self.assertIn('qemu-img info failed', str(error))
            self.assertIn('process limits', str(error))
        with open(path, 'rb') as f:
            self.assertEqual(before, f.read())
        self.assertEqual(['img'], os.listdir(self.tmp))

    def test_what_qemu_img_reports_must_agree(self):
        check = conversion._check_info
        self.assertRaises(exception.Invalid, check, {'format': 'raw'},
                          'qcow2', 'qcow2')
        self.assertRaises(exception.Invalid, check, {
            'format': 'qcow2', 'backing-filename': '/etc/passwd'},
            'qcow2', 'qcow2')
        self.assertRaises(exception.Invalid, check, {
            'format': 'qcow2',
            'format-specific': {'data': {'data-file': '/dev/sda'}}},
            'qcow2', 'qcow2')
        error = self.assertRaises(exception.Invalid, check, {
            'format': 'vmdk',
            'format-specific': {'data': {'create-type': 'monolithicFlat'}}},
            'vmdk', 'vmdk')
        self.assertIn('monolithicFlat', str(error))
        check({'format': 'vpc'}, 'vhd', 'vpc')

    def test_formats_without_inspector_are_not_converted(self):
        path = os.path.join(self.tmp, 'img')
        with open(path, 'wb') as f:
            f.write(os.urandom(4096))
        error = self.assertRaises(exception.Invalid, conversion.run,
                                  self.image('ami'), path, [])
        self.assertIn('cannot be converted', str(error))

    def test_limits_wrapper_runs_under_the_configured_interpreter(self):
        # Under uWSGI sys.executable is the uwsgi binary: the wrapper that
        # applies the limits runs under [wsgi] python_interpreter.
        path = self.qemu_image('qcow2')
        self.config(python_interpreter=os.path.join(self.tmp, 'no-python'),
                    group='wsgi')
        error = self.assertRaises(exception.Invalid, conversion.run,
                                  self.image('qcow2'), path, [])
        self.assertIn('no-python', str(error))
        self.config(python_interpreter=shutil.which('python3'),
                    group='wsgi')
        self.assertEqual('raw', conversion.run(
            self.image('qcow2'), path, [])['disk_format'])
