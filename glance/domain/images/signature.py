"""Image signature verification, as uploads and imports use it.

An image whose properties carry ``img_signature``,
``img_signature_hash_method``, ``img_signature_key_type`` and
``img_signature_certificate_uuid`` has its data checked against that
signature when it is uploaded or imported: ``check_for`` fetches and
checks the certificate (``signature_check``), ``VerifyingReader`` hashes
the data as it streams to the store, and the verifier's ``verify`` checks
the digest at the end. Anything wrong is a
``SignatureVerificationError`` (400): the upload or import fails and what
was stored is removed.

Some but not all of the four properties: the image claims a signature
that cannot be checked, and its data is refused as well.

This module stays light (no cryptography, no castellan): every upload
asks ``wanted``, few images are signed.
"""

from typing import TYPE_CHECKING, Any, Mapping, Optional

from glance.common import exception

if TYPE_CHECKING:
    from glance.domain.images import signature_check

SIGNATURE = 'img_signature'
HASH_METHOD = 'img_signature_hash_method'
KEY_TYPE = 'img_signature_key_type'
CERT_UUID = 'img_signature_certificate_uuid'
PROPERTIES = (SIGNATURE, HASH_METHOD, KEY_TYPE, CERT_UUID)


def wanted(properties: Mapping[str, Any]) -> bool:
    """True when the properties ask for a signature check; a
    ``SignatureVerificationError`` when only some of the four are set."""
    present = [p for p in PROPERTIES if properties.get(p) not in (None, '')]
    if not present:
        return False
    missing = [p for p in PROPERTIES if p not in present]
    if missing:
        raise exception.SignatureVerificationError(
            'Required image properties for signature verification do not '
            'exist. Cannot verify signature. Missing: %s.'
            % ', '.join(missing))
    return True


def check_for(ctx: Any, properties: Mapping[str, Any]
              ) -> Optional['signature_check.Check']:
    """The check an image's properties ask for (its certificate fetched
    from the key manager with ``ctx``'s credentials and found valid), None
    when they ask for none."""
    if not wanted(properties):
        return None
    # Loaded by the first signed image only.
    from glance.domain.images import signature_check
    certificate = signature_check.fetch_certificate(ctx,
                                                    properties[CERT_UUID])
    return signature_check.Check(certificate, properties[HASH_METHOD],
                                 properties[KEY_TYPE], properties[SIGNATURE])


class VerifyingReader:
    """A reader passing what ``source`` gives through ``verifier``."""

    def __init__(self, source: Any, verifier: 'signature_check.Verifier'):
        self.source = source
        self.verifier = verifier

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        if data:
            self.verifier.update(data)
        return data
