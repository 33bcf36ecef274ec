"""The drift stream: the outbox (in memory and spooled to disk), one
``ReportDrift`` call at a time, and the reconnects.

A writer sends the outbox's events this connection has not sent (its cursor,
``_rules.Outbox.after``), a reader takes the acks. When the call fails, the
stream waits (``_rules.reconnect_delay``, reset once a connection got an ack),
moves to the next discovered address and opens a new call, which re-sends
every unacknowledged event with its event id: none is lost, and the server
applies an id once. An ack with an error, or INVALID_ARGUMENT while an event
was in flight, sets that event aside in ``rejected`` (it would be refused
again). UNAUTHENTICATED and PERMISSION_DENIED stop the agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import grpc
import grpc.aio

from sdk_core import AsyncSleep

from .._proto import compliance_pb2 as pb
from .._proto import compliance_pb2_grpc as pb_grpc
from ._connection import Connection, closed_under_us
from ._errors import AgentRefusedError
from ._rules import Failure, Outbox, reconnect_delay, stream_failure
from ._spool import Spool

__all__ = ["DriftStream"]

_log = logging.getLogger("compliance_sdk.agent")


class _StreamEnded(Exception):
    """The server closed the drift stream without an error status, or the channel
    was closed under it (a renewal)."""


class DriftStream:
    def __init__(
        self,
        connection: Connection,
        state_dir: Path,
        max_pending: int,
        on_command: Callable[[pb.HealCommand], None],
        *,
        sleep: AsyncSleep,
        rand: Callable[[], float],
    ) -> None:
        self._connection = connection
        self._outbox = Outbox(max_pending)
        self._spool = Spool(state_dir)
        self._restored = False
        self._on_command = on_command
        self._sleep = sleep
        self._rand = rand
        self.changed = asyncio.Event()
        """Set when the outbox changes (an event queued, acknowledged, set aside)."""
        self.drift_count = 0
        self.rejected: list[tuple[str, str]] = []
        self.connections = 0

    def __len__(self) -> int:
        self.restore()
        return len(self._outbox)

    def pending_ids(self) -> list[str]:
        self.restore()
        return self._outbox.pending_ids()

    def restore(self) -> None:
        """Once: the events the last run left unacknowledged (the spool), first in
        the outbox, with their event ids."""
        if not self._restored:
            self._restored = True
            for event in self._spool.load():
                self._outbox.add(event)
            if len(self._outbox):
                _log.info("%d drift events from the last run to send", len(self._outbox))

    def reassign(self, agent_id: str) -> None:
        """After a new enrollment: the waiting events are this machine's, now under
        its new agent id (the server refuses another agent's id)."""
        self.restore()
        waiting = self._outbox.events()
        for event in waiting:
            event.agent_id = agent_id
        self._spool.compact(waiting)

    async def queue(self, event: pb.DriftEvent) -> str:
        """Into the outbox (and the spool), waiting while it is full; its event id."""
        self.restore()
        while self._outbox.full():
            self.changed.clear()
            await self.changed.wait()
        event_id = self._outbox.add(event)
        self._spool.added(event)
        self.changed.set()
        return event_id

    def close(self) -> None:
        self._spool.close()

    async def run(self) -> None:
        """Keep a stream open until cancelled; AgentRefusedError when refused."""
        self.restore()
        failures = 0
        while True:
            acked_before = self.drift_count
            sent: list[int] = [0]  # the connection's cursor, shared with its writer
            try:
                await self._stream(await self._connection.stub(), sent)
            except (grpc.aio.AioRpcError, _StreamEnded) as exc:
                code = exc.code() if isinstance(exc, grpc.aio.AioRpcError) else None
                decision = stream_failure(code)
                if decision is Failure.STOP and isinstance(exc, grpc.aio.AioRpcError):
                    raise AgentRefusedError(f"refused: {exc.details()}", code) from None
                if decision is Failure.DROP_IN_FLIGHT:
                    self._drop_in_flight(sent[0], exc)
                if self.drift_count > acked_before:
                    failures = 0
                _log.info("drift stream ended (%s); reconnecting", code.name if code else "closed")
            await self._connection.next_endpoint()
            await self._sleep(reconnect_delay(failures, self._rand))
            failures += 1

    def _drop_in_flight(self, cursor: int, exc: BaseException) -> None:
        """The server refused the oldest event this connection sent: it would be
        refused again, so it is set aside (in ``rejected``)."""
        oldest = self._outbox.oldest()
        if oldest is not None and cursor > 0:
            self._forget(oldest.event_id)
            details = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else str(exc)
            self.rejected.append((oldest.event_id, details or "INVALID_ARGUMENT"))
            self.changed.set()

    async def _stream(self, agent: pb_grpc.ComplianceAgentAsyncStub, sent: list[int]) -> None:
        call = agent.ReportDrift()
        self.connections += 1
        writer = asyncio.create_task(self._write(call, sent))
        try:
            while True:
                try:
                    ack = await call.read()
                except asyncio.CancelledError:
                    if not closed_under_us():
                        raise  # the agent is stopping
                    raise _StreamEnded("the channel was closed") from None  # renewal
                if ack is grpc.aio.EOF:  # the server ended the stream (an error raises)
                    raise _StreamEnded()
                assert isinstance(ack, pb.DriftAck)
                self._on_ack(ack)
        finally:
            writer.cancel()
            call.cancel()

    async def _write(
        self, call: grpc.aio.StreamStreamCall[pb.DriftEvent, pb.DriftAck], sent: list[int]
    ) -> None:
        try:
            while True:
                batch = self._outbox.after(sent[0])
                if not batch:
                    self.changed.clear()
                    await self.changed.wait()
                    continue
                for seq, event in batch:
                    await call.write(event)
                    sent[0] = seq + 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the reader sees the call's status
            _log.debug("drift writer stopped: %r", exc)
            call.cancel()

    def _forget(self, event_id: str) -> pb.DriftEvent | None:
        """The event acknowledged: out of the outbox and, on disk, out of the spool."""
        event = self._outbox.ack(event_id)
        if event is not None:
            self._spool.acked(event_id)
            if self._spool.compact_due(len(self._outbox)):
                self._spool.compact(self._outbox.events())
        return event

    def _on_ack(self, ack: pb.DriftAck) -> None:
        event = self._forget(ack.event_id)
        if event is None:
            return  # a second ack of a re-sent event
        if ack.error:
            self.rejected.append((ack.event_id, ack.error))
            _log.warning("drift event %s not applied: %s", ack.event_id, ack.error)
        else:
            self.drift_count += 1
        self.changed.set()
        if ack.HasField("heal_command"):
            self._on_command(ack.heal_command)
