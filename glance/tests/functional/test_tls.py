"""The daemon serving TLS itself (cert_file, key_file, ca_file), with the
glance CLI, openstacksdk and requests as clients. The certificates (a CA,
a server certificate for 127.0.0.1 and localhost, client certificates from
that CA and from another one) are made by the tests."""

import datetime
import hashlib
import ipaddress
import os
import pty
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

import psutil
import requests
import testtools

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import test_clients

MiB = 1024 * 1024
# requests prefers these to the CA its caller names (--os-cacert).
CA_BUNDLES = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer, issuer_key, ca=False, server=False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(_name(issuer))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True,
            content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    elif server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName('localhost'),
            x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
            critical=False).add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(directory, name, cert, key=None):
    from cryptography.hazmat.primitives import serialization
    cert_path = os.path.join(directory, name + '.pem')
    with open(cert_path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    if key is None:
        return cert_path, None
    key_path = os.path.join(directory, name + '.key')
    with open(key_path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class Certificates:
    """PEM files in ``directory``: ``ca``, ``server``/``server_key``,
    ``client``/``client_key`` (signed by the CA), ``stranger``/
    ``stranger_key`` (a client certificate from another CA)."""

    def __init__(self, directory):
        ca_key, other_ca_key = _key(), _key()
        ca = _certificate('Test CA', ca_key, 'Test CA', ca_key, ca=True)
        self.ca, _ = _write(directory, 'ca', ca)
        server_key = _key()
        self.server, self.server_key = _write(
            directory, 'server', _certificate('127.0.0.1', server_key,
                                              'Test CA', ca_key, server=True),
            server_key)
        client_key = _key()
        self.client, self.client_key = _write(
            directory, 'client', _certificate('glance-client', client_key,
                                              'Test CA', ca_key), client_key)
        self._ca_key = ca_key
        self._server_key = server_key
        stranger_key = _key()
        self.stranger, self.stranger_key = _write(
            directory, 'stranger', _certificate('stranger', stranger_key,
                                                'Other CA', other_ca_key),
            stranger_key)


    def renew_server(self, directory):
        """A new server certificate for the same key; its path."""
        cert = _certificate('127.0.0.1', self._server_key, 'Test CA',
                            self._ca_key, server=True)
        return _write(directory, 'renewed', cert)[0]


class TLSDaemon(base.Daemon):
    """A daemon serving https; ``client_cert`` is what the readiness probe
    presents (for ``ca_file``)."""

    def __init__(self, workdir, db_url, certs, client_cert=None, **kwargs):
        super().__init__(workdir, db_url, **kwargs)
        self.url = 'https://127.0.0.1:%d' % self.port
        self.certs = certs
        self.client_cert = client_cert

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('glance-api exited with %s: %s' % (
                    self.proc.returncode, self.output()))
            try:
                requests.get(self.url + '/healthcheck', timeout=0.5,
                             verify=self.certs.ca, cert=self.client_cert)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError('glance-api not ready: %s' % self.output())


class TLSTest(testtools.TestCase):
    """One https daemon per class; ``require_client_cert`` sets ca_file."""

    require_client_cert = False
    workers = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = tempfile.mkdtemp(prefix='glance-test-tls-')
        cls.certs = Certificates(cls.workdir)
        options = {'cert_file': cls.certs.server,
                   'key_file': cls.certs.server_key,
                   'client_socket_timeout': 30}
        client_cert = None
        if cls.require_client_cert:
            options['ca_file'] = cls.certs.ca
            client_cert = (cls.certs.client, cls.certs.client_key)
        cls.client_cert = client_cert
        cls.db = base.Database('sqlite', cls.workdir)
        cls.daemon = TLSDaemon(cls.workdir, cls.db.url, cls.certs,
                               client_cert=client_cert, options=options,
                               workers=cls.workers)
        cls.daemon.manage('db', 'sync')
        cls.daemon.start()
        cls.url = cls.daemon.url

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, 'daemon'):
            cls.daemon.stop()
            shutil.rmtree(cls.workdir, True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.http = requests.Session()
        # Otherwise REQUESTS_CA_BUNDLE, when set, would win over verify.
        self.http.trust_env = False
        self.http.verify = self.certs.ca
        self.http.cert = self.client_cert
        self.addCleanup(self.http.close)

    def data_file(self, data):
        path = os.path.join(self.workdir, 'data-%s' % uuid.uuid4().hex[:8])
        with open(path, 'wb') as f:
            f.write(data)
        self.addCleanup(os.unlink, path)
        return path

    def delete_later(self, image_id):
        self.addCleanup(self.http.delete, self.url + '/v2/images/' + image_id)

    def glance(self, *args):
        """The glance CLI over https, trusting the test CA."""
        options = ['--os-image-url', self.url, '--os-auth-token', 'x',
                   '--os-cacert', self.certs.ca]
        if self.client_cert:
            options += ['--os-cert', self.client_cert[0],
                        '--os-key', self.client_cert[1]]
        master, slave = pty.openpty()
        try:
            proc = subprocess.run(
                [test_clients.GLANCE_CLI] + options + list(args),
                stdin=slave, capture_output=True, text=True, timeout=180,
                env={k: v for k, v in os.environ.items()
                     if not k.startswith('OS_') and k not in CA_BUNDLES})
        finally:
            os.close(master)
            os.close(slave)
        self.assertEqual(0, proc.returncode, 'glance %s: %s %s' % (
            ' '.join(args), proc.stdout, proc.stderr))
        return proc.stdout

    def cli_round_trip(self, size):
        data = os.urandom(size)
        out = self.glance('image-create', '--name', 'tls-cli',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--file', self.data_file(data))
        table = test_clients.parse_table(out)
        self.delete_later(table['id'])
        self.assertEqual('active', table['status'])
        self.assertEqual(hashlib.md5(data).hexdigest(), table['checksum'])
        self.assertEqual(str(size), table['size'])
        target = os.path.join(self.workdir, 'out-%s' % table['id'])
        self.addCleanup(os.unlink, target)
        self.glance('image-download', '--file', target, table['id'])
        with open(target, 'rb') as f:
            self.assertTrue(data == f.read(), 'downloaded data differs')


class TestTLS(TLSTest):
    """Server certificate only; two workers behind the balanced accept
    loop."""

    def test_glance_cli_upload_and_download(self):
        # glanceclient sends the file with Transfer-Encoding: chunked.
        self.cli_round_trip(6 * MiB + 12345)

    def test_chunked_upload_and_streamed_download(self):
        data = os.urandom(5 * MiB + 7)
        image = self.http.post(self.url + '/v2/images', json={
            'name': 'tls-chunked', 'disk_format': 'raw',
            'container_format': 'bare'}).json()
        self.delete_later(image['id'])

        def pieces():
            for start in range(0, len(data), 300000):
                yield data[start:start + 300000]

        resp = self.http.put(
            self.url + '/v2/images/%s/file' % image['id'], data=pieces(),
            headers={'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual('chunked', resp.request.headers.get(
            'Transfer-Encoding'))
        with self.http.get(self.url + '/v2/images/%s/file' % image['id'],
                           stream=True) as resp:
            self.assertEqual(200, resp.status_code)
            digest = hashlib.sha256()
            received = 0
            for chunk in resp.iter_content(256 * 1024):
                digest.update(chunk)
                received += len(chunk)
        self.assertEqual(len(data), received)
        self.assertEqual(hashlib.sha256(data).hexdigest(), digest.hexdigest())
        # A range over TLS too.
        resp = self.http.get(self.url + '/v2/images/%s/file' % image['id'],
                             headers={'Range': 'bytes=1000-1999'})
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[1000:2000], resp.content)

    def test_openstacksdk_create_upload_download(self):
        import openstack
        conn = openstack.connect(auth_type='none',
                                 image_endpoint_override=self.url,
                                 cacert=self.certs.ca,
                                 load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        data = os.urandom(3 * MiB + 1)
        image = conn.image.create_image(
            name='tls-sdk-%s' % uuid.uuid4().hex[:8], data=data,
            disk_format='raw', container_format='bare', wait=True)
        self.delete_later(image.id)
        self.assertEqual('active', conn.image.get_image(image.id).status)
        target = os.path.join(self.workdir, 'sdk-%s' % image.id)
        self.addCleanup(os.unlink, target)
        conn.image.download_image(image.id, output=target)
        with open(target, 'rb') as f:
            self.assertTrue(data == f.read(), 'downloaded data differs')

    def test_urls_name_https(self):
        resp = self.http.get(self.url + '/')
        self.assertEqual(300, resp.status_code)
        hrefs = {link['href'] for version in resp.json()['versions']
                 for link in version['links']}
        self.assertEqual({self.url + '/v2/'}, hrefs)
        resp = self.http.post(self.url + '/v2/images',
                              json={'name': 'tls-location'})
        self.assertEqual(201, resp.status_code, resp.text)
        self.delete_later(resp.json()['id'])
        self.assertEqual(self.url + '/v2/images/' + resp.json()['id'],
                         resp.headers['Location'])

    def test_plain_http_fails_cleanly_and_service_goes_on(self):
        mark = hd.log_mark(self.daemon)
        self.assertRaises(requests.ConnectionError, requests.get,
                          'http://127.0.0.1:%d/versions' % self.daemon.port,
                          timeout=10)
        with socket.create_connection(('127.0.0.1', self.daemon.port),
                                      timeout=10) as raw:
            raw.sendall(b'GET /versions HTTP/1.1\r\nHost: x\r\n\r\n')
            answer = b''
            while True:
                piece = raw.recv(4096)
                if not piece:
                    break
                answer += piece
        self.assertNotIn(b'HTTP/1.', answer)
        for _ in range(4):
            self.assertEqual(300, self.http.get(self.url + '/').status_code)
        logged = hd.wait_log(self.daemon, 'TLS handshake with', mark)
        self.assertIn('HTTP_REQUEST', logged)

    def test_silent_clients_do_not_stop_accepting(self):
        # Clients that connect and never start the handshake: each holds
        # only its own green thread, not a worker's accept loop.
        silent = [socket.create_connection(('127.0.0.1', self.daemon.port))
                  for _ in range(2 * self.workers + 2)]
        try:
            # Every one of them accepted: held by a worker, waiting.
            ports = {sock.getsockname()[1] for sock in silent}
            hd.wait_for(lambda: ports <= _served_ports(self.daemon),
                        what='the silent connections to be accepted')
            for _ in range(6):
                resp = requests.get(self.url + '/healthcheck', timeout=5,
                                    verify=self.certs.ca)
                self.assertEqual(200, resp.status_code)
        finally:
            for sock in silent:
                sock.close()


def _served_ports(daemon):
    """Client ports of the connections the daemon's processes hold."""
    pids = hd.worker_pids(daemon.proc.pid) | {daemon.proc.pid}
    ports = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections('tcp')
        except psutil.NoSuchProcess:
            continue
        ports.update(c.raddr.port for c in connections if c.raddr)
    return ports


class TestClientCertificates(TLSTest):
    """ca_file set: only clients with a certificate from that CA."""

    require_client_cert = True
    workers = 0

    def test_glanceclient_with_client_certificate(self):
        # The glance CLI cannot present a client certificate when given
        # --os-image-url and --os-auth-token (it hands --os-cert/--os-key
        # to its HTTP client under names that client ignores): use the
        # library, whose upload of a file is chunked too.
        import glanceclient
        gc = glanceclient.Client('2', endpoint=self.url, token='x',
                                 cacert=self.certs.ca,
                                 cert_file=self.certs.client,
                                 key_file=self.certs.client_key)
        gc.http_client.session.trust_env = False    # see CA_BUNDLES
        data = os.urandom(2 * MiB + 3)
        image = gc.images.create(name='tls-gc-cert', disk_format='raw',
                                 container_format='bare')
        self.delete_later(image.id)
        with open(self.data_file(data), 'rb') as f:
            gc.images.upload(image.id, f)
        self.assertEqual(hashlib.md5(data).hexdigest(),
                         gc.images.get(image.id).checksum)
        received = b''.join(gc.images.data(image.id))
        self.assertTrue(data == received, 'downloaded data differs')

    def test_openstacksdk_with_client_certificate(self):
        import openstack
        conn = openstack.connect(auth_type='none',
                                 image_endpoint_override=self.url,
                                 cacert=self.certs.ca,
                                 cert=self.certs.client,
                                 key=self.certs.client_key,
                                 load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        image = conn.image.create_image(
            name='tls-sdk-cert', data=b'x' * 70000, disk_format='raw',
            container_format='bare', wait=True)
        self.delete_later(image.id)
        self.assertEqual(b'x' * 70000,
                         conn.image.download_image(image.id).content)

    def refused(self, cert):
        session = requests.Session()
        self.addCleanup(session.close)
        self.assertRaises(requests.exceptions.ConnectionError, session.get,
                          self.url + '/versions', verify=self.certs.ca,
                          cert=cert, timeout=10)

    def test_refused_without_certificate(self):
        self.refused(None)
        self.assertEqual(300, self.http.get(self.url + '/').status_code)

    def test_refused_with_certificate_of_another_ca(self):
        mark = hd.log_mark(self.daemon)
        self.refused((self.certs.stranger, self.certs.stranger_key))
        self.assertEqual(300, self.http.get(self.url + '/').status_code)
        logged = hd.wait_log(self.daemon, 'TLS handshake with', mark)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', logged)


class TestReload(TLSTest):
    """SIGHUP re-reads the certificate: renewal without a restart."""

    workers = 1

    def served_certificate(self):
        return ssl.get_server_certificate(('127.0.0.1', self.daemon.port),
                                          timeout=5)

    def use_certificate(self, path):
        with open(self.daemon.conf) as f:
            conf = f.read()
        conf = re.sub(r'(?m)^cert_file = .*$', 'cert_file = %s' % path, conf)
        with open(self.daemon.conf, 'w') as f:
            f.write(conf)
        self.daemon.signal(signal.SIGHUP)

    def wait_for(self, condition, what):
        deadline = time.time() + 30
        while time.time() < deadline:
            if condition():
                return
            time.sleep(0.2)
        self.fail('%s: %s' % (what, self.daemon.output()))

    def test_reload_swaps_certificate(self):
        with open(self.certs.server) as f:
            first = ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(
                f.read()))
        self.assertEqual(first, self.served_certificate())
        # Unusable: the running workers keep serving the old one.
        mark = hd.log_mark(self.daemon)
        self.use_certificate(os.path.join(self.workdir, 'gone.pem'))
        hd.wait_log(self.daemon, 'Unable to find cert_file', mark)
        self.assertEqual(first, self.served_certificate())
        self.assertEqual(200, self.http.get(
            self.url + '/healthcheck').status_code)
        # A renewed certificate for the same key.
        renewed = self.certs.renew_server(self.workdir)
        self.use_certificate(renewed)
        with open(renewed) as f:
            second = f.read()
        self.assertNotEqual(first, second)
        self.wait_for(lambda: self.served_certificate() == second,
                      'renewed certificate not served')
        self.assertEqual(200, self.http.get(
            self.url + '/healthcheck').status_code)


class TestBadTLSConfiguration(testtools.TestCase):
    """Unusable TLS files stop the start with a message naming them."""

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='glance-test-tls-')
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.certs = Certificates(self.workdir)

    def start(self, **options):
        daemon = base.Daemon(self.workdir, 'sqlite:///%s/glance.sqlite'
                             % self.workdir, options=options)
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.api', '--config-file',
             daemon.conf], cwd=base.ROOT, capture_output=True, text=True,
            timeout=60)
        self.assertFalse(base.server_answers(daemon.url))
        return proc

    def test_missing_cert_file(self):
        missing = os.path.join(self.workdir, 'nowhere.pem')
        proc = self.start(cert_file=missing, key_file=self.certs.server_key)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('ERROR: Unable to find cert_file: %s' % missing,
                      proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)

    def test_key_not_matching_certificate(self):
        proc = self.start(cert_file=self.certs.server,
                          key_file=self.certs.client_key)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('are not a usable PEM certificate and matching '
                      'private key', proc.stderr)

    def test_key_file_without_cert_file(self):
        proc = self.start(key_file=self.certs.server_key)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('TLS needs both cert_file and key_file', proc.stderr)

    def test_missing_ca_file(self):
        missing = os.path.join(self.workdir, 'no-ca.pem')
        proc = self.start(cert_file=self.certs.server,
                          key_file=self.certs.server_key, ca_file=missing)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('Unable to find ca_file: %s' % missing, proc.stderr)
