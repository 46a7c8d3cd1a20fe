"""The cryptography of image signature verification (see ``signature``).

The certificate comes from the key manager through castellan
(``[key_manager] backend``, ``[barbican]``), read with the caller's
credentials; it must be an X.509 certificate within its validity dates
whose public key is of the type ``img_signature_key_type`` names. The
signature is checked on the digest of the data (``Prehashed``), computed
while the data streams: RSA-PSS (MGF1 with the same hash, any salt
length), DSA, or ECDSA on the named curve; hashes SHA-224, SHA-256,
SHA-384, SHA-512.
"""

import base64
import binascii
import datetime
from typing import Any, Optional

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric import utils
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

HASH_METHODS = {
    'SHA-224': hashes.SHA224,
    'SHA-256': hashes.SHA256,
    'SHA-384': hashes.SHA384,
    'SHA-512': hashes.SHA512,
}

# ECC_<curve>: the curves upstream names; the binary (SECT) ones only
# where this build of cryptography still has them.
_CURVES = ('SECT571K1', 'SECT409K1', 'SECT571R1', 'SECT409R1', 'SECP521R1',
           'SECP384R1')
EC_CURVES = {'ECC_' + name: getattr(ec, name) for name in _CURVES
             if hasattr(ec, name)}
KEY_TYPES = ('RSA-PSS', 'DSA') + tuple(EC_CURVES)

Failed = exception.SignatureVerificationError

# Made on first use: castellan registers its options then.
_key_manager = None


def _key_manager_api() -> Any:
    global _key_manager
    if _key_manager is None:
        from castellan import key_manager
        _key_manager = key_manager.API(CONF)
    return _key_manager


def fetch_certificate(ctx: Any, cert_uuid: str) -> x509.Certificate:
    """The X.509 certificate ``cert_uuid`` of the key manager, read with
    the credentials of ``ctx`` (an oslo.context request context)."""
    from castellan.common import exception as km_exception
    from castellan.common.objects import x_509
    try:
        secret = _key_manager_api().get(ctx, cert_uuid)
    except km_exception.ManagedObjectNotFoundError:
        raise Failed('Certificate %s of the image signature was not found '
                     'in the key manager.' % cert_uuid)
    except Exception as e:
        LOG.warning('Could not read certificate %s from the key manager: '
                    '%s', cert_uuid, e)
        raise Failed('Unable to retrieve certificate with ID %s: %s'
                     % (cert_uuid, e))
    if not isinstance(secret, x_509.X509):
        raise Failed('Invalid certificate format: secret %s of the key '
                     'manager is not an X.509 certificate.' % cert_uuid)
    try:
        return x509.load_der_x509_certificate(secret.get_encoded())
    except ValueError as e:
        raise Failed('Certificate %s cannot be read: %s' % (cert_uuid, e))


def check_certificate(certificate: x509.Certificate,
                      now: Optional[datetime.datetime] = None) -> None:
    """A ``SignatureVerificationError`` unless ``now`` is within the
    validity dates of the certificate."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now < certificate.not_valid_before_utc:
        raise Failed('The certificate of the image signature is not valid '
                     'before %s.'
                     % certificate.not_valid_before_utc.isoformat())
    if now > certificate.not_valid_after_utc:
        raise Failed('The certificate of the image signature expired at %s.'
                     % certificate.not_valid_after_utc.isoformat())


class Verifier:
    """Hashes image data as it passes and checks the signature at the
    end, on the digest (the data is never read twice)."""

    def __init__(self, public_key: Any, hash_method: str, key_type: str,
                 signature: bytes):
        self._public_key = public_key
        self._algorithm = HASH_METHODS[hash_method]()
        self._key_type = key_type
        self._signature = signature
        self._hash = hashes.Hash(self._algorithm)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def verify(self) -> None:
        """Nothing when the signature matches the data seen; else a
        ``SignatureVerificationError``."""
        digest = self._hash.finalize()
        prehashed = utils.Prehashed(self._algorithm)
        try:
            if self._key_type == 'RSA-PSS':
                self._public_key.verify(
                    self._signature, digest,
                    padding.PSS(mgf=padding.MGF1(self._algorithm),
                                salt_length=padding.PSS.AUTO),
                    prehashed)
            elif self._key_type == 'DSA':
                self._public_key.verify(self._signature, digest, prehashed)
            else:
                self._public_key.verify(self._signature, digest,
                                        ec.ECDSA(prehashed))
        except crypto_exceptions.InvalidSignature:
            raise Failed('Signature verification failed: the image data '
                         'does not match img_signature.')


class Check:
    """What an image's signature properties ask for, its certificate
    checked; ``verifier()`` gives one ``Verifier`` per pass over the data.
    """

    def __init__(self, certificate: x509.Certificate, hash_method: str,
                 key_type: str, signature: str,
                 now: Optional[datetime.datetime] = None):
        if hash_method not in HASH_METHODS:
            raise Failed('Invalid signature hash method: %s (supported: %s).'
                         % (hash_method, ', '.join(sorted(HASH_METHODS))))
        if key_type not in KEY_TYPES:
            raise Failed('Invalid signature key type: %s (supported: %s).'
                         % (key_type, ', '.join(KEY_TYPES)))
        try:
            self.signature = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise Failed('The signature data was not properly encoded using '
                         'base64.')
        check_certificate(certificate, now)
        key = certificate.public_key()
        if key_type == 'RSA-PSS':
            fits = isinstance(key, rsa.RSAPublicKey)
        elif key_type == 'DSA':
            fits = isinstance(key, dsa.DSAPublicKey)
        else:
            fits = (isinstance(key, ec.EllipticCurvePublicKey) and
                    isinstance(key.curve, EC_CURVES[key_type]))
        if not fits:
            raise Failed('The public key of the certificate does not match '
                         'the signature key type %s.' % key_type)
        self.public_key = key
        self.hash_method = hash_method
        self.key_type = key_type

    def verifier(self) -> Verifier:
        return Verifier(self.public_key, self.hash_method, self.key_type,
                        self.signature)
