"""Property protections: who may create, read, update and delete which
extra image properties.

The rules file is INI. Each section name is a regular expression searched
in the property name; the first section that matches decides, and a
property no section matches is denied. With the ``roles`` format an
operation lists the roles allowed (``@`` everyone, ``!`` nobody); with the
``policies`` format it names one policy rule, or ``@`` or ``!``. Base image
attributes are never protected, and ``os_glance*`` properties (the
service's own) are always open.
"""

import configparser
import os
import re

from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy as oslo_policy

from glance.domain import policy

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

OPERATIONS = ('create', 'read', 'update', 'delete')
RESERVED = 'os_glance'

_RULES = None  # [(compiled pattern, section, {operation: allowed})] or None


class InvalidRules(RuntimeError):
    """The protection file cannot be used; the daemon does not start."""


def load():
    """Read ``property_protection_file``; InvalidRules when it is wrong."""
    global _RULES
    _RULES = None
    path = CONF.property_protection_file
    if not path:
        policy.register_extra([])
        return
    found = path if os.path.isabs(path) else CONF.find_file(path) or path
    parser = configparser.RawConfigParser()
    try:
        with open(found, encoding='utf-8') as f:
            parser.read_file(f)
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        raise InvalidRules('Cannot read property protection file %s: %s'
                           % (path, e))
    fmt = CONF.property_protection_rule_format
    rules = [(re.compile('^%s.*' % RESERVED), RESERVED,
              {op: True for op in OPERATIONS})]
    for section in parser.sections():
        if section.startswith(RESERVED):
            LOG.warning('Property protection section [%s] ignored: '
                        '%s properties are always allowed.', section,
                        RESERVED)
            continue
        try:
            pattern = re.compile(section)
        except re.error as e:
            raise InvalidRules('Invalid regular expression [%s] in %s: %s'
                               % (section, path, e))
        allowed = {}
        for op in OPERATIONS:
            if not parser.has_option(section, op):
                raise InvalidRules('Section [%s] of %s must set %s.'
                                   % (section, path, ', '.join(OPERATIONS)))
            value = parser.get(section, op).strip()
            allowed[op] = (_roles(section, op, value, path) if fmt == 'roles'
                           else _policy(section, op, value, path))
        unknown = set(parser.options(section)) - set(OPERATIONS)
        if unknown:
            raise InvalidRules('Section [%s] of %s has unknown operations: '
                               '%s.' % (section, path,
                                        ', '.join(sorted(unknown))))
        rules.append((pattern, section, allowed))
    _RULES = rules
    policy.register_extra(policy_rules())


def _roles(section, op, value, path):
    roles = {r.strip().lower() for r in value.split(',') if r.strip()}
    if '@' in roles and '!' in roles:
        raise InvalidRules("Section [%s] of %s: %s cannot allow both '@' "
                           "and '!'." % (section, path, op))
    for role in roles:
        if role not in ('@', '!') and not re.match(r'^[\w.-]+$', role):
            raise InvalidRules('Section [%s] of %s: %r is not a role name.'
                               % (section, path, role))
    if '@' in roles:
        return True
    if '!' in roles or not roles:
        return False
    return frozenset(roles)


def _policy(section, op, value, path):
    # '@' and '!' keep their meaning of the roles format.
    if value == '@':
        return True
    if not value or value == '!':
        return False
    if ',' in value or not re.match(r'^[\w.:-]+$', value):
        raise InvalidRules('Section [%s] of %s: %s must name one policy '
                           'rule, not %r.' % (section, path, op, value))
    return oslo_policy.RuleDefault('%s:%s' % (section, op), 'rule:%s' % value)


def policy_rules():
    """The rules of the policies format, registered with the enforcer so a
    policy file may override them."""
    return [allowed[op] for _p, _s, allowed in _RULES or ()
            for op in OPERATIONS
            if isinstance(allowed[op], oslo_policy.RuleDefault)]


def enabled():
    return _RULES is not None


def allowed(ctx, name, op):
    if _RULES is None:
        return True
    for pattern, _section, rule in _RULES:
        if pattern.search(name):
            decision = rule[op]
            if isinstance(decision, bool):
                return decision
            if isinstance(decision, frozenset):
                roles = set(ctx.roles) | set(ctx.service_roles or ())
                return bool(decision & {r.lower() for r in roles})
            return policy.check(ctx, decision.name, {})
    return False


def readable(ctx, image):
    """``image`` with the properties the caller may not read left out."""
    if _RULES is None:
        return image
    props = image['properties']
    shown = {k: v for k, v in props.items() if allowed(ctx, k, 'read')}
    if len(shown) == len(props):
        return image
    return dict(image, properties=shown)
