"""What the target lacks or has otherwise than the source, image by image.

``plan`` compares one source image (with its members) to what the target
has under the same id and says what a copy must do: create the image,
upload its data, change metadata (a JSON patch), tags, members, status.
Nothing here talks to a server, so a rerun after an interruption simply
plans again from what the target now has: finished images plan nothing.
"""

import dataclasses
import typing

# Upstream's -D/--dontreplicate default (v1 names; harmless under v2).
DONTREPLICATE = ('created_at', 'date', 'deleted_at', 'location',
                 'updated_at')
# Set by the server, never copied (compared, for data, by ``data_equal``).
READ_ONLY = frozenset([
    'id', 'status', 'created_at', 'updated_at', 'checksum', 'os_hash_algo',
    'os_hash_value', 'size', 'virtual_size', 'file', 'self', 'schema',
    'locations', 'direct_url', 'stores', 'tags', 'members'])
# Fixed once the image has data.
FIXED_WITH_DATA = ('disk_format', 'container_format')
# The states whose images are copied; the others (killed, saving,
# importing, uploading, pending_delete, deleted) are in no state to.
COPIED = ('active', 'deactivated', 'queued')
WITH_DATA = ('active', 'deactivated')
BUSY = ('saving', 'importing', 'uploading')


def copied_keys(image: dict, dontreplicate=DONTREPLICATE) -> dict:
    """The metadata of ``image`` a copy carries (properties included)."""
    return {key: value for key, value in image.items()
            if key not in READ_ONLY and key not in dontreplicate
            and not key.startswith('os_glance')}


def create_body(image: dict, dontreplicate=DONTREPLICATE) -> dict:
    """The POST /v2/images body making ``image`` on the target."""
    body = {key: value for key, value in copied_keys(
        image, dontreplicate).items() if value is not None}
    body['id'] = image['id']
    body['tags'] = sorted(image.get('tags') or [])
    return body


def data_equal(source: dict, target: dict) -> typing.Optional[str]:
    """None when the target's data is the source's by size and hashes;
    otherwise what differs. What the source does not record (a size or
    hash) is not compared, nor hashes of different algorithms (only
    ``checksum`` then)."""
    if (source.get('size') is not None
            and source.get('size') != target.get('size')):
        return 'size %s, source %s' % (target.get('size'),
                                       source.get('size'))
    if (source.get('checksum') and target.get('checksum')
            and source['checksum'] != target['checksum']):
        return 'checksum %s, source %s' % (target['checksum'],
                                           source['checksum'])
    if (source.get('os_hash_value') and target.get('os_hash_value')
            and source.get('os_hash_algo') == target.get('os_hash_algo')
            and source['os_hash_value'] != target['os_hash_value']):
        return '%s %s, source %s' % (source['os_hash_algo'],
                                     target['os_hash_value'],
                                     source['os_hash_value'])
    return None


@dataclasses.dataclass
class Plan:
    """What copying one image takes; empty when the target is equal."""
    image_id: str
    name: typing.Optional[str]
    size: int = 0
    create: typing.Optional[dict] = None     # POST body
    upload: bool = False                     # the data is to be sent
    patch: typing.List[dict] = dataclasses.field(default_factory=list)
    add_members: typing.Dict[str, str] = dataclasses.field(
        default_factory=dict)                # member -> status
    set_members: typing.Dict[str, str] = dataclasses.field(
        default_factory=dict)
    remove_members: typing.List[str] = dataclasses.field(
        default_factory=list)
    status: typing.Optional[str] = None      # 'deactivate' / 'reactivate'
    skip: typing.Optional[str] = None        # why the image is not copied
    conflict: typing.Optional[str] = None    # why it cannot be copied
    differences: typing.List[str] = dataclasses.field(default_factory=list)
    notes: typing.List[str] = dataclasses.field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.upload or self.patch
                    or self.add_members or self.set_members
                    or self.remove_members or self.status or self.conflict)


