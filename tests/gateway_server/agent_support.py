"""Helpers for tests of the agent channel: the platform in-process with both
gRPC listeners on free ports of 127.0.0.1 (real TLS, real certificates), a
partner and a site with an enrollment token made through the REST API, and
agents that enroll (with a CSR, as compliance_sdk's agent does) and then call
the agent listener over mutual TLS."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway_server.compliance._proto import compliance_pb2 as pb
from gateway_server.compliance._proto import compliance_pb2_grpc as rpc
from tests.compliance_support import Partner, Platform, running_platform

GRPC = {"grpc_enabled": True, "grpc_agent_port": 0, "grpc_enrollment_port": 0}


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def csr_for(key: Any, name: str = "ignored") -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def self_made_ca(common_name: str = "Foreign CA") -> tuple[x509.Certificate, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def foreign_client(agent_id: str) -> tuple[bytes, bytes]:
    """A client certificate naming ``agent_id`` from a CA that is not ours (key, cert)."""
    ca, ca_key = self_made_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, agent_id)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return private_pem(key), cert.public_bytes(serialization.Encoding.PEM)


@attrs.define
class Agent:
    """An enrolled agent: its id, key and certificate, and a stub on the agent listener."""

    agent_id: str
    site_id: str
    key_pem: bytes
    cert_pem: bytes
    response: pb.RegisterResponse
    channel: grpc.aio.Channel
    stub: rpc.ComplianceAgentAsyncStub


@attrs.define
class AgentWorld:
    platform: Platform
    partner: Partner
    site_id: str
    token: str
    ca_pem: bytes
    ports: dict[str, int]
    """The listeners' ports by name (the app's ``services.grpc_ports``)."""
    channels: list[grpc.aio.Channel] = attrs.field(factory=list)

    def channel(
        self, listener: str, key_pem: bytes | None = None, cert_pem: bytes | None = None
    ) -> grpc.aio.Channel:
        """A channel to a listener, trusting our CA (with a client identity if given)."""
        credentials = grpc.ssl_channel_credentials(self.ca_pem, key_pem, cert_pem)
        channel = grpc.aio.secure_channel(f"127.0.0.1:{self.ports[listener]}", credentials)
        self.channels.append(channel)
        return channel

    def stub(
        self, listener: str, key_pem: bytes | None = None, cert_pem: bytes | None = None
    ) -> rpc.ComplianceAgentAsyncStub:
        return rpc.ComplianceAgentStub(self.channel(listener, key_pem, cert_pem))

    async def token_for(self, site_id: str | None = None, **body: Any) -> str:
        site = site_id or self.site_id
        r = await self.platform.call(
            "POST",
            f"/api/sites/{site}/enrollment-tokens",
            json_body=body,
            as_user=self.partner.users["admin"],
        )
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    async def enroll(self, hostname: str = "PC-1", token: str | None = None) -> Agent:
        """An agent enrolled with a CSR for its own P-256 key, connected over mTLS."""
        key = ec.generate_private_key(ec.SECP256R1())
        response = await self.stub("enrollment").Register(
            pb.RegisterRequest(
                hostname=hostname,
                os_version="Windows 11",
                agent_version="0.3.0",
                enrollment_token=token or self.token,
                csr_pem=csr_for(key),
            ),
            timeout=10,
        )
        key_pem = private_pem(key)
        channel = self.channel("agent", key_pem, response.agent_cert_pem)
        return Agent(
            response.agent_id,
            response.site_id,
            key_pem,
            response.agent_cert_pem,
            response,
            channel,
            rpc.ComplianceAgentStub(channel),
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


@contextlib.asynccontextmanager
async def agent_world(
    tmp_path: Path, tier: str = "self_heal", **overrides: Any
) -> AsyncIterator[AgentWorld]:
    """The platform serving both listeners, partner "alpha" with a site of
    ``tier`` and an enrollment token for it."""
    async with running_platform(tmp_path, **{**GRPC, **overrides}) as platform:
        partner = await platform.partner("alpha")
        site_id = await platform.site(partner, "Alpha Clinic", capability_tier=tier)
        r = await platform.call(
            "POST",
            f"/api/sites/{site_id}/enrollment-tokens",
            json_body={},
            as_user=partner.users["admin"],
        )
        assert r.status_code == 201, r.text
        body = r.json()
        ca = body["ca_cert_pem"].encode()
        ports = platform.app.services.grpc_ports
        world = AgentWorld(platform, partner, site_id, body["token"], ca, ports)
        try:
            yield world
        finally:
            await world.close()


def drift_event(
    agent: Agent, event_id: str, check: str = "firewall", passed: bool = False, **extra: Any
) -> pb.DriftEvent:
    """A drift event of ``agent`` (host PC-1, firewall off unless told otherwise)."""
    fields: dict[str, Any] = {
        "agent_id": agent.agent_id,
        "hostname": "PC-1",
        "check_type": check,
        "passed": passed,
        "expected": "on",
        "actual": "off",
        "event_id": event_id,
        **extra,
    }
    return pb.DriftEvent(**fields)
