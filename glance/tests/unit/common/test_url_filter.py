"""glance.common.url_filter: which URLs imports may fetch from."""

import socket

import fixtures

from glance.common import exception
from glance.common import url_filter
from glance.tests.unit import base

GROUP = 'import_filtering_opts'


class FakeDNS(fixtures.Fixture):
    """Answers for chosen names; the real resolver for everything else
    (IP literals, localhost, names that do not exist). ``calls`` counts
    the lookups of each fake name."""

    def __init__(self, records):
        super().__init__()
        self.records = records
        self.calls = {}

    def _setUp(self):
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host not in self.records:
                return real(host, port, *args, **kwargs)
            self.calls[host] = self.calls.get(host, 0) + 1
            answer = self.records[host]
            if callable(answer):
                answer = answer()
            result = []
            for address in answer:
                if ':' in address:
                    result.append((socket.AF_INET6, socket.SOCK_STREAM, 6,
                                   '', (address, port, 0, 0)))
                else:
                    result.append((socket.AF_INET, socket.SOCK_STREAM, 6,
                                   '', (address, port)))
            return result

        self.useFixture(fixtures.MonkeyPatch('socket.getaddrinfo',
                                             getaddrinfo))


class FilterTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dns = self.useFixture(FakeDNS({
            'images.example.com': ['93.184.216.34', '2606:2800:220:1::1',
                                   '93.184.216.34'],
            'mixed.example.com': ['93.184.216.34', '10.0.0.7'],
            'inside.example.com': ['10.1.2.3'],
            'meta.example.com': ['169.254.169.254'],
            'lo.example.com': ['127.0.0.1'],
            'xn--bcher-kva.example': ['93.184.216.35'],
        }))

    def opts(self, **kwargs):
        self.config(group=GROUP, **kwargs)

    def assertRefused(self, url, *reasons):
        e = self.assertRaises(exception.BadRequest, url_filter.check_url,
                              url)
        self.assertEqual(400, e.code)
        for reason in reasons:
            self.assertIn(reason, e.msg)
        return e

    def assertAllowed(self, url, addresses):
        self.assertEqual(addresses, url_filter.check_url(url))


class TestDefaults(FilterTestCase):

    def test_options(self):
        opts = self.conf.conf.import_filtering_opts
        self.assertEqual(['http', 'https'], opts.allowed_schemes)
        self.assertEqual([], opts.disallowed_schemes)
        self.assertEqual([], opts.allowed_hosts)
        self.assertEqual([], opts.disallowed_hosts)
        self.assertEqual([80, 443], opts.allowed_ports)
        self.assertEqual([], opts.disallowed_ports)
        self.assertEqual([], opts.allowed_internal_networks)

    def test_bad_network_option_refused(self):
        self.assertRaises(ValueError, self.opts,
                          allowed_internal_networks=['10.0.0.0/33'])
        self.assertRaises(ValueError, self.opts,
                          allowed_internal_networks=['intranet'])

    def test_public_ipv4_literal(self):
        self.assertAllowed('http://93.184.216.34/a.img', ['93.184.216.34'])
        self.assertEqual({}, self.dns.calls)

    def test_public_ipv6_literal_is_canonicalised(self):
        self.assertAllowed('https://[2606:2800:0220:0001:0::1]/a.img',
                           ['2606:2800:220:1::1'])

    def test_name_resolves_to_public_addresses(self):
        self.assertAllowed('https://images.example.com/x.qcow2',
                           ['93.184.216.34', '2606:2800:220:1::1'])
        self.assertEqual({'images.example.com': 1}, self.dns.calls)

    def test_172_32_is_public(self):
        self.assertAllowed('http://172.32.0.1/', ['172.32.0.1'])

    def test_unresolvable_name(self):
        self.assertRefused('http://no-such-host.invalid/x',
                           'no-such-host.invalid cannot be resolved')

    def test_target(self):
        target = url_filter.vet_url(
            'http://us%40er:p%3Ass@IMAGES.example.com./a%20b?x=1&y=2#frag')
        self.assertEqual('http', target.scheme)
        self.assertEqual('images.example.com', target.host)
        self.assertEqual(80, target.port)
        self.assertEqual('/a%20b?x=1&y=2', target.request_target)
        self.assertEqual('us@er', target.username)
        self.assertEqual('p:ss', target.password)

    def test_empty_path_asks_for_root(self):
        self.assertEqual('/', url_filter.vet_url(
            'http://93.184.216.34').request_target)

    def test_idna_name(self):
        target = url_filter.vet_url('http://b\u00fccher.example/img')
        self.assertEqual('xn--bcher-kva.example', target.host)
        self.assertEqual(['93.184.216.35'], target.addresses)

    def test_password_not_in_message(self):
        e = self.assertRefused('http://user:s3cret@127.0.0.1/', 'loopback')
        self.assertNotIn('s3cret', e.msg)
        self.assertIn('http://127.0.0.1/', e.msg)

    def test_control_characters(self):
        for url in ('http://images.exa\nmple.com/', 'http://a.b/ x',
                    'http://images.example.com/\x00', ' http://a.b/'):
            self.assertRefused(url, 'control characters')

    def test_not_a_string(self):
        for url in (None, '', b'http://a.b/'):
            self.assertRaises(exception.BadRequest, url_filter.check_url,
                              url)


