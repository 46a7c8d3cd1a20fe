"""What an index driver keeps about the entries of one node's cache.

An entry is visible (may be served) only once it is in the index: its
file was written, verified against the image's hashes and renamed into
the cache directory before the driver records it. A file the index does
not know is never served, and is removed by the cleaner.
"""

import abc
import dataclasses
import typing


@dataclasses.dataclass
class Entry:
    image_id: str
    size: int
    checksum: typing.Optional[str]
    hits: int
    last_accessed: float        # epoch seconds
    last_modified: float
    id: typing.Optional[int] = None

    def record(self) -> dict:
        """The representation of the cache API (GET /v2/cache)."""
        return dataclasses.asdict(self)


class Index(abc.ABC):
    """The index of one node's cache."""

    name: str = ''

    def __init__(self, layout):
        self.layout = layout

    def prepare(self) -> None:
        """Check the driver can work (at start); raise when it cannot."""

    @abc.abstractmethod
    def get(self, image_id: str) -> typing.Optional[Entry]:
        """The entry of ``image_id``, or None."""

    @abc.abstractmethod
    def add(self, image_id: str, size: int, checksum: str) -> None:
        """Record the complete, verified entry whose file is in place."""

    @abc.abstractmethod
    def hit(self, image_id: str) -> None:
        """Count a read, now."""

    @abc.abstractmethod
    def remove(self, image_id: str) -> None:
        """Forget the entry (its file is removed by the caller)."""

    @abc.abstractmethod
    def entries(self) -> list:
        """Every entry, least recently accessed first."""

    def forget_everywhere(self, image_id: str) -> None:
        """Forget the entry on every node whose index this driver reaches
        (all nodes of the database for centralized_db; this node else)."""
        self.remove(image_id)

    def nodes_of(self, image_id: str) -> list:
        """The URLs of the nodes holding ``image_id`` (centralized_db)."""
        raise NotImplementedError
