"""The v2 route table: path, then method -> (controller, action)."""

from glance.api.v2 import discovery
from glance.api.v2 import image_actions
from glance.api.v2 import image_data
from glance.api.v2 import image_locations
from glance.api.v2 import image_members
from glance.api.v2 import image_tags
from glance.api.v2 import images
from glance.api.v2 import schemas
from glance.common import wsgi
from glance.domain import property_protections
from glance.store import registry

R = wsgi.Route

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
    R('/images/{image_id}/members', {'GET': ('members', 'index'),
                                     'POST': ('members', 'create')}),
    R('/images/{image_id}/members/{member_id}',
      {'GET': ('members', 'show'), 'PUT': ('members', 'update'),
       'DELETE': ('members', 'delete')}),
]


def controllers():
    return {
        'schemas': schemas.SchemasController(),
        'images': images.ImagesController(),
        'tags': image_tags.TagsController(),
        'members': image_members.MembersController(),
        'actions': image_actions.ActionsController(),
        'data': image_data.ImageDataController(),
        'locations': image_locations.LocationsController(),
        'info': discovery.InfoController(),
    }


def app_factory(global_conf, **local_conf):
    # Stores are ready (directories created, drivers loaded) before the
    # first request, and rebuilt from the new configuration on reload.
    registry.configure()
    property_protections.load()
    return wsgi.Router(ROUTES, controllers())
