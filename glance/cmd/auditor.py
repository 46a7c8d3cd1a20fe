"""glance-auditor: checks that the data of every active image is there,
has its recorded size and hashes to its recorded checksum and
os_hash_value, in every store.

    glance-auditor [--config-file F]                    a pass every
                                                        auditor_interval
    glance-auditor --once [--image-id ID] [--json]      one pass

See glance.integrity.auditor.
"""

import sys

from oslo_config import cfg

from glance.cmd import integrity as command
from glance.integrity import auditor

CONF = cfg.CONF
DESCRIPTION = ('Audits image data: every location of every active image is '
               'read through its store (at most auditor_bytes_per_second) '
               'and checked against the recorded size, checksum and '
               'os_hash_value. What is wrong is logged, appended to '
               'auditor_report_file and sent as image.audit.failed; with '
               'auditor_mark_bad_locations the bad location is no longer '
               'served. A pass stopped midway continues where it stopped.')


def main(argv=None):
    command.parse('glance-auditor', DESCRIPTION, [], argv)
    return command.run('glance-auditor', lambda: auditor.Auditor(
        image_id=CONF.image_id, progress=CONF.progress,
        checks=command.checks))


if __name__ == '__main__':
    sys.exit(main())