def _patch(source: dict, target: dict, dontreplicate, differences):
    ops = []
    want = copied_keys(source, dontreplicate)
    have = copied_keys(target, dontreplicate)
    for key in sorted(want):
        if key in have and have[key] == want[key]:
            continue
        if target.get('status') in WITH_DATA and key in FIXED_WITH_DATA:
            continue    # reported as a conflict by ``plan``
        if want[key] is None:
            if key in have and have[key] is not None:
                ops.append({'op': 'remove', 'path': '/' + key})
                differences.append('%s: %r, source none' % (key, have[key]))
            continue
        ops.append({'op': 'replace' if key in have else 'add',
                    'path': '/' + key, 'value': want[key]})
        differences.append('%s: %r, source %r' % (
            key, have.get(key), want[key]) if key in have
            else '%s: missing' % key)
    for key in sorted(set(have) - set(want)):
        if have[key] is None:
            continue
        ops.append({'op': 'remove', 'path': '/' + key})
        differences.append('%s: %r, not on the source' % (key, have[key]))
    tags = sorted(source.get('tags') or [])
    if sorted(target.get('tags') or []) != tags:
        ops.append({'op': 'replace', 'path': '/tags', 'value': tags})
        differences.append('tags: %s, source %s' % (
            sorted(target.get('tags') or []), tags))
    return ops


def plan(source: dict, target: typing.Optional[dict],
         source_members: typing.Optional[typing.Dict[str, str]] = None,
         target_members: typing.Optional[typing.Dict[str, str]] = None,
         dontreplicate=DONTREPLICATE, metaonly: bool = False,
         members: bool = True) -> Plan:
    """What makes the target's image ``target`` (None: it has none) equal
    to ``source``. Members are compared when ``members`` and the source
    image is shared (``source_members`` then given)."""
    result = Plan(source['id'], source.get('name'),
                  size=source.get('size') or 0)
    status = source.get('status')
    if status not in COPIED:
        result.skip = 'status %s is not copied' % status
        return result
    has_data = status in WITH_DATA and not metaonly
    if target is None:
        result.create = create_body(source, dontreplicate)
        result.upload = has_data
        result.differences.append('missing')
        target_status = 'queued'
        target_members = {}
    else:
        target_status = target.get('status')
        if target_status in ('deleted', 'pending_delete', 'killed'):
            result.conflict = ('the target has this id in status %s'
                               % target_status)
            return result
        if target_status in BUSY:
            result.conflict = ('the target is writing this image (status '
                               '%s)' % target_status)
            return result
        if has_data:
            if target_status == 'queued':
                result.upload = True
                result.differences.append('data missing')
            else:
                differs = data_equal(source, target)
                if differs:
                    result.conflict = 'the target has other data: ' + differs
                    result.differences.append('data: ' + differs)
                    return result
        for key in FIXED_WITH_DATA:
            if (target_status in WITH_DATA
                    and source.get(key) != target.get(key)):
                result.conflict = ('%s is %s on the target, %s on the '
                                   'source' % (key, target.get(key),
                                               source.get(key)))
                result.differences.append(result.conflict)
                return result
        result.patch = _patch(source, target, dontreplicate,
                              result.differences)
    if members and source.get('visibility') == 'shared':
        want = source_members or {}
        have = target_members or {}
        for member, member_status in sorted(want.items()):
            if member not in have:
                result.add_members[member] = member_status
                result.differences.append('member %s missing' % member)
            elif have[member] != member_status:
                result.set_members[member] = member_status
                result.differences.append('member %s: %s, source %s' % (
                    member, have[member], member_status))
        for member in sorted(set(have) - set(want)):
            result.remove_members.append(member)
            result.differences.append('member %s not on the source'
                                      % member)
    if status == 'deactivated' and not metaonly and (
            target_status != 'deactivated'):
        result.status = 'deactivate'
        if target is not None:
            result.differences.append('status: %s, source deactivated'
                                      % target_status)
    elif status == 'active' and target_status == 'deactivated':
        result.status = 'reactivate'
        result.differences.append('status: deactivated, source active')
    return result
