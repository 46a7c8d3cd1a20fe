"""The inject_image_metadata plugin: sets the properties of
``[inject_metadata_properties] inject`` on imported images, unless the
caller has one of the ``ignore_user_roles``."""

from oslo_config import cfg

CONF = cfg.CONF


def run(image, path, roles):
    opts = CONF.inject_metadata_properties
    ignored = {r.lower() for r in opts.ignore_user_roles}
    if ignored & {r.lower() for r in roles}:
        return {}
    return {'properties': {k: v for k, v in opts.inject.items()
                           if not k.startswith('os_glance')}}
