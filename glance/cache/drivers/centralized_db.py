"""The ``centralized_db`` index: the tables ``cached_images`` and
``node_reference`` of the main database, one node row per API node
(named by ``worker_self_reference_url``). Every node sees which nodes
hold an image, and an image deleted on one node is forgotten by all.
"""

import calendar
import contextlib
import datetime
import os
import socket
import sqlite3

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from glance.cache import index
from glance.cache import tables
from glance.common import timeutils
from glance.db import session

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
T = tables.cached_images
N = tables.node_reference


def node_url(conf=CONF) -> str:
    """This node's URL: ``worker_self_reference_url``, else one made of
    the host name and ``bind_port``."""
    if conf.worker_self_reference_url:
        return conf.worker_self_reference_url.rstrip('/')
    return 'http://%s:%d' % (socket.getfqdn(), conf.bind_port)


def _datetime(epoch) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(
        float(epoch or 0), datetime.timezone.utc).replace(tzinfo=None)


def _epoch(value) -> float:
    return float(calendar.timegm(value.timetuple())) + value.microsecond / 1e6


class CentralizedDbIndex(index.Index):

    name = 'centralized_db'

    def __init__(self, layout):
        super().__init__(layout)
        self._node = None

    def prepare(self):
        self.node_id()

    def node_id(self) -> int:
        if self._node is not None:
            return self._node
        url = node_url()
        with session.writer() as conn:
            row = conn.execute(sa.select(N.c.node_reference_id).where(
                N.c.node_reference_url == url)).first()
            if row is None:
                conn.execute(N.insert().values(node_reference_url=url))
                row = conn.execute(sa.select(N.c.node_reference_id).where(
                    N.c.node_reference_url == url)).first()
        self._node = row[0]
        self._adopt_sqlite()
        return self._node

    def _adopt_sqlite(self) -> None:
        """Take the entries of upstream's per-node SQLite index
        (``image_cache_sqlite_db`` in the cache directory, from the
        deprecated sqlite driver) into the main database, once: the file
        is renamed ``<name>.migrated`` after. Only entries whose file is
        there with the recorded size are taken; each is hashed again on
        its first hit, like every entry."""
        if self.layout is None:
            return
        path = os.path.join(self.layout.base, CONF.image_cache_sqlite_db)
        if not os.path.isfile(path):
            return
        try:
            with contextlib.closing(sqlite3.connect(path)) as old:
                rows = old.execute(
                    'SELECT image_id, last_accessed, last_modified, size, '
                    'hits, checksum FROM cached_images').fetchall()
        except sqlite3.Error as e:
            LOG.warning('Cannot read the old cache index %s: %s', path, e)
            return
        taken = 0
        with session.writer() as conn:
            for image_id, accessed, modified, size, hits, checksum in rows:
                try:
                    if os.stat(self.layout.entry(image_id)).st_size != size:
                        continue
                except OSError:
                    continue
                conn.execute(T.delete().where(self._mine(),
                                              T.c.image_id == image_id))
                conn.execute(T.insert().values(
                    image_id=image_id, size=size, checksum=checksum,
                    hits=hits or 0,
                    last_accessed=_datetime(accessed),
                    last_modified=_datetime(modified),
                    node_reference_id=self._node))
                taken += 1
        os.rename(path, path + '.migrated')
        LOG.info('Took %d entries of the old cache index %s into the '
                 'database (%s.migrated kept)', taken, path, path)

    def _mine(self):
        return T.c.node_reference_id == self.node_id()

    @staticmethod
    def _entry(row) -> index.Entry:
        return index.Entry(image_id=row.image_id, size=row.size,
                           checksum=row.checksum, hits=row.hits,
                           last_accessed=_epoch(row.last_accessed),
                           last_modified=_epoch(row.last_modified),
                           id=row.id)

    def get(self, image_id):
        with session.reader() as conn:
            row = conn.execute(sa.select(T).where(
                self._mine(), T.c.image_id == image_id)).first()
        return self._entry(row) if row is not None else None

    def add(self, image_id, size, checksum):
        now = timeutils.utcnow()
        with session.writer() as conn:
            conn.execute(T.delete().where(self._mine(),
                                          T.c.image_id == image_id))
            conn.execute(T.insert().values(
                image_id=image_id, size=size, checksum=checksum, hits=0,
                last_accessed=now, last_modified=now,
                node_reference_id=self.node_id()))

    def hit(self, image_id):
        with session.writer() as conn:
            conn.execute(T.update().where(
                self._mine(), T.c.image_id == image_id).values(
                    hits=T.c.hits + 1, last_accessed=timeutils.utcnow()))

    def remove(self, image_id):
        with session.writer() as conn:
            conn.execute(T.delete().where(self._mine(),
                                          T.c.image_id == image_id))

    def forget_everywhere(self, image_id):
        with session.writer() as conn:
            conn.execute(T.delete().where(T.c.image_id == image_id))

    def entries(self):
        with session.reader() as conn:
            rows = conn.execute(sa.select(T).where(self._mine()).order_by(
                T.c.last_accessed, T.c.id)).all()
        return [self._entry(r) for r in rows]

    def nodes_of(self, image_id):
        with session.reader() as conn:
            rows = conn.execute(sa.select(N.c.node_reference_url).join(
                T, T.c.node_reference_id == N.c.node_reference_id).where(
                    T.c.image_id == image_id).order_by(
                        N.c.node_reference_url)).all()
        return [r[0] for r in rows]
