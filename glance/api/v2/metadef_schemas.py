"""Controller of /v2/schemas/metadefs/*."""

from glance.common import exception
from glance.common import wsgi
from glance.domain.metadefs import schemas as metadef_schemas


class MetadefSchemasController:

    def show(self, req, kind):
        req.reject_body()
        factory = metadef_schemas.SCHEMAS.get(kind)
        if factory is None:
            raise exception.NotFound('No metadata definitions schema named '
                                     '%s.' % kind)
        return wsgi.json_response(factory())
