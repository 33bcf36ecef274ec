"""The agent channel end to end: real grpc.aio listeners on 127.0.0.1 with
real certificates from the agent CA, the platform in-process, its REST API
read back through the contract-checked client."""

from __future__ import annotations

import uuid
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway_server.compliance._proto import compliance_pb2 as pb
from tests.gateway_server.agent_support import agent_world, drift_event


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


async def test_enrollment_with_a_csr_signs_the_agents_own_key(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        cert = _cert(agent.cert_pem)
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert cn == agent.agent_id
        assert str(uuid.UUID(agent.agent_id)) == agent.agent_id
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        assert 365 <= lifetime.days <= 366
        assert agent.response.agent_key_pem == b""
        assert agent.response.site_id == world.site_id
        assert agent.response.capability_tier == pb.SELF_HEAL
        assert agent.response.ca_cert_pem == world.ca_pem
        assert agent.response.certificate_expires_at == int(cert.not_valid_after_utc.timestamp())
        assert agent.response.agent_address == f"127.0.0.1:{world.ports['agent']}"
        cert.verify_directly_issued_by(_cert(world.ca_pem))
        # the mTLS listener accepts it
        ack = await agent.stub.Heartbeat(pb.HeartbeatRequest(agent_id=agent.agent_id), timeout=10)
        assert ack.acknowledged


async def test_drift_acked_and_healed_then_resolved_seen_through_rest(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        acks = [
            ack
            async for ack in agent.stub.ReportDrift(
                iter(
                    [
                        drift_event(agent, "e-1", passed=True, check="bitlocker"),
                        drift_event(agent, "e-2"),
                    ]
                ),
                timeout=10,
            )
        ]
        assert [a.event_id for a in acks] == ["e-1", "e-2"]
        assert all(a.received for a in acks)
        assert not acks[0].HasField("heal_command")
        command = acks[1].heal_command
        assert command.action == "enable_firewall"
        assert command.check_type == "firewall"
        admin = world.partner.users["admin"]
        r = await world.platform.call(
            "GET", "/api/incidents", params={"site_id": world.site_id}, as_user=admin
        )
        (incident,) = r.json()["items"]
        assert incident["check_type"] == "firewall"
        assert not incident["resolved"]
        result = pb.HealingResult(
            agent_id=agent.agent_id,
            hostname="PC-1",
            check_type="firewall",
            success=True,
            command_id=command.command_id,
            event_id="h-1",
        )
        healed = await agent.stub.ReportHealing(result, timeout=10)
        assert healed.received
        assert healed.event_id == "h-1"
        r = await world.platform.call("GET", f"/api/incidents/{incident['id']}", as_user=admin)
        assert r.json()["resolved"] is True
        assert r.json()["resolved_by"] == "agent"
