"""The wire format of ``POST /rpc``, as upstream's registry spoke it.

A request body is a JSON list of ``{"command": name, "kwargs": {...}}``;
the answer is the list of their results, in the same order. Values are
JSON, except datetimes, ``{"_type": "datetime", "_value": isoformat}``,
the caller of a listing, ``{"_type": "context", "_value":
{"project_id", "is_admin"}}``, sets (``"set"``, a list) and results that
map other keys than strings (``"mapping"``, a list of pairs). A command
that failed answers ``{"_error": {"cls": "module.Class", "val":
message}}``.
"""

import datetime
import json
from typing import Any, Optional

DATETIME = 'datetime'
CONTEXT = 'context'
SET = 'set'
# A mapping whose keys are not all strings (JSON's are), as [key, value]
# pairs: what a command returns, not what is nested in it.
MAPPING = 'mapping'


class Caller:
    """Who a listing is for, as the repository functions read it."""

    __slots__ = ('project_id', 'is_admin')

    def __init__(self, project_id: Optional[str], is_admin: bool):
        self.project_id = project_id
        self.is_admin = is_admin

    def __eq__(self, other):
        return (isinstance(other, Caller)
                and (self.project_id, self.is_admin)
                == (other.project_id, other.is_admin))

    def __repr__(self):
        return 'Caller(%r, %r)' % (self.project_id, self.is_admin)


def _default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {'_type': DATETIME, '_value': value.isoformat()}
    if isinstance(value, (set, frozenset)):
        return {'_type': SET, '_value': sorted(value)}
    if hasattr(value, 'project_id') and hasattr(value, 'is_admin'):
        return {'_type': CONTEXT,
                '_value': {'project_id': value.project_id,
                           'is_admin': bool(value.is_admin)}}
    raise TypeError('%s cannot be sent to glance-registry'
                    % type(value).__name__)


def _hook(obj: dict) -> Any:
    kind = obj.get('_type')
    if kind is None or len(obj) != 2 or '_value' not in obj:
        return obj
    value = obj['_value']
    if kind == DATETIME and isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    if kind == CONTEXT and isinstance(value, dict):
        return Caller(value.get('project_id'), bool(value.get('is_admin')))
    if kind == SET and isinstance(value, list):
        return set(value)
    if kind == MAPPING and isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 for p in value):
        return {k: v for k, v in value}
    raise ValueError('Unknown value type %r' % kind)


def result(value: Any) -> Any:
    """A command's result as ``dumps`` can send it whole."""
    if isinstance(value, dict) and not all(isinstance(k, str)
                                           for k in value):
        return {'_type': MAPPING, '_value': [[k, v]
                                             for k, v in value.items()]}
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_default,
                      separators=(',', ':')).encode('utf-8')


def loads(data: bytes) -> Any:
    """ValueError for anything that is not this format's JSON."""
    return json.loads(data, object_hook=_hook)


def error(exc: BaseException) -> dict:
    cls = type(exc)
    return {'_error': {'cls': '%s.%s' % (cls.__module__, cls.__qualname__),
                       'val': str(exc)}}
