"""glance-cache-pruner:
removes least recently used entries of this node's image
cache until it holds at most image_cache_max_size bytes.

    glance-cache-pruner [--config-file F]            one pass, then exit
    glance-cache-pruner --daemon [--config-file F]   a pass every
                                   cache_prefetcher_interval
"""

import sys

from glance.cache import jobs
from glance.cmd import cache_runner


def main(argv=None):
    return cache_runner.main(jobs.PrunerJob, argv, report=report)


def report(result):
    return 'Pruned %d files (%d bytes).' % result


if __name__ == '__main__':
    sys.exit(main())
