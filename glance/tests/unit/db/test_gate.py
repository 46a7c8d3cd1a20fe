"""The first come, first served queue for a worker's database
connections (glance.db.session._Gate)."""

import eventlet
import eventlet.event
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from sqlalchemy import exc as sa_exc

from glance.common import config
from glance.db import session


class TestGate(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        config.register_opts(conf.conf)
        conf.config(pool_timeout=1, group='database')

    def test_waiters_are_served_in_order_before_newcomers(self):
        gate = session._Gate(1)
        order = []
        done = eventlet.event.Event()

        def use(name):
            with gate:
                order.append(name)
                # Others run meanwhile (a query's round trip).
                eventlet.sleep(0)

        def use_twice():
            with gate:
                order.append('first')
                done.wait()
            # Gives the connection back and asks again at once, before
            # the thread woken for it runs: it comes after the waiters.
            use('again')

        first = eventlet.spawn(use_twice)
        waiters = [eventlet.spawn(use, 'waiter%d' % n) for n in range(3)]
        for _ in range(5):
            eventlet.sleep(0)
        self.assertEqual(['first'], order)
        done.send()
        for thread in [first] + waiters:
            thread.wait()
        self.assertEqual(['first', 'waiter0', 'waiter1', 'waiter2', 'again'],
                         order)

    def test_no_connection_in_time_is_the_pool_timeout(self):
        gate = session._Gate(1)
        with gate:
            started = eventlet.spawn(lambda: gate.__enter__())
            self.assertRaises(sa_exc.TimeoutError, started.wait)

    def test_a_waiter_killed_leaves_no_slot_taken(self):
        gate = session._Gate(1)
        with gate:
            waiter = eventlet.spawn(gate.__enter__)
            eventlet.sleep(0)
            self.assertEqual(1, len(gate.queue))
            waiter.kill()
            self.assertEqual(0, len(gate.queue))
        self.assertEqual(1, gate.free)
        with gate:
            self.assertEqual(0, gate.free)
