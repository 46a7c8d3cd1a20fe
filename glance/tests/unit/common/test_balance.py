"""The connection board that spreads connections over workers."""

import os

import testtools

from glance.common import balance


class TestBoard(testtools.TestCase):

    def test_slots_are_claimed_and_released(self):
        board = balance.Board(2)
        self.assertEqual(0, board.claim())
        self.assertEqual(1, board.claim())
        self.assertIsNone(board.claim())
        board.release(0)
        self.assertEqual(0, board.claim())

    def test_least_loaded(self):
        board = balance.Board(4)
        a, b = board.claim(), board.claim()
        self.assertTrue(board.least_loaded(a))
        board.add(a, 3)
        board.add(b, 1)
        self.assertFalse(board.least_loaded(a))
        self.assertTrue(board.least_loaded(b))
        board.add(b, 2)
        self.assertTrue(board.least_loaded(a))
        # A free slot (a stopped worker) never counts as less loaded.
        board.release(b)
        self.assertTrue(board.least_loaded(a))

    def test_ahead_of_the_least_loaded_sibling(self):
        board = balance.Board(4)
        a = board.claim()
        board.add(a, 5)
        # Alone: no sibling to leave connections to.
        self.assertFalse(board.ahead(a))
        b = board.claim()
        # Few open: one more than a sibling is ahead.
        board.add(b, 4)
        self.assertTrue(board.ahead(a))
        self.assertFalse(board.ahead(b))
        board.add(b, 1)
        self.assertFalse(board.ahead(a))
        # Many open: ahead by more than a 16th of them.
        board.add(a, 108)
        board.add(b, 95)
        self.assertFalse(board.ahead(a))   # 113 - 100 = 213 // 16
        board.add(a, 1)
        self.assertTrue(board.ahead(a))    # 114 - 100 > 214 // 16
        # A free slot (a stopped worker) is no sibling.
        board.release(b)
        self.assertFalse(board.ahead(a))

    def test_shared_with_forked_children(self):
        board = balance.Board(2)
        slot = board.claim()
        pid = os.fork()
        if pid == 0:
            # Whatever happens, the child never returns into the test run.
            code = 1
            try:
                board.add(slot, 5)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(0, os.waitstatus_to_exitcode(status))
        other = board.claim()
        self.assertFalse(board.least_loaded(slot))
        self.assertTrue(board.least_loaded(other))
