"""Spreading connections evenly over pre-forked workers.

All workers accept from one listening socket. The kernel wakes all of them
when connections arrive, and whichever runs first would take every pending
one: with keep-alive clients a single worker can end up serving all of
them while the others idle. Each worker therefore publishes how many
connections it has open on a board in memory shared with its siblings, and
one that already has more than the least loaded sibling waits a moment
before accepting, so that sibling takes the connection instead.
"""

import mmap
import struct

FREE = -1
_INT = struct.Struct('i')


class Board:
    """Open connections per worker slot, shared across fork()."""

    def __init__(self, slots):
        self.slots = slots
        self.mem = mmap.mmap(-1, _INT.size * slots)
        for slot in range(slots):
            self._set(slot, FREE)

    def _set(self, slot, value):
        _INT.pack_into(self.mem, _INT.size * slot, value)

    def _get(self, slot):
        return _INT.unpack_from(self.mem, _INT.size * slot)[0]

    # The parent hands out slots to the workers it forks.
    def claim(self):
        for slot in range(self.slots):
            if self._get(slot) == FREE:
                self._set(slot, 0)
                return slot
        return None

    def release(self, slot):
        if slot is not None:
            self._set(slot, FREE)

    # A worker changes only its own slot.
    def add(self, slot, delta):
        self._set(slot, self._get(slot) + delta)

    def ahead(self, slot, share=16):
        """True when ``slot`` has more open connections than its least
        loaded sibling by more than a ``share``-th of all open ones (by
        any, while fewer than ``share`` are open)."""
        mine = self._get(slot)
        least, total = None, 0
        for other in range(self.slots):
            value = self._get(other)
            if value == FREE:
                continue
            total += value
            if other != slot and (least is None or value < least):
                least = value
        return least is not None and mine - least > total // share

    def least_loaded(self, slot):
        """True unless a sibling has fewer open connections than ``slot``."""
        mine = self._get(slot)
        for other in range(self.slots):
            if other != slot:
                value = self._get(other)
                if value != FREE and value < mine:
                    return False
        return True
