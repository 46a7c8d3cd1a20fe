"""The image_conversion plugin: staged data is checked to be what its
disk_format says, then converted by qemu-img to ``[image_conversion]
output_format``. qemu-img runs with limits on its address space and CPU
time, so a hostile image cannot take the host down."""

import json
import os
import resource
import subprocess

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.domain.images import format_check

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

MEMORY_LIMIT = 1024 * 1024 * 1024
INFO_CPU_SECONDS = 2
CONVERT_CPU_SECONDS = 3600


def _limits(cpu):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    return apply


def _qemu_img(args, cpu):
    try:
        return subprocess.run(['qemu-img'] + args, capture_output=True,
                              text=True, check=True,
                              preexec_fn=_limits(cpu))
    except FileNotFoundError:
        raise exception.Invalid('qemu-img is not installed: the '
                                'image_conversion plugin cannot run.')
    except subprocess.CalledProcessError as e:
        raise exception.Invalid('qemu-img %s failed: %s'
                                % (args[0], e.stderr.strip()))


def inspect(path, disk_format):
    """The virtual size of the file, which must be ``disk_format`` and
    pass its safety checks (raises Invalid otherwise)."""
    checker = format_check.FormatChecker(disk_format)
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(1024 * 1024)
            if not chunk:
                break
            checker.feed(chunk)
    return checker.verdict()


def run(image, path, roles):
    source = image['disk_format']
    target = CONF.image_conversion.output_format
    inspect(path, source)
    info = json.loads(_qemu_img(['info', '-f', source, '--output=json',
                                 path], INFO_CPU_SECONDS).stdout)
    if info.get('backing-filename') or info.get('format-specific', {}).get(
            'data', {}).get('data-file'):
        raise exception.Invalid('Images with a backing or data file are '
                                'refused.')
    if source == target or source == 'iso':
        return {'virtual_size': info.get('virtual-size')}
    converted = path + '.' + target
    try:
        _qemu_img(['convert', '-f', source, '-O', target, path, converted],
                  CONVERT_CPU_SECONDS)
        virtual_size = inspect(converted, target)
    except BaseException:
        if os.path.exists(converted):
            os.unlink(converted)
        raise
    os.replace(converted, path)
    LOG.info('Image %s converted from %s to %s', image['id'], source, target)
    return {'disk_format': target, 'container_format': 'bare',
            'size': os.path.getsize(path), 'virtual_size': virtual_size}
