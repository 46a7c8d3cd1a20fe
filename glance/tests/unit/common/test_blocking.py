"""glance.common.blocking: eventlet's thread pool where threads are green,
a direct call where they are real."""

import threading

import eventlet.patcher
import fixtures

from glance.common import blocking
from glance.tests.unit import base


class TestCall(base.TestCase):

    def ident(self):
        return eventlet.patcher.original('_thread').get_ident()

    def test_real_threads_call_directly(self):
        # This test process is not monkey-patched: as under uWSGI.
        self.assertFalse(blocking.green())
        self.assertEqual(self.ident(), blocking.call(self.ident))
        # Several real threads at once, as a WSGI server's, each get
        # their own answer (eventlet's pool answers through one hub).
        results = {}

        def run(n):
            results[n] = blocking.call(lambda: n * 2)
        threads = [threading.Thread(target=run, args=(n,))
                   for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual({n: n * 2 for n in range(8)}, results)

    def test_green_threads_use_the_pool(self):
        self.useFixture(fixtures.MonkeyPatch(
            'glance.common.blocking.green', lambda: True))
        self.assertNotEqual(self.ident(), blocking.call(self.ident))
