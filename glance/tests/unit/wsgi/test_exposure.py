"""glance.wsgi.exposure: the addresses of uWSGI's options, and the
refusal of an unauthenticated flavor beyond loopback under any WSGI
server."""

from glance.common import config
from glance.tests.unit import base
from glance.wsgi import exposure


class TestServedHosts(base.TestCase):

    def test_tcp_addresses(self):
        self.assertEqual(['127.0.0.1'], exposure.served_hosts(
            {'http11-socket': b'127.0.0.1:9292', 'master': True}))
        self.assertEqual(['127.0.0.1', '0.0.0.0', '::1'],
                         exposure.served_hosts({
                             'http-socket': [b'127.0.0.1:1', b':2'],
                             'https': b'[::1]:3,cert.pem,key.pem'}))

    def test_unknown_addresses(self):
        for options in (None, {}, {'master': True},
                        {'socket': b'/run/glance/uwsgi.sock'},
                        {'socket': b'@glance'},
                        {'http-socket': [b'127.0.0.1:1', b'/run/x.sock']}):
            self.assertIsNone(exposure.served_hosts(options), options)


class TestCheck(base.TestCase):

    def test_unauthenticated_served_on_loopback_only(self):
        exposure.check(config.CONF, {'http11-socket': b'127.0.0.1:9292'})
        for options in (None, {'http11-socket': b'0.0.0.0:9292'},
                        {'http-socket': [b'127.0.0.1:1', b'[::]:2']},
                        {'socket': b'/run/glance.sock'}):
            error = self.assertRaises(RuntimeError, exposure.check,
                                      config.CONF, options)
            self.assertIn('allow_unauthenticated_remote', str(error))

    def test_opt_in_or_keystone(self):
        self.config(allow_unauthenticated_remote=True, group='paste_deploy')
        exposure.check(config.CONF, None)
        self.config(allow_unauthenticated_remote=False, flavor='keystone',
                    group='paste_deploy')
        exposure.check(config.CONF, {'http11-socket': b'0.0.0.0:9292'})
