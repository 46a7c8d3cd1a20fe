"""The quotas of ``glance-api.conf`` that are not unified limits: counts
per image (``image_*_quota``) and the bytes an owner may store
(``user_storage_quota``)."""

from oslo_config import cfg

from glance.common import exception
from glance.db import api as db

CONF = cfg.CONF


def check_quota(option, count, what):
    """LimitExceeded when ``count`` passes the quota option ``option``."""
    limit = getattr(CONF, option)
    if limit >= 0 and count > limit:
        raise exception.LimitExceeded(
            'Maximum number of %s exceeded: %d of %d allowed'
            % (what, count, limit))


def parse_quota(text):
    """``user_storage_quota`` in bytes (0 means no quota)."""
    units = {'B': 1, 'KB': 1024, 'MB': 1024 ** 2, 'GB': 1024 ** 3,
             'TB': 1024 ** 4}
    text = (text or '0').strip().upper()
    for suffix in ('KB', 'MB', 'GB', 'TB', 'B'):
        if text.endswith(suffix):
            number, factor = text[:-len(suffix)].strip(), units[suffix]
            break
    else:
        number, factor = text, 1
    try:
        value = int(number)
    except ValueError:
        raise exception.Invalid('Invalid user_storage_quota %r' % text)
    return value * factor


def storage_room(conn, image):
    """Bytes the owner may still store, or None without a quota."""
    quota = parse_quota(CONF.user_storage_quota)
    if not quota or CONF.use_keystone_limits:
        return None
    used = db.storage_usage(conn, image['owner'], exclude=image['id'])
    return max(0, quota - used)