class TestHostForms(FilterTestCase):

    def test_shorthand_ipv4_refused(self):
        for host in ('2130706433', '127.1', '127.0.1', '0x7f.0.0.1',
                     '0x7f000001', '0177.0.0.1', '010.0.0.1',
                     '1.2.3.4.5', '134744072', '8.8.8.08', '1.2.3.256'):
            self.assertRefused('http://%s/' % host,
                               'not a standard dotted IPv4 address')

    def test_shorthand_with_trailing_dot_refused(self):
        self.assertRefused('http://127.1./', 'not a standard dotted')

    def test_bad_ipv6_literal(self):
        self.assertRefused('http://[1::2::3]/', 'malformed')

    def test_zone_id_refused(self):
        self.assertRefused('http://[fe80::1%25eth0]/', 'zone')

    def test_invalid_names(self):
        for url in ('http://a..b/', 'http://-a.example/', 'http://a\\b/',
                    'http://a_b!.example/', 'http://:80/', 'http:///x',
                    'http://user@/x'):
            self.assertRaises(exception.BadRequest, url_filter.check_url,
                              url)


class TestSplitUrl(FilterTestCase):

    def test_parts(self):
        self.assertEqual(
            url_filter.URLParts('http', 'images.example.com.', 8080,
                                '/a%20b?x=1', 'us@er', 'p:ss'),
            url_filter.split_url(
                'HTTP://us%40er:p%3Ass@IMAGES.example.com.:8080/a%20b?x=1'))

    def test_nothing_is_vetted_nor_resolved(self):
        self.assertEqual(
            url_filter.URLParts('ftp', '10.0.0.1', None, '/', None, None),
            url_filter.split_url('ftp://10.0.0.1'))
        self.assertEqual(
            url_filter.URLParts('', None, None, '/x', None, None),
            url_filter.split_url('/x'))
        url_filter.split_url('http://images.example.com/')
        self.assertEqual({}, self.dns.calls)

    def test_ipv6_literal_without_brackets(self):
        parts = url_filter.split_url('https://u@[FE80::1]/')
        self.assertEqual(('fe80::1', None, 'u', None),
                         (parts.host, parts.port, parts.username,
                          parts.password))

    def test_refusals(self):
        for url, message in (
                (None, 'A URL to fetch is required.'),
                ('', 'A URL to fetch is required.'),
                ('http://a.b/ x', 'The URL http://a.b/ x does not pass '
                 'filtering: it may not be fetched, it contains spaces or '
                 'control characters.'),
                ('http://u:pw@a.b:http/', 'The URL http://a.b:http/ does not '
                 'pass filtering: it may not be fetched, it is malformed (')):
            e = self.assertRaises(exception.BadRequest, url_filter.split_url,
                                  url)
            self.assertTrue(e.msg.startswith(message), e.msg)


