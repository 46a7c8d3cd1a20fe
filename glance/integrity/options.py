"""The options of glance-auditor and glance-updater.

Both read glance-api.conf (the database, the stores, ``hashing_algorithm``
and the notification driver are the service's own), then their own file
(glance-auditor.conf, glance-updater.conf), so these may sit in either.
They are listed under the ``glance.integrity`` namespace of
oslo-config-generator, in the glance-api.conf sample.
"""

from oslo_config import cfg

MiB = 1024 * 1024

auditor_opts = [
    cfg.IntOpt('auditor_bytes_per_second', default=10 * MiB, min=0,
               help='Bytes of image data glance-auditor reads per second '
                    'at most, over all the stores (0: no limit). The '
                    'default keeps a pass out of the way of the API.'),
    cfg.IntOpt('auditor_interval', default=86400, min=1,
               help='Seconds glance-auditor --daemon waits from the end of '
                    'a pass over the catalogue to the start of the next.'),
    cfg.BoolOpt('auditor_mark_bad_locations', default=False,
                help='Give a location whose data is missing, has another '
                     'size than recorded or hashes to other values the '
                     'status audit_failed: downloads then use a good copy '
                     'of the image when there is one and answer 503 when '
                     'there is none. A later pass that finds the data '
                     'good again makes the location active again. Off, '
                     'the auditor only reports.'),
    cfg.StrOpt('auditor_report_file',
               default='/var/lib/glance/glance-auditor.jsonl',
               help='File the auditor appends its findings to, one JSON '
                    'object a line (image_id, location, store, problem, '
                    'detail, action, time). Empty: no report file.'),
    cfg.StrOpt('auditor_state_file',
               default='/var/lib/glance/glance-auditor.state',
               help='File where the auditor remembers the last image of '
                    'an unfinished pass, so that the next run continues '
                    'after it.'),
]

updater_opts = [
    cfg.IntOpt('updater_bytes_per_second', default=10 * MiB, min=0,
               help='Bytes of image data glance-updater reads per second '
                    'at most (0: no limit).'),
    cfg.IntOpt('updater_interval', default=3600, min=1,
               help='Seconds glance-updater --daemon waits from the end of '
                    'a pass to the start of the next.'),
    cfg.StrOpt('updater_report_file',
               default='/var/lib/glance/glance-updater.jsonl',
               help='File the updater appends to, one JSON object a line: '
                    'what it filled in and where the data disagrees with '
                    'a recorded value. Empty: no report file.'),
    cfg.StrOpt('updater_state_file',
               default='/var/lib/glance/glance-updater.state',
               help='File where the updater remembers the last image of an '
                    'unfinished pass, so that the next run continues after '
                    'it.'),
]


def register_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    for opt in auditor_opts + updater_opts:
        try:
            conf.register_opt(opt)
        except cfg.DuplicateOptError:
            pass


def list_opts():
    """The ``glance.integrity`` namespace of oslo-config-generator."""
    return [(None, auditor_opts + updater_opts)]
