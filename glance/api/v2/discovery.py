"""Controller of /v2/info/*: what this deployment offers."""

from oslo_config import cfg

from glance.common import exception
from glance.common import wsgi
from glance.domain import policy
from glance.domain.images import limits
from glance.store import registry

CONF = cfg.CONF


def _stores(detail=False):
    if not CONF.enabled_backends:
        raise exception.NotFound('Multi backend is not supported at this '
                                 'site.')
    reg = registry.get_registry()
    found = []
    for store in reg.stores():
        entry = {'id': store.name}
        if store.description:
            entry['description'] = store.description
        if store.name == reg.default_name:
            entry['default'] = 'true'
        if store.read_only:
            entry['read-only'] = 'true'
        if detail:
            entry.update(type=store.type_name, weight=store.weight,
                         properties=store.properties())
        found.append(entry)
    return found


class InfoController:

    def get_image_import(self, req):
        req.reject_body()
        return wsgi.json_response({'import-methods': {
            'description': 'Import methods available.',
            'type': 'array',
            'value': list(CONF.enabled_import_methods)}})

    def get_stores(self, req):
        req.reject_body()
        return wsgi.json_response({'stores': _stores()})

    def get_stores_detail(self, req):
        req.reject_body()
        policy.enforce(req.context, 'stores_info_detail',
                       {'project_id': req.context.project_id})
        return wsgi.json_response({'stores': _stores(detail=True)})

    def get_usage(self, req):
        req.reject_body()
        return wsgi.json_response(
            {'usage': limits.usage_report(req.context.project_id)})
