"""Every console script of setup.cfg explains itself: a description,
each command and option with its help, the exit statuses; and none of
them prints eventlet's deprecation warning."""

import configparser
import os
import re
import subprocess
import sys
import tempfile

import testtools

from glance.cmd import manage
from glance.tests.functional import base
from glance import version

BINDIR = os.path.dirname(sys.executable)


def console_scripts():
    """{name: module} of setup.cfg's console_scripts."""
    parser = configparser.ConfigParser()
    parser.read(os.path.join(base.ROOT, 'setup.cfg'))
    entries = parser['options.entry_points']['console_scripts']
    scripts = {}
    for line in entries.strip().splitlines():
        name, _, target = line.partition('=')
        scripts[name.strip()] = target.strip().split(':')[0]
    return scripts


# argparse indents the entries of a list by 2 (4 for the commands under
# a subparser's metavar) and the help text deeper.
ENTRY_INDENT = 6


def unexplained(help_text):
    """Entries (options, arguments, commands) of an argparse help that
    have no help text of their own."""
    lines = help_text.splitlines() + ['']
    missing = []
    in_list = False
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if not line[0].isspace():
            # A section title ("options:") starts a list; a paragraph
            # (description, epilog) does not.
            in_list = line.endswith(':')
            continue
        indent = len(line) - len(line.lstrip())
        if not in_list or indent > ENTRY_INDENT:
            continue
        entry, gap, _ = re.match(r'\s+(\S.*?)(\s{2,}\S.*)?$',
                                 line).group(1, 2, 0)
        following = lines[i + 1]
        if gap or (following.strip() and len(following)
                   - len(following.lstrip()) > ENTRY_INDENT):
            continue
        missing.append(entry)
    return missing


class TestConsoleScripts(testtools.TestCase):

    def run_script(self, name, *args, env=None):
        path = os.path.join(BINDIR, name)
        if os.path.exists(path):
            command = [path]
        else:
            module = console_scripts()[name]
            command = [sys.executable, '-c',
                       'import sys; from %s import main; sys.exit(main())'
                       % module]
        return subprocess.run(command + list(args), capture_output=True,
                              text=True, timeout=120, cwd=base.ROOT,
                              env=dict(os.environ, COLUMNS='100',
                                       **(env or {})))

    def assertExplained(self, proc, what):
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stderr, what)
        text = proc.stdout
        self.assertIn('Exit status', text, what)
        # A description between the usage and the first list.
        paragraphs = [p for p in text.split('\n\n') if p.strip()]
        self.assertFalse(paragraphs[1].startswith(
            ('options:', 'positional arguments:')), what + ': ' + text)
        self.assertEqual([], unexplained(text), what + ':\n' + text)

    def test_scripts_are_the_ones_checked_here(self):
        self.assertEqual({'glance-api', 'glance-manage', 'glance-scrubber',
                          'glance-status', 'glance-auditor',
                          'glance-updater', 'glance-replicator',
                          'glance-cache-cleaner', 'glance-cache-manage',
                          'glance-cache-prefetcher', 'glance-cache-pruner',
                          'glance-registry'},
                         set(console_scripts()))

    def test_top_level_help(self):
        for name in console_scripts():
            proc = self.run_script(name, '--help')
            self.assertExplained(proc, name)
            self.assertIn('--config-file', proc.stdout)

    def test_manage_commands_help(self):
        self.assertExplained(self.run_script('glance-manage', 'db', '--help'),
                             'db')
        # The legacy spellings share the parsers: one of them is enough.
        for words in [['db', a] for a in manage.ACTIONS] + [['db_sync']]:
            proc = self.run_script('glance-manage', *(words + ['--help']))
            self.assertExplained(proc, ' '.join(words))
        proc = self.run_script('glance-manage', 'db', 'check', '--help')
        for code in '345':
            self.assertIn(code, proc.stdout)

    def test_status_commands_help(self):
        for words in (['upgrade'], ['upgrade', 'check']):
            proc = self.run_script('glance-status', *(words + ['--help']))
            self.assertExplained(proc, ' '.join(words))
        self.assertIn('--json', proc.stdout)

    def test_version(self):
        for name in console_scripts():
            proc = self.run_script(name, '--version')
            self.assertEqual((0, version.VERSION, ''),
                             (proc.returncode, proc.stdout.strip(),
                              proc.stderr), name)

    def test_no_eventlet_warning_on_a_real_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, 'glance-api.conf')
            with open(conf, 'w') as f:
                f.write('[database]\nconnection = sqlite:///%s/g.sqlite\n'
                        % tmp)
            proc = self.run_script('glance-manage', '--config-file', conf,
                                   'db', 'sync')
            self.assertEqual(0, proc.returncode, proc.stderr)
            self.assertNotIn('Warning', proc.stderr)
            self.assertNotIn('Eventlet is deprecated', proc.stderr)

    def test_other_warnings_still_show(self):
        # Only eventlet's notice is dropped.
        proc = subprocess.run(
            [sys.executable, '-c',
             'import glance.cmd, warnings, eventlet\n'
             'warnings.warn("eventlet is fine", DeprecationWarning)\n'
             'warnings.warn("another", UserWarning)'],
            capture_output=True, text=True, timeout=60, cwd=base.ROOT,
            env=dict(os.environ, PYTHONWARNINGS='default'))
        self.assertIn('eventlet is fine', proc.stderr)
        self.assertIn('another', proc.stderr)
        self.assertNotIn('Eventlet is deprecated', proc.stderr)