class TestInternalAddresses(FilterTestCase):

    def test_ipv4_literals(self):
        cases = {
            '127.0.0.1': 'loopback', '127.200.0.9': 'loopback',
            '169.254.169.254': 'link-local', '169.254.0.1': 'link-local',
            '10.0.0.1': 'private', '10.255.255.255': 'private',
            '172.16.0.1': 'private', '172.31.255.254': 'private',
            '192.168.0.1': 'private', '100.64.0.1': 'non-public',
            '0.0.0.0': 'unspecified', '224.0.0.1': 'multicast',
            '240.0.0.1': 'reserved', '192.0.2.1': 'private',
        }
        for host, kind in cases.items():
            article = 'an' if kind == 'unspecified' else 'a'
            self.assertRefused('http://%s/' % host, 'the host %s is %s %s '
                               'address' % (host, article, kind))

    def test_ipv6_literals(self):
        cases = {
            '::1': 'loopback', 'fe80::1': 'link-local',
            'fc00::1': 'private', 'fd00:ec2::254': 'private',
            '::': 'unspecified', 'ff02::1': 'multicast',
            'fec0::1': 'site-local', '2001:db8::1': 'private',
            '::ffff:127.0.0.1': 'loopback', '::ffff:10.0.0.1': 'private',
            '::ffff:169.254.169.254': 'link-local',
            '2002:7f00:1::': 'loopback', '2002:a00:1::1': 'private',
            '64:ff9b::a9fe:a9fe': 'link-local', '::7f00:1': 'reserved',
        }
        for host, kind in cases.items():
            self.assertRefused('http://[%s]/' % host, '%s address' % kind)

    def test_ipv4_mapped_public_address(self):
        self.assertAllowed('http://[::ffff:93.184.216.34]/',
                           ['::ffff:5db8:d822'])

    def test_localhost_names(self):
        for host in ('localhost', 'LOCALHOST', 'localhost.'):
            self.assertRefused('http://%s/' % host,
                               'the host localhost resolves to a loopback')

    def test_names_resolving_inward(self):
        self.assertRefused('http://meta.example.com/latest/meta-data',
                           'meta.example.com resolves to a link-local')
        self.assertRefused('http://inside.example.com/', 'private')

    def test_one_bad_address_refuses_the_name(self):
        self.assertRefused('http://mixed.example.com/', 'private')

    def test_allowed_internal_networks(self):
        self.opts(allowed_internal_networks=['127.0.0.0/8', '10.1.0.0/16',
                                             'fd00::/8'])
        self.assertAllowed('http://127.0.0.1/', ['127.0.0.1'])
        self.assertAllowed('http://[::ffff:127.0.0.1]/', ['::ffff:7f00:1'])
        self.assertAllowed('http://lo.example.com/', ['127.0.0.1'])
        self.assertAllowed('http://inside.example.com/', ['10.1.2.3'])
        self.assertAllowed('http://[fd00::5]/', ['fd00::5'])
        self.assertRefused('http://10.2.0.1/', 'private')
        self.assertRefused('http://169.254.169.254/', 'link-local')
        self.assertRefused('http://[::1]/', 'loopback')

    def test_ip_in_allowed_hosts_exempts_that_address(self):
        self.opts(allowed_hosts=['127.0.0.1', '[::1]'])
        self.assertAllowed('http://127.0.0.1/', ['127.0.0.1'])
        self.assertAllowed('http://[::1]/', ['::1'])
        self.assertRefused('http://127.0.0.2/', 'not allowed')

    def test_name_in_allowed_hosts_exempts_nothing(self):
        self.opts(allowed_hosts=['localhost', 'lo.example.com'])
        self.assertRefused('http://localhost/', 'loopback')
        self.assertRefused('http://lo.example.com/', 'loopback')


