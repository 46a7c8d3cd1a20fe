"""Resource types (OS::Glance::Image, OS::Nova::Flavor, ...) and their
associations with namespaces.

A resource type named in an association for the first time is created on
the way (unprotected); removing the association keeps the type.
"""

from glance import notifier
from glance.common import exception
from glance.common import timeutils
from glance.db import metadefs as db
from glance.db import session
from glance.domain import policy
from glance.domain.metadefs import records as md


def list_resource_types(ctx):
    policy.enforce(ctx, 'list_metadef_resource_types', md.target(ctx))
    with session.reader() as conn:
        return db.resource_type_list(conn)


def list_associations(ctx, ns_name):
    with session.reader() as conn:
        namespace = md.load(conn, ctx, ns_name, 'get_metadef_resource_type')
        return db.association_list(conn, [namespace['id']])[namespace['id']]


def create_association(ctx, ns_name, body):
    md.check_association(body)
    type_name = body['name']
    now = timeutils.now()
    with session.writer() as conn:
        namespace = md.load_for_write(
            conn, ctx, ns_name, 'add_metadef_resource_type_association')
        resource_type = db.resource_type_get(conn, type_name)
        if resource_type is None:
            type_id = db.resource_type_create(
                conn, {'name': type_name, 'protected': False,
                       'created_at': now, 'updated_at': now})
        else:
            type_id = resource_type['id']
            if db.association_get(conn, namespace['id'], type_name):
                raise exception.Duplicate(
                    'Resource type %s is already associated with namespace '
                    '%s.' % (type_name, ns_name))
        db.association_create(conn, {
            'namespace_id': namespace['id'], 'resource_type_id': type_id,
            'prefix': body.get('prefix'),
            'properties_target': body.get('properties_target'),
            'created_at': now, 'updated_at': now}, type_name)
        created = db.association_get(conn, namespace['id'], type_name)
    notifier.association_event('metadef_resource_type.create', ns_name,
                               created)
    return created


def delete_association(ctx, ns_name, type_name):
    with session.writer() as conn:
        namespace = md.load_for_write(
            conn, ctx, ns_name, 'remove_metadef_resource_type_association')
        md.refuse_if_protected(namespace, 'its resource type associations')
        association = db.association_get(conn, namespace['id'], type_name)
        if association is None:
            raise exception.NotFound('Resource type %s is not associated '
                                     'with namespace %s.'
                                     % (type_name, ns_name))
        db.association_delete(conn, namespace['id'],
                              association['resource_type_id'])
    notifier.association_event('metadef_resource_type.delete', ns_name,
                               association, deleted=True)
