"""glance.domain.metadefs.catalog: file names of exported namespaces and
the load flags."""

from glance.domain.metadefs import catalog as metadef_catalog
from glance.tests.unit import base


class TestExportFileName(base.TestCase):

    def test_display_name_without_non_word_characters(self):
        taken = set()
        self.assertEqual('CPUPinning.json', metadef_catalog.file_name(
            {'namespace': 'n', 'display_name': 'CPU Pinning'}, taken))
        self.assertEqual('CPUPinning_2.json', metadef_catalog.file_name(
            {'namespace': 'm', 'display_name': 'CPU-Pinning'}, taken))
        self.assertEqual('OSFoo.json', metadef_catalog.file_name(
            {'namespace': 'OS::Foo', 'display_name': None}, taken))
        self.assertEqual('namespace.json', metadef_catalog.file_name(
            {'namespace': '::', 'display_name': '--'}, taken))

    def test_flag_combinations(self):
        metadef_catalog.check_flags(False, False, False)
        metadef_catalog.check_flags(True, True, False)
        metadef_catalog.check_flags(True, False, True)
        for flags in ((False, True, False), (False, False, True),
                      (True, True, True)):
            self.assertRaises(ValueError, metadef_catalog.check_flags,
                              *flags)