class TestLists(FilterTestCase):

    def test_default_schemes(self):
        self.assertAllowed('https://93.184.216.34/', ['93.184.216.34'])
        for url in ('ftp://93.184.216.34/', 'file:///etc/passwd',
                    'gopher://93.184.216.34/', 'data:,hello'):
            self.assertRefused(url, 'scheme')

    def test_missing_scheme(self):
        self.assertRefused('//93.184.216.34/x', 'no scheme')
        self.assertRefused('93.184.216.34/x', 'no scheme')

    def test_scheme_case(self):
        self.assertAllowed('HTTP://93.184.216.34/', ['93.184.216.34'])

    def test_only_http_and_https_can_be_fetched(self):
        self.opts(allowed_schemes=['ftp', 'http'])
        self.assertRefused('ftp://93.184.216.34/', 'only http and https')
        self.assertRefused('https://93.184.216.34/', 'https is not allowed')

    def test_disallowed_schemes(self):
        self.opts(allowed_schemes=[], disallowed_schemes=['http'])
        self.assertRefused('http://93.184.216.34/', 'http is not allowed')
        self.assertAllowed('https://93.184.216.34/', ['93.184.216.34'])

    def test_allowed_schemes_win_over_disallowed(self):
        self.opts(allowed_schemes=['http'], disallowed_schemes=['http'])
        self.assertAllowed('http://93.184.216.34/', ['93.184.216.34'])

    def test_allowed_hosts(self):
        self.opts(allowed_hosts=['Images.Example.com.', '93.184.216.34'])
        self.assertAllowed('http://images.example.com/',
                           ['93.184.216.34', '2606:2800:220:1::1'])
        self.assertAllowed('http://93.184.216.34/', ['93.184.216.34'])
        self.assertRefused('http://93.184.216.35/',
                           'host 93.184.216.35 is not allowed')
        self.assertRefused('http://xn--bcher-kva.example/', 'not allowed')

    def test_disallowed_hosts(self):
        self.opts(disallowed_hosts=['images.example.com', '[2606:2800::9]',
                                    '93.184.216.35'])
        for url in ('http://images.example.com/', 'http://IMAGES.example.'
                    'com./', 'http://[2606:2800:0::9]/',
                    'http://93.184.216.35/'):
            self.assertRefused(url, 'is not allowed')
        self.assertAllowed('http://93.184.216.36/', ['93.184.216.36'])

    def test_disallowed_address_refuses_names_resolving_to_it(self):
        self.opts(disallowed_hosts=['93.184.216.35'])
        self.assertRefused('http://b\u00fccher.example/',
                           'xn--bcher-kva.example is not allowed')

    def test_allowed_hosts_win_over_disallowed(self):
        self.opts(allowed_hosts=['93.184.216.35'],
                  disallowed_hosts=['93.184.216.35'])
        self.assertAllowed('http://93.184.216.35/', ['93.184.216.35'])

    def test_default_ports(self):
        self.assertAllowed('http://93.184.216.34:80/', ['93.184.216.34'])
        self.assertAllowed('http://93.184.216.34:443/', ['93.184.216.34'])
        self.assertRefused('http://93.184.216.34:8080/',
                           'port 8080 is not allowed')
        self.assertRefused('http://93.184.216.34:22/', 'port 22')

    def test_implicit_port_is_checked(self):
        self.opts(allowed_ports=[8443])
        self.assertRefused('https://93.184.216.34/', 'port 443')
        self.assertAllowed('https://93.184.216.34:8443/', ['93.184.216.34'])

    def test_disallowed_ports(self):
        self.opts(allowed_ports=[], disallowed_ports=[8080])
        self.assertRefused('http://93.184.216.34:8080/', 'port 8080')
        self.assertAllowed('http://93.184.216.34:8081/', ['93.184.216.34'])
        self.assertAllowed('http://93.184.216.34/', ['93.184.216.34'])

    def test_allowed_ports_win_over_disallowed(self):
        self.opts(allowed_ports=[8080], disallowed_ports=[8080])
        self.assertAllowed('http://93.184.216.34:8080/', ['93.184.216.34'])
        self.assertRefused('http://93.184.216.34/', 'port 80')

    def test_invalid_ports(self):
        self.opts(allowed_ports=[])
        for port in ('0', '65536', '99999', 'http', '-1'):
            self.assertRaises(exception.BadRequest, url_filter.check_url,
                              'http://93.184.216.34:%s/' % port)

    def test_lists_checked_before_resolving(self):
        self.opts(allowed_ports=[443])
        self.assertRefused('http://images.example.com/', 'port 80')
        self.assertEqual({}, self.dns.calls)
