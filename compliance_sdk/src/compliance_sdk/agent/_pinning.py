"""The enrollment listener's CA, when the agent was given only its fingerprint.

The enrollment token comes with the CA's SHA-256 fingerprint (and, from the
REST answer, the CA's PEM). With the PEM, the agent checks its fingerprint and
trusts it. With the fingerprint alone, it first opens a TLS connection to the
enrollment listener *without* verification, reads the chain the server sends
(the server must send its CA after its own certificate) and keeps the one CA
certificate whose fingerprint is the pin; nothing is sent on that connection.
Only then does it open the gRPC channel, with that CA as its only root, so
grpc verifies the server's chain (and name) as usual before the token leaves
the agent. A man in the middle cannot produce a certificate with the pinned
fingerprint, so the token never reaches it.
"""

from __future__ import annotations

import socket
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ._errors import PinError
from ._identity import ca_matching_fingerprint

__all__ = ["fetch_pinned_ca"]


def _unverified_chain(tls: ssl.SSLSocket) -> list[bytes]:
    """The DER certificates the server sent, leaf first (Python 3.13 has it public;
    3.11 and 3.12 hold the same method on the underlying _ssl object)."""
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = tls._sslobj.get_unverified_chain  # type: ignore[attr-defined]
    chain = getter() or []
    return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]


def fetch_pinned_ca(host: str, port: int, pin: str, *, timeout: float = 10.0) -> bytes:
    """The PEM of the CA in the server's chain whose fingerprint is ``pin`` (blocking)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # verified below against the pin, then by grpc
    context.set_alpn_protocols(["h2"])
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            ders = _unverified_chain(tls)
    except (OSError, ssl.SSLError) as exc:
        raise PinError(
            f"could not read the server's certificates at {host}:{port}: {exc}"
        ) from None
    certs = [x509.load_der_x509_certificate(d) for d in ders]
    return ca_matching_fingerprint(certs, pin).public_bytes(serialization.Encoding.PEM)
