"""JSON schemas served under /v2/schemas and used to validate requests."""

import copy
import json
import os

import jsonschema
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')
STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading',
            'importing', 'pending_delete', 'deactivated']
VISIBILITIES = ['community', 'public', 'private', 'shared']

IMAGE_LINKS = [{'rel': 'self', 'href': '{self}'},
               {'rel': 'enclosure', 'href': '{file}'},
               {'rel': 'describedby', 'href': '{schema}'}]


def _base_properties():
    return {
        'id': {'type': 'string', 'description': 'An identifier for the image',
               'pattern': UUID_PATTERN},
        'name': {'type': ['null', 'string'], 'maxLength': 255,
                 'description': 'Descriptive name for the image'},
        'status': {'type': 'string', 'readOnly': True, 'enum': STATUSES,
                   'description': 'Status of the image'},
        'visibility': {'type': 'string', 'enum': VISIBILITIES,
                       'description': 'Scope of image accessibility'},
        'protected': {'type': 'boolean',
                      'description': 'If true, image will not be deletable.'},
        'os_hidden': {'type': 'boolean',
                      'description': 'If true, image will not appear in '
                                     'default image list response.'},
        'checksum': {'type': ['null', 'string'], 'readOnly': True,
                     'maxLength': 32,
                     'description': 'md5 hash of image contents.'},
        'os_hash_algo': {'type': ['null', 'string'], 'readOnly': True,
                         'maxLength': 64,
                         'description': 'Algorithm used for os_hash_value'},
        'os_hash_value': {'type': ['null', 'string'], 'readOnly': True,
                          'maxLength': 128,
                          'description': 'Hexdigest of the image contents '
                                         'using os_hash_algo'},
        'owner': {'type': ['null', 'string'], 'maxLength': 255,
                  'description': 'Owner of the image'},
        'size': {'type': ['null', 'integer'], 'readOnly': True,
                 'description': 'Size of image file in bytes'},
        'virtual_size': {'type': ['null', 'integer'], 'readOnly': True,
                         'description': 'Virtual size of image in bytes'},
        'container_format': {
            'type': ['null', 'string'],
            'enum': [None] + list(CONF.image_format.container_formats),
            'description': 'Format of the container'},
        'disk_format': {
            'type': ['null', 'string'],
            'enum': [None] + list(CONF.image_format.disk_formats),
            'description': 'Format of the disk'},
        'created_at': {'type': 'string', 'readOnly': True,
                       'description': 'Date and time of image registration'},
        'updated_at': {'type': 'string', 'readOnly': True,
                       'description': 'Date and time of the last image '
                                      'modification'},
        'tags': {'type': 'array', 'items': {'type': 'string',
                                            'maxLength': 255},
                 'description': 'List of strings related to the image'},
        'direct_url': {'type': 'string', 'readOnly': True,
                       'description': 'URL to access the image file kept in '
                                      'external store'},
        'min_ram': {'type': 'integer',
                    'description': 'Amount of ram (in MB) required to boot '
                                   'image.'},
        'min_disk': {'type': 'integer',
                     'description': 'Amount of disk space (in GB) required '
                                    'to boot image.'},
        'self': {'type': 'string', 'readOnly': True,
                 'description': 'An image self url'},
        'file': {'type': 'string', 'readOnly': True,
                 'description': 'An image file url'},
        'stores': {'type': 'string', 'readOnly': True,
                   'description': 'Store in which image data resides. Only '
                                  'present when the operator has enabled '
                                  'multiple stores.'},
        'schema': {'type': 'string', 'readOnly': True,
                   'description': 'An image schema url'},
        'locations': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'url': {'type': 'string', 'maxLength': 255},
                    'metadata': {'type': 'object'},
                    'validation_data': {
                        'type': 'object',
                        'additionalProperties': False,
                        'required': ['os_hash_algo', 'os_hash_value'],
                        'properties': {
                            'checksum': {'type': 'string', 'minLength': 32,
                                         'maxLength': 32},
                            'os_hash_algo': {'type': 'string',
                                             'maxLength': 64},
                            'os_hash_value': {'type': 'string',
                                              'maxLength': 128}}},
                },
                'required': ['url', 'metadata'],
            },
            'description': 'A set of URLs to access the image file kept in '
                           'external store'},
    }


def _custom_properties():
    """Typed additional properties from schema-image.json, if present."""
    path = CONF.find_file('schema-image.json')
    if not path:
        return {}, []
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError('Cannot load %s: %s' % (path, e))
    if 'properties' in data and isinstance(data['properties'], dict):
        return data['properties'], list(data.get('required') or [])
    return data, []


