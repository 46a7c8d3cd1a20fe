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


class _Mount(fixtures.Fixture):
    """A filesystem mounted on a fresh directory (root only).

    ``available`` is False where mounting is impossible (not root, no
    such filesystem); tests then skip, saying why (``error``).
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
