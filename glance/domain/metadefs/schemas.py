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


# The documents served have upstream's shape field by field (keys, types,
# constraints, which fields carry a description, links); request bodies
# are validated against the same documents, with the column lengths of
# the names they hold added (``_tightened``) so that a name too long for
# the database is a 400.


def _definitions(min_items=0, with_property=True):
    string_array = {'type': 'array', 'items': {'type': 'string'},
                    'uniqueItems': True}
    if min_items:
        string_array['minItems'] = min_items
    definitions = {
        'positiveInteger': {'type': 'integer', 'minimum': 0},
        'positiveIntegerDefault0': {
            'allOf': [{'$ref': '#/definitions/positiveInteger'},
                      {'default': 0}]},
        'stringArray': string_array,
    }
    if with_property:
        definitions['property'] = {
            'type': 'object',
            'additionalProperties': {
                'type': 'object', 'required': ['title', 'type'],
                'properties': _property_fields()},
        }
    return definitions


def _property_fields():
    """The fields of one property definition."""
    return {
        'name': {'type': 'string', 'maxLength': 80},
        'title': {'type': 'string'},
        'description': {'type': 'string'},
        'operators': {'type': 'array', 'items': {'type': 'string'}},
        'type': {'type': 'string', 'enum': PROPERTY_TYPES},
        'required': {'$ref': '#/definitions/stringArray'},
        'minimum': {'type': 'number'},
        'maximum': {'type': 'number'},
        'maxLength': {'$ref': '#/definitions/positiveInteger'},
        'minLength': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'pattern': {'type': 'string', 'format': 'regex'},
        'enum': {'type': 'array'},
        'readonly': {'type': 'boolean'},
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
    fields = {'name': {'type': 'string', 'maxLength': 80}}
    fields.update(_stamps('tag'))
    return fields


def _strings(*names):
    return {name: {'type': 'string'} for name in names}


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
            'items': {'type': 'object', 'properties': _strings(
                'name', 'prefix', 'properties_target')}},
        'properties': {'$ref': '#/definitions/property'},
        'objects': {
            'type': 'array',
            'items': {'type': 'object', 'properties': dict(
                _strings('name', 'description'),
                required={'$ref': '#/definitions/stringArray'},
                properties={'$ref': '#/definitions/property'})}},
        'tags': {
            'type': 'array',
            'items': {'type': 'object', 'properties': _strings('name')}},
    }
    fields.update(_stamps('namespace'))
    return {'name': 'namespace', 'properties': fields,
            'required': ['namespace'], 'additionalProperties': False,
            'definitions': _definitions()}


def object_():
    return {'name': 'object', 'properties': _object_fields(),
            'required': ['name'], 'additionalProperties': False,
            'definitions': _definitions()}


def _property_item(required):
    return {'name': 'property', 'properties': _property_fields(),
            'required': required, 'additionalProperties': False}


def property_():
    doc = _property_item(['type', 'title', 'name'])
    doc['definitions'] = _definitions(min_items=1, with_property=False)
    return doc


def resource_type_association():
    return {'name': 'resource_type_association',
            'properties': _association_fields(), 'required': ['name'],
            'additionalProperties': False}


def tag():
    return {'name': 'tag', 'properties': _tag_fields(),
            'required': ['name'], 'additionalProperties': False}


LINKS = [{'rel': 'first', 'href': '{first}'},
         {'rel': 'next', 'href': '{next}'},
         {'rel': 'describedby', 'href': '{schema}'}]


def _collection(name, member, key=None):
    """A list schema whose items are ``member``, definitions hoisted."""
    item = copy.deepcopy(member)
    definitions = item.pop('definitions', None)
    doc = {'name': name, 'properties': {
        key or name: {'type': 'array', 'items': item},
        'schema': {'type': 'string'},
        'first': {'type': 'string'},
        'next': {'type': 'string'}},
        'links': copy.deepcopy(LINKS)}
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
    """The properties of a namespace: an object keyed by property name."""
    return {'name': 'properties',
            'properties': {
                'properties': {'type': 'object',
                               'additionalProperties':
                                   _property_item(['type', 'title'])},
                'schema': {'type': 'string'},
                'first': {'type': 'string'},
                'next': {'type': 'string'}},
            'links': copy.deepcopy(LINKS),
            'definitions': _definitions(min_items=1, with_property=False)}


SCHEMAS = {
    'namespace': namespace, 'namespaces': namespaces,
    'object': object_, 'objects': objects,
    'property': property_, 'properties': properties,
    'resource_type': resource_type_association,
    'resource_types': resource_type_associations,
    'tag': tag, 'tags': tags,
}


def _tightened(doc):
    """``doc`` with the column length of every name it holds, for
    validating request bodies."""
    doc = copy.deepcopy(doc)
    if doc.get('name') == 'namespace':
        fields = doc['properties']
        for key in ('resource_type_associations', 'objects', 'tags'):
            for field in fields[key]['items']['properties'].values():
                if field.get('type') == 'string':
                    field['maxLength'] = 80
        fields['objects']['items']['properties']['description'].pop(
            'maxLength')
    return doc


_VALIDATORS = {}


def validate(kind, body):
    """400 unless ``body`` matches the schema ``kind``."""
    if kind not in _VALIDATORS:
        _VALIDATORS[kind] = Schema(_tightened(SCHEMAS[kind]()))
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
