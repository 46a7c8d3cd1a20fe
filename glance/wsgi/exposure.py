"""Whether the application may be served where a WSGI server put it.

The daemon refuses an unauthenticated paste flavor beyond loopback
(``glance.api.pipeline.exposure_problem``); under uWSGI the addresses are
uWSGI's options, and under servers that do not tell them (gunicorn,
mod_wsgi) or behind a unix socket (whatever forwards to it may be
reachable from anywhere) they count as beyond loopback.
"""

import types
from typing import Mapping, Optional

from glance.api import pipeline

# uWSGI options naming addresses it serves on.
LISTEN_OPTIONS = ('http-socket', 'http11-socket', 'https-socket', 'https',
                  'http', 'socket', 'uwsgi-socket', 'fastcgi-socket',
                  'shared-socket')
UNKNOWN = 'an address this WSGI server does not tell'


def served_hosts(options: Optional[Mapping]) -> Optional[list]:
    """The hosts of uWSGI's ``options`` (``uwsgi.opt``), or None when
    they cannot be known (no options, a unix or abstract socket)."""
    if not options:
        return None
    hosts = []
    for name in LISTEN_OPTIONS:
        values = options.get(name)
        if values is None:
            continue
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, bytes):
                value = value.decode(errors='replace')
            # https sockets: address,certificate,key[,...]
            address = str(value).split(',')[0].strip()
            host, sep, port = address.rpartition(':')
            if (not sep or not port.isdigit() or '/' in address
                    or address.startswith('@')):
                return None
            hosts.append(host.strip('[]') or '0.0.0.0')
    return hosts or None


def check(conf, options: Optional[Mapping]) -> None:
    """RuntimeError (the application does not load) when the paste
    flavor of ``conf`` would be served unauthenticated beyond loopback."""
    for host in served_hosts(options) or [UNKNOWN]:
        problem = pipeline.exposure_problem(types.SimpleNamespace(
            paste_deploy=conf.paste_deploy, bind_host=host))
        if problem:
            raise RuntimeError(problem)
