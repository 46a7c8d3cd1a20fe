"""Image signature verification against a real Barbican and Keystone.

tools/barbican starts Barbican behind the Keystone of tools/keystone;
glance-api runs with the keystone flavor and reads certificates from
Barbican through castellan with the caller's token. Each test makes its
own keys and certificate (cryptography), stores the certificate in
Barbican through its REST API as the caller, signs the data and uploads
or imports it with the four ``img_signature*`` properties.

GLANCE_TEST_NO_BARBICAN=1 (or GLANCE_TEST_NO_KEYSTONE=1) skips them,
except under CI (CI=true); see glance.tests.prerequisites.
"""

import base64
import datetime
import os
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
import requests

from glance.tests import prerequisites
from glance.tests.functional import base
from glance.tests.functional import test_keystone

TOOL = os.path.join(base.ROOT, 'tools', 'barbican')
PORT = os.environ.get('GLANCE_BARBICAN_PORT', '9311')
HOME = os.environ.get('GLANCE_BARBICAN_HOME', os.path.expanduser(
    '~/.cache/glance-barbican'))
TOOL_ENV = dict(test_keystone.TOOL_ENV, GLANCE_BARBICAN_HOME=HOME,
                GLANCE_BARBICAN_PORT=PORT)
OCTET = {'Content-Type': 'application/octet-stream'}
HASHES = {'SHA-224': hashes.SHA224, 'SHA-256': hashes.SHA256,
          'SHA-384': hashes.SHA384, 'SHA-512': hashes.SHA512}


class Barbican(test_keystone.SharedServer):
    """The tools/barbican server."""

    tool, home, port, tool_env, started_key = TOOL, HOME, PORT, TOOL_ENV, \
        'BARBICAN_STARTED'


def make_certificate(key, days=(-1, 30)):
    """A self-signed certificate of ``key``, valid from now + days[0] to
    now + days[1]."""
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         'glance signature test')])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days[0]))
            .not_valid_after(now + datetime.timedelta(days=days[1]))
            .sign(key, hashes.SHA256()))


def sign(key, data, hash_method='SHA-256'):
    """The base64 signature of ``data``, as a signer of images makes it."""
    algorithm = HASHES[hash_method]()
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, padding.PSS(
            mgf=padding.MGF1(algorithm),
            salt_length=padding.PSS.MAX_LENGTH), algorithm)
    elif isinstance(key, dsa.DSAPrivateKey):
        raw = key.sign(data, algorithm)
    else:
        raw = key.sign(data, ec.ECDSA(algorithm))
    return base64.b64encode(raw).decode()


