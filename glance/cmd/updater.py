"""glance-updater: records the checksum, os_hash_value and virtual_size
that older active images lack, computed from their data.

    glance-updater [--config-file F]                    a pass every
                                                        updater_interval
    glance-updater --once [--image-id ID] [--dry-run] [--json]

See glance.integrity.updater.
"""

import sys

from oslo_config import cfg

from glance.cmd import integrity as command
from glance.integrity import updater

CONF = cfg.CONF
DESCRIPTION = ('Fills in what older active images lack (checksum, '
               'os_hash_value with hashing_algorithm, virtual_size), '
               'reading each one\'s data once through its store at most '
               'updater_bytes_per_second, under a lease in the database so '
               'that two nodes never read the same image at once. A '
               'recorded value is never overwritten: data that disagrees '
               'with one is reported (image.update.mismatch) and the image '
               'left alone.')

cli_opts = [
    cfg.BoolOpt('dry-run', default=False,
                help='List the images and the values that would be filled '
                     'in, reading no data and writing nothing.'),
]


def main(argv=None):
    command.parse('glance-updater', DESCRIPTION, cli_opts, argv)
    return command.run('glance-updater', lambda: updater.Updater(
        image_id=CONF.image_id, progress=CONF.progress,
        dry_run=CONF.dry_run, checks=command.checks))


if __name__ == '__main__':
    sys.exit(main())
