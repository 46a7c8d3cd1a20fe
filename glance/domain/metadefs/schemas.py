"""JSON schemas of the metadata definitions catalog (served under
/v2/schemas/metadefs/ and used to validate request bodies), and the
checks a property definition must pass beyond its schema."""

import copy
import re

import jsonschema

from glance.common import exception
from glance.domain.schema import Schema

PROPERTY_TYPES = ['array', 'boolean', 'integer', 'number', 'object',
                  'string', None]
READ_ONLY = ('created_at', 'updated_at', 'self', 'schema')


def _timestamp(what):
    return {'type': 'string', 'readOnly': True, 'format': 'date-time',
            'description': 'When the %s was %s (UTC).' % what}


def _stamps(thing):
    return {'created_at': _timestamp((thing, 'created')),
            'updated_at': _timestamp((thing, 'last changed'))}


def _definitions(min_items=0):
    string_array = {'type': 'array', 'items': {'type': 'string'},
                    'uniqueItems': True}
    if min_items:
        string_array['minItems'] = min_items
    return {
        'positiveInteger': {'type': 'integer', 'minimum': 0},
        'positiveIntegerDefault0': {
            'allOf': [{'$ref': '#/definitions/positiveInteger'},
                      {'default': 0}]},
        'stringArray': string_array,
        'property': {
            'type': 'object',
            'additionalProperties': _property_fields(required_name=False),
        },
    }


def _property_fields(required_name=True):
    """The schema of one property definition."""
    fields = {
        'name': {'type': 'string', 'maxLength': 80,
                 'description': 'Key of the property, unique in its '
                                'namespace.'},
        'title': {'type': 'string',
                  'description': 'Short label shown to users.'},
        'description': {'type': 'string',
                        'description': 'What the property is for and how '
                                       'it is used.'},
        'operators': {'type': 'array', 'items': {'type': 'string'},
                      'description': 'How several values may be combined, '
                                     'for example "<or>".'},
        'type': {'type': 'string', 'enum': PROPERTY_TYPES,
                 'description': 'JSON type of the value.'},
        'required': {'$ref': '#/definitions/stringArray'},
        'minimum': {'type': 'number'},
        'maximum': {'type': 'number'},
        'maxLength': {'$ref': '#/definitions/positiveInteger'},
        'minLength': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'pattern': {'type': 'string', 'format': 'regex'},
        'enum': {'type': 'array'},
        'readonly': {'type': 'boolean',
                     'description': 'Whether users may only read the '
                                    'value.'},
        'confidential': {'type': 'boolean',
                         'description': 'Whether the value is a secret.'},
        'default': {},
        'items': {
            'type': 'object',
            'properties': {
                'type': {'type': 'string', 'enum': PROPERTY_TYPES},
                'enum': {'type': 'array'},
            },
        },
        'maxItems': {'$ref': '#/definitions/positiveInteger'},
        'minItems': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'uniqueItems': {'type': 'boolean', 'default': False},
        'additionalItems': {'type': 'boolean'},
    }
    if not required_name:
        fields.pop('name')
    return {'type': 'object', 'additionalProperties': False,
            'required': (['name'] if required_name else []) + ['title',
                                                               'type'],
            'properties': fields}


def _association_fields():
    fields = {
        'name': {'type': 'string', 'maxLength': 80,
                 'description': 'Resource type, such as OS::Glance::Image '
                                'or OS::Nova::Flavor.'},
        'prefix': {'type': 'string', 'maxLength': 80,
                   'description': 'Put before the property names of the '
                                  'namespace when they are applied to this '
                                  'resource type (hw_ for images, hw: for '
                                  'flavors, ...).'},
        'properties_target': {'type': 'string', 'maxLength': 80,
                              'description': 'Which part of the resource '
                                             'receives the properties, when '
                                             'it has several.'},
    }
    fields.update(_stamps('association'))
    return fields


def _object_fields():
    fields = {
        'name': {'type': 'string', 'maxLength': 80},
        'description': {'type': 'string'},
        'required': {'$ref': '#/definitions/stringArray'},
        'properties': {'$ref': '#/definitions/property'},
        'schema': {'type': 'string', 'readOnly': True},
        'self': {'type': 'string', 'readOnly': True},
    }
    fields.update(_stamps('object'))
    return fields


def _tag_fields():
    fields = {'name': {'type': 'string', 'maxLength': 80,
                       'description': 'The tag itself.'}}
    fields.update(_stamps('tag'))
    return fields


def namespace():
    fields = {
        'namespace': {'type': 'string', 'maxLength': 80,
                      'description': 'Unique name of the namespace.'},
        'display_name': {'type': 'string', 'maxLength': 80,
                         'description': 'Name shown to users.'},
        'description': {'type': 'string', 'maxLength': 500,
                        'description': 'What the namespace holds.'},
        'visibility': {'type': 'string', 'enum': ['public', 'private'],
                       'description': 'public: every project sees it; '
                                      'private: only its owner.'},
        'protected': {'type': 'boolean',
                      'description': 'A protected namespace and its content '
                                     'cannot be deleted.'},
        'owner': {'type': 'string', 'maxLength': 255,
                  'description': 'Project owning the namespace.'},
        'schema': {'type': 'string', 'readOnly': True},
        'self': {'type': 'string', 'readOnly': True},
        'resource_type_associations': {
            'type': 'array',
            'items': {'type': 'object', 'properties': {
                k: v for k, v in _association_fields().items()
                if k in ('name', 'prefix', 'properties_target')}}},
        'properties': {'$ref': '#/definitions/property'},
        'objects': {
            'type': 'array',
            'items': {'type': 'object', 'properties': {
                k: v for k, v in _object_fields().items()
                if k in ('name', 'description', 'required', 'properties')}}},
        'tags': {
            'type': 'array',
            'items': {'type': 'object',
                      'properties': {'name': _tag_fields()['name']}}},
    }
    fields.update(_stamps('namespace'))
    return {'name': 'namespace', 'properties': fields,
            'required': ['namespace'], 'additionalProperties': False,
            'definitions': _definitions()}


