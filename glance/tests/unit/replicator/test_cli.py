"""glance-replicator's arguments, identities, upload body and source reads."""

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


class _Raw:
    """What ResponseChunks reads: ``read(n, decode_content)``."""

    def __init__(self, data, fail_after=None):
        self.data = io.BytesIO(data)
        self.fail_after = fail_after

    def read(self, n, decode_content=True):
        if self.fail_after is not None and self.data.tell() >= \
                self.fail_after:
            raise ConnectionResetError('source gone')
        return self.data.read(n)


class _Answer:

    def __init__(self, raw):
        self.raw = raw
        self.closed = 0

    def close(self):
        self.closed += 1


class TestResponseChunks(testtools.TestCase):

    def test_read_ahead_in_order_then_closed(self):
        data = bytes(range(256)) * 1000
        answer = _Answer(_Raw(data))
        chunks = list(copy.ResponseChunks(answer, 1000))
        self.assertEqual(data, b''.join(chunks))
        self.assertEqual({1000}, {len(c) for c in chunks})
        self.assertGreater(answer.closed, 0)

    def test_source_failure_reaches_the_reader(self):
        answer = _Answer(_Raw(b'x' * 10000, fail_after=3000))
        got = []
        e = self.assertRaises(ConnectionResetError, lambda: [
            got.append(c) for c in copy.ResponseChunks(answer, 1000)])
        self.assertIn('source gone', str(e))
        self.assertEqual(3, len(got))
        self.assertGreater(answer.closed, 0)

    def test_closed_when_never_read_or_left_early(self):
        answer = _Answer(_Raw(b'x' * 10000))
        copy.ResponseChunks(answer, 1000).close()
        self.assertEqual(1, answer.closed)
        answer = _Answer(_Raw(b'x' * 100000))
        chunks = iter(copy.ResponseChunks(answer, 1000))
        next(chunks)
        chunks.close()
        self.assertGreater(answer.closed, 0)
