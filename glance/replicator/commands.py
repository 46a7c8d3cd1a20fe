"""The replicator's commands: livecopy, compare, size (between servers)
and dump, load (to and from a directory, see ``glance.replicator.dump``).

Each returns the list of ``copy.Result`` (one per image) it rendered;
the caller turns failures into the exit status.
"""

import concurrent.futures
import dataclasses
import time
import typing

from glance.replicator import client as client_mod
from glance.replicator import copy
from glance.replicator import planning
from glance.replicator import report


@dataclasses.dataclass
class Options:
    dontreplicate: typing.Tuple[str, ...] = planning.DONTREPLICATE
    metaonly: bool = False
    members: bool = True
    dry_run: bool = False
    workers: int = 4
    chunk_size: int = copy.CHUNK
    progress: bool = True
    as_json: bool = False
    # Filters on the source's images.
    owner: typing.Optional[str] = None
    visibility: typing.Optional[str] = None
    status: typing.Optional[str] = None
    image_ids: typing.List[str] = dataclasses.field(default_factory=list)


def select(images: typing.Iterable[dict],
           options: Options) -> typing.List[dict]:
    """The images the filters keep."""
    kept = []
    for image in images:
        if options.owner and image.get('owner') != options.owner:
            continue
        if options.visibility and image.get(
                'visibility') != options.visibility:
            continue
        if options.status and image.get('status') != options.status:
            continue
        if options.image_ids and image['id'] not in options.image_ids:
            continue
        kept.append(image)
    return kept


def source_images(source: client_mod.ImageClient,
                  options: Options) -> typing.List[dict]:
    """The source's images the filters keep (--image-id: only those,
    asked for one by one)."""
    if options.image_ids:
        images = []
        for image_id in options.image_ids:
            image = source.get_image(image_id)
            if image is None:
                raise client_mod.ReplicatorError(
                    'the source has no image %s' % image_id)
            images.append(image)
    else:
        images = source.list_images()
    return select(images, options)


def _members(side: client_mod.ImageClient, image: typing.Optional[dict]):
    if image is None or image.get('visibility') != 'shared':
        return {}
    return side.members(image['id'])


def _plans(source, target, images, options):
    """(plan, source image, target image) of each image."""
    if options.image_ids:
        theirs = {i: target.get_image(i) for i in options.image_ids}
    else:
        theirs = {image['id']: image for image in target.list_images()}
    plans = []
    for image in images:
        there = theirs.get(image['id'])
        if there is not None and there.get('status') in planning.BUSY:
            # An upload interrupted by a killed run: the target puts the
            # image back to queued once it sees the connection gone.
            there = target.wait_settled(image['id'])
        want_members = (options.members and image.get('visibility')
                        == 'shared' and image.get('status')
                        in planning.COPIED)
        ours, notes = None, []
        if want_members:
            ours, notes = known_members(target, _members(source, image))
        plan = planning.plan(
            image, there, ours,
            _members(target, there) if want_members else None,
            options.dontreplicate, options.metaonly, options.members)
        plan.notes.extend(notes)
        plans.append((plan, image, there))
    return plans


def known_members(target: client_mod.ImageClient,
                  members: typing.Dict[str, str]
                  ) -> typing.Tuple[typing.Dict[str, str],
                                    typing.List[str]]:
    """(members, notes): the members whose project the target does not
    know to be missing (its Keystone, when it has one, says so) and a
    note for each one left out."""
    kept, notes = {}, []
    for member, status in members.items():
        if target.knows_project(member) is False:
            notes.append("member %s left out: the target's Keystone has no "
                         'such project' % member)
        else:
            kept[member] = status
    return kept, notes


def _describe(plan: planning.Plan) -> str:
    parts = list(plan.differences)
    if plan.conflict and plan.conflict not in parts:
        parts.append(plan.conflict)
    return '; '.join(parts + plan.notes)


