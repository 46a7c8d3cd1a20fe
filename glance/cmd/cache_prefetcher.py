"""glance-cache-prefetcher:
fetches the images queued for caching (PUT /v2/cache/{id},
glance-cache-manage queue-image) into this node's image cache.

    glance-cache-prefetcher [--config-file F]            one pass, then exit
    glance-cache-prefetcher --daemon [--config-file F]   a pass every
                                   cache_prefetcher_interval
"""

import sys

from glance.cache import jobs
from glance.cmd import cache_runner


def main(argv=None):
    return cache_runner.main(jobs.PrefetcherJob, argv, report=report)


def report(result):
    return 'Cached %d queued images.' % result


if __name__ == '__main__':
    sys.exit(main())
