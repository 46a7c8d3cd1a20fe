"""Write transactions of glance-registry that span several calls.

A ``session.writer()`` block of glance-api is one transaction here, as
it is one with the direct driver: its first call begins it (``begin``),
the next ones run in it (``continue``), and the end of the block commits
or rolls it back, each a request carrying the transaction's id. The
requests come over one kept-alive connection, so one worker holds the
transaction. One that stays idle longer than ``IDLE_TIMEOUT`` (glance-api
gone mid-block) is rolled back by the next request that comes.
"""

import contextlib
import re
import sys
import time
from typing import Dict, Iterator

import sqlalchemy as sa
from oslo_log import log as logging

from glance.common import exception
from glance.db import session

LOG = logging.getLogger(__name__)

BEGIN, CONTINUE, COMMIT, ROLLBACK = 'begin', 'continue', 'commit', 'rollback'
ACTIONS = (BEGIN, CONTINUE, COMMIT, ROLLBACK)
IDLE_TIMEOUT = 10.0
VALID_ID = re.compile(r'^[A-Za-z0-9_-]{8,64}$')


class _Rollback(Exception):
    pass


class Transaction:
    """An open write transaction and its connection."""

    def __init__(self, tx_id: str):
        self.id = tx_id
        self._block = session.writer()
        self.conn = self._block.__enter__()
        self.busy = False
        self.touched = time.monotonic()

    def end(self, commit: bool) -> None:
        block, self._block = self._block, None
        if block is None:
            return
        if commit:
            block.__exit__(None, None, None)
            return
        try:
            raise _Rollback()
        except _Rollback:
            block.__exit__(*sys.exc_info())


OPEN: Dict[str, Transaction] = {}


def reap() -> None:
    """Roll back the transactions idle longer than IDLE_TIMEOUT."""
    now = time.monotonic()
    for tx in list(OPEN.values()):
        if not tx.busy and now - tx.touched > IDLE_TIMEOUT:
            LOG.warning('Rolling back transaction %s, idle for %.0f s',
                        tx.id, now - tx.touched)
            OPEN.pop(tx.id, None)
            tx.end(commit=False)


def check_id(tx_id: str) -> None:
    if not VALID_ID.match(tx_id):
        raise exception.BadRequest('A transaction id is 8 to 64 letters, '
                                   'digits, - or _.')


@contextlib.contextmanager
def use(tx_id: str, action: str) -> Iterator[sa.Connection]:
    """The connection of transaction ``tx_id`` for one request: a new
    transaction for ``begin``, the open one for ``continue``."""
    reap()
    if action == BEGIN:
        if tx_id in OPEN:
            raise exception.Conflict('Transaction %s is already open.'
                                     % tx_id)
        tx = Transaction(tx_id)
        OPEN[tx_id] = tx
    else:
        tx = OPEN.get(tx_id)
        if tx is None:
            raise exception.Conflict(
                'Transaction %s is not open in this process (it ended, '
                'was idle too long, or glance-registry restarted).' % tx_id)
    tx.busy = True
    try:
        yield tx.conn
    finally:
        tx.busy = False
        tx.touched = time.monotonic()


def end(tx_id: str, commit: bool) -> None:
    """Commit or roll back ``tx_id``; a commit of a transaction not open
    here is a Conflict, a rollback of one is nothing to do."""
    reap()
    tx = OPEN.pop(tx_id, None)
    if tx is None:
        if commit:
            raise exception.Conflict(
                'Transaction %s is not open in this process: nothing was '
                'committed.' % tx_id)
        return
    tx.end(commit)
