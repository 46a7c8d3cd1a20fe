"""The v2 route table: path, then method -> (controller class, action).

The table names classes, not strings: a misspelt controller fails on
import, a misspelt action when the app is built (see ``build``).
"""

from glance.api.v2 import cache
from glance.api.v2 import discovery
from glance.api.v2 import image_actions
from glance.api.v2 import image_data
from glance.api.v2 import image_import
from glance.api.v2 import image_locations
from glance.api.v2 import image_members
from glance.api.v2 import image_tags
from glance.api.v2 import images
from glance.api.v2 import metadef_items
from glance.api.v2 import metadef_namespaces
from glance.api.v2 import metadef_resource_types
from glance.api.v2 import metadef_schemas
from glance.api.v2 import schemas
from glance.api.v2 import tasks
from glance.common import wsgi
from glance.domain import policy
from glance.domain.images import property_protections
from glance.store import registry

# The controller classes; each is instantiated once when the app is built.
Schemas = schemas.SchemasController
Images = images.ImagesController
Tags = image_tags.TagsController
Members = image_members.MembersController
Tasks = tasks.TasksController
Import = image_import.ImportController
Actions = image_actions.ActionsController
Data = image_data.ImageDataController
Locations = image_locations.LocationsController
Info = discovery.InfoController
MetadefSchemas = metadef_schemas.MetadefSchemasController
Cache = cache.CacheController
Namespaces = metadef_namespaces.NamespacesController
Objects = metadef_items.ObjectsController
Properties = metadef_items.PropertiesController
MetadefTags = metadef_items.TagsController
ResourceTypes = metadef_resource_types.ResourceTypesController

R = wsgi.Route
_NS = '/metadefs/namespaces/{namespace}'

METADEF_ROUTES = [
    R('/schemas/metadefs/{kind}', {'GET': (MetadefSchemas, 'show')}),
    R('/metadefs/resource_types', {'GET': (ResourceTypes, 'index')}),
    R(_NS + '/resource_types', {'GET': (ResourceTypes, 'show'),
                                'POST': (ResourceTypes, 'create')}),
    R(_NS + '/resource_types/{resource_type}',
      {'DELETE': (ResourceTypes, 'delete')}),
    R('/metadefs/namespaces', {'GET': (Namespaces, 'index'),
                               'POST': (Namespaces, 'create')}),
    R(_NS, {'GET': (Namespaces, 'show'),
            'PUT': (Namespaces, 'update'),
            'DELETE': (Namespaces, 'delete')}),
    R(_NS + '/properties',
      {'GET': (Properties, 'index'),
       'POST': (Properties, 'create'),
       'DELETE': (Namespaces, 'delete_properties')}),
    R(_NS + '/properties/{property_name}',
      {'GET': (Properties, 'show'),
       'PUT': (Properties, 'update'),
       'DELETE': (Properties, 'delete')}),
    R(_NS + '/objects',
      {'GET': (Objects, 'index'),
       'POST': (Objects, 'create'),
       'DELETE': (Namespaces, 'delete_objects')}),
    R(_NS + '/objects/{object_name}',
      {'GET': (Objects, 'show'),
       'PUT': (Objects, 'update'),
       'DELETE': (Objects, 'delete')}),
    R(_NS + '/tags',
      {'GET': (MetadefTags, 'index'),
       'POST': (MetadefTags, 'create_tags'),
       'DELETE': (Namespaces, 'delete_tags')}),
    R(_NS + '/tags/{tag_name}',
      {'GET': (MetadefTags, 'show'), 'POST': (MetadefTags, 'create'),
       'PUT': (MetadefTags, 'update'),
       'DELETE': (MetadefTags, 'delete')}),
]