class Schema:
    """A JSON schema plus a compiled validator."""

    def __init__(self, doc):
        self.doc = doc
        self._validator = jsonschema.Draft4Validator(doc)

    def validate(self, obj):
        error = jsonschema.exceptions.best_match(
            self._validator.iter_errors(obj))
        if error is not None:
            raise exception.Invalid('Provided object does not match schema '
                                    "'%s': %s" % (self.doc['name'],
                                                  error.message))

    def raw(self):
        return copy.deepcopy(self.doc)


_CACHE = {}


def reset():
    _CACHE.clear()


def image_schema():
    if 'image' not in _CACHE:
        properties = _base_properties()
        custom, required = _custom_properties()
        for name, definition in custom.items():
            if name in properties and properties[name] != definition:
                raise RuntimeError('Custom image property %s redefines a '
                                   'base property' % name)
            properties[name] = definition
        doc = {'name': 'image', 'properties': properties,
               'additionalProperties': {'type': 'string'},
               'links': IMAGE_LINKS}
        if required:
            doc['required'] = required
        _CACHE['image'] = Schema(doc)
    return _CACHE['image']


def images_schema():
    image = image_schema().raw()
    return {
        'name': 'images',
        'properties': {
            'images': {'type': 'array', 'items': image},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'first', 'href': '{first}'},
                  {'rel': 'next', 'href': '{next}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def member_schema():
    return {
        'name': 'member',
        'properties': {
            'member_id': {'type': 'string',
                          'description': 'An identifier for the image member '
                                         '(tenantId)'},
            'image_id': {'type': 'string', 'pattern': UUID_PATTERN,
                         'description': 'An identifier for the image'},
            'created_at': {'type': 'string',
                           'description': 'Date and time of image member '
                                          'creation'},
            'updated_at': {'type': 'string',
                           'description': 'Date and time of last '
                                          'modification of image member'},
            'status': {'type': 'string',
                       'enum': ['pending', 'accepted', 'rejected'],
                       'description': 'The status of this image member'},
            'schema': {'type': 'string', 'readOnly': True},
        },
    }


def members_schema():
    return {
        'name': 'members',
        'properties': {
            'members': {'type': 'array', 'items': member_schema()},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'describedby', 'href': '{schema}'}],
    }


def _task_properties():
    return {
        'id': {'type': 'string', 'pattern': UUID_PATTERN,
               'description': 'An identifier for the task'},
        'type': {'type': 'string', 'enum': ['import', 'api_image_import',
                                            'location_import'],
                 'description': 'The type of task represented by this '
                                'content'},
        'status': {'type': 'string',
                   'enum': ['pending', 'processing', 'success', 'failure'],
                   'description': 'The current status of this task'},
        'input': {'type': ['null', 'object'],
                  'description': 'The parameters required by task, JSON blob'},
        'result': {'type': ['null', 'object'],
                   'description': 'The result of current task, JSON blob'},
        'owner': {'type': 'string',
                  'description': 'An identifier for the owner of this task'},
        'message': {'type': 'string',
                    'description': 'Human-readable informative message only '
                                   'included when appropriate (usually on '
                                   'failure)'},
        'image_id': {'type': 'string',
                     'description': 'Image associated with the task'},
        'request_id': {'type': 'string',
                       'description': 'Request ID associated with the task'},
        'user_id': {'type': 'string',
                    'description': 'User associated with the task'},
        'expires_at': {'type': ['null', 'string'],
                       'description': 'Datetime when this resource would be '
                                      'subject to removal'},
        'created_at': {'type': 'string',
                       'description': 'Datetime when this resource was '
                                      'created'},
        'updated_at': {'type': 'string',
                       'description': 'Datetime when this resource was '
                                      'updated'},
        'self': {'type': 'string'},
        'schema': {'type': 'string'},
    }


def task_schema():
    return {'name': 'task', 'properties': _task_properties()}


def tasks_schema():
    partial = _task_properties()
    for key in ('input', 'result', 'message'):
        partial.pop(key)
    return {
        'name': 'tasks',
        'properties': {
            'tasks': {'type': 'array',
                      'items': {'name': 'task', 'properties': partial}},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'describedby', 'href': '{schema}'}],
    }


def has_custom_schema_file():
    path = CONF.find_file('schema-image.json')
    return bool(path and os.path.exists(path))
