"""Certificates and a DNS server for the agent's tests: real ECDSA P-256 keys and
X.509 certificates (cryptography), and a stub resolver on 127.0.0.1 built with
dnspython's message API."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import threading
from collections.abc import Iterator

import attrs
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.gateway_server.agent_support import self_made_ca

PEM = serialization.Encoding.PEM


@attrs.frozen
class Issued:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str = "Test agent CA") -> Issued:
    cert, key = self_made_ca(cn)
    return Issued(key, cert)


def issue(
    ca: Issued,
    cn: str,
    *,
    public_key: ec.EllipticCurvePublicKey | None = None,
    server: bool = False,
    days: int = 365,
) -> Issued:
    """A leaf certificate signed by ``ca``: a server's (SAN 127.0.0.1, localhost)
    or a client's (client-auth EKU)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca.cert.subject)
        .public_key(public_key or key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


# --- a stub DNS server --------------------------------------------------------


@attrs.define
class StubResolver:
    """Answers SRV questions from ``records`` (name -> [(priority, weight, port,
    target)]); NXDOMAIN for every other name. ``questions`` logs what was asked."""

    records: dict[str, list[tuple[int, int, int, str]]]
    port: int = 0
    questions: list[str] = attrs.field(factory=list)

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text()
        self.questions.append(name)
        found = self.records.get(name)
        if found is None or question.rdtype != dns.rdatatype.SRV:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        rrset = dns.rrset.from_text_list(
            question.name,
            60,
            dns.rdataclass.IN,
            dns.rdatatype.SRV,
            [f"{p} {w} {port} {target}" for p, w, port, target in found],
        )
        response.answer.append(rrset)
        return response.to_wire()


@contextlib.contextmanager
def stub_resolver(records: dict[str, list[tuple[int, int, int, str]]]) -> Iterator[StubResolver]:
    """A UDP DNS server on 127.0.0.1 (a free port) until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    server = StubResolver(records, sock.getsockname()[1])
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            sock.sendto(server.answer(wire), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        done.set()
        thread.join(5)
        sock.close()
