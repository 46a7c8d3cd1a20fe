"""Loading, exporting and removing the metadata definitions catalog
(``glance-manage db load_metadefs | export_metadefs | unload_metadefs``).

A catalog file holds one namespace in the form the API accepts on
create. Loading a namespace that already exists skips the file, unless
``merge``: then missing content is added, and with ``prefer_new`` what
exists is also updated from the file, while ``overwrite`` removes the
namespace and loads it afresh. Each file is one transaction. Resource
types the loader creates are protected.

Unlike upstream, an object's ``required`` list and a namespace's owner
are loaded and exported, so load -> export -> load loses nothing.
"""

import json
import os
import re

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import timeutils
from glance.db import metadefs as db
from glance.db import session
from glance.domain.metadefs import namespaces as metadef_namespaces
from glance.domain.metadefs import records as md
from glance.domain.metadefs import schemas as metadef_schemas

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

DEFAULT_OWNER = 'admin'


def _files(path):
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise ValueError('%s is neither a file nor a directory.' % path)
    return sorted(os.path.join(path, name) for name in os.listdir(path)
                  if name.endswith('.json')
                  and os.path.isfile(os.path.join(path, name)))


def read_file(path):
    """The namespace document of a catalog file, checked as the API
    checks a create request; ValueError says what is wrong."""
    try:
        with open(path, encoding='utf-8') as f:
            body = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ValueError('cannot read %s: %s' % (path, e))
    if not isinstance(body, dict):
        raise ValueError('%s does not hold a JSON object' % path)
    try:
        metadef_schemas.reject_read_only(body)
        metadef_schemas.validate('namespace', body)
        md.check_namespace(body)
    except exception.GlanceError as e:
        raise ValueError('%s: %s' % (path, e.msg))
    return body


def check_flags(merge, prefer_new, overwrite):
    if (prefer_new or overwrite) and not merge:
        raise ValueError('--prefer_new and --overwrite only make sense '
                         'with --merge.')
    if prefer_new and overwrite:
        raise ValueError('--prefer_new and --overwrite cannot be used '
                         'together.')


def load(path=None, merge=False, prefer_new=False, overwrite=False):
    """Load every ``*.json`` file of ``path`` (a directory or one file).

    Returns (names of the namespaces loaded, names skipped because they
    exist, error messages of the files that could not be loaded).
    """
    check_flags(merge, prefer_new, overwrite)
    loaded, skipped, errors = [], [], []
    for name in _files(path or CONF.metadata_source_path):
        try:
            body = read_file(name)
        except ValueError as e:
            LOG.error('Skipping metadata definitions file: %s', e)
            errors.append(str(e))
            continue
        try:
            done = _load_one(body, merge, prefer_new, overwrite)
        except exception.GlanceError as e:
            LOG.error('Could not load %s: %s', name, e.msg)
            errors.append('%s: %s' % (name, e.msg))
            continue
        (loaded if done else skipped).append(body['namespace'])
    return loaded, skipped, errors


def _load_one(body, merge, prefer_new, overwrite):
    now = timeutils.now()
    with session.writer() as conn:
        namespace = db.namespace_get(conn, body['namespace'])
        if namespace is not None and overwrite:
            db.namespace_delete(conn, namespace['id'])
            namespace = None
        if namespace is None:
            values = metadef_namespaces.namespace_values(
                body, body.get('owner') or DEFAULT_OWNER)
            namespace_id = db.namespace_create(
                conn, dict(values, created_at=now, updated_at=now))
        elif not merge:
            return False
        else:
            namespace_id = namespace['id']
            if prefer_new:
                values = metadef_namespaces.namespace_values(
                    body, body.get('owner') or namespace['owner'])
                db.namespace_update(conn, namespace_id,
                                    dict(values, updated_at=now))
        _merge_content(conn, namespace_id, body, prefer_new, now)
    return True


