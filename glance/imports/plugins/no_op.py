"""The no_op import plugin: logs that it ran, changes nothing."""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def run(image, path, roles):
    LOG.info('no_op import plugin ran for image %s', image['id'])
    return {}
