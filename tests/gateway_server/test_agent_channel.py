"""The agent channel end to end: real grpc.aio listeners on 127.0.0.1 with
real certificates from the agent CA, the platform in-process, its REST API
read back through the contract-checked client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway_server.compliance._proto import compliance_pb2 as pb
from tests.compliance_support import Partner, running_platform
from tests.gateway_server.agent_support import GRPC, AgentWorld, agent_world, drift_event
from tests.gateway_support import ServerProcess, free_port


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


async def test_a_resent_event_is_acked_again_and_applied_once(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        first = [a async for a in agent.stub.ReportDrift(iter([drift_event(agent, "e-1")]))]
        again = [
            a
            async for a in agent.stub.ReportDrift(
                iter([drift_event(agent, "e-1"), drift_event(agent, "e-1")])
            )
        ]
        assert [a.event_id for a in again] == ["e-1", "e-1"]
        # the same answer, the same command: the agent may have missed the first ack
        assert all(a.heal_command == first[0].heal_command for a in again)
        admin = world.partner.users["admin"]
        r = await world.platform.call(
            "GET", "/api/incidents", params={"site_id": world.site_id}, as_user=admin
        )
        (incident,) = r.json()["items"]
        row, _ = await world.platform.api.incidents.get(world.partner.id, incident["id"])
        assert row.occurrences == 1  # (not in the REST view)
        r = await world.platform.call(
            "GET",
            f"/api/runbooks/{first[0].heal_command.params['runbook_id']}/executions",
            as_user=admin,
        )
        assert r.json()["total"] == 1
        result = pb.HealingResult(
            agent_id=agent.agent_id,
            check_type="firewall",
            success=True,
            command_id=first[0].heal_command.command_id,
            event_id="h-1",
        )
        for _ in range(3):
            assert (await agent.stub.ReportHealing(result, timeout=10)).received
        result.event_id = "h-2"  # a new id for a command already answered: acked, not recorded
        assert (await agent.stub.ReportHealing(result, timeout=10)).received
        r = await world.platform.call("GET", "/api/learning/candidates", as_user=admin)
        assert r.json()["total"] == 0
        # a new failure after the resolution opens a new incident: a new event id
        more = [a async for a in agent.stub.ReportDrift(iter([drift_event(agent, "e-2")]))]
        assert more[0].heal_command.command_id != first[0].heal_command.command_id


async def test_events_without_an_id_get_one_from_the_server(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        events = [drift_event(agent, "", passed=True), drift_event(agent, "", passed=True)]
        acks = [a async for a in agent.stub.ReportDrift(iter(events), timeout=10)]
        ids = [a.event_id for a in acks]
        assert all(uuid.UUID(i) for i in ids)
        assert ids[0] != ids[1]


async def test_a_monitor_only_site_gets_no_heal_command(tmp_path: Path) -> None:
    async with agent_world(tmp_path, tier="monitor_only") as world:
        agent = await world.enroll()
        acks = [a async for a in agent.stub.ReportDrift(iter([drift_event(agent, "e-1")]))]
        assert acks[0].received
        assert not acks[0].HasField("heal_command")
        # a disruptive runbook (bitlocker) is not sent to a self_heal site either
        assert agent.response.capability_tier == pb.MONITOR_ONLY


async def test_a_disruptive_runbook_waits_for_full_remediation(tmp_path: Path) -> None:
    async with agent_world(tmp_path, tier="self_heal") as world:
        agent = await world.enroll()
        event = drift_event(agent, "e-1", check="bitlocker")
        acks = [a async for a in agent.stub.ReportDrift(iter([event]))]
        assert not acks[0].HasField("heal_command")
    async with agent_world(tmp_path / "full", tier="full_remediation") as world:
        agent = await world.enroll()
        event = drift_event(agent, "e-1", check="bitlocker")
        acks = [a async for a in agent.stub.ReportDrift(iter([event]))]
        assert acks[0].heal_command.action == "enable_bitlocker"


async def test_heartbeat_records_the_check_in_and_returns_unanswered_commands(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        acks = [a async for a in agent.stub.ReportDrift(iter([drift_event(agent, "e-1")]))]
        command = acks[0].heal_command
        world.platform.clock.advance(60)
        beat = await agent.stub.Heartbeat(
            pb.HeartbeatRequest(
                agent_id=agent.agent_id, drift_count=4, healing_count=1, agent_version="0.3.1"
            ),
            timeout=10,
        )
        assert [c.command_id for c in beat.pending_commands] == [command.command_id]
        assert beat.pending_commands[0] == command
        r = await world.platform.call(
            "GET", f"/api/fleet/agents/{agent.agent_id}", as_user=world.partner.users["viewer"]
        )
        body = r.json()
        assert body["agent_version"] == "0.3.1"
        assert body["drift_count"] == 4
        assert body["status"] == "online"
        await agent.stub.ReportHealing(
            pb.HealingResult(
                agent_id=agent.agent_id,
                check_type="firewall",
                success=False,
                command_id=command.command_id,
                error_message="access denied",
            ),
            timeout=10,
        )
        beat = await agent.stub.Heartbeat(pb.HeartbeatRequest(), timeout=10)
        assert list(beat.pending_commands) == []


async def test_rmm_status_is_shown_in_the_fleet_view(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        report = pb.RMMStatusReport(
            agent_id=agent.agent_id,
            hostname="PC-1",
            detected_agents=[
                pb.RMMAgent(
                    name="ConnectWise Automate",
                    version="2023.11",
                    running=True,
                    service_name="LTService",
                ),
            ],
        )
        assert (await agent.stub.ReportRMMStatus(report, timeout=10)).received
        r = await world.platform.call(
            "GET", f"/api/fleet/agents/{agent.agent_id}", as_user=world.partner.users["viewer"]
        )
        assert r.json()["rmm"]["agents"] == [
            {
                "name": "ConnectWise Automate",
                "version": "2023.11",
                "running": True,
                "service_name": "LTService",
            }
        ]


def _cli_run(*argv: str) -> subprocess.CompletedProcess[str]:
    """``gateway-server`` as a process (in-process, its logging set-up would
    outlive the test's captured stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway_server._cli", *argv],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_cli_makes_an_enrollment_token_an_agent_enrolls_with(tmp_path: Path) -> None:
    async def setup() -> tuple[Partner, str]:
        async with running_platform(tmp_path) as platform:
            partner = await platform.partner("alpha")
            return partner, await platform.site(partner, "Alpha Clinic")

    partner, site_id = asyncio.run(setup())
    data = str(tmp_path / "data")
    done = _cli_run(
        "enrollment-token", "--data-dir", data, "--max-uses", "1", "--site", "alpha clinic"
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["site_id"] == site_id
    assert made["token"].startswith("cet_")
    assert made["max_uses"] == 1
    assert made["token"] not in done.stderr  # shown once, on stdout only
    unknown = _cli_run("enrollment-token", "--data-dir", data, "--site", "Nowhere")
    assert unknown.returncode != 0
    assert "Site not found" in unknown.stderr
    short = _cli_run("enrollment-token", "--data-dir", data, "--site", site_id, "--expires-in", "5")
    assert short.returncode != 0
    assert "--expires-in" in short.stderr

    async def enroll() -> pb.RegisterResponse:
        async with running_platform(tmp_path, **GRPC) as platform:
            ca = made["ca_cert_pem"].encode()
            ports = platform.app.services.grpc_ports
            world = AgentWorld(platform, partner, site_id, made["token"], ca, ports)
            try:
                return (await world.enroll()).response
            finally:
                await world.close()

    assert asyncio.run(enroll()).site_id == site_id


async def test_serve_starts_both_listeners_and_logs_their_ports(tmp_path: Path) -> None:
    async with running_platform(tmp_path) as platform:  # a partner, a site, a token, on disk
        partner = await platform.partner("alpha")
        site_id = await platform.site(partner, "Alpha Clinic", capability_tier="self_heal")
        _, token = await platform.api.sites.create_token(
            partner.id, site_id, created_by=None, description=None, ttl=3600, max_uses=None
        )
        ca_pem = platform.api.ca.cert_pem().encode()
    ports = {"agent": free_port(), "enrollment": free_port()}
    log = tmp_path / "serve.log"
    server = ServerProcess(
        tmp_path / "data",
        "test-secret-" + "x" * 32,
        "--grpc-enabled",
        "--grpc-agent-port", str(ports["agent"]),
        "--grpc-enrollment-port", str(ports["enrollment"]),
        log=log,
        log_level="info",
    )  # fmt: skip
    await asyncio.to_thread(server.start)
    try:
        shown = (
            f"enrollment (TLS) on port {ports['enrollment']}, agent (mTLS) on port {ports['agent']}"
        )
        assert shown in log.read_text()
        world = AgentWorld(platform, partner, site_id, token, ca_pem, ports)  # the process's
        try:
            agent = await world.enroll()
            assert agent.response.agent_address == f"127.0.0.1:{ports['agent']}"
            beat = await agent.stub.Heartbeat(pb.HeartbeatRequest(), timeout=10)
            assert beat.acknowledged
        finally:
            await world.close()
    finally:
        await asyncio.to_thread(server.stop)