def compare(source: client_mod.ImageClient,
            target: client_mod.ImageClient,
            options: Options) -> typing.List[copy.Result]:
    """One result per source image: unchanged, differs, skipped."""
    started = time.monotonic()
    results = []
    for plan, _, _ in _plans(source, target,
                             source_images(source, options), options):
        if plan.skip:
            results.append(copy.Result(plan.image_id, plan.name, 'skipped',
                                       message=plan.skip))
        elif plan.empty:
            results.append(copy.Result(plan.image_id, plan.name,
                                       'unchanged',
                                       message='; '.join(plan.notes)))
        else:
            results.append(copy.Result(plan.image_id, plan.name, 'differs',
                                       message=_describe(plan)))
    report.render('compare', results, time.monotonic() - started,
                  options.as_json)
    return results


def run_plans(command: str, plans: list,
              source: typing.Optional[client_mod.ImageClient],
              target: client_mod.ImageClient, options: Options,
              open_chunks: typing.Optional[typing.Callable] = None
              ) -> typing.List[copy.Result]:
    """Carry out ``plans`` with ``options.workers`` threads, with the
    progress bar, then render the results."""
    started = time.monotonic()
    results = []
    work = []
    for plan, image, there in plans:
        if plan.skip:
            results.append(copy.Result(plan.image_id, plan.name, 'skipped',
                                       message=plan.skip))
        elif plan.empty:
            results.append(copy.Result(plan.image_id, plan.name,
                                       'unchanged',
                                       message='; '.join(plan.notes)))
        elif options.dry_run:
            results.append(copy.Result(
                plan.image_id, plan.name,
                'failed' if plan.conflict else 'planned',
                plan.size if plan.upload else 0,
                message=plan.conflict or _describe(plan)))
        else:
            work.append((plan, image, there))
    total = sum(p.size for p, _, _ in work if p.upload)
    with report.Progress(len(work), total,
                         options.progress and not options.as_json) as bar:
        def one(item):
            plan, image, there = item
            begun = time.monotonic()
            try:
                result = copy.apply(plan, image, source, target, there,
                                    bar.advance, open_chunks)
            except client_mod.ReplicatorError as e:
                result = copy.Result(plan.image_id, plan.name, 'failed',
                                     seconds=time.monotonic() - begun,
                                     message=str(e))
            except Exception as e:
                # Anything else fails this image, not the run.
                result = copy.Result(plan.image_id, plan.name, 'failed',
                                     seconds=time.monotonic() - begun,
                                     message='%s: %s' % (type(e).__name__,
                                                         e))
            bar.image_done(0 if result.outcome != 'failed' or not plan.upload
                           else plan.size)
            return result
        pool = concurrent.futures.ThreadPoolExecutor(max(1, options.workers))
        try:
            results.extend(pool.map(one, work))
        except BaseException:
            # Interrupted: no image is started any more; the caller ends
            # the process without waiting for those under way (the
            # target drops an upload cut short, a rerun continues).
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    report.render(command, results, time.monotonic() - started,
                  options.as_json)
    return results


def livecopy(source: client_mod.ImageClient,
             target: client_mod.ImageClient,
             options: Options) -> typing.List[copy.Result]:
    """Copy what the target lacks or has otherwise, image by image."""
    images = source_images(source, options)
    plans = _plans(source, target, images, options)
    return run_plans('livecopy', plans, source, target, options,
                     open_chunks=lambda image: copy.ResponseChunks(
                         source.open_data(image['id']), options.chunk_size))


def size(source: client_mod.ImageClient,
         options: Options) -> typing.List[copy.Result]:
    """The active images and their total size."""
    started = time.monotonic()
    results = []
    total = 0
    for image in source_images(source, options):
        if image.get('status') != 'active':
            continue
        total += image.get('size') or 0
        results.append(copy.Result(image['id'], image.get('name'),
                                   'counted',
                                   message=str(image.get('size') or 0)))
    if options.as_json:
        report.render('size', results, time.monotonic() - started, True,
                      extra={'active_bytes': total,
                             'active_size': report.human(total)})
    else:
        print('Total size is %d bytes (%s) across %d active images'
              % (total, report.human(total), len(results)))
    return results


def failed(results: typing.Iterable[copy.Result]) -> bool:
    """Whether an image failed or (compare) differs."""
    return any(r.outcome in ('failed', 'differs') for r in results)
