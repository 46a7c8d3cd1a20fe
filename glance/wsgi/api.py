"""The WSGI application, for uWSGI, gunicorn or mod_wsgi.

Configuration is read from ``$OS_GLANCE_CONFIG_DIR`` (default
``/etc/glance``): ``glance-api.conf`` and its paste file.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config

CONF = cfg.CONF


def init_app():
    config_dir = os.environ.get('OS_GLANCE_CONFIG_DIR', '/etc/glance')
    files = [os.path.join(config_dir, 'glance-api.conf')]
    config.parse_args([], default_config_files=[
        f for f in files if os.path.exists(f)])
    config.set_config_defaults()
    logging.setup(CONF, 'glance')
    return config.load_paste_app()


application = init_app()
