"""The image_conversion plugin: staged data is checked to be what its
disk_format says, then converted by qemu-img to ``[image_conversion]
output_format``.

qemu-img runs through oslo.concurrency with process limits on its address
space (``[image_conversion] qemu_img_address_space``) and CPU time, so a
hostile image cannot take the host down. The limits are applied by a
small wrapper process rather than in a ``preexec_fn``, which is not safe
in a process with threads. Before qemu-img ever reads the file, the
format inspectors decide what it is: qemu-img is always told the format
(``-f``), never left to guess it, and what it reports must agree.
"""

import json
import os
import shutil
import sys

from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.domain.images import format_check

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

MIB = 1024 * 1024
INFO_CPU_SECONDS = 2
CONVERT_CPU_SECONDS = 3600
# What a conversion reads the staged file in.
CHUNK = 1024 * 1024
# qemu-img's names of disk formats whose name differs.
QEMU_DRIVERS = {'vhd': 'vpc'}


def _limits(cpu):
    return processutils.ProcessLimits(
        address_space=CONF.image_conversion.qemu_img_address_space * MIB,
        cpu_time=cpu)


def _qemu_img(args, cpu):
    """Run qemu-img under the process limits; its standard output."""
    if shutil.which('qemu-img') is None:
        raise exception.Invalid('qemu-img is not installed: the '
                                'image_conversion plugin cannot run.')
    try:
        out, _err = processutils.execute(
            'qemu-img', *args, prlimit=_limits(cpu),
            python_exec=CONF.wsgi.python_interpreter or sys.executable)
    except processutils.ProcessExecutionError as e:
        reason = (e.stderr or '').strip()
        if not reason and isinstance(e.exit_code, int) and e.exit_code < 0:
            reason = 'killed by signal %d' % -e.exit_code
        reason = reason or 'exit code %s' % e.exit_code
        raise exception.Invalid('qemu-img %s failed (it may have hit its '
                                'process limits): %s' % (args[0], reason))
    except OSError as e:
        raise exception.Invalid('qemu-img %s could not run: %s'
                                % (args[0], e))
    return out


def inspect(path, disk_format):
    """The virtual size of the file, which must be ``disk_format`` (a raw
    disk may carry a partition table) and pass its safety checks; raises
    Invalid otherwise, whatever require_image_format_match says."""
    checker = format_check.FormatChecker()
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            checker.feed(chunk)
    detected = checker.detect().NAME
    if detected not in format_check.INSPECTED.get(disk_format, ()):
        raise exception.Invalid('Image content is %s, which does not match '
                                'its disk_format %s: not converted.'
                                % (detected, disk_format))
    return checker.verdict(disk_format, 'bare')


def run(image, path, roles):
    source = image['disk_format']
    target = CONF.image_conversion.output_format
    if source not in format_check.INSPECTED:
        raise exception.Invalid('Images of disk_format %s cannot be '
                                'converted.' % source)
    virtual_size = inspect(path, source)
    if source == 'iso':
        # An iso stays an iso; qemu-img has nothing to say about it.
        return {'virtual_size': virtual_size}
    driver = QEMU_DRIVERS.get(source, source)
    info = json.loads(_qemu_img(['info', '-f', driver, '--output=json',
                                 path], INFO_CPU_SECONDS))
    _check_info(info, source, driver)
    if source == target:
        return {'virtual_size': info.get('virtual-size')}
    converted = path + '.' + target
    try:
        _qemu_img(['convert', '-f', driver, '-O', target, path, converted],
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


def _check_info(info, source, driver):
    """What qemu-img says of the file must agree with the inspectors."""
    if info.get('format') != driver:
        raise exception.Invalid('qemu-img reads the image as %s, not %s.'
                                % (info.get('format'), source))
    specific = info.get('format-specific', {}).get('data', {})
    if info.get('backing-filename') or specific.get('data-file'):
        raise exception.Invalid('Images with a backing or data file are '
                                'refused.')
    if source == 'vmdk':
        allowed = CONF.image_format.vmdk_allowed_types
        kind = specific.get('create-type')
        if not kind or kind not in allowed:
            raise exception.Invalid('VMDK create type %s is not allowed '
                                    '(allowed: %s).'
                                    % (kind, ', '.join(allowed)))
