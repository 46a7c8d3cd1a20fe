"""glance-replicator's arguments, identities and upload body."""

import io
import os
import tempfile

import fixtures
import testtools

from glance.cmd import replicator
from glance.replicator import client
from glance.replicator import copy
from glance.replicator import identity
from glance.replicator import report


class TestUrls(testtools.TestCase):

    def test_normalize(self):
        n = client.normalize_url
        self.assertEqual('http://h:9292', n('h:9292'))
        self.assertEqual('https://h', n('https://h/v2/'))
        self.assertEqual('http://h:1/image', n('http://h:1/image/'))
        for bad in ('ftp://h', 'http://', 'h:port'):
            self.assertRaises(ValueError, n, bad)


class TestIdentity(testtools.TestCase):

    def conf(self, text):
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        return path

    def test_sides_from_file_and_command_line(self):
        sides = identity.read_config(self.conf(
            '[DEFAULT]\ntimeout = 5\n[source]\nurl = a:1\nproject = p\n'
            '[target]\nauth-url = http://k:5000/v3\nusername = u\n'
            'password = secret\nproject_name = admin\n'))
        source = identity.build(sides['source'])
        self.assertEqual(('a:1', 'p', 5.0, {}),
                         (source.url, source.project, source.timeout,
                          source.auth))
        target = identity.build(sides['target'])
        self.assertEqual({'auth_url': 'http://k:5000/v3', 'username': 'u',
                          'password': 'secret', 'project_name': 'admin'},
                         target.auth)
        self.assertIn('Keystone', target.describe())
        # A token on the command line replaces the file's credentials.
        target = identity.build(sides['target'], url='b:2', token='t')
        self.assertEqual(({}, 't', 'b:2'),
                         (target.auth, target.token, target.url))

    def test_keystone_plugin_options_checked(self):
        ident = client.Identity(url='h:1', auth={'auth_url': 'http://k',
                                                 'colour': 'blue'})
        e = self.assertRaises(client.ReplicatorError, client.ImageClient,
                              ident)
        self.assertIn('colour', str(e))
        ident = client.Identity(url='h:1', auth={'auth_type': 'nope'})
        self.assertRaises(client.ReplicatorError, client.ImageClient, ident)

    def test_bad_files(self):
        self.assertRaises(identity.ConfigError, identity.read_config,
                          '/nonexistent/replicator.conf')
        self.assertRaises(identity.ConfigError, identity.read_config,
                          self.conf('no section\n'))
        self.assertRaises(identity.ConfigError, identity.read_config,
                          self.conf('[sauce]\nurl = x\n'))


class TestMain(testtools.TestCase):

    def test_help_and_usage(self):
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        err = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                   io.StringIO())).new_value
        self.assertEqual(0, replicator.main(['help', 'livecopy']))
        self.assertIn('--dry-run', out.getvalue())
        e = self.assertRaises(SystemExit, replicator.main, [])
        self.assertEqual(2, e.code)
        # load TARGET DIR: the one argument is the directory.
        self.assertEqual(2, replicator.main(['load', 'h:1']))
        self.assertIn('no target given', err.getvalue())


class TestBody(testtools.TestCase):

    def test_counts_and_checks_the_length(self):
        seen = []
        body = copy.Body(iter([b'ab', b'', b'cd']), 4, seen.append)
        self.assertEqual(4, len(body))
        self.assertEqual(b'abcd', b''.join(body))
        self.assertEqual([2, 2], seen)
        short = copy.Body(iter([b'ab']), 4)
        e = self.assertRaises(copy.Failed, list, short)
        self.assertIn('2 of its 4 bytes', str(e))
        long = copy.Body(iter([b'abc', b'de']), 4)
        self.assertRaises(copy.Failed, list, long)
        # Unknown size: whatever comes, counted.
        unsized = copy.Body(iter([b'abc', b'de']), None)
        self.assertEqual(b'abcde', b''.join(unsized))
        self.assertEqual(5, unsized.sent)


class TestReport(testtools.TestCase):

    def test_progress_silent_off_a_terminal(self):
        bar = report.Progress(2, 100, stream=io.StringIO())
        self.assertFalse(bar.enabled)
        with bar:
            bar.advance(10)
            bar.image_done()

    def test_table_and_json(self):
        results = [copy.Result('i1', 'one', 'copied', 3 << 20, 1.0),
                   copy.Result('i2', 'two', 'unchanged'),
                   copy.Result('i3', 'three', 'failed', message='boom')]
        out = io.StringIO()
        report.render('livecopy', results, 2.0, False, out)
        text = out.getvalue()
        self.assertIn('boom', text)
        self.assertNotIn('i2', text)
        self.assertIn('3 images (1 copied, 1 failed, 1 unchanged), 3.0 MiB '
                      'in 2.0 s (1.5 MiB/s)', text)
        out = io.StringIO()
        report.render('livecopy', results, 2.0, True, out)
        self.assertIn('"mib_per_second": 1.5', out.getvalue())