def _resource_type_id(conn, name, now):
    found = db.resource_type_get(conn, name)
    if found is not None:
        return found['id']
    return db.resource_type_create(conn, {'name': name, 'protected': True,
                                          'created_at': now,
                                          'updated_at': now})


def _merge_content(conn, ns_id, body, prefer_new, now):
    """Add what the namespace lacks; with ``prefer_new`` also update what
    it has from ``body``."""
    for item in body.get('resource_type_associations') or []:
        type_id = _resource_type_id(conn, item['name'], now)
        values = {'prefix': item.get('prefix'),
                  'properties_target': item.get('properties_target'),
                  'updated_at': now}
        if db.association_get(conn, ns_id, item['name']) is None:
            db.association_create(conn, dict(
                values, namespace_id=ns_id, resource_type_id=type_id,
                created_at=now), item['name'])
        elif prefer_new:
            db.association_update(conn, ns_id, type_id, values)
    content = [('property', md.property_values(name, definition))
               for name, definition in (body.get('properties') or {}).items()]
    content += [('object', md.object_values(item))
                for item in body.get('objects') or []]
    content += [('tag', {'name': item['name']})
                for item in body.get('tags') or []]
    for kind, values in content:
        row = db.child_get(conn, kind, ns_id, values['name'])
        if row is None:
            db.child_create(conn, kind, dict(values, namespace_id=ns_id,
                                             created_at=now, updated_at=now))
        elif prefer_new:
            db.child_update(conn, kind, row['id'],
                            dict(values, updated_at=now))


def unload():
    with session.writer() as conn:
        db.delete_everything(conn)


def _document(conn, namespace):
    """A namespace and its content as a catalog file holds it."""
    doc = {'namespace': namespace['namespace']}
    for key in ('display_name', 'description'):
        if namespace[key] is not None:
            doc[key] = namespace[key]
    doc.update(visibility=namespace['visibility'],
               protected=namespace['protected'], owner=namespace['owner'])
    ns_id = namespace['id']
    doc['resource_type_associations'] = []
    for association in db.association_list(conn, [ns_id])[ns_id]:
        item = {'name': association['name']}
        for key in ('prefix', 'properties_target'):
            if association[key] is not None:
                item[key] = association[key]
        doc['resource_type_associations'].append(item)
    doc['properties'] = {}
    for row in db.child_list(conn, 'property', ns_id):
        definition = md.property_view(row)
        doc['properties'][definition.pop('name')] = definition
    doc['objects'] = []
    for row in db.child_list(conn, 'object', ns_id):
        found = md.object_view(row)
        item = {'name': found['name']}
        if found['description'] is not None:
            item['description'] = found['description']
        if found['required']:
            item['required'] = found['required']
        item['properties'] = found['properties']
        doc['objects'].append(item)
    doc['tags'] = [{'name': row['name']}
                   for row in db.child_list(conn, 'tag', ns_id)]
    return doc


def file_name(namespace, taken):
    """<display name (or namespace) without non-word characters>.json,
    made unique among ``taken``."""
    stem = re.sub(r'\W', '', namespace.get('display_name') or '') or (
        re.sub(r'\W', '', namespace['namespace'])) or 'namespace'
    name, count = stem + '.json', 1
    while name in taken:
        count += 1
        name = '%s_%d.json' % (stem, count)
    taken.add(name)
    return name


def export(path=None):
    """Write one file per namespace into ``path``; returns their paths."""
    path = path or CONF.metadata_source_path
    os.makedirs(path, exist_ok=True)
    with session.reader() as conn:
        documents = [_document(conn, ns) for ns in db.namespace_list(
            conn, is_admin=True, sort_key='namespace', sort_dir='asc')]
    written, taken = [], set()
    for doc in documents:
        target = os.path.join(path, file_name(doc, taken))
        if os.path.exists(target):
            LOG.info('Overwriting %s', target)
        with open(target, 'w', encoding='utf-8') as f:
            json.dump(doc, f, indent=4, ensure_ascii=False)
            f.write('\n')
        written.append(target)
    return written
