"""web-download by a daemon whose environment names a forward proxy: the
download goes through the proxy, pinned to the vetted address, and the
URL filter still decides where it may go."""

import hashlib

from glance.tests.functional import test_import
from glance.tests.unit import fixtures_net


class TestWebDownloadThroughProxy(test_import.WebDownloadTest):

    @classmethod
    def setUpClass(cls):
        cls.proxy = fixtures_net.ForwardProxy()
        cls.proxy.setUp()
        super().setUpClass()
        # Lowercase variables win over the uppercase ones of the caller.
        cls.daemon.stop()
        cls.daemon.start(env={'http_proxy': cls.proxy.url(),
                              'https_proxy': cls.proxy.url(),
                              'no_proxy': ''})

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.proxy.cleanUp()

    def setUp(self):
        super().setUp()
        self.proxy.requests[:] = []

    def test_download_goes_through_the_proxy(self):
        image_id, resp = self.web_import('/data')
        self.assertEqual(202, resp.status_code, resp.text)
        task = self.wait_task(image_id)
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual(hashlib.md5(test_import.WEB_DATA).hexdigest(),
                         self.show(image_id)['checksum'])
        self.assertEqual([('GET', self.source_url + '/data')],
                         [(method, target)
                          for method, target, _ in self.proxy.requests])

    def test_filter_applies_through_the_proxy(self):
        # A redirect to the metadata address: the proxy is asked for the
        # first URL only.
        image_id, _resp = self.web_import('/redirect')
        task = self.wait_task(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('link-local', task['message'])
        self.assertEqual([self.source_url + '/redirect'],
                         [target for _, target, _ in self.proxy.requests])
        # A refused address never reaches the proxy.
        image = self.new_image()
        resp = self.start_import(image['id'], {'method': {
            'name': 'web-download', 'uri': 'http://127.0.0.2:%d/data'
            % self.source.server_port}})
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertEqual(1, len(self.proxy.requests))
