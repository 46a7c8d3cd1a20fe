"""Unit tests of the vmware store's parsing: vsphere:// locations, the
lines of vmware_datastores, the host option, and the ranges cut out of a
whole read."""

import types

import testtools

from glance.store import exceptions
from glance.store import vmware

UPSTREAM = ('vsphere://vcenter.example.org/folder/openstack_glance/'
            '6b5c4f4e-1c1a-4f57-9a57-000000000001?dcPath=dc1&dsName=ds%201')


class TestLocation(testtools.TestCase):

    def test_upstream_location_round_trip(self):
        loc = vmware.VsphereLocation.parse(UPSTREAM)
        self.assertEqual('vcenter.example.org', loc.host)
        self.assertEqual('/openstack_glance/6b5c4f4e-1c1a-4f57-9a57-'
                         '000000000001', loc.path)
        self.assertEqual(('dc1', 'ds 1'), (loc.datacenter, loc.datastore))
        self.assertEqual(UPSTREAM.replace('ds%201', 'ds+1'), loc.uri())
        self.assertEqual(UPSTREAM.replace('vsphere://', 'https://')
                         .replace('ds%201', 'ds+1'), loc.https_url())
        self.assertEqual('[ds 1] openstack_glance/6b5c4f4e-1c1a-4f57-9a57-'
                         '000000000001', loc.datastore_path())

    def test_bad_locations(self):
        for uri in ('vsphere://h/folder/x?dcPath=d',
                    'vsphere://h/folder/x?dsName=s',
                    'vsphere://h/other/x?dcPath=d&dsName=s',
                    'vsphere://h/folder/?dcPath=d&dsName=s',
                    'vsphere:///folder/x?dcPath=d&dsName=s',
                    'https://h/folder/x?dcPath=d&dsName=s', '', None):
            self.assertRaises(exceptions.BadStoreUri,
                              vmware.VsphereLocation.parse, uri)


class TestDatastoreLines(testtools.TestCase):

    def test_lines(self):
        ds = vmware.Datastore.parse('dc1/sub:ds-a:30')
        self.assertEqual(('dc1/sub', 'ds-a', 30),
                         (ds.datacenter, ds.name, ds.weight))
        self.assertEqual(0, vmware.Datastore.parse(' dc : ds ').weight)
        for line in ('dc', 'dc:', ':ds', 'dc:ds:heavy', 'a:b:1:2', ''):
            self.assertRaises(exceptions.BadStoreConfiguration,
                              vmware.Datastore.parse, line)


class TestConfiguration(testtools.TestCase):

    def options(self, **changes):
        values = dict(vmware_server_host='vc.example.org',
                      vmware_server_username='u',
                      vmware_server_password='p',
                      vmware_api_retry_count=1,
                      vmware_task_poll_interval=1,
                      vmware_store_image_dir='/openstack_glance',
                      vmware_insecure=True, vmware_ca_file=None,
                      vmware_datastores=['dc:ds'])
        values.update(changes)
        return types.SimpleNamespace(**values)

    def refused(self, **changes):
        store = vmware.VMwareStore('vm', self.options(**changes))
        return self.assertRaises(exceptions.BadStoreConfiguration,
                                 store.configure)

    def test_missing_options_are_named(self):
        error = self.refused(vmware_server_password=None,
                             vmware_datastores=[])
        self.assertIn('vmware_server_password, vmware_datastores',
                      str(error))

    def test_bad_host_and_directory(self):
        for host in ('https://vc/sdk', 'vc:port', 'vc:99999'):
            self.assertIn('vmware_server_host',
                          str(self.refused(vmware_server_host=host)))
        self.assertIn('vmware_store_image_dir',
                      str(self.refused(vmware_store_image_dir='/')))
        self.assertIn('vmware_ca_file /nonexistent/ca.pem is not a file',
                      str(self.refused(vmware_insecure=False,
                                       vmware_ca_file='/nonexistent/ca.pem')))


class TestSlice(testtools.TestCase):

    def test_ranges_of_chunks(self):
        chunks = [b'abcd', b'efgh', b'ij']
        data = b''.join(chunks)
        for offset, length in ((0, None), (3, 2), (4, 4), (5, None),
                               (9, 1), (0, 10), (2, 0)):
            end = None if length is None else offset + length
            self.assertEqual(data[offset:end], b''.join(
                vmware._slice(iter(chunks), offset, length)))
