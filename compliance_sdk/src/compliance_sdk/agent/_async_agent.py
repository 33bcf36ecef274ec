"""``AsyncComplianceAgent``: the agent on asyncio (grpc.aio); only I/O lives here.

``run()`` keeps four loops until ``stop()``:

- the drift stream (``_drift.DriftStream``): one ``ReportDrift`` call, and
  after a failure a new one that re-sends every unacknowledged event;
- heartbeats every ``heartbeat_interval`` seconds (their pending commands are
  heal commands too);
- the heal worker: each command (by id, once) to the registered handler, its
  result sent with ``ReportHealing`` until acknowledged;
- renewal: a new certificate two thirds into the current one's validity.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc
import grpc.aio

from sdk_core import AsyncSleep, Clock, SystemClock

from .._proto import compliance_pb2 as pb
from . import _enrollment
from ._config import AgentConfig
from ._connection import Connection
from ._drift import DriftStream
from ._errors import AgentError, AgentRefusedError, EnrollmentError, NotEnrolledError
from ._identity import AgentIdentity
from ._models import HealCommand, HealHandler, RMMAgent, run_handler
from ._rules import (
    CommandLedger,
    Endpoint,
    Failure,
    renewal_at,
    renewal_retry_delay,
    stream_failure,
    validate_drift,
)

__all__ = ["AsyncComplianceAgent"]

_log = logging.getLogger("compliance_sdk.agent")
_CALL_TIMEOUT = 15.0
T = TypeVar("T")


class AsyncComplianceAgent:
    """The compliance agent on asyncio. ``enroll`` once, then ``run``."""

    def __init__(
        self,
        config: AgentConfig | None = None,
        *,
        clock: Clock | None = None,
        sleep: AsyncSleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.config = config or AgentConfig.load()
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._rand = rand
        self._identity: AgentIdentity | None = None
        self._ledger = CommandLedger()
        self._handler: HealHandler | None = None
        self._commands: asyncio.Queue[HealCommand] = asyncio.Queue()
        self._heals_open = 0  # commands taken whose result is not acknowledged yet
        self._stopping = asyncio.Event()
        self._connection = Connection(
            self.config,
            lambda: self.identity,
            dict(os.environ if environ is None else environ),
            sleep=sleep,
            rand=rand,
        )
        self._drift = DriftStream(
            self._connection,
            self.config.state_dir,
            self.config.max_pending,
            self._dispatch,
            sleep=sleep,
            rand=rand,
        )
        self._changed = self._drift.changed  # also set when a heal's result is acknowledged
        self.healing_count = 0
        """Healing results acknowledged by the server."""

    @property
    def drift_count(self) -> int:
        """Drift events acknowledged (and applied) by the server."""
        return self._drift.drift_count

    @property
    def rejected(self) -> list[tuple[str, str]]:
        """(event_id, why) of the events the server refused (not sent again)."""
        return self._drift.rejected

    @property
    def connections(self) -> int:
        """Drift streams opened (1 + reconnects)."""
        return self._drift.connections

    def __repr__(self) -> str:
        agent = self._identity.state.agent_id if self._identity else None
        return (
            f"{type(self).__name__}(agent_id={agent!r}, state_dir={str(self.config.state_dir)!r})"
        )

    # --- identity ---------------------------------------------------------

    @property
    def identity(self) -> AgentIdentity:
        if self._identity is None:
            self._identity = AgentIdentity.load(self.config.state_dir)
        if self._identity is None:
            raise NotEnrolledError(f"no enrolled agent in {self.config.state_dir}: enroll first")
        return self._identity

    @property
    def enrolled(self) -> bool:
        try:
            _ = self.identity
        except NotEnrolledError:
            return False
        return True

    @property
    def agent_id(self) -> str:
        return self.identity.state.agent_id

    async def enroll(
        self,
        token: str,
        ca_fingerprint: str,
        *,
        ca_pem: bytes | str | None = None,
        address: str | None = None,
    ) -> AgentIdentity:
        """Enroll with a site's enrollment token and the CA fingerprint given with it
        (``ca_pem``, the token's ``ca_cert_pem``, saves reading it from the server)."""
        pem = ca_pem.encode() if isinstance(ca_pem, str) else ca_pem
        self._identity = await _enrollment.enroll(
            self.config, token, ca_fingerprint, ca_pem=pem, address=address
        )
        self._drift.reassign(self._identity.state.agent_id)
        return self._identity

    async def renew(self) -> AgentIdentity:
        """A new certificate now (``run`` does this on its own before expiry)."""
        self._identity = await _enrollment.renew(
            self.config, self.identity, self._connection.target()
        )
        await self._connection.close()  # the next call reconnects with the new certificate
        return self._identity

    # --- what the user reports --------------------------------------------

    async def discover(self) -> list[Endpoint]:
        """The agent listener's candidate addresses, best first: DNS SRV
        ``_osiris-grpc._tcp.<domain>``, ``OSIRIS_APPLIANCE_ADDR``, the config file's
        ``appliance_addr``, the address enrollment answered (an explicit
        ``address`` is the only one)."""
        return await self._connection.discover()

    def on_heal(self, handler: HealHandler) -> HealHandler:
        """Register the heal handler (usable as a decorator)."""
        self._handler = handler
        return handler

    async def report_drift(
        self,
        check_type: str,
        passed: bool,
        *,
        expected: str = "",
        actual: str = "",
        hipaa_control: str = "",
        metadata: dict[str, str] | None = None,
        event_id: str | None = None,
    ) -> str:
        """Queue a check's result for the drift stream; its event id. Waits while
        ``max_pending`` events are unacknowledged (none is dropped)."""
        validate_drift(check_type, metadata)
        event = pb.DriftEvent(
            agent_id=self.agent_id,
            hostname=self.config.hostname,
            check_type=check_type,
            passed=passed,
            expected=expected,
            actual=actual,
            hipaa_control=hipaa_control,
            timestamp=int(self._clock.time()),
            metadata=metadata or {},
            event_id=event_id or str(uuid.uuid4()),
        )
        return await self._drift.queue(event)

    async def wait_acked(self, timeout: float | None = None) -> None:
        """Until every reported drift event is acknowledged (TimeoutError after ``timeout``)."""

        async def drained() -> None:
            changed = self._changed
            while len(self._drift):
                changed.clear()
                await changed.wait()

        await asyncio.wait_for(drained(), timeout)

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Until every drift event is acknowledged and every heal command received so
        far has run and its result been acknowledged (TimeoutError after ``timeout``)."""

        async def idle() -> None:
            while len(self._drift) or self._heals_open:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(idle(), timeout)

    @property
    def pending_events(self) -> list[str]:
        """Event ids reported and not yet acknowledged, oldest first."""
        return self._drift.pending_ids()

    async def report_rmm(self, agents: Sequence[RMMAgent]) -> None:
        """Send the RMM agents found on the machine (``ReportRMMStatus``)."""
        report = pb.RMMStatusReport(
            agent_id=self.agent_id,
            hostname=self.config.hostname,
            detected_agents=[a.to_proto() for a in agents],
            timestamp=int(self._clock.time()),
        )
        await self._connection.unary(
            lambda s: s.ReportRMMStatus(report, timeout=_CALL_TIMEOUT), attempts=3
        )

    async def heartbeat(self) -> pb.HeartbeatResponse:
        """One heartbeat now; its pending commands go to the heal handler."""
        request = pb.HeartbeatRequest(
            agent_id=self.agent_id,
            timestamp=int(self._clock.time()),
            drift_count=self.drift_count,
            healing_count=self.healing_count,
            agent_version=self.config.agent_version,
        )
        response = await self._connection.unary(
            lambda s: s.Heartbeat(request, timeout=_CALL_TIMEOUT), attempts=1
        )
        for command in response.pending_commands:
            self._dispatch(command)
        return response

    # --- running ------------------------------------------------------------

    async def run(self) -> None:
        """Run until :meth:`stop`; raises AgentRefusedError when the server refuses
        this agent (revoked), since reconnecting cannot help then."""
        self.identity  # noqa: B018 - NotEnrolledError before anything starts
        stopping = self._stopping
        stopping.clear()
        tasks = [
            asyncio.create_task(self._drift.run(), name="drift"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
            asyncio.create_task(self._heal_loop(), name="heal"),
            asyncio.create_task(self._renewal_loop(), name="renewal"),
        ]
        stop_waiter = asyncio.create_task(stopping.wait())
        try:
            done, _ = await asyncio.wait([*tasks, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is stop_waiter:
                    continue
                if task.cancelled():
                    raise AgentError(f"the {task.get_name()} loop was cancelled")
                error = task.exception()
                if error is not None:
                    raise error
        finally:
            for task in [*tasks, stop_waiter]:
                task.cancel()
            await asyncio.gather(*tasks, stop_waiter, return_exceptions=True)
            await self._connection.close()

    def stop(self) -> None:
        """Ask :meth:`run` to return (call from the agent's own loop)."""
        self._stopping.set()

    async def aclose(self) -> None:
        self.stop()
        await self._connection.close()
        self._drift.close()

    # --- the loops ------------------------------------------------------------

    def _dispatch(self, message: pb.HealCommand) -> None:
        if message.command_id and self._ledger.take(message.command_id):
            self._heals_open += 1
            self._commands.put_nowait(HealCommand.from_proto(message))

    async def _heartbeat_loop(self) -> None:
        while True:
            try:
                response = await self.heartbeat()
                if response.config_changed:
                    await self.renew()  # Register again: the new config with a new certificate
            except grpc.aio.AioRpcError as exc:
                if stream_failure(exc.code()) is Failure.STOP:
                    raise AgentRefusedError(f"refused: {exc.details()}", exc.code()) from None
                _log.info("heartbeat failed: %s", exc.code().name)
            except EnrollmentError as exc:  # the new configuration's certificate did not check out
                _log.warning("re-registering for the new configuration failed: %s", exc)
            await self._sleep(self.config.heartbeat_interval)

    async def _heal_loop(self) -> None:
        while True:
            command = await self._commands.get()
            outcome = await run_handler(self._handler, command)
            result = pb.HealingResult(
                agent_id=self.agent_id,
                hostname=self.config.hostname,
                check_type=command.check_type,
                success=outcome.success,
                error_message=outcome.error_message,
                timestamp=int(self._clock.time()),
                artifacts=dict(outcome.artifacts),
                command_id=command.command_id,
                event_id=str(uuid.uuid4()),
            )
            await self._report_healing(result)
            self._heals_open -= 1
            self._changed.set()

    async def _report_healing(self, result: pb.HealingResult) -> None:
        """Sent until acknowledged; its event id makes a re-sent result count once."""
        await self._connection.unary(
            lambda s: s.ReportHealing(result, timeout=_CALL_TIMEOUT), attempts=None
        )
        self.healing_count += 1

    async def _renewal_loop(self) -> None:
        failures = 0
        while True:
            not_before, not_after = self.identity.validity
            delay = renewal_at(not_before, not_after) - self._clock.time()
            if delay > 0:
                await self._sleep(delay)
            try:
                await self.renew()
                failures = 0
            except (grpc.aio.AioRpcError, EnrollmentError, OSError) as exc:
                # the current certificate still works: keep it, try again later
                _log.warning("certificate renewal failed: %r", exc)
                await self._sleep(renewal_retry_delay(failures, self._rand))
                failures += 1
