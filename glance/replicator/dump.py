"""dump and load: images to and from a directory.

For each image, ``DIR/<id>.json`` holds ``{"image": <the source's
image>, "members": {project: status}}`` and, for an image with data,
``DIR/<id>.img`` its bytes. The data is written to ``<id>.img.part``,
hashed on the way (md5 and the source's ``os_hash_algo``) and renamed
only when size and hashes are the source's; the JSON file is written
last, so an image whose JSON file exists is complete, and a rerun
skips it. ``load`` copies each dumped image to a server as ``livecopy``
would from the dump's source (same plan, same checks on arrival).
"""

import hashlib
import json
import os
import time
import typing

from glance.replicator import client as client_mod
from glance.replicator import commands
from glance.replicator import copy
from glance.replicator import planning
from glance.replicator import report


def _paths(directory, image_id):
    base = os.path.join(directory, image_id)
    return base + '.json', base + '.img'


def dump_one(source: client_mod.ImageClient, image: dict, directory: str,
             options: commands.Options,
             progress: typing.Optional[copy.Progress] = None) -> str:
    """Write one image; 'unchanged' when an earlier run did."""
    meta, data = _paths(directory, image['id'])
    members = {}
    if options.members and image.get('visibility') == 'shared':
        members = source.members(image['id'])
    document = {'image': image, 'members': members}
    if os.path.exists(meta):
        with open(meta) as f:
            if json.load(f) == document:
                return 'unchanged'
    if image.get('status') in planning.WITH_DATA and not options.metaonly:
        _write_data(source, image, data, options.chunk_size, progress)
    partial = meta + '.part'
    with open(partial, 'w') as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, meta)
    return 'copied'


def _write_data(source, image, path, chunk_size, progress):
    size = image.get('size') or 0
    if os.path.exists(path) and os.path.getsize(path) == size:
        ok = _hashes_match(image, _hash_file(image, path, chunk_size))
        if ok is None:
            return
    md5 = hashlib.md5(usedforsecurity=False)
    other = _other_hasher(image)
    partial = path + '.part'
    written = 0
    with open(partial, 'wb') as f:
        for chunk in copy.ResponseChunks(source.open_data(image['id']),
                                         chunk_size):
            f.write(chunk)
            md5.update(chunk)
            if other is not None:
                other.update(chunk)
            written += len(chunk)
            if progress is not None:
                progress(len(chunk))
        f.flush()
        os.fsync(f.fileno())
    got = {'size': written, 'checksum': md5.hexdigest()}
    if other is not None:
        got['os_hash_value'] = other.hexdigest()
    problem = _hashes_match(image, got)
    if problem:
        os.unlink(partial)
        raise copy.Failed('the data read differs from the source (%s)'
                          % problem)
    os.replace(partial, path)


def _other_hasher(image):
    algo = image.get('os_hash_algo')
    if not algo or not image.get('os_hash_value'):
        return None
    try:
        return hashlib.new(algo)
    except ValueError:
        return None


def _hash_file(image, path, chunk_size):
    md5 = hashlib.md5(usedforsecurity=False)
    other = _other_hasher(image)
    size = 0
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                break
            size += len(chunk)
            md5.update(chunk)
            if other is not None:
                other.update(chunk)
    got = {'size': size, 'checksum': md5.hexdigest()}
    if other is not None:
        got['os_hash_value'] = other.hexdigest()
    return got


def _hashes_match(image, got):
    """None when ``got`` (size and hashes of bytes) matches ``image``."""
    expected = dict(got, os_hash_algo=image.get('os_hash_algo'))
    for key in ('size', 'checksum', 'os_hash_value'):
        if image.get(key) is not None:
            expected[key] = image[key]
    return planning.data_equal(expected, dict(
        got, os_hash_algo=image.get('os_hash_algo')))


def dump(source: client_mod.ImageClient, directory: str,
         options: commands.Options) -> typing.List[copy.Result]:
    """Write the selected images to ``directory`` (see the module)."""
    os.makedirs(directory, exist_ok=True)
    started = time.monotonic()
    images = [i for i in commands.source_images(source, options)]
    results = []
    work = []
    for image in images:
        if image.get('status') not in planning.COPIED:
            results.append(copy.Result(image['id'], image.get('name'),
                                       'skipped', message='status %s is '
                                       'not copied' % image.get('status')))
        elif options.dry_run:
            results.append(copy.Result(image['id'], image.get('name'),
                                       'planned'))
        else:
            work.append(image)
    total = sum(i.get('size') or 0 for i in work
                if i.get('status') in planning.WITH_DATA)
    with report.Progress(len(work), total,
                         options.progress and not options.as_json) as bar:
        for image in work:
            begun = time.monotonic()
            try:
                outcome = dump_one(source, image, directory, options,
                                   bar.advance)
                sent = (image.get('size') or 0) if (
                    outcome == 'copied' and image.get('status')
                    in planning.WITH_DATA and not options.metaonly) else 0
                results.append(copy.Result(image['id'], image.get('name'),
                                           outcome, sent,
                                           time.monotonic() - begun))
            except Exception as e:
                # A server's answer, the disk, or the source's stream
                # breaking: this image fails, the dump goes on.
                message = (str(e) if isinstance(e, (
                    client_mod.ReplicatorError, OSError))
                    else '%s: %s' % (type(e).__name__, e))
                results.append(copy.Result(image['id'], image.get('name'),
                                           'failed',
                                           seconds=time.monotonic() - begun,
                                           message=message))
            bar.image_done()
    report.render('dump', results, time.monotonic() - started,
                  options.as_json)
    return results


def read_dump(directory: str) -> typing.List[typing.Tuple[dict, dict]]:
    """[(image, members)] of the complete images of a dump."""
    if not os.path.isdir(directory):
        raise client_mod.ReplicatorError('%s is not a directory'
                                         % directory)
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith('.json'):
            continue
        with open(os.path.join(directory, name)) as f:
            try:
                document = json.load(f)
                image = document['image']
                image['id']
            except (ValueError, KeyError, TypeError):
                raise client_mod.ReplicatorError(
                    '%s is not a dumped image' % os.path.join(directory,
                                                              name))
        found.append((image, document.get('members') or {}))
    return found


def _file_chunks(path, chunk_size):
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            yield chunk


def load(target: client_mod.ImageClient, directory: str,
         options: commands.Options) -> typing.List[copy.Result]:
    """Copy the images dumped in ``directory`` to the target."""
    dumped = read_dump(directory)
    images = {image['id']: members for image, members
              in ((i, m) for i, m in dumped)}
    selected = commands.select([i for i, _ in dumped], options)
    if options.image_ids:
        theirs = {i['id']: target.get_image(i['id']) for i in selected}
    else:
        theirs = {i['id']: i for i in target.list_images()}
    plans = []
    for image in selected:
        there = theirs.get(image['id'])
        target_members = None
        if (options.members and image.get('visibility') == 'shared'
                and there is not None
                and there.get('visibility') == 'shared'):
            target_members = target.members(image['id'])
        ours, notes = commands.known_members(target, images[image['id']])
        plan = planning.plan(image, there, ours, target_members,
                             options.dontreplicate, options.metaonly,
                             options.members)
        plan.notes.extend(notes)
        plans.append((plan, image, there))

    def open_chunks(image):
        path = _paths(directory, image['id'])[1]
        if not os.path.exists(path):
            raise copy.Failed('%s is missing' % path)
        return _file_chunks(path, options.chunk_size)
    return commands.run_plans('load', plans, None, target, options,
                              open_chunks=open_chunks)