class SignatureTest(test_keystone.KeystoneFlavorTest):
    """glance-api with the keystone flavor, a Barbican, and helpers."""

    extra_options = {
        'key_manager.backend': 'barbican',
        'barbican.auth_endpoint':
            'http://127.0.0.1:%s/v3' % test_keystone.PORT,
    }

    @classmethod
    def setUpClass(cls):
        cls.barbican = None
        cls._barbican_unmet = None
        super().setUpClass()
        if cls._unmet is not None:
            return
        cls._barbican_unmet = prerequisites.skip_requested('BARBICAN')
        if cls._barbican_unmet is not None:
            return
        barbican = Barbican()
        try:
            env = barbican.acquire()
        except RuntimeError as e:
            cls._barbican_unmet = prerequisites.check('BARBICAN', False,
                                                      str(e))
            return
        cls.barbican = barbican
        cls.barbican_url = env['BARBICAN_URL']

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.barbican is not None:
                cls.barbican.release()
        finally:
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._barbican_unmet is not None:
            prerequisites.raise_copy(self._barbican_unmet)

    # -- helpers ------------------------------------------------------------

    def store_certificate(self, certificate):
        """Store ``certificate`` in Barbican as member A; its uuid."""
        # PEM, as castellan stores certificates (and reads them back).
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        resp = requests.post(
            self.barbican_url + '/v1/secrets', timeout=60,
            headers=self.member_a(),
            json={'name': 'glance-signing-cert',
                  'secret_type': 'certificate',
                  'payload': base64.b64encode(pem).decode(),
                  'payload_content_type': 'application/octet-stream',
                  'payload_content_encoding': 'base64'})
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()['secret_ref'].rstrip('/').rsplit('/', 1)[1]

    def signed_image(self, key, data, hash_method='SHA-256', key_type=None,
                     certificate=None, **override):
        """A new image of member A with the signature properties of
        ``data`` signed by ``key``; ``override`` replaces or (None)
        drops some."""
        if key_type is None:
            key_type = ('RSA-PSS' if isinstance(key, rsa.RSAPrivateKey)
                        else 'DSA' if isinstance(key, dsa.DSAPrivateKey)
                        else 'ECC_' + key.curve.name.upper())
        properties = {
            'img_signature': sign(key, data, hash_method),
            'img_signature_hash_method': hash_method,
            'img_signature_key_type': key_type,
            'img_signature_certificate_uuid': self.store_certificate(
                certificate or make_certificate(key)),
        }
        properties.update(override)
        properties = {k: v for k, v in properties.items() if v is not None}
        return self.new_image(disk_format='raw', container_format='bare',
                              **properties)

    def upload(self, image_id, data):
        return self.request('PUT', '/v2/images/%s/file' % image_id,
                            data=data,
                            headers=dict(self.member_a(), **OCTET))

    def show(self, image_id):
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            headers=self.member_a())
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def stored_files(self):
        path = os.path.join(self.workdir, 'images')
        return os.listdir(path) if os.path.isdir(path) else []

    def staged_files(self):
        path = os.path.join(self.workdir, 'staging')
        return os.listdir(path) if os.path.isdir(path) else []

    def assert_nothing_stored(self, image_id):
        image = self.show(image_id)
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertIsNone(image['checksum'])
        self.assertEqual([], image['locations'] if 'locations' in image
                         else [])
        self.assertNotIn(image_id, ' '.join(self.stored_files()))

    def assert_refused(self, image, data, *words):
        resp = self.upload(image['id'], data)
        self.assertEqual(400, resp.status_code, resp.text)
        for word in words:
            self.assertIn(word, resp.text)
        self.assert_nothing_stored(image['id'])
        return resp

    def data(self):
        return os.urandom(3 * 1024 * 1024 + 17)


