"""glance-cache-cleaner:
removes what should not be in this node's image cache:
files that failed verification, unfinished files whose writer died (or
stalled longer than image_cache_stall_time), files the index does not
know, and entries whose file is missing, truncated or corrupted (hashed
again) or whose image was deleted, deactivated or changed.

    glance-cache-cleaner [--config-file F]            one pass, then exit
    glance-cache-cleaner --daemon [--config-file F]   a pass every
                                   cache_prefetcher_interval
"""

import sys

from glance.cache import jobs
from glance.cmd import cache_runner


def main(argv=None):
    return cache_runner.main(jobs.CleanerJob, argv, report=report)


def report(result):
    done = ', '.join('%s %d' % kv for kv in sorted(result.items()))
    return 'Removed: %s.' % done


if __name__ == '__main__':
    sys.exit(main())
