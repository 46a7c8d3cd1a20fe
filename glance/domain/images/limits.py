"""Unified limits: per-project image quotas kept in Keystone.

With ``use_keystone_limits`` on, oslo.limit reads the limits of the
project from Keystone and this module supplies what the project uses.
Sizes are counted in MiB, as the limits are registered. oslo.limit (and
the openstacksdk it brings, tens of MiB) is imported only when the option
is on; importing it registers its ``[oslo_limit]`` options.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import session
from glance.db import usage

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

MIB = 1024 * 1024
SIZE_TOTAL = 'image_size_total'
STAGE_TOTAL = 'image_stage_total'
COUNT_TOTAL = 'image_count_total'
COUNT_UPLOADING = 'image_count_uploading'
RESOURCES = (SIZE_TOTAL, STAGE_TOTAL, COUNT_TOTAL, COUNT_UPLOADING)

_COUNTERS = {
    SIZE_TOTAL: lambda conn, p: usage.image_size_total(conn, p) // MIB,
    STAGE_TOTAL: lambda conn, p: usage.image_stage_total(conn, p) // MIB,
    COUNT_TOTAL: usage.image_count_total,
    COUNT_UPLOADING: usage.image_count_uploading,
}


def _usage(project_id, resources):
    with session.reader() as conn:
        return {name: _COUNTERS[name](conn, project_id)
                for name in resources}


def _enforcer():
    from oslo_limit import limit
    try:
        return limit.Enforcer(_usage)
    except Exception as e:
        LOG.error('Cannot reach the unified limits in Keystone: %s', e)
        raise exception.GlanceError('Unified limits are misconfigured: %s'
                                    % e)


def enforce(project_id, **deltas):
    """Refuse (413) when adding ``deltas`` would put the project over a
    limit; does nothing unless ``use_keystone_limits`` is on."""
    if not CONF.use_keystone_limits:
        return
    from oslo_limit import exception as limit_exc
    try:
        _enforcer().enforce(project_id, deltas)
    except limit_exc.ProjectOverLimit as e:
        raise exception.LimitExceeded(
            'Quota exceeded: %s' % '; '.join(
                '%s %d of %d (requested %d more)' % (
                    o.resource_name, o.current_usage, o.limit, o.delta)
                for o in e.over_limit_info_list))
    except limit_exc.SessionInitError as e:
        raise exception.GlanceError('Unified limits are misconfigured: %s'
                                    % e)


def project_limits(project_id, resources):
    """[(resource, limit)] of the project, from Keystone."""
    return _enforcer().get_project_limits(project_id, resources)


def usage_report(project_id):
    """``{resource: {limit, usage}}``, empty without unified limits."""
    if not CONF.use_keystone_limits:
        return {}
    found = _enforcer().calculate_usage(project_id, RESOURCES)
    return {name: {'limit': u.limit, 'usage': u.usage}
            for name, u in found.items()}
