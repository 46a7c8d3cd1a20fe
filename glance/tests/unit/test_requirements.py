"""What the code imports is declared, the declared versions are the
pinned ones, and .gitignore hides nothing that is committed.

* every third-party module imported by ``glance/`` (its tests aside)
  comes from a distribution named in requirements.txt; one imported by
  the tests from requirements.txt or test-requirements.txt;
* every requirement has a pin in tools/constraints.txt (what
  tools/bootstrap installs with) that satisfies it;
* ``git ls-files -ci --exclude-standard`` lists nothing.
"""

import ast
import importlib.metadata
import pathlib
import re
import shutil
import subprocess
import sys

from packaging import requirements
from packaging import utils as packaging_utils

from glance.tests.unit import base

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = ROOT / 'glance'
TESTS = PACKAGE / 'tests'
# Modules that no pip distribution provides: ``uwsgi`` exists only inside
# a uWSGI server process, which glance.wsgi.api runs under; ``rados`` and
# ``rbd`` are Ceph's bindings from Debian (python3-rados, python3-rbd),
# linked into the virtualenv by tools/bootstrap.
PROVIDED_BY_THE_HOST = {'uwsgi', 'rados', 'rbd'}


def imported_modules(paths):
    """{top-level module: [file, ...]} of the absolute imports of
    ``paths``."""
    found = {}
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split('.')[0], []).append(
                    str(path.relative_to(ROOT)))
    return found


def third_party(found):
    return {name: files for name, files in found.items()
            if name not in sys.stdlib_module_names
            and name != 'glance' and name not in PROVIDED_BY_THE_HOST}


def declared(*files):
    """{normalized distribution name: Requirement} of requirement files."""
    result = {}
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split('#')[0].strip()
            if not line or line.startswith('-'):
                continue
            req = requirements.Requirement(line)
            result[packaging_utils.canonicalize_name(req.name)] = req
    return result


def pins():
    """{normalized distribution name: version} of tools/constraints.txt."""
    result = {}
    for line in (ROOT / 'tools' / 'constraints.txt').read_text().splitlines():
        line = line.split('#')[0].strip()
        if line:
            name, version = re.split(r'===?', line)
            result[packaging_utils.canonicalize_name(name)] = version.strip()
    return result


class TestDeclaredRequirements(base.TestCase):

    def setUp(self):
        super().setUp()
        self.distributions = importlib.metadata.packages_distributions()

    def undeclared(self, found, names):
        missing = []
        for module, files in sorted(third_party(found).items()):
            dists = {packaging_utils.canonicalize_name(d)
                     for d in self.distributions.get(module, [])}
            if not dists:
                missing.append('%s (no installed distribution provides '
                               'it; imported by %s)' % (module, files[0]))
            elif not dists & names:
                missing.append('%s (from %s; imported by %s)'
                               % (module, ' or '.join(sorted(dists)),
                                  files[0]))
        return missing

    def test_code_imports_are_in_requirements(self):
        code = [p for p in PACKAGE.rglob('*.py') if TESTS not in p.parents]
        names = set(declared('requirements.txt'))
        self.assertEqual([], self.undeclared(imported_modules(code), names))

    def test_test_imports_are_in_requirements(self):
        names = set(declared('requirements.txt', 'test-requirements.txt'))
        self.assertEqual([], self.undeclared(
            imported_modules(TESTS.rglob('*.py')), names))

    def test_an_undeclared_import_is_found(self):
        # The checks above can fail.
        self.assertEqual(
            ['requests (from requests; imported by x.py)'],
            self.undeclared({'requests': ['x.py'], 'os': ['x.py']},
                            {'webob'}))

    def test_constraints_pin_every_requirement(self):
        pinned = pins()
        wrong = []
        for name, req in sorted(declared('requirements.txt',
                                         'test-requirements.txt').items()):
            version = pinned.get(name)
            if version is None or not req.specifier.contains(
                    version, prereleases=True):
                wrong.append('%s: %s pinned, %s wanted'
                             % (name, version, req.specifier))
        self.assertEqual([], wrong)


class TestIgnoredFiles(base.TestCase):

    def test_gitignore_lists_no_committed_file(self):
        git = shutil.which('git')
        if git is None or not (ROOT / '.git').exists():
            self.skipTest('not a git checkout')
        proc = subprocess.run(
            [git, 'ls-files', '--cached', '--ignored', '--exclude-standard'],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stdout)
