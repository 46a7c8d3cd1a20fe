"""MariaDB and PostgreSQL servers of a test's own, for tests that stop
and restart the database under a running service.

Each server runs from the binaries of the machine's packages on a free
loopback port, with its data, socket, pid and log files in a temporary
directory; it never reads the machine's configuration (/etc/mysql,
/etc/postgresql) nor touches the machine's own servers. ``stop()`` shuts
it down (connections are dropped), ``start()`` brings it back on the same
data and port, ``destroy()`` stops it and removes its files.

PostgreSQL will not run as root: under root its files belong to the
``postgres`` user and it runs as that user.
"""

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

START_TIMEOUT = 60
STOP_TIMEOUT = 30


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _which(name, *dirs):
    found = shutil.which(name)
    if found:
        return found
    for d in dirs:
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    return None


def _answers(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False


class ServerError(RuntimeError):
    pass


class _Server:
    """What both servers share: a directory, a port, a process."""

    kind = None

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='glance-%s-' % self.kind)
        self.port = free_port()
        self.proc = None
        # A test run that ends early does not leave the server running.
        atexit.register(self.destroy)

    def log_tail(self):
        try:
            with open(self.log_file, errors='replace') as f:
                return f.read()[-3000:]
        except OSError:
            return ''

    def _wait(self, condition, what, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise ServerError('%s %s on port %d: %s' % (
            self.kind, what, self.port, self.log_tail()))

    def up(self):
        return self.proc is not None and self.proc.poll() is None

    def url(self, database):
        raise NotImplementedError

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, True)


