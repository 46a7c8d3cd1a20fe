"""glance-registry: the deprecated internal service that reads and writes
image metadata for glance-api (``data_api = glance.registry.client``).

``rpc`` is its one endpoint, ``POST /rpc``, which runs the repository
functions of ``glance.db`` (``glance.db.remote.COMMANDS``); ``client``
is what glance-api calls it with; ``codec`` is the wire format both
speak; ``auth`` holds the filters that decide who may call it.
"""
