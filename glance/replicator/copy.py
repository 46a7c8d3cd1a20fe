"""Carrying out a ``planning.Plan``: one image from a source to a target.

The data goes from the source's download answer straight into the
target's upload request, a chunk at a time: nothing is written to the
local disk and memory holds a few chunks per copying thread (``PREFETCH``
read ahead from the source, one being sent). Once the
target has it, the target's ``size``, ``checksum`` and ``os_hash_value``
must be the source's; otherwise the target's copy is deleted and the
image fails. The image is created under its source id and, when the
source image is deactivated, deactivated once its data is there.
"""

import dataclasses
import hashlib
import queue
import threading
import time
import typing

from glance.replicator import client as client_mod
from glance.replicator import planning

CHUNK = 1 << 20
# Chunks read ahead from the source while the target takes the last one.
PREFETCH = 4

Progress = typing.Callable[[int], None]


class Failed(client_mod.ReplicatorError):
    """The image could not be copied (the message says why)."""


@dataclasses.dataclass
class Result:
    """What happened to one image."""
    image_id: str
    name: typing.Optional[str]
    outcome: str            # copied, updated, unchanged, skipped, failed,
    # planned (dry run), differs (compare)
    bytes: int = 0
    seconds: float = 0.0
    message: str = ''

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class Body:
    """The upload body: the chunks of ``stream`` with their length when
    known (so the request has a Content-Length), counted, hashed with
    ``hasher`` and reported to ``progress``. A stream ending early or
    running long is an error, which aborts the upload (the target then
    keeps no data)."""

    def __init__(self, chunks: typing.Iterable[bytes],
                 size: typing.Optional[int],
                 progress: typing.Optional[Progress] = None,
                 hasher=None):
        self.chunks = chunks
        self.size = size
        self.progress = progress
        self.hasher = hasher
        self.sent = 0

    def __len__(self) -> int:
        return self.size or 0

    def __iter__(self):
        for chunk in self.chunks:
            if not chunk:
                continue
            self.sent += len(chunk)
            if self.size is not None and self.sent > self.size:
                raise Failed('the source sent more than its %d bytes'
                             % self.size)
            if self.hasher is not None:
                self.hasher.update(chunk)
            if self.progress is not None:
                self.progress(len(chunk))
            yield chunk
        if self.size is not None and self.sent != self.size:
            raise Failed('the source sent %d of its %d bytes'
                         % (self.sent, self.size))


class ResponseChunks:
    """The raw body of a streamed ``requests`` answer, ``chunk_size``
    bytes at a time; the answer is closed at the end or by ``close``
    (even when iteration never began)."""

    def __init__(self, resp, chunk_size: int = CHUNK):
        self.resp = resp
        self.chunk_size = chunk_size

    def _read(self):
        return self.resp.raw.read(self.chunk_size, decode_content=False)

    def __iter__(self):
        # A reader thread keeps up to PREFETCH chunks ready, so the
        # source sends while the target receives (one stream goes about
        # half again as fast as reading and sending in turn).
        ready = queue.Queue(PREFETCH)
        stop = threading.Event()

        def reader():
            try:
                while not stop.is_set():
                    chunk = self._read()
                    _put(ready, stop, chunk)
                    if not chunk:
                        return
            except BaseException as e:
                _put(ready, stop, e)
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        try:
            while True:
                chunk = ready.get()
                if isinstance(chunk, BaseException):
                    raise chunk
                if not chunk:
                    return
                yield chunk
        finally:
            stop.set()
            thread.join(1.0)
            self.close()

    def close(self) -> None:
        self.resp.close()


