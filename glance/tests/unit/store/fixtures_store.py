"""Helpers shared by the store tests: real directories, tmpfs, configs."""

import os
import subprocess
import tempfile
import types

import fixtures
from oslo_config import cfg

from glance.common import config
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


def entries(path):
    """Every name in ``path``, hidden temporary files included."""
    return sorted(os.listdir(path))


class Tmpfs(fixtures.Fixture):
    """A tmpfs of ``size`` mounted on a fresh directory (root only).

    ``available`` is False where mounting is impossible (not root, no
    tmpfs); tests then skip, saying why.
    """

    def __init__(self, size):
        super().__init__()
        self.size = size

    def _setUp(self):
        self.path = tempfile.mkdtemp(prefix='glance-tmpfs-')
        self.addCleanup(os.rmdir, self.path)
        result = subprocess.run(
            ['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0755' % self.size,
             'tmpfs', self.path], capture_output=True, text=True)
        self.available = result.returncode == 0
        self.error = result.stderr.strip()
        if self.available:
            self.addCleanup(subprocess.run, ['umount', self.path],
                            check=True)


class LoopExt4(fixtures.Fixture):
    """A small ext4 filesystem on a loop device (root only): unlike tmpfs
    it takes O_DIRECT writes. ``available`` as for ``Tmpfs``."""

    def __init__(self, size_mib):
        super().__init__()
        self.size_mib = size_mib

    def _setUp(self):
        self.path = tempfile.mkdtemp(prefix='glance-ext4-')
        self.addCleanup(os.rmdir, self.path)
        image = self.path + '.img'
        self.addCleanup(os.unlink, image)
        with open(image, 'wb') as f:
            f.truncate(self.size_mib * MiB)
        steps = [['mkfs.ext4', '-q', '-F', '-m', '0', image],
                 ['mount', '-o', 'loop', image, self.path]]
        self.available, self.error = True, ''
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                self.available, self.error = False, result.stderr.strip()
                return
        self.addCleanup(subprocess.run, ['umount', self.path], check=True)


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
