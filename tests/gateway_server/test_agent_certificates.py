"""The agent channel's certificates over real TLS: agent certificates issued
at enrollment (from a CSR, or with a key made once) and renewed on the agent
listener; the listeners' own certificate, its chain, its renewal under 30
days without a restart, and one CA and one certificate for workers starting
together."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway_server.compliance._ca import AgentCA
from gateway_server.compliance._proto import compliance_pb2 as pb
from gateway_server.compliance._rules import server_certificate_due
from tests.gateway_server.agent_support import agent_world, csr_for


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


async def test_enrollment_without_a_csr_returns_a_key_made_once(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        response = await world.stub("enrollment").Register(
            pb.RegisterRequest(
                hostname="PC-2", enrollment_token=world.token, needs_certificates=True
            ),
            timeout=10,
        )
        key = serialization.load_pem_private_key(response.agent_key_pem, None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert isinstance(key.curve, ec.SECP256R1)
        cert = _cert(response.agent_cert_pem)
        assert cert.public_key() == key.public_key()
        stub = world.stub("agent", response.agent_key_pem, response.agent_cert_pem)
        beat = await stub.Heartbeat(pb.HeartbeatRequest(agent_id=response.agent_id), timeout=10)
        assert beat.acknowledged
        # the key is not kept: the data directory holds the CA's and the server's only
        keys = sorted(p.name for p in (tmp_path / "data").rglob("*.key"))
        assert keys == ["agent-ca.key", "server.key"]


async def test_register_on_the_agent_listener_renews_the_callers_certificate(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        world.platform.clock.advance(300 * 86_400)
        key = ec.generate_private_key(ec.SECP256R1())
        response = await agent.stub.Register(
            pb.RegisterRequest(hostname="PC-1", csr_pem=csr_for(key, "other-name")),
            timeout=10,
        )
        assert response.agent_id == agent.agent_id
        cert = _cert(response.agent_cert_pem)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == agent.agent_id
        assert cert.public_key() == key.public_key()
        assert response.certificate_expires_at > agent.response.certificate_expires_at
        r = await world.platform.call(
            "GET", f"/api/fleet/agents/{agent.agent_id}", as_user=world.partner.users["viewer"]
        )
        expires = r.json()["certificate_expires_at"]
        assert dt.datetime.fromisoformat(expires).timestamp() == pytest.approx(
            response.certificate_expires_at, abs=1
        )
        # without a CSR: the config again, no certificate
        plain = await agent.stub.Register(pb.RegisterRequest(), timeout=10)
        assert plain.agent_cert_pem == b""
        assert plain.check_interval_seconds == 300


def _served_certificate(port: int) -> x509.Certificate:
    """The certificate the enrollment listener presents in a TLS handshake (not
    verified here: one issued at a clock moved ahead is not valid yet)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


async def test_the_server_certificate_is_renewed_under_thirty_days_without_a_restart(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world:
        port = world.ports["enrollment"]
        first = await asyncio.to_thread(_served_certificate, port)
        names = first.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert set(names.get_values_for_type(x509.DNSName)) == {"localhost"}
        assert {str(a) for a in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1"}
        world.platform.clock.advance(300 * 86_400)  # 65 days left: kept
        same = await asyncio.to_thread(_served_certificate, port)
        assert same.serial_number == first.serial_number
        world.platform.clock.advance(40 * 86_400)  # 25 days left: a new one
        await asyncio.to_thread(_served_certificate, port)  # asks for it
        renewed = await asyncio.to_thread(_served_certificate, port)
        assert renewed.serial_number != first.serial_number
        assert renewed.not_valid_after_utc > first.not_valid_after_utc
        renewed.verify_directly_issued_by(x509.load_pem_x509_certificate(world.ca_pem))
        assert renewed.extensions.get_extension_for_class(x509.SubjectAlternativeName) == (
            first.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        )
        # kept in the data directory for the next start
        kept = x509.load_pem_x509_certificate((tmp_path / "data/agent-ca/server.pem").read_bytes())
        assert kept.serial_number == renewed.serial_number


def test_the_server_certificate_renewal_decision() -> None:
    day = 86_400.0
    names = frozenset({"localhost", "127.0.0.1"})
    assert not server_certificate_due(100 * day, names, names, 0)
    assert not server_certificate_due(30 * day, names, names, 0)
    assert server_certificate_due(30 * day - 1, names, names, 0)
    assert server_certificate_due(10 * day, names, names, 20 * day)  # expired
    assert server_certificate_due(100 * day, names, names | {"agents.example"}, 0)
    assert not server_certificate_due(100 * day, names | {"old"}, names, 0)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_the_listeners_send_the_ca_after_their_certificate(tmp_path: Path) -> None:
    """An agent given only the CA's fingerprint finds the CA in the handshake."""
    async with agent_world(tmp_path) as world:
        for listener in ("enrollment", "agent"):
            shown = await asyncio.to_thread(
                subprocess.run,
                ["openssl", "s_client", "-connect", f"127.0.0.1:{world.ports[listener]}",
                 "-showcerts", "-alpn", "h2"],
                input=b"", capture_output=True, timeout=30, check=False,
            )  # fmt: skip
            chain = x509.load_pem_x509_certificates(shown.stdout)
            assert len(chain) == 2, listener
            assert chain[1] == _cert(world.ca_pem)
            chain[0].verify_directly_issued_by(chain[1])


def test_workers_starting_together_make_one_ca_and_one_server_certificate(
    tmp_path: Path,
) -> None:
    """As the processes of ``serve --workers N`` would: each its own AgentCA on
    one directory, all at once (the directory's flock admits one at a time)."""
    cas = [AgentCA(tmp_path / "agent-ca", time.time) for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(len(cas)) as pool:
        made = list(pool.map(lambda ca: ca.server_certificate(["localhost"]), cas))
    assert len({m.cert_pem for m in made}) == 1
    assert len({ca.cert_pem() for ca in cas}) == 1
    cert = _cert(made[0].cert_pem)
    key = serialization.load_pem_private_key((tmp_path / "agent-ca/server.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert cert.public_key() == key.public_key()
    ca_key = serialization.load_pem_private_key(
        (tmp_path / "agent-ca/agent-ca.key").read_bytes(), None
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    assert _cert(cas[0].cert_pem().encode()).public_key() == ca_key.public_key()
    cert.verify_directly_issued_by(_cert(cas[0].cert_pem().encode()))
