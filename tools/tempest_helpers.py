#!/usr/bin/env python3
"""Helpers of tools/tempest.

    tempest_helpers.py qcow2 PATH            write a small empty qcow2 image
    tempest_helpers.py report SUBUNIT OUTDIR  summarise a tempest run

``report`` needs python-subunit and testtools (run it with the Python of
the Tempest virtualenv).  It writes OUTDIR/failures.txt (the tracebacks)
and OUTDIR/summary.txt, prints one line per failed test with the last line
of its error, one per skip with tempest's reason, and last
``N passed, N failed, N skipped``.
"""

import collections
import os
import re
import struct
import sys


def write_qcow2(path, virtual_size=32 * 1024 * 1024):
    """An all-zero qcow2 (version 2, 64 KiB clusters, nothing allocated).

    Cluster 0 holds the header, 1 the refcount table, 2 its only refcount
    block (marking clusters 0-3 as used) and 3 the L1 table.
    """
    bits = 16
    cluster = 1 << bits
    entries_per_l2 = cluster // 8
    l1_entries = -(-virtual_size // (cluster * entries_per_l2))
    image = bytearray(4 * cluster)
    struct.pack_into(
        '>4sIQIIQIIQQIIQ', image, 0,
        b'QFI\xfb', 2,          # magic, version
        0, 0,                   # no backing file
        bits, virtual_size,
        0,                      # not encrypted
        l1_entries, 3 * cluster,
        1 * cluster, 1,         # refcount table offset, clusters
        0, 0)                   # no snapshots
    struct.pack_into('>Q', image, cluster, 2 * cluster)
    for index in range(4):
        struct.pack_into('>H', image, 2 * cluster + 2 * index, 1)
    with open(path, 'wb') as f:
        f.write(image)


def one_line(text):
    """The API call, exception and details of a traceback, on one line."""
    call = exception = details = ''
    for line in text.splitlines():
        frame = re.search(r'/tempest/lib/services/.*, in (\w+)$', line)
        if frame:
            call = frame.group(1) + ': '
        elif line.startswith('Details:'):
            details = ' ' + line[len('Details:'):].strip()[:150]
        elif line.strip() and not line[0].isspace() and \
                not line.startswith('Traceback'):
            exception = line.strip()
    if not exception:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        exception = lines[-1] if lines else ''
    exception = exception.replace('tempest.lib.exceptions.', '')
    return (call + exception[:200] + details).replace('\n', ' ')


def read_stream(path):
    import subunit
    import testtools

    tests = collections.OrderedDict()

    def collect(test):
        if test['status'] != 'exists':
            tests[re.sub(r'\[.*\]$', '', test['id'])] = test

    result = testtools.StreamToDict(collect)
    with open(path, 'rb') as f:
        stream = subunit.ByteStreamToStreamResult(f, non_subunit_name='stdout')
        result.startTestRun()
        stream.run(result)
        result.stopTestRun()
    return tests


def detail(test, name):
    content = test['details'].get(name)
    return content.as_text() if content is not None else ''


def report(subunit_path, outdir):
    outcome = {'success': 'passed', 'xfail': 'passed', 'fail': 'failed',
               'uxsuccess': 'failed', 'skip': 'skipped'}
    counts = collections.Counter()
    lines = []
    tracebacks = []
    for test_id, test in read_stream(subunit_path).items():
        status = outcome.get(test['status'], 'failed')
        counts[status] += 1
        if status == 'failed':
            error = detail(test, 'traceback')
            lines.append('FAIL %s: %s' % (test_id, one_line(error)))
            tracebacks.append('=' * 70 + '\nFAIL: %s\n%s\n' % (test_id,
                                                               error))
        elif status == 'skipped':
            lines.append('SKIP %s: %s' % (test_id,
                                          one_line(detail(test, 'reason'))))
    lines.sort(key=lambda line: (not line.startswith('SKIP'), line))
    total = '%d passed, %d failed, %d skipped' % (
        counts['passed'], counts['failed'], counts['skipped'])
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'failures.txt'), 'w') as f:
        f.write('\n'.join(tracebacks))
    with open(os.path.join(outdir, 'summary.txt'), 'w') as f:
        f.write('\n'.join(lines + [total]) + '\n')
    print('\n'.join(lines + [total]))
    return 1 if counts['failed'] or not counts['passed'] else 0


def main(argv):
    if len(argv) == 3 and argv[1] == 'qcow2':
        write_qcow2(argv[2])
        return 0
    if len(argv) == 4 and argv[1] == 'report':
        return report(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