class MariaDB(_Server):
    """A mariadbd of its own; user root without password over TCP."""

    kind = 'mariadb'

    @staticmethod
    def missing():
        """None when the binaries are there, else what is missing."""
        for name in ('mariadbd', 'mariadb-install-db'):
            if not _which(name, '/usr/sbin', '/usr/bin'):
                return '%s not found' % name
        return None

    def __init__(self):
        super().__init__()
        self.data = os.path.join(self.dir, 'data')
        self.socket = os.path.join(self.dir, 'mysqld.sock')
        self.log_file = os.path.join(self.dir, 'mariadbd.err')
        user = ['--user=root'] if os.getuid() == 0 else []
        out = subprocess.run(
            [_which('mariadb-install-db', '/usr/bin'), '--no-defaults'] +
            user + ['--datadir=' + self.data,
                    '--auth-root-authentication-method=normal',
                    '--skip-test-db', '--skip-name-resolve'],
            capture_output=True, text=True)
        if out.returncode:
            raise ServerError('mariadb-install-db failed: %s%s'
                              % (out.stdout[-2000:], out.stderr[-2000:]))
        self.start()
        import pymysql
        conn = pymysql.connect(unix_socket=self.socket, user='root')
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' "
                            "IDENTIFIED BY ''")
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO "
                            "'root'@'127.0.0.1' WITH GRANT OPTION")
        finally:
            conn.close()

    def start(self):
        if self.up():
            return
        if _answers(self.port):
            raise ServerError('port %d is taken' % self.port)
        user = ['--user=root'] if os.getuid() == 0 else []
        self.proc = subprocess.Popen(
            [_which('mariadbd', '/usr/sbin'), '--no-defaults'] + user + [
                '--datadir=' + self.data, '--socket=' + self.socket,
                '--port=%d' % self.port, '--bind-address=127.0.0.1',
                '--pid-file=' + os.path.join(self.dir, 'mariadbd.pid'),
                '--log-error=' + self.log_file,
                '--tmpdir=' + self.dir, '--skip-name-resolve',
                '--skip-log-bin', '--performance-schema=OFF',
                '--character-set-server=utf8mb4',
                '--innodb-buffer-pool-size=32M',
                '--innodb-log-file-size=16M',
                # A commit survives the server's end (not the machine's).
                '--innodb-flush-log-at-trx-commit=2',
                '--max-connections=300'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self._wait(self._sql_answers, 'did not start')

    def _sql_answers(self):
        if not _answers(self.port):
            return False
        import pymysql
        try:
            pymysql.connect(host='127.0.0.1', port=self.port, user='root',
                            connect_timeout=2).close()
            return True
        except pymysql.MySQLError:
            return False

    def stop(self):
        """A clean shutdown: connections are closed by the server."""
        if not self.up():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def sql(self, statement):
        """The rows of ``statement``, run as root over TCP."""
        import pymysql
        conn = pymysql.connect(host='127.0.0.1', port=self.port,
                               user='root')
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchall()
        finally:
            conn.close()

    def create_database(self, name):
        self.sql('CREATE DATABASE %s CHARACTER SET utf8mb4' % name)
        return self.url(name)

    def url(self, database):
        return ('mysql+pymysql://root@127.0.0.1:%d/%s?charset=utf8mb4'
                % (self.port, database))


class PostgreSQL(_Server):
    """A postgres cluster of its own; superuser postgres, trust."""

    kind = 'postgresql'

    @staticmethod
    def bin_dir():
        dirs = sorted(glob.glob('/usr/lib/postgresql/*/bin'),
                      key=lambda d: int(d.split('/')[-2]
                                        if d.split('/')[-2].isdigit()
                                        else 0))
        for d in reversed(dirs):
            if os.access(os.path.join(d, 'initdb'), os.X_OK):
                return d
        found = shutil.which('initdb')
        return os.path.dirname(found) if found else None

    @classmethod
    def missing(cls):
        if cls.bin_dir() is None:
            return 'initdb and postgres not found'
        if os.getuid() == 0:
            try:
                pwd.getpwnam('postgres')
            except KeyError:
                return 'no user postgres to run the server as (under root)'
        return None

    def __init__(self):
        super().__init__()
        self.bin = self.bin_dir()
        self.data = os.path.join(self.dir, 'data')
        self.log_file = os.path.join(self.dir, 'postgres.log')
        if os.getuid() == 0:
            pw = pwd.getpwnam('postgres')
            self._owner = (pw.pw_uid, pw.pw_gid)
            os.chown(self.dir, *self._owner)
        else:
            self._owner = None
        out = self._run([os.path.join(self.bin, 'initdb'), '-D', self.data,
                         '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
                         '--no-locale'])
        if out.returncode:
            raise ServerError('initdb failed: %s%s'
                              % (out.stdout[-2000:], out.stderr[-2000:]))
        self.start()

    def _as_owner(self):
        if self._owner is None:
            return None

        def demote():
            os.setgid(self._owner[1])
            os.setgroups([])
            os.setuid(self._owner[0])
        return demote

    def _run(self, argv):
        return subprocess.run(argv, capture_output=True, text=True,
                              cwd=self.dir, preexec_fn=self._as_owner())

    def start(self):
        if self.up():
            return
        if _answers(self.port):
            raise ServerError('port %d is taken' % self.port)
        log = open(self.log_file, 'ab')
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, 'postgres'), '-D', self.data,
             '-p', str(self.port), '-k', self.dir,
             '-c', 'listen_addresses=127.0.0.1',
             '-c', 'max_connections=200', '-c', 'shared_buffers=16MB',
             # A commit survives the server's end (not the machine's).
             '-c', 'fsync=off', '-c', 'full_page_writes=off',
             '-c', 'logging_collector=off'],
            cwd=self.dir, preexec_fn=self._as_owner(),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=log, start_new_session=True)
        log.close()
        self._wait(self._sql_answers, 'did not start')

    def _sql_answers(self):
        if not _answers(self.port):
            return False
        import psycopg
        try:
            psycopg.connect(host='127.0.0.1', port=self.port,
                            user='postgres', dbname='postgres',
                            connect_timeout=2).close()
            return True
        except psycopg.Error:
            return False

    def stop(self):
        """A fast shutdown: open sessions are ended by the server."""
        if not self.up():
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def create_database(self, name):
        import psycopg
        with psycopg.connect(host='127.0.0.1', port=self.port,
                             user='postgres', dbname='postgres',
                             autocommit=True) as conn:
            conn.execute('CREATE DATABASE %s' % name)
        return self.url(name)

    def url(self, database):
        return ('postgresql+psycopg://postgres@127.0.0.1:%d/%s'
                % (self.port, database))


SERVERS = {'mysql': MariaDB, 'postgresql': PostgreSQL}
# The prerequisite (glance.tests.prerequisites) each server is.
THINGS = {'mysql': 'MARIADB_SERVER', 'postgresql': 'POSTGRES_SERVER'}


def own_mariadb(test):
    """A MariaDB of ``test``'s own, destroyed at its cleanup; the test
    fails or is skipped (glance.tests.prerequisites) where none can run."""
    from glance.tests import prerequisites
    missing = MariaDB.missing()
    unmet = prerequisites.check(THINGS['mysql'], missing is None, missing)
    if unmet is not None:
        prerequisites.raise_copy(unmet)
    server = MariaDB()
    test.addCleanup(server.destroy)
    return server
