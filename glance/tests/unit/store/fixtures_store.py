"""Helpers shared by the store tests: real directories, tmpfs, configs."""

import os
import subprocess
import sys
import tempfile
import textwrap
import types

import fixtures
from oslo_config import cfg

from glance.common import config
from glance.store import discovery
from glance.store import filesystem
from glance.store import options

MiB = 1024 * 1024


def file_options(datadir=None, datadirs=(), perm=0, chunk_size=MiB):
    return types.SimpleNamespace(
        filesystem_store_datadir=datadir,
        filesystem_store_datadirs=list(datadirs),
        filesystem_store_file_perm=perm,
        filesystem_store_chunk_size=chunk_size)


def file_store(name='file', **kwargs):
    store = filesystem.FilesystemStore(name, file_options(**kwargs))
    store.configure()
    return store


class Distribution(fixtures.Fixture):
    """An installed distribution of its own, on ``sys.path`` for the test.

    A temporary directory holds ``<name>.dist-info`` (``METADATA`` and an
    ``entry_points.txt`` declaring ``entry_points`` in the store driver
    group) and the given ``modules`` (name: source), so that
    importlib.metadata, and stevedore through it, find the drivers as
    they find an installed plugin's.
    """

    def __init__(self, entry_points, modules=None,
                 name='glance_store_test_plugin'):
        super().__init__()
        self.entry_points = entry_points
        self.modules = modules or {}
        self.name = name

    def _setUp(self):
        site = self.useFixture(fixtures.TempDir()).path
        info = os.path.join(site, '%s-1.0.dist-info' % self.name)
        os.mkdir(info)
        with open(os.path.join(info, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n'
                    % self.name.replace('_', '-'))
        with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
            f.write('[%s]\n%s\n' % (discovery.NAMESPACE,
                                    textwrap.dedent(self.entry_points)))
        for module, source in self.modules.items():
            with open(os.path.join(site, module + '.py'), 'w') as f:
                f.write(textwrap.dedent(source))
            self.addCleanup(sys.modules.pop, module, None)
        self.useFixture(fixtures.MonkeyPatch('sys.path', [site] + sys.path))
        # stevedore remembers each namespace's entry points per process.
        self.useFixture(fixtures.MonkeyPatch(
            'stevedore.extension.ExtensionManager.ENTRY_POINT_CACHE', {}))


def entries(path):
    """Every name in ``path``, hidden temporary files included."""
    return sorted(os.listdir(path))


class _Mount(fixtures.Fixture):
    """A filesystem mounted on a fresh directory (root only).

    ``available`` is False where mounting is impossible (not root, no
    such filesystem), ``error`` says why; tests then go by
    ``glance.tests.prerequisites`` ('MOUNT').
    """

    def commands(self):
        raise NotImplementedError

    def _setUp(self):
        self.path = tempfile.mkdtemp(prefix='glance-mount-')
        self.addCleanup(os.rmdir, self.path)
        self.available, self.error = True, ''
        for command in self.commands():
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                self.available, self.error = False, result.stderr.strip()
                return
        self.addCleanup(subprocess.run, ['umount', self.path], check=True)


class Tmpfs(_Mount):
    """A tmpfs of ``size`` (as mount takes it: '1m')."""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def commands(self):
        return [['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0755'
                 % self.size, 'tmpfs', self.path]]


class LoopExt4(_Mount):
    """A small ext4 filesystem on a loop device: unlike tmpfs on older
    kernels, it always takes O_DIRECT writes."""

    def __init__(self, size_mib):
        super().__init__()
        self.size_mib = size_mib

    def commands(self):
        image = self.path + '.img'
        self.addCleanup(os.unlink, image)
        with open(image, 'wb') as f:
            f.truncate(self.size_mib * MiB)
        return [['mkfs.ext4', '-q', '-F', '-m', '0', image],
                ['mount', '-o', 'loop', image, self.path]]


def load_conf(directory, text):
    """A ConfigOpts of its own, parsed from a real configuration file."""
    path = os.path.join(directory, 'glance-api.conf')
    with open(path, 'w') as f:
        f.write(text)
    conf = cfg.ConfigOpts()
    for group, opts in config.list_opts():
        conf.register_opts(opts, group=group)
    options.register_opts(conf)
    conf(['--config-file', path], project='glance',
         default_config_files=[], default_config_dirs=[])
    return conf
