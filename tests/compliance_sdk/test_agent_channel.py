"""The agent against our own server, in-process: both gRPC listeners on free
ports of 127.0.0.1 with the agent CA's real certificates, the REST API read
back through ``AsyncComplianceClient``. Enrollment with a CSR and the pinned CA,
drift to incident to heal handler to healing to the incident resolved,
heartbeats and RMM in the fleet view, renewal, and what the server refuses."""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509

from compliance_sdk import AsyncComplianceClient, EnrollmentTokenCreated
from compliance_sdk._proto import compliance_pb2 as pb
from compliance_sdk.agent import (
    AgentConfig,
    AgentIdentity,
    AgentRefusedError,
    AsyncComplianceAgent,
    EnrollmentError,
    HealCommand,
    HealOutcome,
    PinError,
    RMMAgent,
)
from compliance_sdk.agent._channel import mtls_channel, stub
from compliance_sdk.agent._identity import fingerprint
from sdk_core import AsyncSleep
from tests.compliance_sdk.agent_support import make_ca, stub_resolver
from tests.compliance_support import BASE, PASSWORD, closed_port
from tests.gateway_server.agent_support import AgentWorld, agent_world


def rest(world: AgentWorld) -> AsyncComplianceClient:
    return AsyncComplianceClient(
        BASE,
        username=world.partner.users["admin"],
        password=PASSWORD,
        http_client=world.platform.http,
    )


async def new_token(
    client: AsyncComplianceClient, site_id: str, **body: int
) -> EnrollmentTokenCreated:
    return await client.sites.create_enrollment_token(site_id, **body)  # type: ignore[arg-type]


def make_agent(
    world: AgentWorld, tmp_path: Path, sleep: AsyncSleep = asyncio.sleep, **config: object
) -> AsyncComplianceAgent:
    values: dict[str, object] = {
        "state_dir": tmp_path / "agent",
        "hostname": "PC-1",
        "enrollment_addr": f"127.0.0.1:{world.ports['enrollment']}",
        "heartbeat_interval": 0.2,
        **config,
    }
    return AsyncComplianceAgent(AgentConfig(**values), environ={}, sleep=sleep)  # type: ignore[arg-type]


async def enrolled(
    world: AgentWorld, client: AsyncComplianceClient, agent: AsyncComplianceAgent
) -> AgentIdentity:
    """``agent`` enrolled with a new token of the world's site, as an admin hands it
    over: the token, the CA's fingerprint and its PEM."""
    token = await new_token(client, world.site_id)
    return await agent.enroll(token.token, token.ca_fingerprint_sha256, ca_pem=token.ca_cert_pem)


@contextlib.asynccontextmanager
async def running(agent: AsyncComplianceAgent) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(agent.run())
    try:
        yield task
    finally:
        agent.stop()
        with contextlib.suppress(AgentRefusedError):
            await asyncio.wait_for(task, 10)


async def test_enroll_drift_heal_resolved_seen_through_rest(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path)
        identity = await enrolled(world, client, agent)
        assert identity.state.site_id == world.site_id
        assert identity.state.agent_address == f"127.0.0.1:{world.ports['agent']}"
        assert identity.state.capability_tier == "SELF_HEAL"
        files = sorted((tmp_path / "agent").iterdir())
        assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
        cert = x509.load_pem_x509_certificate(identity.cert_pem)
        assert agent.agent_id in cert.subject.rfc4514_string()

        healed: list[HealCommand] = []

        @agent.on_heal
        async def heal(command: HealCommand) -> HealOutcome:
            healed.append(command)
            return HealOutcome(True, artifacts={"netsh": "ok"})

        async with running(agent):
            await agent.report_drift("bitlocker", True)
            event_id = await agent.report_drift(
                "firewall", False, expected="on", actual="off", metadata={"profile": "domain"}
            )
            await agent.wait_acked(10)
            assert event_id not in agent.pending_events
            await agent.wait_idle(10)  # the heal command ran, its result acknowledged
            assert agent.healing_count == 1
            assert agent.drift_count == 2
            await agent.report_rmm([RMMAgent("ScreenConnect", "23.9", True, "ScreenConnect")])

        assert [c.action for c in healed] == ["enable_firewall"]
        (incident,) = (await client.incidents.list(site_id=world.site_id)).items
        assert incident.check_type == "firewall"
        assert incident.hostname == "PC-1"
        detail = await client.incidents.get(incident.id)
        assert detail.resolved
        assert detail.resolved_by == "agent"
        assert detail.drift.metadata == {"profile": "domain"}
        assert detail.runbook_execution is not None
        assert detail.runbook_execution.status == "succeeded"
        seen = await client.fleet.agent(agent.agent_id)
        assert seen.hostname == "PC-1"
        assert seen.last_checkin is not None  # heartbeats arrived
        assert seen.rmm is not None
        assert [a.name for a in seen.rmm.agents] == ["ScreenConnect"]


