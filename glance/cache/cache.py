"""``ImageCache``: one node's image cache under ``image_cache_dir``.

An entry is served only when the index knows it, its file has the size
the index and the image record say, and its checksum is the image's
(the image changed otherwise: it is evicted). The first time a process
serves an entry it also hashes the file, so a file corrupted or cut on
disk (a crash, a full disk, a hand) is evicted rather than served.

Whatever goes wrong with the cache directory (missing, read-only, full)
is logged once and the download is served from the store as if there
were no cache.
"""

import os
import threading
import time
import typing

from oslo_config import cfg
from oslo_log import log as logging

from glance.cache import drivers
from glance.cache.drivers import xattr as xattr_index
from glance.cache import fill
from glance.cache import layout as layout_mod
from glance.common import blocking
from glance.db import session
from glance.db import api as db
from glance.store import filesystem

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
# A fill that finds the entry published by another process but not yet in
# the index waits for the index this many times, this long each.
PUBLISH_WAITS = 20
PUBLISH_WAIT = 0.05

_LOCK = threading.Lock()
_CACHE = None


def enabled(conf=CONF) -> bool:
    return bool(conf.image_cache_dir)


def get(conf=CONF) -> 'ImageCache':
    """The cache of this process for the current configuration."""
    global _CACHE
    with _LOCK:
        key = (os.path.abspath(conf.image_cache_dir),
               conf.image_cache_driver.lower())
        if _CACHE is None or _CACHE.key != key:
            _CACHE = ImageCache(conf)
        return _CACHE


