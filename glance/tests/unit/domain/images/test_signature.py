"""Signature properties, certificate checks and the streamed verifier.

The key manager itself is exercised against a real Barbican by the
functional tests (glance.tests.functional.test_signatures); here the
certificate is handed over directly.
"""

import base64
import datetime
import io
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from glance.common import exception
from glance.domain.images import signature
from glance.domain.images import signature_check
from glance.tests.unit import base

Failed = exception.SignatureVerificationError
NOW = datetime.datetime.now(datetime.timezone.utc)
ALGORITHMS = {'SHA-224': hashes.SHA224, 'SHA-256': hashes.SHA256,
              'SHA-384': hashes.SHA384, 'SHA-512': hashes.SHA512}


def certificate(key, start=-1, end=30):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'signer')])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW + datetime.timedelta(days=start))
            .not_valid_after(NOW + datetime.timedelta(days=end))
            .sign(key, hashes.SHA256()))


def sign(key, data, method):
    algorithm = ALGORITHMS[method]()
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, padding.PSS(
            mgf=padding.MGF1(algorithm),
            salt_length=padding.PSS.MAX_LENGTH), algorithm)
    elif isinstance(key, dsa.DSAPrivateKey):
        raw = key.sign(data, algorithm)
    else:
        raw = key.sign(data, ec.ECDSA(algorithm))
    return base64.b64encode(raw).decode()


def streamed(check, data, piece=4096):
    """Read ``data`` through a VerifyingReader in pieces, then verify."""
    verifier = check.verifier()
    reader = signature.VerifyingReader(io.BytesIO(data), verifier)
    while reader.read(piece):
        pass
    verifier.verify()


class TestWanted(base.TestCase):

    def test_no_property_asks_for_nothing(self):
        self.assertFalse(signature.wanted({'os_distro': 'debian'}))
        self.assertFalse(signature.wanted({'img_signature': ''}))

    def test_all_four_ask_for_a_check(self):
        self.assertTrue(signature.wanted(
            {p: 'x' for p in signature.PROPERTIES}))

    def test_some_but_not_all_is_refused_naming_the_missing(self):
        props = {'img_signature': 'x', 'img_signature_hash_method': 'SHA-256'}
        e = self.assertRaises(Failed, signature.wanted, props)
        self.assertEqual(400, e.code)
        self.assertIn('img_signature_key_type', str(e))
        self.assertIn('img_signature_certificate_uuid', str(e))
        self.assertNotIn('img_signature_hash_method', str(e))

    def test_check_for_fetches_nothing_without_properties(self):
        self.assertIsNone(signature.check_for(None, {}))

    def test_light_module_loads_no_cryptography(self):
        code = ('import sys; import glance.domain.images.signature; '
                'print(sorted(m for m in sys.modules if m.split(".")[0] in '
                '("cryptography", "castellan")))')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual('[]', out.strip())


class TestVerifier(base.TestCase):

    data = os.urandom(200 * 1024 + 3)

    def keys(self):
        return [
            ('RSA-PSS', rsa.generate_private_key(public_exponent=65537,
                                                 key_size=2048)),
            ('DSA', dsa.generate_private_key(key_size=2048)),
            ('ECC_SECP384R1', ec.generate_private_key(ec.SECP384R1())),
            ('ECC_SECP521R1', ec.generate_private_key(ec.SECP521R1())),
        ]

    def test_every_key_type_and_hash_method_verifies(self):
        for key_type, key in self.keys():
            for method in ALGORITHMS:
                check = signature_check.Check(
                    certificate(key), method, key_type,
                    sign(key, self.data, method))
                streamed(check, self.data)

    def test_changed_data_fails(self):
        for key_type, key in self.keys():
            check = signature_check.Check(
                certificate(key), 'SHA-256', key_type,
                sign(key, self.data, 'SHA-256'))
            e = self.assertRaises(Failed, streamed, check,
                                  self.data[:-1] + b'\0')
            self.assertIn('Signature verification failed', str(e))
            # One verifier per pass: the next one starts afresh.
            streamed(check, self.data)

    def test_declared_hash_method_other_than_signed_fails(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        check = signature_check.Check(certificate(key), 'SHA-512', 'RSA-PSS',
                                      sign(key, self.data, 'SHA-256'))
        self.assertRaises(Failed, streamed, check, self.data)

    def test_salt_of_digest_length_is_accepted(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        raw = key.sign(self.data, padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()),
            salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        check = signature_check.Check(certificate(key), 'SHA-256', 'RSA-PSS',
                                      base64.b64encode(raw).decode())
        streamed(check, self.data)

    def test_unknown_hash_method_or_key_type_is_refused(self):
        key = ec.generate_private_key(ec.SECP384R1())
        cert = certificate(key)
        e = self.assertRaises(Failed, signature_check.Check, cert, 'MD5',
                              'ECC_SECP384R1', 'AAAA')
        self.assertIn('hash method', str(e))
        e = self.assertRaises(Failed, signature_check.Check, cert, 'SHA-256',
                              'ECC_SECP256R1', 'AAAA')
        self.assertIn('key type', str(e))

    def test_key_type_must_match_the_certificate(self):
        rsa_key = rsa.generate_private_key(public_exponent=65537,
                                           key_size=2048)
        ec_key = ec.generate_private_key(ec.SECP384R1())
        for cert, key_type in ((certificate(rsa_key), 'DSA'),
                               (certificate(rsa_key), 'ECC_SECP384R1'),
                               (certificate(ec_key), 'ECC_SECP521R1'),
                               (certificate(ec_key), 'RSA-PSS')):
            e = self.assertRaises(Failed, signature_check.Check, cert,
                                  'SHA-256', key_type, 'AAAA')
            self.assertIn('key type %s' % key_type, str(e))

    def test_signature_must_be_base64(self):
        key = ec.generate_private_key(ec.SECP384R1())
        e = self.assertRaises(Failed, signature_check.Check, certificate(key),
                              'SHA-256', 'ECC_SECP384R1', 'not base64!')
        self.assertIn('base64', str(e))

    def test_certificate_validity_dates(self):
        key = ec.generate_private_key(ec.SECP384R1())
        sig = sign(key, self.data, 'SHA-256')
        e = self.assertRaises(Failed, signature_check.Check,
                              certificate(key, -30, -1), 'SHA-256',
                              'ECC_SECP384R1', sig)
        self.assertIn('expired', str(e))
        e = self.assertRaises(Failed, signature_check.Check,
                              certificate(key, 1, 30), 'SHA-256',
                              'ECC_SECP384R1', sig)
        self.assertIn('not valid before', str(e))
        # Judged at the time given.
        signature_check.Check(certificate(key, 1, 30), 'SHA-256',
                              'ECC_SECP384R1', sig,
                              now=NOW + datetime.timedelta(days=2))
