"""The ``cache`` filter: image downloads served from and read through the
node's image cache (``image_cache_dir``).

``GET /v2/images/{id}/file``: the download service authorises the
request first, exactly as without the cache (``download_image`` policy,
visibility, membership, deactivated images), and only then are bytes
taken from the cache. A request it refuses, an image without data or not
active, or anything the cache cannot do goes on to the API, which answers
as it would with no cache. A complete, valid entry is served whole or in
part (``Range``, ``If-Range``); otherwise a whole download reads through
the cache: the store is read once for every client that asks meanwhile
(``glance.cache.fill``). A Range request for an image not cached goes to
the store.

``DELETE /v2/images/{id}`` and ``POST .../actions/deactivate`` answered
with success evict the entry here and, with the centralized_db driver,
on every node. An entry whose image changed, was deleted or deactivated
is never served on any node: each hit is checked against the image
record the authorisation read.

Upstream's paste path ``glance.api.middleware.cache:CacheFilter.factory``
loads this filter. Without ``image_cache_dir`` it passes every request on
(logged once).
"""

import re
import threading

import webob
from oslo_config import cfg
from oslo_log import log as logging

from glance import notifier
from glance.api.v2 import image_data
from glance.cache import cache
from glance.cache import worker
from glance.common import exception
from glance.common import sendfile
from glance.domain.images import data
from glance.domain.images import stream

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_ID = r'(?P<image_id>[^/]+)'
DOWNLOAD = re.compile(r'^/v2/images/%s/file$' % _ID)
DELETE = re.compile(r'^/v2/images/%s$' % _ID)
DEACTIVATE = re.compile(r'^/v2/images/%s/actions/deactivate$' % _ID)

_warned = threading.Event()


def warn_once() -> None:
    """Log, once per process, that the cache filters have no cache."""
    if _warned.is_set():
        return
    _warned.set()
    LOG.warning('The paste pipeline names the image cache filters (cache, '
                'cachemanage), but image_cache_dir is not set: image data '
                'is always read from the stores, and the cache management '
                'API answers 404.')


class CacheFilter:

    def __init__(self, app):
        self.app = app
        if not cache.enabled():
            warn_once()

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        if not cache.enabled():
            return self.app(environ, start_response)
        worker.ensure_started()
        method = environ.get('REQUEST_METHOD')
        path = environ.get('PATH_INFO', '')
        if method == 'GET':
            match = DOWNLOAD.match(path)
            if match:
                req = webob.Request(environ)
                resp = self._download(req, match.group('image_id').lower())
                if resp is not None:
                    return resp(environ, start_response)
        elif method in ('DELETE', 'POST'):
            match = (DELETE if method == 'DELETE' else DEACTIVATE).match(path)
            if match:
                return self._then_evict(environ, start_response,
                                        match.group('image_id').lower())
        return self.app(environ, start_response)

    # -- downloads ------------------------------------------------------

    def _download(self, req, image_id):
        """The response of a download served by the cache, or None to
        let the API answer."""
        ctx = req.environ.get('glance.context')
        if ctx is None:
            return None
        try:
            image, open_data = data.download(ctx, image_id)
        except exception.GlanceError:
            return None     # the API answers with the same error
        if open_data is None:
            return None
        try:
            the_cache = cache.get()
        except Exception as e:
            LOG.warning('Image cache not usable: %s', e)
            return None
        try:
            return self._serve(req, the_cache, image, open_data)
        except Exception as e:
            # The database or the cache directory failed us: the API
            # serves the download from the store.
            the_cache.trouble('serving image %s' % image_id, e)
            return None

    def _serve(self, req, the_cache, image, open_data):
        image_id = image['id']
        if image['status'] != 'active':
            # Deactivated (an administrator may still download it).
            the_cache.evict(image_id)
            return None
        if not the_cache.cacheable(image):
            return None
        size = image['size']
        etag = image_data.entity_tag(image)
        wanted = req.headers.get('Range')
        if wanted is not None and not image_data._if_range_holds(
                req.headers.get('If-Range'), etag):
            wanted = None
        entry = the_cache.usable(image)
        if entry is None and wanted is not None:
            return None
        resp = webob.Response(content_type='application/octet-stream')
        resp.headers['Accept-Ranges'] = 'bytes'
        if etag is not None:
            resp.headers['ETag'] = etag
        if wanted is not None:
            try:
                start, count = image_data._range(wanted, size)
            except exception.GlanceError:
                return None     # the API explains what is wrong
            chunks = the_cache.open_entry(image_id, start, count)
            resp.status = 206
            resp.headers['Content-Range'] = 'bytes %d-%d/%d' % (
                start, start + count - 1, size)
        else:
            count = size
            if entry is not None:
                chunks = the_cache.open_entry(image_id, 0, size)
            else:
                chunks = the_cache.read_through(image, open_data)
                if chunks is None:
                    # Cached by another process meanwhile, or the cache
                    # cannot take it.
                    entry = the_cache.usable(image)
                    if entry is None:
                        return None
                    chunks = the_cache.open_entry(image_id, 0, size)
                elif chunks.file_range() is None:
                    # The fill ended before its first byte (the store
                    # failed it): the API reads the store and answers
                    # as it does without a cache.
                    chunks.close()
                    return None
            if image.get('checksum'):
                resp.headers['Content-MD5'] = image['checksum']
        ctx = req.environ['glance.context']

        def on_end(sent):
            # After the bytes: the hit's database write does not delay
            # the first one.
            if entry is not None:
                the_cache.count_hit(image_id)
            notifier.image_sent(ctx, image, sent.sent, sent.complete)

        body = stream.DownloadStream(chunks, count, on_end=on_end)
        resp.app_iter = sendfile.body(req.environ, body)
        resp.content_length = count
        resp.headers['X-Image-Cache'] = 'hit' if entry is not None \
            else 'miss'
        return resp

    # -- invalidation ---------------------------------------------------

    def _then_evict(self, environ, start_response, image_id):
        status_seen = []

        def watch(status, headers, exc_info=None):
            status_seen.append(status)
            return start_response(status, headers, exc_info)

        result = self.app(environ, watch)
        if status_seen and status_seen[0][:1] == '2':
            try:
                cache.get().evict(image_id, everywhere=True)
            except Exception as e:
                LOG.warning('Could not remove image %s from the cache: %s',
                            image_id, e)
        return result


def filter_factory(global_conf, **local_conf):
    return CacheFilter.factory(global_conf, **local_conf)