class ImageCache:

    def __init__(self, conf=CONF):
        self.key = (os.path.abspath(conf.image_cache_dir),
                    conf.image_cache_driver.lower())
        self.layout = layout_mod.Layout(conf.image_cache_dir)
        self.index = drivers.load(self.layout, conf)
        # (image id, inode, mtime) of files hashed by this process.
        self._verified = set()
        self._trouble = None

    # -- trouble, logged once -------------------------------------------

    def trouble(self, what: str, error: BaseException) -> None:
        """Log a cache problem once, until the cache works again."""
        message = '%s: %s' % (what, error)
        if self._trouble is None:
            LOG.warning('Image cache at %s not used, downloads are served '
                        'from the stores: %s', self.layout.base, message)
        self._trouble = message

    def _fine(self) -> None:
        if self._trouble is not None:
            LOG.info('Image cache at %s works again', self.layout.base)
            self._trouble = None

    # -- hits -----------------------------------------------------------

    @staticmethod
    def cacheable(image: dict) -> bool:
        """Only data that can be verified, of an active image, is
        cached."""
        return (image['status'] == 'active' and bool(image.get('size'))
                and bool(image.get('checksum')
                         or image.get('os_hash_value')))

    def usable(self, image: dict):
        """The index entry of ``image`` when its file may be served;
        otherwise None, after evicting what does not match the image."""
        image_id = image['id']
        entry = self.index.get(image_id)
        if entry is None:
            return None
        path = self.layout.entry(image_id)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.index.remove(image_id)
            return None
        wrong = None
        if st.st_size != entry.size or entry.size != image['size']:
            wrong = 'file of %d bytes, index %d, image %s' % (
                st.st_size, entry.size, image['size'])
        elif image.get('checksum') and entry.checksum != image['checksum']:
            wrong = 'checksum %s, the image has %s' % (
                entry.checksum, image['checksum'])
        elif entry.checksum:
            key = (image_id, st.st_ino, st.st_mtime_ns)
            if key not in self._verified:
                md5, size = blocking.call(fill.file_md5, path)
                if md5 != entry.checksum or size != entry.size:
                    wrong = 'file content hashes to %s, not %s' % (
                        md5, entry.checksum)
                else:
                    self._verified.add(key)
        if wrong:
            LOG.warning('Cache entry of image %s evicted: %s', image_id,
                        wrong)
            self.evict(image_id)
            return None
        return entry

    def open_entry(self, image_id: str, offset: int, length: int):
        """Chunks (with ``file_range`` for sendfile) of a usable entry.
        The read is counted (``count_hit``) once it is sent."""
        f = open(self.layout.entry(image_id), 'rb', buffering=0)
        try:
            os.posix_fadvise(f.fileno(), offset, length,
                             os.POSIX_FADV_SEQUENTIAL)
        except BaseException:
            f.close()
            raise
        return filesystem.FileChunks(f, offset, length, fill.CHUNK)

    def count_hit(self, image_id: str) -> None:
        """One more read of the entry, now (hits, last access)."""
        try:
            self.index.hit(image_id)
        except Exception as e:
            LOG.warning('Could not count a cache hit of image %s: %s',
                        image_id, e)

    # -- fills ----------------------------------------------------------

    def read_through(self, image: dict, open_data: typing.Callable):
        """The data of ``image`` as it is written into the cache (a fill
        started or joined); None when the cache cannot take it, or when
        another process has just cached it (look it up again)."""
        for _attempt in range(PUBLISH_WAITS):
            try:
                self.layout.ensure()
                follower = fill.begin(self, image, open_data)
            except OSError as e:
                self.trouble('cannot write %s' % self.layout.base, e)
                return None
            if follower is not None:
                return follower
            if self.usable(image) is not None:
                return None
            # The entry was just renamed into place by a fill of another
            # process, which records it in the index next: a moment for
            # that, rather than a read of the store.
            time.sleep(PUBLISH_WAIT)
        return None

    def publish(self, image: dict, md5: str) -> bool:
        """Make the verified file of a fill visible, unless the image
        changed meanwhile. Called with the fill's lock held."""
        image_id = image['id']
        with session.reader() as conn:
            current = db.image_get(conn, image_id)
        if (current is None or current['status'] != 'active'
                or current.get('checksum') != image.get('checksum')
                or current.get('os_hash_value')
                != image.get('os_hash_value')):
            LOG.info('Image %s changed while it was cached: entry '
                     'discarded', image_id)
            self.discard(image_id)
            return False
        incomplete = self.layout.incomplete(image_id)
        if getattr(self.index, 'marks_files', False):
            xattr_index.mark(incomplete, image['size'], md5)
        os.rename(incomplete, self.layout.entry(image_id))
        # Hashed as it was written: this process need not hash it again.
        st = os.stat(self.layout.entry(image_id))
        self._verified.add((image_id, st.st_ino, st.st_mtime_ns))
        self.index.add(image_id, image['size'], md5)
        layout_mod.remove(self.layout.queued(image_id))
        self._fine()
        LOG.info('Image %s cached (%d bytes)', image_id, image['size'])
        return True

    def discard(self, image_id: str, invalid: bool = False) -> None:
        """Drop the unfinished file of a fill (to ``invalid/``, for a
        look, when its content was wrong)."""
        path = self.layout.incomplete(image_id)
        try:
            if invalid:
                os.rename(path, self.layout.invalid(image_id))
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass

    def fill_failed(self, image_id: str, error: BaseException) -> None:
        if isinstance(error, OSError):
            self.trouble('writing the entry of image %s' % image_id, error)
        else:
            LOG.warning('Caching image %s failed: %s', image_id, error)
        try:
            self.discard(image_id)
        except OSError:
            pass

    def fill_now(self, image: dict, open_data: typing.Callable) -> bool:
        """Fill the entry of ``image`` and wait for the end (prefetch);
        True when it is cached."""
        follower = self.read_through(image, open_data)
        if follower is None:
            return self.usable(image) is not None
        try:
            for _chunk in follower:
                pass
        finally:
            follower.close()
        if follower.writer is not None:
            follower.writer.done.wait()
            return follower.writer.published
        # Another request's fill: it publishes (rename, then index) and
        # then lets go of the file.
        image_id = image['id']
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.index.get(image_id) is not None:
                return True
            if not (os.path.exists(self.layout.incomplete(image_id))
                    or os.path.exists(self.layout.entry(image_id))):
                return False
            time.sleep(0.05)
        return False

    # -- removal --------------------------------------------------------

    def evict(self, image_id: str, everywhere: bool = False) -> bool:
        """Forget and remove the entry of ``image_id``; True when there
        was a file."""
        if everywhere:
            self.index.forget_everywhere(image_id)
        else:
            self.index.remove(image_id)
        return layout_mod.remove(self.layout.entry(image_id))

    def is_cached(self, image_id: str) -> bool:
        return (self.index.get(image_id) is not None
                and os.path.exists(self.layout.entry(image_id)))

    def cached_entries(self) -> list:
        return [e for e in self.index.entries()
                if os.path.exists(self.layout.entry(e.image_id))]

    def delete_all_cached(self) -> int:
        count = 0
        for entry in self.index.entries():
            self.evict(entry.image_id)
            count += 1
        return count

    # -- queue ----------------------------------------------------------

    def queue(self, image_id: str) -> bool:
        """Queue ``image_id`` for prefetching; False when it is cached
        or queued already."""
        if self.is_cached(image_id):
            return False
        path = self.layout.queued(image_id)
        if os.path.exists(path):
            return False
        self.layout.ensure()
        with open(path, 'wb'):
            pass
        return True

    def queued(self) -> list:
        return self.layout.queued_ids()

    def dequeue(self, image_id: str) -> bool:
        return layout_mod.remove(self.layout.queued(image_id))

    def dequeue_all(self) -> int:
        return sum(1 for i in self.queued() if self.dequeue(i))

    # -- prune and clean ------------------------------------------------

    def size(self) -> int:
        total = 0
        for image_id in self.layout.entry_ids():
            try:
                total += os.stat(self.layout.entry(image_id)).st_size
            except FileNotFoundError:
                pass
        return total

    def prune(self, max_size: int) -> typing.Tuple[int, int]:
        """Evict least recently used entries until the cache holds at
        most ``max_size`` bytes: (files pruned, bytes pruned)."""
        files = pruned = 0
        with layout_mod.JobLock(self.layout, 'prune') as lock:
            if not lock.acquired:
                LOG.info('Another process prunes the cache')
                return 0, 0
            total = self.size()
            for entry in self.index.entries():
                if total <= max_size:
                    break
                if self.evict(entry.image_id):
                    files += 1
                    pruned += entry.size
                    total -= entry.size
        if files:
            LOG.info('Pruned %d cache entries (%d bytes)', files, pruned)
        return files, pruned

    def clean(self, stall_time: int, verify: bool = True) -> dict:
        """Remove invalid files, unfinished ones no writer holds (at once
        when their writer died; otherwise after ``stall_time``), files
        the index does not know, entries whose file is gone or wrong,
        and entries of images deleted, deactivated or changed."""
        done = {'invalid': 0, 'stalled': 0, 'unknown': 0, 'stale': 0}
        with layout_mod.JobLock(self.layout, 'clean') as lock:
            if not lock.acquired:
                LOG.info('Another process cleans the cache')
                return done
            for image_id in self.layout.invalid_ids():
                if layout_mod.remove(self.layout.invalid(image_id)):
                    done['invalid'] += 1
            for image_id in self.layout.incomplete_ids():
                if self._remove_stalled(image_id, stall_time):
                    done['stalled'] += 1
            known = {e.image_id: e for e in self.index.entries()}
            for image_id in self.layout.entry_ids():
                if image_id not in known and self._unknown_file(image_id):
                    done['unknown'] += 1
            images = _images(list(known))
            for image_id in known:
                image = images.get(image_id)
                if image is None or not self.cacheable(image):
                    self.evict(image_id)
                    done['stale'] += 1
                elif verify and self.usable(image) is None:
                    done['stale'] += 1
        if any(done.values()):
            LOG.info('Cache cleaned: %s', done)
        return done

    def _remove_stalled(self, image_id: str, stall_time: int) -> bool:
        path = self.layout.incomplete(image_id)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            if not layout_mod.try_lock(fd):
                # Being written: only a writer stuck that long goes.
                age = time.time() - os.fstat(fd).st_mtime
                if age < stall_time:
                    return False
            return layout_mod.remove(path)
        finally:
            os.close(fd)

    def _unknown_file(self, image_id: str) -> bool:
        """Remove a file the index does not know, unless a fill is just
        publishing it (the index learns of it a moment after the
        rename)."""
        path = self.layout.entry(image_id)
        try:
            age = time.time() - os.stat(path).st_mtime
        except FileNotFoundError:
            return False
        if age < 60 and self.index.get(image_id) is None:
            time.sleep(0.2)
        if self.index.get(image_id) is not None:
            return False
        return layout_mod.remove(path)


def _images(image_ids: list) -> dict:
    found = {}
    with session.reader() as conn:
        for image_id in image_ids:
            image = db.image_get(conn, image_id)
            if image is not None:
                found[image_id] = image
    return found