class TestSignedUpload(SignatureTest):

    def test_good_signatures_make_the_image_active(self):
        data = self.data()
        keys = [rsa.generate_private_key(public_exponent=65537,
                                         key_size=2048),
                dsa.generate_private_key(key_size=2048),
                ec.generate_private_key(ec.SECP384R1()),
                ec.generate_private_key(ec.SECP521R1())]
        for key, method in zip(keys, ('SHA-256', 'SHA-224', 'SHA-384',
                                      'SHA-512')):
            image = self.signed_image(key, data, hash_method=method)
            resp = self.upload(image['id'], data)
            self.assertEqual(204, resp.status_code, (method, resp.text))
            shown = self.show(image['id'])
            self.assertEqual('active', shown['status'])
            self.assertEqual(len(data), shown['size'])
            resp = self.request('GET', '/v2/images/%s/file' % image['id'],
                                headers=self.member_a())
            self.assertEqual(data, resp.content)

    def test_wrong_signature_is_400_and_nothing_stored(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(key, data)
        # The data differs from the signed data in its last byte.
        tampered = data[:-1] + bytes([data[-1] ^ 1])
        self.assert_refused(image, tampered, 'Signature verification failed')
        # The image can still be uploaded with the right data.
        self.assertEqual(204, self.upload(image['id'], data).status_code)
        self.assertEqual('active', self.show(image['id'])['status'])

    def test_signature_of_another_key_is_400(self):
        data = self.data()
        key = ec.generate_private_key(ec.SECP384R1())
        other = ec.generate_private_key(ec.SECP384R1())
        image = self.signed_image(key, data,
                                  certificate=make_certificate(other))
        self.assert_refused(image, data, 'Signature verification failed')

    def test_wrong_hash_method_is_400(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # Signed with SHA-256, declared SHA-512.
        image = self.signed_image(
            key, data, img_signature_hash_method='SHA-512')
        self.assert_refused(image, data, 'Signature verification failed')
        image = self.signed_image(key, data,
                                  img_signature_hash_method='MD5')
        self.assert_refused(image, data, 'hash method')

    def test_key_type_not_matching_the_certificate_is_400(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(key, data, key_type='DSA')
        self.assert_refused(image, data, 'key type')

    def test_expired_or_not_yet_valid_certificate_is_400(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        expired = self.signed_image(
            key, data, certificate=make_certificate(key, days=(-30, -1)))
        self.assert_refused(expired, data, 'expired')
        early = self.signed_image(
            key, data, certificate=make_certificate(key, days=(1, 30)))
        self.assert_refused(early, data, 'not valid before')

    def test_unknown_certificate_is_400(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        unknown = str(uuid.uuid4())
        image = self.signed_image(
            key, data, img_signature_certificate_uuid=unknown)
        self.assert_refused(image, data, unknown)

    def test_missing_property_is_400(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(key, data, img_signature_key_type=None)
        self.assert_refused(image, data, 'img_signature_key_type')

    def test_bad_base64_signature_is_400(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(key, data, img_signature='not*base64')
        self.assert_refused(image, data, 'base64')

    def test_unsigned_image_needs_no_key_manager(self):
        image = self.new_image(disk_format='raw', container_format='bare')
        self.assertEqual(204, self.upload(image['id'], b'plain').status_code)
        self.assertEqual('active', self.show(image['id'])['status'])


class TestSignedImport(SignatureTest):

    def stage(self, image_id, data):
        return self.request('PUT', '/v2/images/%s/stage' % image_id,
                            data=data, headers=dict(self.member_a(), **OCTET))

    def import_and_wait(self, image_id, timeout=60):
        resp = self.request('POST', '/v2/images/%s/import' % image_id,
                            json={'method': {'name': 'glance-direct'}},
                            headers=self.member_a())
        self.assertEqual(202, resp.status_code, resp.text)
        deadline = time.monotonic() + timeout
        while True:
            resp = self.request('GET', '/v2/images/%s/tasks' % image_id,
                                headers=self.member_a())
            self.assertEqual(200, resp.status_code, resp.text)
            tasks = resp.json()['tasks']
            if tasks and tasks[0]['status'] in ('success', 'failure'):
                return tasks[0]
            if time.monotonic() > deadline:
                self.fail('import of %s did not end: %s' % (image_id, tasks))
            time.sleep(0.1)

    def test_good_signature_imports(self):
        data = self.data()
        key = ec.generate_private_key(ec.SECP521R1())
        image = self.signed_image(key, data, hash_method='SHA-384')
        self.assertEqual(204, self.stage(image['id'], data).status_code)
        task = self.import_and_wait(image['id'])
        self.assertEqual('success', task['status'], task)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(len(data), shown['size'])

    def assert_import_fails(self, image, data, *words):
        self.assertEqual(204, self.stage(image['id'], data).status_code)
        task = self.import_and_wait(image['id'])
        self.assertEqual('failure', task['status'], task)
        for word in words:
            self.assertIn(word, task['message'])
        self.assert_nothing_stored(image['id'])
        self.assertNotIn(image['id'], ' '.join(self.staged_files()))

    def test_wrong_signature_fails_the_task(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(key, data)
        self.assert_import_fails(image, data[1:] + b'x',
                                 'Signature verification failed')

    def test_wrong_hash_method_fails_the_task(self):
        data = self.data()
        key = dsa.generate_private_key(key_size=2048)
        image = self.signed_image(key, data,
                                  img_signature_hash_method='SHA-224')
        self.assert_import_fails(image, data,
                                 'Signature verification failed')

    def test_expired_certificate_fails_the_task(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(
            key, data, certificate=make_certificate(key, days=(-30, -1)))
        self.assert_import_fails(image, data, 'expired')

    def test_unknown_certificate_fails_the_task(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        unknown = str(uuid.uuid4())
        image = self.signed_image(
            key, data, img_signature_certificate_uuid=unknown)
        self.assert_import_fails(image, data, unknown)

    def test_missing_property_fails_the_task(self):
        data = self.data()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        image = self.signed_image(key, data, img_signature=None)
        self.assert_import_fails(image, data, 'img_signature')