def object_():
    return {'name': 'object', 'properties': _object_fields(),
            'required': ['name'], 'additionalProperties': False,
            'definitions': _definitions()}


def property_():
    doc = _property_fields()
    doc['name'] = 'property'
    doc['definitions'] = _definitions(min_items=1)
    return doc


def resource_type_association():
    return {'name': 'resource_type_association',
            'properties': _association_fields(), 'required': ['name'],
            'additionalProperties': False}


def tag():
    return {'name': 'tag', 'properties': _tag_fields(),
            'required': ['name'], 'additionalProperties': False}


def _collection(name, member, key=None, links=True):
    """A list schema whose items are ``member``, definitions hoisted."""
    item = copy.deepcopy(member)
    definitions = item.pop('definitions', None)
    doc = {'name': name, 'properties': {
        key or name: {'type': 'array', 'items': item},
        'schema': {'type': 'string'}}}
    if links:
        doc['properties'].update(first={'type': 'string'},
                                 next={'type': 'string'})
        doc['links'] = [{'rel': 'first', 'href': '{first}'},
                        {'rel': 'next', 'href': '{next}'},
                        {'rel': 'describedby', 'href': '{schema}'}]
    else:
        doc['links'] = [{'rel': 'describedby', 'href': '{schema}'}]
    if definitions:
        doc['definitions'] = definitions
    return doc


def namespaces():
    return _collection('namespaces', namespace())


def objects():
    return _collection('objects', object_())


def resource_type_associations():
    return _collection('resource_type_associations',
                       resource_type_association())


def tags():
    return _collection('tags', tag())


def properties():
    item = property_()
    definitions = item.pop('definitions')
    item.pop('name')
    item['properties'].pop('name')
    item['required'].remove('name')
    return {'name': 'properties',
            'properties': {'properties': {'type': 'object',
                                          'additionalProperties': item},
                           'schema': {'type': 'string'}},
            'links': [{'rel': 'describedby', 'href': '{schema}'}],
            'definitions': definitions}


SCHEMAS = {
    'namespace': namespace, 'namespaces': namespaces,
    'object': object_, 'objects': objects,
    'property': property_, 'properties': properties,
    'resource_type': resource_type_association,
    'resource_types': resource_type_associations,
    'tag': tag, 'tags': tags,
}

_VALIDATORS = {}


def validate(kind, body):
    """400 unless ``body`` matches the schema ``kind``."""
    if kind not in _VALIDATORS:
        _VALIDATORS[kind] = Schema(SCHEMAS[kind]())
    _VALIDATORS[kind].validate(body)


def reject_read_only(body, keys=READ_ONLY):
    for key in keys:
        if key in body:
            raise exception.ReadonlyProperty("Attribute '%s' is read-only."
                                             % key)


# -- property definitions -----------------------------------------------------

# Keys describing a property to people, not constraining its value.
_DESCRIPTIVE = ('title', 'description', 'operators', 'readonly',
                'confidential', 'name', 'required')


def _value_schema(definition):
    return {k: v for k, v in definition.items() if k not in _DESCRIPTIVE
            and not (k == 'type' and v is None)}


def _ordered(definition, low, high):
    if low in definition and high in definition and (
            definition[low] > definition[high]):
        raise ValueError('%s (%s) is greater than %s (%s)'
                         % (low, definition[low], high, definition[high]))


def _pattern(definition):
    pattern = definition.get('pattern')
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError('pattern %r is not a valid regular expression: %s'
                         % (pattern, e))


def _values_fit(values, schema, what):
    for value in values:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft4Validator(schema).iter_errors(value))
        if error is not None:
            raise ValueError('%s %r does not fit the definition: %s'
                             % (what, value, error.message))


def check_property(name, definition):
    """400 with the reason when a (schema-valid) property definition
    cannot describe any sensible value: crossed bounds, a broken pattern,
    enum values or a default the definition itself refuses."""
    try:
        _ordered(definition, 'minimum', 'maximum')
        _ordered(definition, 'minLength', 'maxLength')
        _ordered(definition, 'minItems', 'maxItems')
        _pattern(definition)
        enum = definition.get('enum')
        if enum is not None:
            if not enum:
                raise ValueError('enum must list at least one value')
            if len({repr(v) for v in enum}) != len(enum):
                raise ValueError('enum lists a value twice')
        value_schema = _value_schema(definition)
        try:
            jsonschema.Draft4Validator.check_schema(value_schema)
        except jsonschema.exceptions.SchemaError as e:
            raise ValueError(e.message)
        without_enum = {k: v for k, v in value_schema.items()
                        if k not in ('enum', 'default')}
        _values_fit(enum or (), without_enum, 'enum value')
        items = definition.get('items') or {}
        if items.get('enum') is not None:
            _values_fit(items['enum'], {k: v for k, v in items.items()
                                        if k == 'type' and v is not None},
                        'items enum value')
        if 'default' in definition:
            _values_fit([definition['default']], value_schema, 'default')
    except ValueError as e:
        raise exception.Invalid("Invalid definition of property '%s': %s"
                                % (name, e))


def check_properties(properties):
    for name, definition in (properties or {}).items():
        check_property(name, definition)
