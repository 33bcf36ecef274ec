"""The ComplianceAgent servicers (grpc.aio): messages in, through
``_messages.py``'s checks and ``_channel.py``'s transactions, answers out.
Translation only; errors become status codes:

- a bad message, or a bad CSR: INVALID_ARGUMENT, naming the field (a bad drift
  event in a stream is acked instead, ``received`` false and ``error`` set, so
  the agent stops re-sending it);
- an ``agent_id`` that is not the certificate's: PERMISSION_DENIED;
- a bad enrollment token, a revoked or unknown agent: UNAUTHENTICATED;
- past the budget of bad enrollment tokens from one client address:
  RESOURCE_EXHAUSTED, with ``retry-after`` in the trailing metadata.

``EnrollmentServicer`` (the enrollment listener, no client certificate) serves
``Register`` only; ``AgentServicer`` (the mTLS listener) knows its caller from
the peer certificate's CN, which the CA set to the agent id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn

import grpc

from .._errors import RateLimited, Unavailable
from ..edge import FailureBudget
from ._ca import AgentCA, BadCSR, Issued
from ._channel import AgentGone, Channel, Command, TokenRefused
from ._messages import (
    BadMessage,
    NotYours,
    drift,
    drift_event_id,
    enrollment,
    healing,
    heartbeat,
    renewal_csr,
    rmm_report,
)
from ._proto import compliance_pb2 as pb
from ._proto import compliance_pb2_grpc as rpc
from ._rules import CHECK_TYPES

__all__ = [
    "AgentServicer",
    "ChannelConfig",
    "EnrollmentServicer",
    "Registrar",
    "peer_agent",
    "peer_host",
]

log = logging.getLogger("gateway_server.compliance.agents")

Context = grpc.aio.ServicerContext[Any, Any]
BATCH = 256  # drift events applied in one transaction, at most
_END = object()
_ENROLLMENT = "enrollment"  # the failure budget's name: tokens name no one before they are checked


class ChannelConfig:
    """What a Register answer tells the agent besides its certificate."""

    def __init__(self, check_interval: int, agent_address: Callable[[], str]) -> None:
        self.check_interval = check_interval
        self.agent_address = agent_address


@contextlib.contextmanager
def _statuses() -> Iterator[None]:
    """Our refusals as status codes (raised by ``context.abort`` in the caller)."""
    try:
        yield
    except (BadMessage, BadCSR) as exc:
        raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
    except NotYours as exc:
        raise _Abort(grpc.StatusCode.PERMISSION_DENIED, str(exc)) from None
    except (TokenRefused, AgentGone) as exc:
        raise _Abort(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None
    except Unavailable as exc:  # the database (or Redis) is down: the agent retries later
        raise _Abort(grpc.StatusCode.UNAVAILABLE, exc.message) from None
    except RateLimited as exc:
        raise _exhausted(exc) from None


class _Abort(Exception):
    def __init__(
        self, code: grpc.StatusCode, message: str, metadata: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.metadata = metadata


def _exhausted(limited: RateLimited) -> _Abort:
    wait = (limited.headers or {}).get("Retry-After", "60")
    message = f"too many refused enrollments from this address: retry in {wait} s"
    return _Abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message, (("retry-after", wait),))


def peer_host(peer: str) -> str:
    """The client address of a grpc peer string (``ipv4:1.2.3.4:5``,
    ``ipv6:[::1]:5``), without its port; anything else as it is."""
    kind, _, rest = peer.partition(":")
    if kind not in ("ipv4", "ipv6"):
        return peer
    host = rest.rpartition(":")[0] or rest
    return host.strip("[]")


async def _abort(context: Context, exc: _Abort) -> NoReturn:
    if exc.metadata:
        context.set_trailing_metadata(exc.metadata)
    await context.abort(exc.code, str(exc))
    raise AssertionError("abort returned")  # pragma: no cover


def _command(command: Command) -> pb.HealCommand:
    return pb.HealCommand(
        command_id=command.command_id,
        check_type=command.check_type,
        action=command.action,
        params=command.params,
        timeout_seconds=command.timeout_seconds,
    )


class Registrar:
    def __init__(self, channel: Channel, ca: AgentCA, config: ChannelConfig) -> None:
        self.channel = channel
        self.ca = ca
        self.config = config

    def answer(
        self, agent_id: str, site_id: str, tier: str, issued: Issued | None
    ) -> pb.RegisterResponse:
        response = pb.RegisterResponse(
            agent_id=agent_id,
            check_interval_seconds=self.config.check_interval,
            enabled_checks=list(CHECK_TYPES),
            capability_tier=pb.CapabilityTier.Value(tier.upper()),
            ca_cert_pem=self.ca.cert_pem().encode(),
            site_id=site_id,
            agent_address=self.config.agent_address(),
        )
        if issued is not None:
            response.agent_cert_pem = issued.cert_pem
            response.agent_key_pem = issued.key_pem
            response.certificate_expires_at = int(issued.not_after)
        return response


class EnrollmentServicer(rpc.ComplianceAgentServicer):
    """The enrollment listener: Register with a site's token, nothing else."""

    def __init__(self, registrar: Registrar, failures: FailureBudget) -> None:
        self.registrar = registrar
        self.failures = failures

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        address = peer_host(context.peer())
        try:
            with _statuses():
                if (spent := await self.failures.spent(_ENROLLMENT, address)) is not None:
                    raise spent  # a guesser's right answer too, until the minute is over
                asked = enrollment(request)
                ca = self.registrar.ca
                enrolled = await self.registrar.channel.enroll(
                    asked, lambda agent_id: ca.issue_agent(agent_id, asked.csr_pem)
                )
        except _Abort as exc:
            if exc.code == grpc.StatusCode.UNAUTHENTICATED:  # a refused token
                exc = await self._counted(exc, address)
            await _abort(context, exc)
        log.info("agent %s enrolled in site %s", enrolled.agent_id, enrolled.site_id)
        return self.registrar.answer(
            enrolled.agent_id, enrolled.site_id, enrolled.capability_tier, enrolled.issued
        )

    async def _counted(self, refusal: _Abort, address: str) -> _Abort:
        """Count a refused token against ``address``: the refusal to send,
        RESOURCE_EXHAUSTED once past the budget."""
        try:
            with _statuses():
                over = await self.failures.fail(_ENROLLMENT, address)
        except _Abort as unavailable:  # the shared counters are down
            return unavailable
        if over is None:
            return refusal
        log.warning("refusing enrollments from %s for a while: too many bad tokens", address)
        return _exhausted(over)

    async def _only_register(self, context: Context) -> NoReturn:
        """Every method but Register is the agent listener's."""
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "the enrollment listener serves Register only: use the agent (mTLS) listener",
        )
        raise AssertionError("abort returned")  # pragma: no cover

    async def ReportDrift(
        self, request_iterator: AsyncIterator[pb.DriftEvent], context: Context
    ) -> AsyncIterator[pb.DriftAck]:
        empty: tuple[pb.DriftAck, ...] = ()
        for ack in empty:  # an async generator, as the servicer's streams are
            yield ack
        await self._only_register(context)

    async def ReportHealing(self, request: pb.HealingResult, context: Context) -> pb.HealingAck:
        await self._only_register(context)

    async def Heartbeat(
        self, request: pb.HeartbeatRequest, context: Context
    ) -> pb.HeartbeatResponse:
        await self._only_register(context)

    async def ReportRMMStatus(self, request: pb.RMMStatusReport, context: Context) -> pb.RMMAck:
        await self._only_register(context)


