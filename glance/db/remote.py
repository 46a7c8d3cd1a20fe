"""The seam between the repository functions and where they run.

The domain layer opens ``session.reader()`` or ``session.writer()`` and
passes the connection to the repository functions (``db.image_get(conn,
...)``). With ``data_api`` naming another module than the direct driver,
those blocks yield a ``Connection`` of that module instead: every
repository function exported here, given one, hands its name and keyword
arguments to ``Connection.call`` rather than running SQL. This is how
glance-api works through glance-registry; the registry runs the same
functions, from ``COMMANDS``, on its own database connections.

A ``reader()`` block's calls each run in a transaction of their own; a
``writer()`` block is one write transaction in the registry, committed
or rolled back when the block ends, as with the direct driver (upstream's
registry ran each call on its own).
"""

import functools
import importlib
import inspect
from typing import Any, Callable, Dict, Optional

# The modules whose public functions are repository functions, and the
# prefix of their command names (the image functions keep their bare
# names, as upstream's registry had them).
MODULES = {
    'glance.db.api': '',
    'glance.db.members': 'members.',
    'glance.db.tasks': 'tasks.',
    'glance.db.leases': 'leases.',
    'glance.db.usage': 'usage.',
    'glance.db.metadefs': 'metadefs.',
}
# Values of data_api that name the direct driver: this project's and
# upstream's.
DIRECT = ('glance.db.api', 'glance.db.sqlalchemy.api')
# Upstream's name of its registry client, taken as this project's.
ALIASES = {'glance.db.registry.api': 'glance.registry.client'}

# Command name -> the undecorated repository function.
COMMANDS: Dict[str, Callable[..., Any]] = {}


class Connection:
    """What ``session.reader()``/``writer()`` yield for a remote data
    API: repository functions given one call ``call``."""

    def call(self, command: str, kwargs: Dict[str, Any]) -> Any:
        raise NotImplementedError


def _remotable(command: str, func: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(conn, *args, **kwargs):
        if isinstance(conn, Connection):
            bound = signature.bind(conn, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop('conn')
            return conn.call(command, arguments)
        return func(conn, *args, **kwargs)
    wrapper.remote_command = command
    return wrapper


def export(namespace: Dict[str, Any]) -> None:
    """Make the public functions of the module whose globals are
    ``namespace`` that take a connection first runnable remotely, and
    list them in ``COMMANDS``. Called once, at the end of each module of
    ``MODULES``."""
    module = namespace['__name__']
    prefix = MODULES[module]
    for name, func in list(namespace.items()):
        if (name.startswith('_') or not inspect.isfunction(func)
                or func.__module__ != module):
            continue
        params = list(inspect.signature(func).parameters)
        if not params or params[0] != 'conn':
            continue
        COMMANDS[prefix + name] = func
        namespace[name] = _remotable(prefix + name, func)


def load(name: Optional[str]) -> Optional[Callable[[bool], Any]]:
    """The connection factory of the data API ``name`` (``factory(write,
    one_call)`` gives a context manager yielding a ``Connection``; see
    ``session.writer``), or None for the direct driver. ValueError for a
    module that is not a data API."""
    if not name or name in DIRECT:
        return None
    name = ALIASES.get(name, name)
    try:
        module = importlib.import_module(name)
    except ImportError as e:
        raise ValueError('data_api %s cannot be imported: %s' % (name, e))
    factory = getattr(module, 'connection', None)
    if factory is None:
        raise ValueError('data_api %s is not a data API (it has no '
                         'connection())' % name)
    return factory
