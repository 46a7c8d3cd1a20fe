"""Image content checked against its formats while it streams in.

oslo.utils' format inspectors read the headers of every format as the data
passes, whatever the image declares; once the data is all in, ``verdict``
takes the ``disk_format`` and ``container_format`` the image has at that
moment (read where the image becomes active, so a change made while the
data streamed cannot slip past) and decides whether the content may be
stored under them: no qcow2 backing or external data file, no vmdk extent
pointing outside the image, no disk image hidden behind a format nothing
inspects, and so on. It also yields the virtual size.

Every disk_format is inspected:

* ``container_format`` bare: the content is the disk. It must be what
  ``disk_format`` says (``raw`` may carry a partition table; formats
  oslo.utils has no inspector for, such as ``ami``, ``ari``, ``aki`` and
  ``ploop``, must not be any format it recognises) and pass that format's
  safety checks.
* any other container (``ami``, ``aki``, ``ari``, ``ova``, ``ovf``,
  ``docker``, ``compressed``): the content is an archive, a kernel or a
  ramdisk rather than a disk. Unrecognised content (or a boot sector) is
  accepted as it is; content recognised as a disk format must be the
  declared ``disk_format`` and pass its safety checks.

Content matching several formats is refused, except an iso that also
carries a partition table (a bootable iso), which counts as an iso. So is
content whose header one inspector recognised but could not parse.
"""

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Inspector names that mean "no disk format": plain bytes, or bytes whose
# first sector is a boot sector / partition table.
PLAIN = ('raw', 'gpt')
# disk_format -> inspector names bare content of that format may match.
# A raw disk may carry a partition table.
INSPECTED = {name: (name,) for name in format_inspector.ALL_FORMATS
             if name not in PLAIN}
INSPECTED['raw'] = PLAIN
# What a disk_format oslo.utils cannot inspect (ami, ari, aki, ploop...)
# may be detected as in a bare container.
UNINSPECTABLE = ('raw',)
WHOLE_DISK_CONTAINERS = ('bare',)


def expected_formats(disk_format, container_format):
    """The inspector names content may match under these formats."""
    if container_format in WHOLE_DISK_CONTAINERS:
        return INSPECTED.get(disk_format, UNINSPECTABLE)
    return PLAIN + (disk_format,)


class FormatChecker:
    """Feeds chunks to every inspector; ``verdict()`` after the last one."""

    def __init__(self):
        self.inspectors = [cls() for cls in
                           format_inspector.ALL_FORMATS.values()]
        self.failed = {}
        self.finished = False

    def feed(self, chunk):
        for inspector in self.inspectors:
            if inspector.NAME in self.failed:
                continue
            try:
                inspector.eat_chunk(chunk)
            except Exception as e:
                LOG.debug('%s inspector gave up: %s', inspector.NAME, e)
                self.failed[inspector.NAME] = e

    def _finish(self):
        if not self.finished:
            self.finished = True
            for inspector in self.inspectors:
                if inspector.NAME not in self.failed:
                    inspector.finish()

    def detect(self):
        """The inspector of the one format the content is (raw's when it
        is none); raises Invalid when that cannot be told safely."""
        self._finish()
        matches = []
        for inspector in self.inspectors:
            if inspector.NAME == 'raw':
                continue
            try:
                matched = inspector.format_match
            except Exception as e:
                raise exception.Invalid('Image content could not be '
                                        'inspected as %s: %s'
                                        % (inspector.NAME, e))
            if not matched:
                continue
            if inspector.NAME in self.failed:
                raise exception.Invalid(
                    'Image content has a %s header that could not be '
                    'parsed: %s' % (inspector.NAME,
                                    self.failed[inspector.NAME]))
            matches.append(inspector)
        names = sorted(i.NAME for i in matches)
        if names == ['gpt', 'iso']:
            # A bootable iso may start with a partition table.
            matches = [i for i in matches if i.NAME == 'iso']
        if len(matches) > 1:
            raise exception.Invalid('Image content matches several formats '
                                    '(%s).' % ', '.join(names))
        if matches:
            return matches[0]
        for inspector in self.inspectors:
            if inspector.NAME == 'raw':
                return inspector
        raise exception.Invalid('Image content could not be inspected.')

    def verdict(self, disk_format, container_format):
        """The virtual size (None when the formats give none); raises
        Invalid for content that may not be stored under these formats."""
        detected = self.detect()
        name = detected.NAME
        whole_disk = container_format in WHOLE_DISK_CONTAINERS
        expected = expected_formats(disk_format, container_format)
        if name not in expected:
            if CONF.image_format.require_image_format_match:
                raise exception.Invalid(
                    'Image content is %s, which does not match its '
                    'disk_format %s (container_format %s).'
                    % (name, disk_format, container_format))
            LOG.warning('Image content is %s, not the %s it is declared; '
                        'accepted as require_image_format_match is off.',
                        name, disk_format)
        elif name == 'raw' or (name == 'gpt' and not whole_disk):
            # Nothing a hypervisor would read as a disk format.
            if whole_disk and disk_format in INSPECTED:
                return detected.virtual_size
            return None
        self._check_vmdk_type(detected)
        self._safety_check(detected)
        if not whole_disk:
            return None
        return detected.virtual_size

    @staticmethod
    def _safety_check(detected):
        try:
            detected.safety_check()
        except format_inspector.SafetyCheckFailed as e:
            nonfatal = set(CONF.image_format.gpt_safety_checks_nonfatal)
            if detected.NAME != 'gpt' or set(e.failures) - nonfatal:
                raise exception.Invalid('Image content failed the %s safety '
                                        'check: %s' % (detected.NAME, e))
            LOG.warning('Partition table safety checks %s failed; accepted '
                        'as gpt_safety_checks_nonfatal allows.',
                        ', '.join(sorted(e.failures)))
        except Exception as e:
            raise exception.Invalid('Image content could not be safety '
                                    'checked as %s: %s' % (detected.NAME, e))

    @staticmethod
    def _check_vmdk_type(detected):
        if detected.NAME != 'vmdk':
            return
        allowed = {t.lower() for t in CONF.image_format.vmdk_allowed_types}
        kind = getattr(detected, 'vmdktype', None)
        if kind not in allowed:
            raise exception.Invalid(
                'VMDK create type %s is not allowed (allowed: %s).'
                % (kind, ', '.join(CONF.image_format.vmdk_allowed_types)))
