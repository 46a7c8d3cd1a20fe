"""The ``xattr`` index: what is known of an entry lives in extended
attributes of its file (``user.glance.*``): size, checksum, hits and the
times of the last read and of the write. Nothing outside the node; the
filesystem of ``image_cache_dir`` must support user extended attributes,
which ``prepare`` checks. Read times are recorded in an attribute rather
than taken from atime, which ``noatime`` mounts do not update.
"""

import os
import time

from glance.cache import index

PREFIX = 'user.glance.'
FIELDS = ('size', 'checksum', 'hits', 'last_accessed', 'last_modified')


def _get(path, name):
    try:
        return os.getxattr(path, PREFIX + name).decode()
    except OSError:
        return None


def _set(path, name, value):
    os.setxattr(path, PREFIX + name, str(value).encode())


def mark(path: str, size: int, checksum: str) -> None:
    """Write the attributes of a new entry on its (incomplete) file."""
    now = time.time()
    for name, value in (('size', size), ('checksum', checksum),
                        ('hits', 0), ('last_accessed', now),
                        ('last_modified', now)):
        _set(path, name, value)


class XattrIndex(index.Index):

    name = 'xattr'
    # Written on the file before it is renamed into place: the rename is
    # what makes the entry visible.
    marks_files = True

    def prepare(self):
        self.layout.ensure()
        probe = os.path.join(self.layout.base, 'incomplete', '.checkme')
        with open(probe, 'wb'):
            pass
        try:
            _set(probe, 'probe', 1)
        except OSError as e:
            raise RuntimeError(
                'image_cache_driver = xattr needs a filesystem with user '
                'extended attributes under %s: %s'
                % (self.layout.base, e.strerror or e))
        finally:
            os.unlink(probe)

    def get(self, image_id):
        path = self.layout.entry(image_id)
        values = {name: _get(path, name) for name in FIELDS}
        if values['size'] is None or values['checksum'] is None:
            return None
        try:
            return index.Entry(
                image_id=image_id, size=int(values['size']),
                checksum=values['checksum'],
                hits=int(values['hits'] or 0),
                last_accessed=float(values['last_accessed'] or 0),
                last_modified=float(values['last_modified'] or 0))
        except ValueError:
            return None

    def add(self, image_id, size, checksum):
        # The file carries its attributes from before its rename.
        pass

    def hit(self, image_id):
        path = self.layout.entry(image_id)
        try:
            _set(path, 'hits', int(_get(path, 'hits') or 0) + 1)
            _set(path, 'last_accessed', time.time())
        except (OSError, ValueError):
            pass

    def remove(self, image_id):
        # The entry is its file; removing the file forgets it.
        pass

    def entries(self):
        found = [self.get(i) for i in self.layout.entry_ids()]
        return sorted((e for e in found if e is not None),
                      key=lambda e: e.last_accessed)
