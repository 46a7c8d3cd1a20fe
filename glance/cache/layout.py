"""Where the files of the image cache are, under ``image_cache_dir``:

``<id>``              complete entries (the index says which are visible)
``incomplete/<id>``   entries being written; the writer holds an
                      exclusive ``flock`` on the file while it writes
``invalid/<id>``      entries that failed verification, kept for a look
                      until the cleaner removes them
``queue/<id>``        empty files: images queued for prefetching, in the
                      order of their modification times
``.lock-<job>``       locks of the prune and clean jobs

``flock`` locks belong to an open file, not to a process: two green
threads of one worker exclude each other like two processes do.
"""

import errno
import fcntl
import os
import typing

SUBDIRS = ('incomplete', 'invalid', 'queue')


class Layout:

    def __init__(self, base: str):
        self.base = os.path.abspath(base)

    def entry(self, image_id: str) -> str:
        return os.path.join(self.base, image_id)

    def incomplete(self, image_id: str) -> str:
        return os.path.join(self.base, 'incomplete', image_id)

    def invalid(self, image_id: str) -> str:
        return os.path.join(self.base, 'invalid', image_id)

    def queued(self, image_id: str) -> str:
        return os.path.join(self.base, 'queue', image_id)

    def job_lock(self, job: str) -> str:
        return os.path.join(self.base, '.lock-%s' % job)

    def ensure(self) -> None:
        """Create the directories (the base too); OSError when not
        possible."""
        for sub in SUBDIRS:
            os.makedirs(os.path.join(self.base, sub), exist_ok=True)

    def writable_problem(self) -> typing.Optional[str]:
        """Why entries cannot be written here, or None."""
        try:
            self.ensure()
            probe = os.path.join(self.base, 'incomplete', '.probe')
            with open(probe, 'wb') as f:
                f.write(b'x')
            os.unlink(probe)
        except OSError as e:
            return '%s: %s' % (self.base, e.strerror or e)
        return None

    def entry_ids(self) -> list:
        """Ids of the files in the base directory (complete entries, known
        to the index or not)."""
        return self._names(self.base)

    def incomplete_ids(self) -> list:
        return self._names(os.path.join(self.base, 'incomplete'))

    def invalid_ids(self) -> list:
        return self._names(os.path.join(self.base, 'invalid'))

    def queued_ids(self) -> list:
        """Queued ids, oldest first."""
        queue = os.path.join(self.base, 'queue')
        found = []
        for name in self._names(queue):
            try:
                found.append((os.stat(os.path.join(queue, name)).st_mtime,
                              name))
            except FileNotFoundError:
                pass
        return [name for _mtime, name in sorted(found)]

    @staticmethod
    def _names(path: str) -> list:
        try:
            names = os.listdir(path)
        except OSError:
            # Missing or unusable: nothing is there to be served.
            return []
        return sorted(n for n in names
                      if not n.startswith('.') and not n.endswith('.db')
                      and os.path.isfile(os.path.join(path, n)))


def remove(path: str) -> bool:
    """Remove ``path``; False when it was not there."""
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def try_lock(fd: int, shared: bool = False) -> bool:
    """Take a flock on ``fd`` without waiting; False when another open
    file holds a conflicting one."""
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                    | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)


class JobLock:
    """An exclusive lock of one job (prune, clean, prefetch) over every
    process on this node; ``acquired`` is False when another holds it."""

    def __init__(self, layout: Layout, job: str):
        self.path = layout.job_lock(job)
        self.fd = -1
        self.acquired = False

    def __enter__(self) -> 'JobLock':
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self.acquired = try_lock(self.fd)
        return self

    def __exit__(self, *exc_info) -> None:
        os.close(self.fd)