def _put(ready, stop, item):
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def send_data(target: client_mod.ImageClient, image: dict,
              chunks: typing.Iterable[bytes],
              progress: typing.Optional[Progress] = None) -> dict:
    """Upload ``chunks`` (the data of source ``image``) to the target's
    image of the same id and check what the target recorded against the
    source's size and hashes. When the source records no hash the bytes
    sent are hashed here (md5) and compared with the target's checksum.
    A mismatch deletes the target's image and raises ``Failed``."""
    image_id = image['id']
    size = image.get('size')
    hasher = None
    if not image.get('checksum') and not image.get('os_hash_value'):
        hasher = hashlib.md5(usedforsecurity=False)
    body = Body(chunks, size, progress, hasher)
    if size is None:
        # Unknown size: sent chunked (a generator has no length).
        data = iter(body)
    else:
        data = body if size else b''
    try:
        target.upload(image_id, data)
    except Failed:
        raise
    except client_mod.ReplicatorError as e:
        if getattr(e, 'status', None) is None:
            raise Failed('upload interrupted after %d of %s bytes: %s'
                         % (body.sent, size, e))
        raise Failed('upload refused: %s' % e)
    except Exception as e:
        # The source or the connection failed while streaming; the
        # target puts the image back to queued without data.
        raise Failed('upload interrupted after %d of %s bytes: %s'
                     % (body.sent, size, e))
    arrived = target.get_image(image_id) or {}
    expected = dict(image)
    if size is None:
        expected['size'] = body.sent
    if hasher is not None:
        expected['checksum'] = hasher.hexdigest()
    differs = planning.data_equal(expected, arrived)
    if differs is None and arrived.get('status') != 'active':
        differs = 'status %s after the upload' % arrived.get('status')
    if differs:
        discard(target, image_id, arrived)
        raise Failed('the data that arrived differs from the source (%s); '
                     'the target copy was deleted' % differs)
    return arrived


def discard(target: client_mod.ImageClient, image_id: str,
            image: dict) -> None:
    """Delete the target's image (unprotecting it first)."""
    if image.get('protected'):
        target.patch_image(image_id, [{'op': 'replace', 'path': '/protected',
                                       'value': False}])
    target.delete_image(image_id)


def apply(plan: planning.Plan, source_image: dict,
          source: client_mod.ImageClient, target: client_mod.ImageClient,
          target_image: typing.Optional[dict],
          progress: typing.Optional[Progress] = None,
          open_chunks=None) -> Result:
    """Do what ``plan`` says. ``open_chunks(image)`` gives the data's
    chunks (the source's download by default). Raises ``Failed`` (and
    the client's errors)."""
    started = time.monotonic()
    image_id = plan.image_id
    if plan.conflict:
        raise Failed(plan.conflict)
    if open_chunks is None:
        def open_chunks(image):
            return ResponseChunks(source.open_data(image['id']))
    sent = 0
    target_status = (target_image or {}).get('status')
    # The source's data is opened first: an image the source will not
    # give changes nothing on the target.
    chunks = open_chunks(source_image) if plan.upload else None
    try:
        if plan.create is not None:
            try:
                target.create_image(plan.create)
            except client_mod.ApiError as e:
                raise Failed('cannot create it on the target: %s' % e)
            target_status = 'queued'
        elif target_status == 'deactivated' and (plan.patch or plan.upload):
            target.action(image_id, 'reactivate')
            target_status = 'active'
            if source_image.get('status') == 'deactivated':
                plan.status = 'deactivate'
            elif plan.status == 'reactivate':
                plan.status = None
        if plan.patch:
            try:
                target.patch_image(image_id, plan.patch)
            except client_mod.ApiError as e:
                raise Failed('cannot update its metadata on the target: %s'
                             % e)
        if plan.upload:
            send_data(target, source_image, chunks, progress)
            sent = plan.size
            target_status = 'active'
    finally:
        if chunks is not None:
            chunks.close()
    for member, status in plan.add_members.items():
        target.add_member(image_id, member)
        if status != 'pending':
            plan.set_members[member] = status
    for member, status in plan.set_members.items():
        try:
            target.set_member_status(image_id, member, status)
        except client_mod.ApiError as e:
            raise Failed('cannot set member %s to %s on the target: %s'
                         % (member, status, e))
    for member in plan.remove_members:
        target.remove_member(image_id, member)
    if plan.status == 'deactivate' and target_status == 'active':
        target.action(image_id, 'deactivate')
    elif plan.status == 'reactivate':
        target.action(image_id, 'reactivate')
    outcome = 'copied' if plan.create is not None or plan.upload else (
        'updated')
    return Result(image_id, plan.name, outcome, sent,
                  time.monotonic() - started,
                  '; '.join(plan.differences + plan.notes))
