"""The local image cache of an API node, its index drivers and its
periodic jobs.

``layout``   the directories under ``image_cache_dir`` and file locks
``index``    what a driver keeps about entries (``Entry``, ``Index``)
``drivers``  the index drivers: ``centralized_db`` and ``xattr``
``fill``     writing an entry from the store once, read by every waiting
             client while it is written
``cache``    ``ImageCache``: hits, fills, eviction, queue, prune, clean
``jobs``     prefetch, prune and clean passes and their daemons
``service``  the cache management API's service functions
"""
