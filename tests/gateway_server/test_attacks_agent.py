"""Attacks on the agent channel, each one the server survives: bad, expired,
revoked and used-up enrollment tokens; a client without a certificate, or
with one from a foreign CA, on the agent listener; an agent claiming
another's id; a revoked agent; CSRs for other keys or with a forged
signature; the enrollment listener asked for agent calls; malformed and
oversize messages. Real listeners on 127.0.0.1, real TLS."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway_server.compliance._proto import compliance_pb2 as pb
from tests.gateway_server.agent_support import (
    AgentWorld,
    agent_world,
    csr_for,
    drift_event,
    foreign_client,
)

REFUSED = "the enrollment token is not valid"


async def _register(world: AgentWorld, token: str, **fields: object) -> pb.RegisterResponse:
    key = ec.generate_private_key(ec.SECP256R1())
    request = pb.RegisterRequest(hostname="PC-9", enrollment_token=token, csr_pem=csr_for(key))
    for name, value in fields.items():
        setattr(request, name, value)
    return await world.stub("enrollment").Register(request, timeout=10)


async def _refused(world: AgentWorld, token: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _register(world, token)
    return info.value


async def test_bad_expired_revoked_and_used_up_tokens_are_refused_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with agent_world(tmp_path) as world:
        admin = world.partner.users["admin"]
        once = await world.token_for(max_uses=1)
        await _register(world, once)
        revoked = await world.token_for()
        r = await world.platform.call(
            "GET", f"/api/sites/{world.site_id}/enrollment-tokens", as_user=admin
        )
        revoked_id = next(
            t["id"] for t in r.json()["items"] if revoked.startswith(t["token_prefix"])
        )
        r = await world.platform.call(
            "POST",
            f"/api/sites/{world.site_id}/enrollment-tokens/{revoked_id}/revoke",
            as_user=admin,
        )
        assert r.status_code == 200, r.text
        expiring = await world.token_for(expires_in_seconds=300)
        world.platform.clock.advance(301)
        issued: list[str] = []
        real_issue = world.platform.api.ca.issue_agent

        def counted(agent_id: str, csr: bytes | None) -> Any:
            issued.append(agent_id)
            return real_issue(agent_id, csr)

        monkeypatch.setattr(world.platform.api.ca, "issue_agent", counted)
        tokens = ("", "cet_" + "x" * 43, world.token[:-1], world.token + "x" * 200)
        for token in (*tokens, once, revoked, expiring):
            error = await _refused(world, token)
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, token
            assert error.details() == REFUSED
        assert issued == []  # a refused token costs no signature
        # nobody enrolled but the one use of `once`
        r = await world.platform.call(
            "GET", f"/api/fleet/sites/{world.site_id}/agents", as_user=admin
        )
        assert r.json()["total"] == 1


async def test_a_token_with_one_use_admits_one_of_many_racing_agents(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        token = await world.token_for(max_uses=1)
        results = await asyncio.gather(
            *(_register(world, token) for _ in range(8)), return_exceptions=True
        )
        admitted = [r for r in results if isinstance(r, pb.RegisterResponse)]
        refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert len(admitted) == 1
        assert len(refused) == 7
        assert {e.code() for e in refused} == {grpc.StatusCode.UNAUTHENTICATED}


async def test_a_client_without_a_certificate_is_refused_by_the_agent_listener(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world:
        stub = world.stub("agent")  # server TLS verified, no client certificate
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Heartbeat(pb.HeartbeatRequest(), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE  # the handshake fails
        agent = await world.enroll()  # while an enrolled agent is served on that port
        assert (await agent.stub.Heartbeat(pb.HeartbeatRequest(), timeout=10)).acknowledged


async def test_a_certificate_from_a_foreign_ca_is_refused(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        key_pem, cert_pem = foreign_client(agent.agent_id)  # the right id, the wrong CA
        stub = world.stub("agent", key_pem, cert_pem)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Heartbeat(pb.HeartbeatRequest(agent_id=agent.agent_id), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        ours = await agent.stub.Heartbeat(pb.HeartbeatRequest(agent_id=agent.agent_id), timeout=10)
        assert ours.acknowledged


async def test_an_agent_claiming_another_agents_id_is_refused(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        mallory, victim = await world.enroll("PC-M"), await world.enroll("PC-V")
        calls = (
            mallory.stub.Heartbeat(pb.HeartbeatRequest(agent_id=victim.agent_id), timeout=10),
            mallory.stub.ReportHealing(
                pb.HealingResult(agent_id=victim.agent_id, check_type="firewall"), timeout=10
            ),
            mallory.stub.ReportRMMStatus(pb.RMMStatusReport(agent_id=victim.agent_id), timeout=10),
        )
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call
            assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        stream = mallory.stub.ReportDrift(iter([drift_event(victim, "e-1")]), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            _ = [ack async for ack in stream]
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # nothing was recorded for the victim
        r = await world.platform.call(
            "GET",
            "/api/incidents",
            params={"site_id": world.site_id},
            as_user=world.partner.users["admin"],
        )
        assert r.json()["total"] == 0


async def test_a_revoked_agent_is_refused_even_with_its_valid_certificate(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        r = await world.platform.call(
            "POST",
            f"/api/fleet/agents/{agent.agent_id}/revoke",
            as_user=world.partner.users["admin"],
        )
        assert r.status_code == 200, r.text
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await agent.stub.Heartbeat(pb.HeartbeatRequest(agent_id=agent.agent_id), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        stream = agent.stub.ReportDrift(iter([drift_event(agent, "e-1")]), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            _ = [ack async for ack in stream]
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        key = ec.generate_private_key(ec.SECP256R1())
        with pytest.raises(grpc.aio.AioRpcError) as info:  # nor may it renew
            await agent.stub.Register(pb.RegisterRequest(csr_pem=csr_for(key)), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_csrs_for_other_keys_or_with_a_bad_signature_are_invalid(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        rsa_csr = csr_for(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        p384_csr = csr_for(ec.generate_private_key(ec.SECP384R1()))
        good = csr_for(ec.generate_private_key(ec.SECP256R1()))
        # a flipped bit near the end of the DER: the signature no longer verifies
        body = b"".join(good.splitlines()[1:-1])
        der = bytearray(base64.b64decode(body))
        der[-3] ^= 0x01
        forged = (
            b"-----BEGIN CERTIFICATE REQUEST-----\n"
            + base64.encodebytes(bytes(der))
            + b"-----END CERTIFICATE REQUEST-----\n"
        )
        for csr in (rsa_csr, p384_csr, forged, b"not a csr", b"x" * 20_000):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await world.stub("enrollment").Register(
                    pb.RegisterRequest(hostname="PC-1", enrollment_token=world.token, csr_pem=csr),
                    timeout=10,
                )
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, csr[:40]
            assert "csr_pem" in (info.value.details() or "")
        # a bad CSR spent no use of the token
        r = await world.platform.call(
            "GET",
            f"/api/sites/{world.site_id}/enrollment-tokens",
            as_user=world.partner.users["admin"],
        )
        assert r.json()["items"][0]["uses"] == 0


async def test_the_enrollment_listener_serves_register_only(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        stub = world.stub("enrollment")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Heartbeat(pb.HeartbeatRequest(agent_id="x"), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with pytest.raises(grpc.aio.AioRpcError) as info:
            _ = [a async for a in stub.ReportDrift(iter([pb.DriftEvent()]), timeout=10)]
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_malformed_messages_are_invalid_argument_never_a_crash(tmp_path: Path) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        me = agent.agent_id
        bad_unary = (
            agent.stub.ReportHealing(pb.HealingResult(agent_id=me, check_type="nope"), timeout=10),
            agent.stub.ReportHealing(
                pb.HealingResult(
                    agent_id=me, check_type="firewall", artifacts={str(i): "v" for i in range(65)}
                ),
                timeout=10,
            ),
            agent.stub.ReportRMMStatus(
                pb.RMMStatusReport(agent_id=me, detected_agents=[pb.RMMAgent(name="")]), timeout=10
            ),
            agent.stub.Heartbeat(pb.HeartbeatRequest(agent_id=me, drift_count=-1), timeout=10),
            agent.stub.Heartbeat(pb.HeartbeatRequest(agent_id=me, timestamp=-5), timeout=10),
        )
        for call in bad_unary:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # in the stream, a malformed event is acked as not applied (so it is not
        # re-sent for ever); the others are applied
        events = [
            drift_event(agent, "bad-1", check="nope"),
            drift_event(agent, "bad-2", metadata={"k": "v" * 5000}),
            drift_event(agent, "bad-3", hostname="h" * 300),
            drift_event(agent, "ok-1"),
        ]
        acks = [a async for a in agent.stub.ReportDrift(iter(events), timeout=10)]
        assert [a.event_id for a in acks] == ["bad-1", "bad-2", "bad-3", "ok-1"]
        assert [a.received for a in acks] == [False, False, False, True]
        assert acks[0].error.startswith("check_type:")
        assert acks[1].error.startswith("metadata[k]:")
        assert acks[2].error.startswith("hostname:")
        # an event id too long to ack by ends the stream
        stream = agent.stub.ReportDrift(iter([drift_event(agent, "i" * 65)]), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            _ = [a async for a in stream]
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # the enrollment listener: no hostname, no CSR and no needs_certificates
        for request in (
            pb.RegisterRequest(enrollment_token=world.token, needs_certificates=True),
            pb.RegisterRequest(hostname="PC-2", enrollment_token=world.token),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await world.stub("enrollment").Register(request, timeout=10)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # and the server still serves
        ack = await agent.stub.Heartbeat(pb.HeartbeatRequest(agent_id=me), timeout=10)
        assert ack.acknowledged


async def test_an_agent_revoked_while_streaming_is_cut_off_at_its_next_event(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world:
        agent = await world.enroll()
        outbox: asyncio.Queue[pb.DriftEvent | None] = asyncio.Queue()

        async def events() -> AsyncIterator[pb.DriftEvent]:
            while (event := await outbox.get()) is not None:
                yield event

        stream = agent.stub.ReportDrift(events(), timeout=10)
        await outbox.put(drift_event(agent, "e-1", passed=True))
        first = await stream.read()
        assert isinstance(first, pb.DriftAck)  # not EOF
        assert first.event_id == "e-1"
        r = await world.platform.call(
            "POST",
            f"/api/fleet/agents/{agent.agent_id}/revoke",
            as_user=world.partner.users["admin"],
        )
        assert r.status_code == 200
        await outbox.put(drift_event(agent, "e-2"))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stream.read()
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await outbox.put(None)
        r = await world.platform.call(
            "GET",
            "/api/incidents",
            params={"site_id": world.site_id},
            as_user=world.partner.users["admin"],
        )
        assert r.json()["total"] == 0  # e-2 was not applied


async def test_the_listeners_keys_are_private_to_the_server(tmp_path: Path) -> None:
    async with agent_world(tmp_path):
        for name in ("agent-ca.key", "server.key"):
            mode = (tmp_path / "data" / "agent-ca" / name).stat().st_mode & 0o777
            assert mode == 0o600, name
        assert (tmp_path / "data" / "agent-ca").stat().st_mode & 0o077 == 0


async def test_an_agent_cannot_report_for_another_host_or_answer_anothers_command(
    tmp_path: Path,
) -> None:
    async with agent_world(tmp_path) as world:
        mallory, victim = await world.enroll("PC-M"), await world.enroll("PC-1")
        # the victim's firewall fails: an incident and a heal command for the victim
        acks = [a async for a in victim.stub.ReportDrift(iter([drift_event(victim, "v-1")]))]
        command = acks[0].heal_command
        assert command.command_id
        # mallory reports drift on the victim's host: not applied
        event = drift_event(mallory, "m-1", check="defender", hostname="pc-1")
        (ack,) = [a async for a in mallory.stub.ReportDrift(iter([event]))]
        assert not ack.received
        assert ack.error.startswith("hostname:")
        # ... nor a healing of the victim's host, nor an answer to its command
        for hostname in ("PC-1", ""):
            result = pb.HealingResult(
                agent_id=mallory.agent_id,
                hostname=hostname,
                check_type="firewall",
                success=True,
                command_id=command.command_id,
            )
            if hostname:
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    await mallory.stub.ReportHealing(result, timeout=10)
                assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            else:  # its own host: acked, and the victim's execution untouched
                assert (await mallory.stub.ReportHealing(result, timeout=10)).received
        admin = world.partner.users["admin"]
        r = await world.platform.call(
            "GET", "/api/incidents", params={"site_id": world.site_id}, as_user=admin
        )
        (incident,) = r.json()["items"]
        assert incident["hostname"] == "PC-1"
        assert incident["resolved"] is False
        r = await world.platform.call(
            "GET",
            f"/api/runbooks/{command.params['runbook_id']}/executions",
            as_user=admin,
        )
        assert [x["status"] for x in r.json()["items"]] == ["pending"]
        # the victim's own answer still counts
        result = pb.HealingResult(
            agent_id=victim.agent_id, check_type="firewall", success=True,
            command_id=command.command_id,
        )  # fmt: skip
        assert (await victim.stub.ReportHealing(result, timeout=10)).received
        r = await world.platform.call("GET", f"/api/incidents/{incident['id']}", as_user=admin)
        assert r.json()["resolved"] is True


async def test_too_many_bad_tokens_from_one_address_shut_enrollment_for_a_minute(
    tmp_path: Path,
) -> None:
    """A token guesser gets three refusals, then RESOURCE_EXHAUSTED with the
    wait in ``retry-after``, for a valid token too, until the minute is over.
    A malformed request is not a guess and costs nothing."""
    async with agent_world(tmp_path, compliance_enrollment_failures_per_minute=3) as world:
        for _ in range(5):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await _register(world, world.token, csr_pem=b"not a CSR")
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        for _ in range(3):
            assert (await _refused(world, "cet_" + "x" * 43)).code() == (
                grpc.StatusCode.UNAUTHENTICATED
            )
        for token in ("cet_" + "y" * 43, world.token):  # the fourth guess, then the right answer
            error = await _refused(world, token)
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, token
            wait = dict(error.trailing_metadata() or ())["retry-after"]
            assert 0 < int(wait) <= 60
        world.platform.clock.advance(61)
        enrolled = await _register(world, world.token)
        assert enrolled.site_id == world.site_id
