"""The agent CA (ECDSA P-256, about ten years), made on first use under the
data directory, its key file mode 0600. Enrollment tokens carry its
certificate's SHA-256 fingerprint, which agents pin when they enroll.

It issues the agents' client certificates (365 days, client-auth EKU, the
agent id as the subject's CN) from a verified P-256 CSR or from a key pair
made here, and the agent channel's own server certificate (server-auth EKU,
the listeners' names as SANs), kept beside it and renewed when
``server_certificate_due`` (``_rules.py``) says so. Time is the injected clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import ipaddress
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ._rules import server_certificate_due

__all__ = ["AGENT_CERT_DAYS", "AgentCA", "BadCSR", "Issued", "ServerCertificate"]

_LIFETIME = dt.timedelta(days=3652)
AGENT_CERT_DAYS = 365
SERVER_CERT_DAYS = 365
_BACKDATE = dt.timedelta(minutes=5)  # tolerate peers whose clocks run a little behind


class BadCSR(ValueError):
    """A CSR that is not PEM PKCS#10, not self-signed correctly, or not for a P-256 key."""


@attrs.frozen
class Issued:
    """A certificate just issued (PEM), its notAfter, and the key when made here."""

    cert_pem: bytes
    not_after: float
    key_pem: bytes = b""


@attrs.frozen
class ServerCertificate:
    cert_pem: bytes
    key_pem: bytes = attrs.field(repr=False)
    not_after: float
    names: frozenset[str]


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    """Written 0600 from the start (never readable by others, even for a moment)."""
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)


def public_key_of_csr(csr_pem: bytes) -> ec.EllipticCurvePublicKey:
    """The CSR's key, once its signature is verified and the key is P-256."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        raise BadCSR("csr_pem is not a PEM certificate signing request") from None
    try:
        key = csr.public_key()
    except (ValueError, x509.UnsupportedGeneralNameType):  # pragma: no cover (odd key encodings)
        raise BadCSR("csr_pem has an unreadable public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadCSR("csr_pem must be for an ECDSA P-256 key")
    try:
        valid = csr.is_signature_valid
    except (ValueError, InvalidSignature):  # pragma: no cover (cryptography returns False)
        valid = False
    if not valid:
        raise BadCSR("csr_pem's signature does not verify")
    return key


def _name(value: str) -> str | ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return value


class AgentCA:
    def __init__(self, directory: Path, clock: Callable[[], float]) -> None:
        self.directory = directory
        self.now = clock
        self._cert_pem: str | None = None
        self._signer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None

    @property
    def cert_path(self) -> Path:
        return self.directory / "agent-ca.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "agent-ca.key"

    @property
    def server_cert_path(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key_path(self) -> Path:
        return self.directory / "server.key"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The directory to this process alone (an exclusive flock): the workers
        of ``serve --workers N`` start together, and two making the CA or the
        server certificate at once would leave one's key beside the other's
        certificate."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def cert_pem(self) -> str:
        if self._cert_pem is None:
            with self._locked():
                if not self.cert_path.exists():
                    self._create()
                self._cert_pem = self.cert_path.read_text()
        return self._cert_pem

    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER, lower-case hex."""
        cert = x509.load_pem_x509_certificate(self.cert_pem().encode())
        return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()

    def _moment(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), dt.UTC)

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Compliance agent CA")])
        now = self._moment()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _private_pem(key))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _ca(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if self._signer is None:
            cert = x509.load_pem_x509_certificate(self.cert_pem().encode())
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            self._signer = cert, key
        return self._signer

    def _issue(
        self,
        subject: str,
        public_key: ec.EllipticCurvePublicKey,
        usage: x509.ObjectIdentifier,
        days: int,
        names: Sequence[str] = (),
    ) -> tuple[bytes, float]:
        ca_cert, ca_key = self._ca()
        now = self._moment()
        not_after = now + dt.timedelta(days=days)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if names:
            alt: list[x509.GeneralName] = []
            for value in names:
                parsed = _name(value)
                if isinstance(parsed, str):
                    alt.append(x509.DNSName(parsed))
                else:
                    alt.append(x509.IPAddress(parsed))
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), not_after.timestamp()

    def issue_agent(self, agent_id: str, csr_pem: bytes | None) -> Issued:
        """The agent's client certificate: for the CSR's key (verified, P-256),
        or for a key pair made here, returned once (``csr_pem`` None)."""
        if csr_pem is not None:
            cert, not_after = self._issue(
                agent_id,
                public_key_of_csr(csr_pem),
                ExtendedKeyUsageOID.CLIENT_AUTH,
                AGENT_CERT_DAYS,
            )
            return Issued(cert, not_after)
        key = ec.generate_private_key(ec.SECP256R1())
        cert, not_after = self._issue(
            agent_id, key.public_key(), ExtendedKeyUsageOID.CLIENT_AUTH, AGENT_CERT_DAYS
        )
        return Issued(cert, not_after, _private_pem(key))

    def server_certificate(self, names: Sequence[str]) -> ServerCertificate:
        """The listeners' certificate for ``names``: the one kept, or a new one
        when ``server_certificate_due`` (missing, other names, under 30 days left)."""
        wanted = frozenset(names)
        self.cert_pem()
        with self._locked():  # read and renewed as one: another worker may have renewed
            current = self._stored_server_certificate()
            if current is not None and not server_certificate_due(
                current.not_after, current.names, wanted, self.now()
            ):
                return current
            return self._new_server_certificate(wanted)

    def _new_server_certificate(self, wanted: frozenset[str]) -> ServerCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        cert, not_after = self._issue(
            sorted(wanted)[0] if wanted else "localhost",
            key.public_key(),
            ExtendedKeyUsageOID.SERVER_AUTH,
            SERVER_CERT_DAYS,
            sorted(wanted),
        )
        key_pem = _private_pem(key)
        _write_private(self.server_key_path, key_pem)
        self.server_cert_path.write_bytes(cert)
        return ServerCertificate(cert, key_pem, not_after, wanted)

    def _stored_server_certificate(self) -> ServerCertificate | None:
        if not (self.server_cert_path.exists() and self.server_key_path.exists()):
            return None
        pem = self.server_cert_path.read_bytes()
        try:
            cert = x509.load_pem_x509_certificate(pem)
            alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (ValueError, x509.ExtensionNotFound):
            return None
        try:  # a CA made again since (its files removed) did not issue this one
            cert.verify_directly_issued_by(self._ca()[0])
        except (ValueError, TypeError, InvalidSignature):
            return None
        names = {str(v) for v in alt.get_values_for_type(x509.DNSName)}
        names |= {str(v) for v in alt.get_values_for_type(x509.IPAddress)}
        not_after = cert.not_valid_after_utc.timestamp()
        return ServerCertificate(
            pem, self.server_key_path.read_bytes(), not_after, frozenset(names)
        )
