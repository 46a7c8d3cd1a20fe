"""Helpers shared by the unit tests that talk to real servers on
127.0.0.1: servers run in a thread, self-signed TLS certificates."""

import datetime
import os
import socketserver
import threading
import typing

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class _Cleanups(typing.Protocol):
    def addCleanup(self, function, *args, **kwargs): ...


def serve_in_thread(owner: _Cleanups, server: socketserver.BaseServer,
                    poll_interval: float = 0.05) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread until ``owner`` (a
    test case or fixture) cleans up: the server is then shut down, its
    socket closed and the thread joined (5 seconds at most), so that no
    test leaves a listening socket or a running thread behind."""
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={'poll_interval': poll_interval},
                              daemon=True)
    thread.start()
    owner.addCleanup(thread.join, 5)
    owner.addCleanup(server.server_close)
    owner.addCleanup(server.shutdown)
    return thread


def self_signed_certificate(
        directory: str, common_name: str,
        alt_names: typing.Sequence[x509.GeneralName]) -> tuple[str, str]:
    """The paths of ``cert.pem`` and ``key.pem``, written to ``directory``:
    a certificate for ``common_name`` that is its own CA (a client can
    trust it as its CA file) and is valid for the subject alternative
    names ``alt_names`` (e.g. ``x509.DNSName('images.test')`` or
    ``x509.IPAddress(ipaddress.ip_address('127.0.0.1'))``), from an hour
    ago to a day from now, and its EC private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(list(alt_names)),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, 'cert.pem')
    key_path = os.path.join(directory, 'key.pem')
    with open(cert_path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path