ROUTES = [
    R('/schemas/image', {'GET': (Schemas, 'image')}),
    R('/schemas/images', {'GET': (Schemas, 'images')}),
    R('/schemas/member', {'GET': (Schemas, 'member')}),
    R('/schemas/members', {'GET': (Schemas, 'members')}),
    R('/schemas/task', {'GET': (Schemas, 'task')}),
    R('/schemas/tasks', {'GET': (Schemas, 'tasks')}),
    R('/images', {'GET': (Images, 'index'),
                  'POST': (Images, 'create')}),
    R('/images/{image_id}', {'GET': (Images, 'show'),
                             'PATCH': (Images, 'update'),
                             'DELETE': (Images, 'delete')}),
    R('/images/{image_id}/actions/deactivate',
      {'POST': (Actions, 'deactivate')}),
    R('/images/{image_id}/actions/reactivate',
      {'POST': (Actions, 'reactivate')}),
    R('/images/{image_id}/locations', {'GET': (Locations, 'index'),
                                       'POST': (Locations, 'create')}),
    R('/images/{image_id}/file', {'GET': (Data, 'download'),
                                  'PUT': (Data, 'upload')}),
    R('/stores/{store_id}/{image_id}',
      {'DELETE': (Data, 'delete_from_store')}),
    R('/info/import', {'GET': (Info, 'get_image_import')}),
    R('/info/stores', {'GET': (Info, 'get_stores')}),
    R('/info/stores/detail', {'GET': (Info, 'get_stores_detail')}),
    R('/info/usage', {'GET': (Info, 'get_usage')}),
    R('/images/{image_id}/tags/{tag_value}',
      {'PUT': (Tags, 'update'), 'DELETE': (Tags, 'delete')}),
    R('/images/{image_id}/tasks', {'GET': (Tasks, 'image_tasks')}),
    R('/images/{image_id}/stage', {'PUT': (Import, 'stage')}),
    R('/images/{image_id}/import', {'POST': (Import, 'import_image')}),
    R('/tasks', {'GET': (Tasks, 'index'), 'POST': (Tasks, 'create')}),
    R('/tasks/{task_id}', {'GET': (Tasks, 'show'),
                           'DELETE': (Tasks, 'delete')}),
    R('/images/{image_id}/members', {'GET': (Members, 'index'),
                                     'POST': (Members, 'create')}),
    R('/images/{image_id}/members/{member_id}',
      {'GET': (Members, 'show'), 'PUT': (Members, 'update'),
       'DELETE': (Members, 'delete')}),
    R('/cache', {'GET': (Cache, 'get_cache_state'),
                 'DELETE': (Cache, 'clear_cache')}),
    R('/cache/clean', {'POST': (Cache, 'clean_cache')}),
    R('/cache/prune', {'POST': (Cache, 'prune_cache')}),
    R('/cache/nodes/{image_id}', {'GET': (Cache, 'get_cached_nodes')}),
    R('/cache/{image_id}', {'PUT': (Cache, 'queue_image'),
                            'DELETE': (Cache, 'delete_cache_entry')}),
] + METADEF_ROUTES


def controllers(table: list[wsgi.Route]) -> dict[type, object]:
    """One instance of each controller class that ``table`` names."""
    made = {}
    for route in table:
        for controller, _action in route.methods.values():
            if controller not in made:
                made[controller] = controller()
    return made


def build(table: list[wsgi.Route] | None = None) -> wsgi.Router:
    """The WSGI router of ``table`` (the v2 API by default).

    Every action is bound to its controller instance here: a route naming
    an action its class lacks stops the app from being built, at start.
    """
    table = ROUTES if table is None else table
    # Image and task ids are UUIDs, stored in lower case: a request may
    # name them in any case.
    return wsgi.Router(table, controllers(table),
                       lowered=('image_id', 'task_id'))


def app_factory(global_conf, **local_conf):
    # Stores are ready (directories created, drivers loaded) before the
    # first request, and rebuilt from the new configuration on reload.
    registry.configure()
    property_protections.load()
    policy.prepare()
    return build()


class API:
    """The v2 application under the paste path upstream's paste files
    name: ``glance.api.v2.router:API.factory``."""

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return app_factory(global_conf, **local_conf)
