"""The v2 route table: path, then method -> (controller, action)."""

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
from glance.domain.images import property_protections
from glance.store import registry

R = wsgi.Route
_NS = '/metadefs/namespaces/{namespace}'

METADEF_ROUTES = [
    R('/schemas/metadefs/{kind}', {'GET': ('metadef_schemas', 'show')}),
    R('/metadefs/resource_types',
      {'GET': ('metadef_resource_types', 'index')}),
    R(_NS + '/resource_types',
      {'GET': ('metadef_resource_types', 'show'),
       'POST': ('metadef_resource_types', 'create')}),
    R(_NS + '/resource_types/{resource_type}',
      {'DELETE': ('metadef_resource_types', 'delete')}),
    R('/metadefs/namespaces', {'GET': ('metadef_namespaces', 'index'),
                               'POST': ('metadef_namespaces', 'create')}),
    R(_NS, {'GET': ('metadef_namespaces', 'show'),
            'PUT': ('metadef_namespaces', 'update'),
            'DELETE': ('metadef_namespaces', 'delete')}),
    R(_NS + '/properties',
      {'GET': ('metadef_properties', 'index'),
       'POST': ('metadef_properties', 'create'),
       'DELETE': ('metadef_namespaces', 'delete_properties')}),
    R(_NS + '/properties/{property_name}',
      {'GET': ('metadef_properties', 'show'),
       'PUT': ('metadef_properties', 'update'),
       'DELETE': ('metadef_properties', 'delete')}),
    R(_NS + '/objects',
      {'GET': ('metadef_objects', 'index'),
       'POST': ('metadef_objects', 'create'),
       'DELETE': ('metadef_namespaces', 'delete_objects')}),
    R(_NS + '/objects/{object_name}',
      {'GET': ('metadef_objects', 'show'),
       'PUT': ('metadef_objects', 'update'),
       'DELETE': ('metadef_objects', 'delete')}),
    R(_NS + '/tags',
      {'GET': ('metadef_tags', 'index'),
       'POST': ('metadef_tags', 'create_tags'),
       'DELETE': ('metadef_namespaces', 'delete_tags')}),
    R(_NS + '/tags/{tag_name}',
      {'GET': ('metadef_tags', 'show'), 'POST': ('metadef_tags', 'create'),
       'PUT': ('metadef_tags', 'update'),
       'DELETE': ('metadef_tags', 'delete')}),
]

ROUTES = [
    R('/schemas/image', {'GET': ('schemas', 'image')}),
    R('/schemas/images', {'GET': ('schemas', 'images')}),
    R('/schemas/member', {'GET': ('schemas', 'member')}),
    R('/schemas/members', {'GET': ('schemas', 'members')}),
    R('/schemas/task', {'GET': ('schemas', 'task')}),
    R('/schemas/tasks', {'GET': ('schemas', 'tasks')}),
    R('/images', {'GET': ('images', 'index'),
                  'POST': ('images', 'create')}),
    R('/images/{image_id}', {'GET': ('images', 'show'),
                             'PATCH': ('images', 'update'),
                             'DELETE': ('images', 'delete')}),
    R('/images/{image_id}/actions/deactivate',
      {'POST': ('actions', 'deactivate')}),
    R('/images/{image_id}/actions/reactivate',
      {'POST': ('actions', 'reactivate')}),
    R('/images/{image_id}/locations', {'GET': ('locations', 'index'),
                                       'POST': ('locations', 'create')}),
    R('/images/{image_id}/file', {'GET': ('data', 'download'),
                                  'PUT': ('data', 'upload')}),
    R('/stores/{store_id}/{image_id}', {'DELETE': ('data',
                                                   'delete_from_store')}),
    R('/info/import', {'GET': ('info', 'get_image_import')}),
    R('/info/stores', {'GET': ('info', 'get_stores')}),
    R('/info/stores/detail', {'GET': ('info', 'get_stores_detail')}),
    R('/info/usage', {'GET': ('info', 'get_usage')}),
    R('/images/{image_id}/tags/{tag_value}',
      {'PUT': ('tags', 'update'), 'DELETE': ('tags', 'delete')}),
    R('/images/{image_id}/tasks', {'GET': ('tasks', 'image_tasks')}),
    R('/images/{image_id}/stage', {'PUT': ('import', 'stage')}),
    R('/images/{image_id}/import', {'POST': ('import', 'import_image')}),
    R('/tasks', {'GET': ('tasks', 'index'), 'POST': ('tasks', 'create')}),
    R('/tasks/{task_id}', {'GET': ('tasks', 'show'),
                           'DELETE': ('tasks', 'delete')}),
    R('/images/{image_id}/members', {'GET': ('members', 'index'),
                                     'POST': ('members', 'create')}),
    R('/images/{image_id}/members/{member_id}',
      {'GET': ('members', 'show'), 'PUT': ('members', 'update'),
       'DELETE': ('members', 'delete')}),
] + METADEF_ROUTES


def controllers():
    return {
        'schemas': schemas.SchemasController(),
        'images': images.ImagesController(),
        'tags': image_tags.TagsController(),
        'members': image_members.MembersController(),
        'tasks': tasks.TasksController(),
        'import': image_import.ImportController(),
        'actions': image_actions.ActionsController(),
        'data': image_data.ImageDataController(),
        'locations': image_locations.LocationsController(),
        'info': discovery.InfoController(),
        'metadef_schemas': metadef_schemas.MetadefSchemasController(),
        'metadef_namespaces': metadef_namespaces.NamespacesController(),
        'metadef_objects': metadef_items.ObjectsController(),
        'metadef_properties': metadef_items.PropertiesController(),
        'metadef_tags': metadef_items.TagsController(),
        'metadef_resource_types':
            metadef_resource_types.ResourceTypesController(),
    }


def app_factory(global_conf, **local_conf):
    # Stores are ready (directories created, drivers loaded) before the
    # first request, and rebuilt from the new configuration on reload.
    registry.configure()
    property_protections.load()
    return wsgi.Router(ROUTES, controllers())
