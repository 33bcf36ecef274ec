"""The agent CA (ECDSA P-256, about ten years), made on first use under the
data directory, its key file mode 0600. Enrollment tokens carry its
certificate's SHA-256 fingerprint, which agents pin when they enroll; issuing
agent certificates is the agent channel's (issue 19), over this same CA."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["AgentCA"]

_LIFETIME = dt.timedelta(days=3652)


class AgentCA:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cert_pem: str | None = None

    @property
    def cert_path(self) -> Path:
        return self.directory / "agent-ca.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "agent-ca.key"

    def cert_pem(self) -> str:
        if self._cert_pem is None:
            if not self.cert_path.exists():
                self._create()
            self._cert_pem = self.cert_path.read_text()
        return self._cert_pem

    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER, lower-case hex."""
        cert = x509.load_pem_x509_certificate(self.cert_pem().encode())
        return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()

    def _create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Compliance agent CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        pem_key = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem_key)
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
