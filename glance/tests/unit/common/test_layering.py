"""glance.common is the ground floor: importing any of its modules, in a
fresh interpreter, loads nothing of the layers above it.

test_import_graph reads the import statements; this test imports for
real, so an import done some other way (importlib, an entry point, a
paste or stevedore load at import time) is seen too.
"""

import json
import os
import pkgutil
import subprocess
import sys

import testtools

import glance.common

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

# The packages above glance.common and glance.context.
ABOVE = ('glance.db', 'glance.store', 'glance.notifier', 'glance.domain',
         'glance.imports', 'glance.scrubber', 'glance.api', 'glance.wsgi',
         'glance.cmd')

# Imports ``module`` (after running ``then``, if any) and prints the
# modules then loaded, as JSON.
PROBE = '''
import importlib, json, sys
importlib.import_module(sys.argv[1])
exec(sys.argv[2])
print(json.dumps(sorted(sys.modules)))
'''


def loaded_by(modules, then=''):
    """{module: the modules a fresh interpreter holds after importing it
    and running the statements ``then``}; the interpreters run side by
    side."""
    procs = {module: subprocess.Popen(
        [sys.executable, '-c', PROBE, module, then], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for module in modules}
    loaded = {}
    for module, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        if proc.returncode:
            raise AssertionError('importing %s failed:\n%s'
                                 % (module, err))
        loaded[module] = json.loads(out)
    return loaded


def above(modules):
    return [m for m in modules
            if any(m == p or m.startswith(p + '.') for p in ABOVE)]


def common_modules():
    return sorted('glance.common.' + info.name
                  for info in pkgutil.iter_modules(glance.common.__path__))


class TestGroundFloor(testtools.TestCase):

    def test_modules_are_found(self):
        found = common_modules()
        for name in ('server', 'daemon', 'systemd', 'config', 'wsgi'):
            self.assertIn('glance.common.' + name, found)

    def test_each_module_imports_nothing_above(self):
        wrong = {}
        for module, loaded in loaded_by(common_modules()).items():
            self.assertIn(module, loaded)
            if above(loaded):
                wrong[module] = above(loaded)
        self.assertEqual({}, wrong)

    def test_the_probe_sees_what_is_imported(self):
        """What the test looks for does show up when it is imported."""
        loaded = loaded_by(['glance.common.exception'],
                           'import glance.db.session')
        self.assertIn('glance.db.session',
                      above(loaded['glance.common.exception']))
