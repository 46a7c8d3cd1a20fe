"""Image content checked against its disk_format while it streams in.

oslo.utils' format inspectors read the headers of every format as the data
passes; once the upload ends, ``verdict`` decides whether the content is
what ``disk_format`` says and safe to hand to a hypervisor: no qcow2
backing or external data file, no vmdk extent pointing outside the image,
and so on. It also yields the virtual size.
"""

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# disk_format -> inspector names that content of that format may match.
# A raw disk may carry a partition table (gpt, or mbr reported as gpt).
INSPECTED = {
    'raw': ('raw', 'gpt'),
    'qcow2': ('qcow2',),
    'vhd': ('vhd',),
    'vhdx': ('vhdx',),
    'vmdk': ('vmdk',),
    'vdi': ('vdi',),
    'iso': ('iso',),
}


class FormatChecker:
    """Feeds chunks to the inspectors; ``verdict()`` after the last one."""

    def __init__(self, disk_format):
        self.disk_format = disk_format
        self.inspectors = []
        if disk_format in INSPECTED:
            self.inspectors = [cls() for cls in
                               format_inspector.ALL_FORMATS.values()]
        self.failed = set()

    def feed(self, chunk):
        for inspector in self.inspectors:
            if inspector in self.failed:
                continue
            try:
                inspector.eat_chunk(chunk)
            except Exception as e:
                LOG.debug('%s inspector gave up: %s', inspector.NAME, e)
                self.failed.add(inspector)

    def verdict(self):
        """The virtual size; raises Invalid for content that may not be
        stored under this disk_format."""
        if not self.inspectors:
            return None
        for inspector in self.inspectors:
            if inspector not in self.failed:
                inspector.finish()
        matches = [i for i in self.inspectors
                   if i not in self.failed and i.format_match
                   and i.NAME != 'raw']
        if len(matches) > 1:
            # A disk with a GPT can also look like an iso or another
            # format; the first sector settles nothing then.
            names = sorted(i.NAME for i in matches)
            if set(names) - {'gpt'}:
                matches = [i for i in matches if i.NAME != 'gpt']
            if len(matches) > 1:
                raise exception.Invalid(
                    'Image content matches several formats (%s).'
                    % ', '.join(names))
        detected = matches[0] if matches else self._raw()
        expected = INSPECTED[self.disk_format]
        if (CONF.image_format.require_image_format_match
                and detected.NAME not in expected):
            raise exception.Invalid(
                'Image content is %s, which does not match its disk_format '
                '%s.' % (detected.NAME, self.disk_format))
        self._check_vmdk_type(detected)
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
        return detected.virtual_size

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

    def _raw(self):
        for inspector in self.inspectors:
            if inspector.NAME == 'raw':
                return inspector
        raise exception.Invalid('Image content could not be inspected.')