async def test_a_wrong_pin_sends_nothing(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        token = await new_token(client, world.site_id, max_uses=1)
        agent = make_agent(world, tmp_path)
        other_ca = fingerprint(make_ca().cert)
        with pytest.raises(PinError):
            await agent.enroll(token.token, other_ca, ca_pem=token.ca_cert_pem)
        assert not agent.enrolled
        assert not (tmp_path / "agent").exists()
        # the single-use token was not spent: nothing reached the server
        await agent.enroll(token.token, token.ca_fingerprint_sha256, ca_pem=token.ca_cert_pem)
        assert agent.enrolled


async def test_refused_tokens_save_nothing(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        token = await new_token(client, world.site_id)
        await client.sites.revoke_enrollment_token(world.site_id, token.id)
        agent = make_agent(world, tmp_path)
        for bad in (token.token, "cet_" + "x" * 43):
            with pytest.raises(EnrollmentError) as info:
                await agent.enroll(bad, token.ca_fingerprint_sha256, ca_pem=token.ca_cert_pem)
            assert info.value.code is not None
            assert info.value.code.name == "UNAUTHENTICATED"
        assert not agent.enrolled


async def test_too_many_refused_tokens_say_how_long_to_wait(tmp_path: Path) -> None:
    async with (
        agent_world(tmp_path, compliance_enrollment_failures_per_minute=2) as world,
        rest(world) as client,
    ):
        token = await new_token(client, world.site_id)
        agent = make_agent(world, tmp_path)
        codes, waits = [], []
        for bad in ("cet_" + "x" * 43, "cet_" + "y" * 43, "cet_" + "z" * 43, token.token):
            with pytest.raises(EnrollmentError) as info:
                await agent.enroll(bad, token.ca_fingerprint_sha256, ca_pem=token.ca_cert_pem)
            assert info.value.code is not None
            codes.append(info.value.code.name)
            waits.append(info.value.retry_after)
        assert codes == ["UNAUTHENTICATED"] * 2 + ["RESOURCE_EXHAUSTED"] * 2
        assert waits[:2] == [None, None]
        assert all(wait is not None and 0 < wait <= 60 for wait in waits[2:])
        assert not agent.enrolled


async def test_renewal_a_new_key_and_the_stream_goes_on(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path)
        first = await enrolled(world, client, agent)
        async with running(agent):
            await agent.report_drift("patches", True)
            await agent.wait_acked(10)
            renewed = await agent.renew()
            await agent.report_drift("patches", True)
            await agent.wait_acked(10)
        assert renewed.state.agent_id == first.state.agent_id
        assert renewed.key_pem != first.key_pem
        old = x509.load_pem_x509_certificate(first.cert_pem)
        new = x509.load_pem_x509_certificate(renewed.cert_pem)
        assert new.serial_number != old.serial_number
        assert (tmp_path / "agent" / "agent.key").read_bytes() == renewed.key_pem
        assert agent.drift_count == 2
        assert agent.connections >= 2  # the stream reopened with the new certificate


async def test_a_revoked_agent_stops(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path)
        await enrolled(world, client, agent)
        await client.fleet.revoke_agent(agent.agent_id)
        await agent.report_drift("firewall", False)
        with pytest.raises(AgentRefusedError) as info:
            await asyncio.wait_for(agent.run(), 10)
        assert info.value.code is not None
        assert info.value.code.name in ("UNAUTHENTICATED", "PERMISSION_DENIED")


async def test_a_heal_command_whose_ack_was_lost_comes_with_a_heartbeat(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path, heartbeat_interval=3600)
        identity = await enrolled(world, client, agent)
        # the drift reaches the server, but its ack (with the command) never reaches the agent
        event = pb.DriftEvent(
            agent_id=agent.agent_id, hostname="PC-1", check_type="firewall", event_id="lost-ack"
        )
        target = identity.state.agent_address
        async with mtls_channel(target, identity, None) as channel:
            (ack,) = [a async for a in stub(channel).ReportDrift(iter([event]), timeout=10)]
        lost = ack.heal_command.command_id
        assert lost
        ran: list[str] = []

        def heal(command: HealCommand) -> bool:
            ran.append(command.command_id)
            return True

        agent.on_heal(heal)
        async with running(agent):
            response = await agent.heartbeat()  # the loop's first beat may have it too
            assert [c.command_id for c in response.pending_commands] in ([lost], [])
            await agent.wait_idle(10)
        assert ran == [lost]  # once, though the start-up beat and this one both carried it
        (incident,) = (await client.incidents.list(site_id=world.site_id)).items
        assert incident.resolved


async def test_the_renewal_loop_renews_when_its_time_comes(tmp_path: Path) -> None:
    waits: list[float] = []
    back = asyncio.Event()

    async def sleep(seconds: float) -> None:
        """Short waits (heartbeats, backoff) for real; the renewal's long one
        passes at once the first time, and the second time tells the test."""
        if seconds < 3600:
            await asyncio.sleep(seconds)
            return
        waits.append(seconds)
        if len(waits) > 1:
            back.set()
            await asyncio.Event().wait()

    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path, sleep=sleep)
        first = await enrolled(world, client, agent)
        async with running(agent):
            await asyncio.wait_for(back.wait(), 10)
            await agent.report_drift("screenlock", True)
            await agent.wait_acked(10)
        day = 86400
        assert 243 * day - 600 < waits[0] < 243.34 * day  # two thirds of 365 days
        assert waits[1] > 243 * day - 600  # the new certificate: as long again
        renewed = agent.identity
        assert renewed.cert_pem != first.cert_pem
        assert renewed.key_pem != first.key_pem
        assert (tmp_path / "agent" / "agent.pem").read_bytes() == renewed.cert_pem


async def test_enrollment_with_the_fingerprint_alone(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        token = await new_token(client, world.site_id)
        agent = make_agent(world, tmp_path)
        # no ca_pem: the CA is read from the enrollment listener's chain by its fingerprint
        identity = await agent.enroll(token.token, token.ca_fingerprint_sha256)
        assert identity.ca_pem.decode() == token.ca_cert_pem
        async with running(agent):
            await agent.report_drift("rmm", True)
            await agent.wait_acked(10)


async def test_an_event_the_server_refuses_is_set_aside_and_the_stream_goes_on(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path)
        await enrolled(world, client, agent)
        async with running(agent):
            oversize = {f"k{i}": "v" for i in range(65)}  # more entries than the server takes
            refused = await agent.report_drift("patches", False, metadata=oversize)
            after = await agent.report_drift("patches", False, actual="KB5034441 missing")
            await agent.wait_acked(10)
        assert [event_id for event_id, _ in agent.rejected] == [refused]
        assert "metadata" in agent.rejected[0][1]
        assert agent.drift_count == 1
        assert after not in agent.pending_events
        (incident,) = (await client.incidents.list(site_id=world.site_id)).items
        detail = await client.incidents.get(incident.id)
        assert detail.drift.occurrences == 1
        assert detail.drift.actual == "KB5034441 missing"


async def test_discovery_srv_first_then_the_next_address_when_one_is_dead(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        dead = closed_port()
        live = world.ports["agent"]
        records = {
            "_osiris-grpc._tcp.clinic.test.": [
                (10, 0, dead, "localhost."),  # the best record points nowhere
                (20, 0, live, "localhost."),
            ]
        }
        with stub_resolver(records) as dns_server:
            agent = make_agent(
                world,
                tmp_path,
                domain="clinic.test",
                dns_nameservers=("127.0.0.1",),
                dns_port=dns_server.port,
            )
            await enrolled(world, client, agent)
            endpoints = await agent.discover()
            assert [(e.port, e.source) for e in endpoints] == [
                (dead, "srv"),
                (live, "srv"),
                (live, "enrollment"),  # 127.0.0.1: another host name, the same listener
            ]
            async with running(agent):
                await agent.report_drift("defender", True)
                await agent.wait_acked(20)
        assert agent.connections >= 2  # the dead record first, then the live one
        assert dns_server.questions[0] == "_osiris-grpc._tcp.clinic.test."


async def test_events_left_by_a_stopped_agent_are_sent_by_the_next_run(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        first = make_agent(world, tmp_path)
        await enrolled(world, client, first)
        async with running(first):
            await first.report_drift("patches", False, actual="missing 1")
            await first.report_drift("patches", False, actual="missing 2")
            await first.wait_acked(10)
        # the agent no longer runs: these wait, on disk too, when its process ends
        left = [
            await first.report_drift("patches", False, actual=f"missing {n}") for n in (3, 4, 5)
        ]
        await first.aclose()
        second = make_agent(world, tmp_path)  # a new process, the same state directory
        async with running(second):
            await second.wait_acked(10)
        assert second.drift_count == 3
        (incident,) = (await client.incidents.list(site_id=world.site_id)).items
        detail = await client.incidents.get(incident.id)
        assert detail.drift.occurrences == 5  # the first two not again, the three once
        assert detail.drift.actual == "missing 5"
        assert left == [e for e in left if e not in second.pending_events]


async def test_events_waiting_across_a_new_enrollment_go_under_the_new_id(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world, rest(world) as client:
        agent = make_agent(world, tmp_path)
        old = await enrolled(world, client, agent)
        await agent.report_drift("screenlock", False)  # not running: it waits
        new = await enrolled(world, client, agent)  # the machine enrolled again
        assert new.state.agent_id != old.state.agent_id
        async with running(agent):
            await agent.wait_acked(10)
        assert agent.drift_count == 1
        assert agent.rejected == []
