"""The agent's identity: its key, its CSR, the pinned CA, and the files that keep them.

The private key is made here (ECDSA P-256) and never leaves the agent. Every
file under the state directory is created with mode 0600 from the first byte
(``os.open(..., 0o600)`` on a fresh name, then an atomic rename), never
chmodded after the fact, and the directory itself is 0700.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sdk_core import InputValidationError

from ._errors import PinError

__all__ = [
    "AgentIdentity",
    "AgentState",
    "ca_matching_fingerprint",
    "certificate_validity",
    "check_issued",
    "fingerprint",
    "key_pem",
    "load_pinned_ca",
    "make_csr",
    "make_key",
    "normalize_fingerprint",
    "write_private",
]

KEY_FILE = "agent.key"
CERT_FILE = "agent.pem"
CA_FILE = "ca.pem"
STATE_FILE = "agent.json"


def normalize_fingerprint(value: str) -> str:
    """Lower-case hex without separators (``AB:CD:...`` and ``sha256:...`` accepted)."""
    text = value.strip().lower().removeprefix("sha256:").replace(":", "")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InputValidationError("ca_fingerprint", "a SHA-256 fingerprint is 64 hex digits")
    return text


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, lower-case hex (what enrollment tokens carry)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def ca_matching_fingerprint(certs: list[x509.Certificate], pin: str) -> x509.Certificate:
    """The CA certificate among ``certs`` whose fingerprint is ``pin``; PinError when none."""
    wanted = normalize_fingerprint(pin)
    for cert in certs:
        if hmac.compare_digest(fingerprint(cert), wanted) and _is_ca(cert):
            return cert
    raise PinError("no CA certificate with the pinned SHA-256 fingerprint")


def load_pinned_ca(pem: bytes, pin: str) -> bytes:
    """``pem`` (one or more certificates) reduced to the CA whose fingerprint is ``pin``."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise PinError(f"ca_cert_pem: not PEM certificates ({exc})") from None
    return ca_matching_fingerprint(certs, pin).public_bytes(serialization.Encoding.PEM)


def make_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_csr(key: ec.EllipticCurvePrivateKey, hostname: str) -> bytes:
    """A PKCS#10 request for ``key`` (the server ignores the subject and names the agent)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64] or "agent")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def check_issued(
    cert_pem: bytes, ca_pem: bytes, key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    """The certificate the server answered, checked: signed by the pinned CA, for our key."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise PinError("agent_cert_pem: not a PEM certificate") from None
    ca = x509.load_pem_x509_certificate(ca_pem)
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise PinError(
            f"agent_cert_pem: not issued by the pinned CA ({type(exc).__name__})"
        ) from None
    mine = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if mine != theirs:
        raise PinError("agent_cert_pem: certifies another key than the one we sent")
    return cert


def certificate_validity(cert_pem: bytes) -> tuple[float, float]:
    """(notBefore, notAfter) of a PEM certificate, Unix seconds."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return (
        cert.not_valid_before_utc.timestamp(),
        cert.not_valid_after_utc.timestamp(),
    )


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only: a fresh temporary file
    created 0600 (O_EXCL), written and fsynced, then renamed over ``path``."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@attrs.define
class AgentState:
    """What enrollment answered, kept in ``agent.json`` beside the key."""

    agent_id: str
    site_id: str = ""
    agent_address: str = ""
    check_interval_seconds: int = 0
    enabled_checks: list[str] = attrs.field(factory=list)
    capability_tier: str = "MONITOR_ONLY"
    check_config: dict[str, str] = attrs.field(factory=dict)
    certificate_expires_at: int = 0

    def to_json(self) -> bytes:
        return json.dumps(attrs.asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> AgentState:
        raw: dict[str, Any] = json.loads(data)
        fields = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in fields})


@attrs.frozen(repr=False)
class AgentIdentity:
    """The enrolled agent's credentials as grpc takes them (PEM bytes)."""

    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes
    state: AgentState

    def __repr__(self) -> str:  # the key never shows
        return f"AgentIdentity(agent_id={self.state.agent_id!r}, site_id={self.state.site_id!r})"

    @property
    def validity(self) -> tuple[float, float]:
        return certificate_validity(self.cert_pem)

    def save(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(directory / CA_FILE, self.ca_pem)
        write_private(directory / KEY_FILE, self.key_pem)
        write_private(directory / CERT_FILE, self.cert_pem)
        write_private(directory / STATE_FILE, self.state.to_json())

    @classmethod
    def load(cls, directory: Path) -> AgentIdentity | None:
        """The saved identity, None when the agent has not enrolled there."""
        files = [directory / n for n in (KEY_FILE, CERT_FILE, CA_FILE, STATE_FILE)]
        if not all(f.exists() for f in files):
            return None
        key, cert, ca, state = (f.read_bytes() for f in files)
        return cls(key, cert, ca, AgentState.from_json(state))
