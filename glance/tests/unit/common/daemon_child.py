"""A periodic process for test_daemon, run in a subprocess of its own.

    python -m glance.tests.unit.common.daemon_child EVENTS [options]

Every step appends a line to the file EVENTS: ``prepare T``,
``start N T`` and ``end N T`` around pass N, ``reload MARKER``; T is
CLOCK_MONOTONIC, the same clock in every process of the machine, so the
test can compare it with the arrival of notifications.
"""

import argparse
import logging
import sys
import time

from oslo_config import cfg

from glance.common import daemon


class Probe(daemon.Daemon):
    """Passes that sleep, and fail when told to."""

    name = 'probe'

    def __init__(self, args, conf):
        super().__init__(conf=conf)
        self.args = args
        self.interval = args.interval
        self.jitter = args.jitter
        self.pass_timeout = args.pass_timeout
        self.reload_on_sighup = not args.no_reload
        self.passes = 0

    def record(self, *words):
        with open(self.args.events, 'a') as f:
            f.write(' '.join(str(w) for w in words) + '\n')

    def prepare(self):
        if self.args.fail_prepare:
            raise RuntimeError('not ready')
        self.record('prepare', time.monotonic())

    def status(self):
        return 'Probing every %ss' % self.interval

    def run_pass(self):
        self.passes += 1
        self.record('start', self.passes, time.monotonic())
        time.sleep(self.args.pass_seconds)
        if self.passes in self.args.fail:
            raise RuntimeError('pass %d broke' % self.passes)
        self.record('end', self.passes, time.monotonic())
        return self.passes

    def reload(self):
        self.record('reload', self.conf.marker)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('events')
    parser.add_argument('--once', action='store_true')
    parser.add_argument('--interval', type=float, default=3600)
    parser.add_argument('--jitter', type=float, default=0)
    parser.add_argument('--pass-seconds', type=float, default=0)
    parser.add_argument('--pass-timeout', type=float)
    parser.add_argument('--fail', type=int, action='append', default=[])
    parser.add_argument('--fail-prepare', action='store_true')
    parser.add_argument('--no-reload', action='store_true')
    parser.add_argument('--config-file')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt('marker'))
    conf([], project='probe', default_config_files=(
        [args.config_file] if args.config_file else []))
    probe = Probe(args, conf)
    if args.once:
        print(probe.run_once())
        return 0
    return probe.run_forever()


if __name__ == '__main__':
    sys.exit(main())