def peer_agent(context: Context) -> str:
    """The agent id the peer's certificate names (its subject's CN)."""
    names = list(context.auth_context().get("x509_common_name") or [])
    if len(names) != 1:
        raise AgentGone("no agent certificate")
    return bytes(names[0]).decode("utf-8", "replace")


class AgentServicer(rpc.ComplianceAgentServicer):
    """The agent listener: every call from an enrolled, unrevoked agent."""

    def __init__(self, registrar: Registrar, clock: Callable[[], float]) -> None:
        self.registrar = registrar
        self.channel = registrar.channel
        self.now = clock

    async def _caller(self, context: Context) -> tuple[str, Any, Any]:
        agent_id = peer_agent(context)
        agent, site = await self.channel.caller(agent_id)
        return agent_id, agent, site

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        """Renewal (with a CSR, or a key made here if asked), or the current config."""
        try:
            with _statuses():
                agent_id, _, site = await self._caller(context)
                csr = renewal_csr(request)
                issued = None
                if csr is not None or request.needs_certificates:
                    issued = self.registrar.ca.issue_agent(agent_id, csr)
                    await self.channel.renewed(agent_id, issued)
        except _Abort as exc:
            await _abort(context, exc)
        return self.registrar.answer(agent_id, site.id, site.capability_tier, issued)

    async def ReportDrift(
        self, request_iterator: AsyncIterator[pb.DriftEvent], context: Context
    ) -> AsyncIterator[pb.DriftAck]:
        """Events read as they come and applied in batches (what arrived while
        the last batch was written, up to BATCH, in one transaction); one ack
        per event, in order."""
        try:
            with _statuses():
                agent_id, agent, _ = await self._caller(context)
        except _Abort as exc:
            await _abort(context, exc)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=4 * BATCH)

        async def read() -> None:
            try:
                async for event in request_iterator:
                    await queue.put(event)
            finally:
                await queue.put(_END)

        reader = asyncio.create_task(read())
        try:
            ended = False
            while not ended:
                batch = [await queue.get()]
                while len(batch) < BATCH and not queue.empty():
                    batch.append(queue.get_nowait())
                if batch[-1] is _END:
                    batch.pop()
                    ended = True
                if not batch:
                    break
                try:
                    with _statuses():
                        acks = await self._apply(agent_id, agent.hostname, batch)
                except _Abort as exc:
                    await _abort(context, exc)
                for ack in acks:
                    yield ack
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _apply(
        self, agent_id: str, host: str, batch: list[pb.DriftEvent]
    ) -> list[pb.DriftAck]:
        now = self.now()
        acks: list[pb.DriftAck] = []
        valid = []
        for message in batch:
            event_id = drift_event_id(message) or str(uuid.uuid4())
            try:
                event = drift(message, agent_id, host, now)
            except BadMessage as exc:
                acks.append(pb.DriftAck(event_id=event_id, received=False, error=str(exc)))
                continue
            acks.append(pb.DriftAck(event_id=event_id, received=True))
            valid.append((len(acks) - 1, event))
        commands = await self.channel.drift(agent_id, [event for _, event in valid])
        for (index, _), command in zip(valid, commands, strict=True):
            if command is not None:
                acks[index].heal_command.CopyFrom(_command(command))
        return acks

    async def ReportHealing(self, request: pb.HealingResult, context: Context) -> pb.HealingAck:
        try:
            with _statuses():
                agent_id, agent, _ = await self._caller(context)
                result = healing(request, agent_id, agent.hostname, self.now())
                await self.channel.healing(agent_id, result)
        except _Abort as exc:
            await _abort(context, exc)
        return pb.HealingAck(event_id=request.event_id, received=True)

    async def Heartbeat(
        self, request: pb.HeartbeatRequest, context: Context
    ) -> pb.HeartbeatResponse:
        try:
            with _statuses():
                agent_id = peer_agent(context)
                beat = heartbeat(request, agent_id, self.now())
                commands = await self.channel.heartbeat(agent_id, beat)
        except _Abort as exc:
            await _abort(context, exc)
        return pb.HeartbeatResponse(
            acknowledged=True, pending_commands=[_command(c) for c in commands]
        )

    async def ReportRMMStatus(self, request: pb.RMMStatusReport, context: Context) -> pb.RMMAck:
        try:
            with _statuses():
                agent_id = peer_agent(context)
                report = rmm_report(request, agent_id, self.now())
                await self.channel.caller(agent_id)
                await self.channel.fleet.rmm_report(agent_id, report.agents)
        except _Abort as exc:
            await _abort(context, exc)
        return pb.RMMAck(received=True)
