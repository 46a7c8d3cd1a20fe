"""The paste filter of the flavors without Keystone: request contexts
from the identity headers (see
``glance.api.middleware.context.UnauthenticatedContextMiddleware``)."""

from glance.api.middleware import context

UnauthenticatedContextMiddleware = context.UnauthenticatedContextMiddleware


def filter_factory(global_conf, **local_conf):
    return UnauthenticatedContextMiddleware
