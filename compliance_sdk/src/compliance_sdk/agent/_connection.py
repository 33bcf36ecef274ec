"""The agent's connection to the agent listener: the discovered addresses, one
mutual-TLS channel at a time, and unary calls with the agent's backoff.

After a failure the drift loop moves to the next address (:meth:`next_endpoint`);
once every address failed, discovery runs again (DNS may have changed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

import grpc
import grpc.aio

from sdk_core import AsyncSleep

from .._proto import compliance_pb2_grpc as pb_grpc
from ._channel import mtls_channel, stub
from ._config import AgentConfig
from ._discovery import asrv_targets
from ._errors import AgentError, AgentRefusedError
from ._identity import AgentIdentity
from ._rules import (
    Endpoint,
    Failure,
    SrvTarget,
    choose_endpoints,
    reconnect_delay,
    stream_failure,
)

__all__ = ["Connection", "closed_under_us"]

_log = logging.getLogger("compliance_sdk.agent")
T = TypeVar("T")


def closed_under_us() -> bool:
    """Whether a CancelledError came from grpc (the call's channel was closed, as
    renewal does) rather than from cancelling the task that waits on it."""
    task = asyncio.current_task()
    return task is not None and not task.cancelling()


class Connection:
    def __init__(
        self,
        config: AgentConfig,
        identity: Callable[[], AgentIdentity],
        environ: Mapping[str, str],
        *,
        sleep: AsyncSleep,
        rand: Callable[[], float],
    ) -> None:
        self.config = config
        self._identity = identity
        self._environ = environ
        self._sleep = sleep
        self._rand = rand
        self._channel: grpc.aio.Channel | None = None
        self._stub: pb_grpc.ComplianceAgentAsyncStub | None = None
        self._endpoints: list[Endpoint] = []
        self._index = 0

    def _choose(self, srv: Sequence[SrvTarget] = ()) -> list[Endpoint]:
        return choose_endpoints(
            explicit=self.config.address,
            env=self._environ.get("OSIRIS_APPLIANCE_ADDR"),
            config=self.config.appliance_addr,
            enrolled=self._identity().state.agent_address,
            srv=srv,
            rand=self._rand,
        )

    async def discover(self) -> list[Endpoint]:
        """Every candidate address, in the discovery order (DNS asked now)."""
        srv = await asrv_targets(
            self.config.domain,
            nameservers=list(self.config.dns_nameservers) or None,
            port=self.config.dns_port,
        )
        return self._choose(srv=srv)

    def target(self) -> str:
        """The address in use (without asking DNS when discovery has not run yet)."""
        if self._endpoints:
            return self._endpoints[self._index % len(self._endpoints)].target
        found = self._choose()
        if not found:
            raise AgentError("no address for the agent listener: give --address")
        return found[0].target

    async def stub(self) -> pb_grpc.ComplianceAgentAsyncStub:
        if self._stub is None:
            if not self._endpoints:
                self._endpoints = await self.discover()
            if not self._endpoints:
                raise AgentError("no address for the agent listener: give --address")
            target = self.target()
            _log.debug("connecting to %s", target)
            self._channel = mtls_channel(target, self._identity(), self.config.tls_server_name)
            self._stub = stub(self._channel)
        return self._stub

    async def close(self) -> None:
        """Close the channel; the next call opens a new one (with the current certificate)."""
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            await channel.close()

    async def next_endpoint(self) -> None:
        await self.close()
        self._index += 1
        if self._endpoints and self._index % len(self._endpoints) == 0:
            self._endpoints = []  # every address failed once: ask DNS again

    async def unary(
        self,
        call: Callable[[pb_grpc.ComplianceAgentAsyncStub], Awaitable[T]],
        *,
        attempts: int | None,
    ) -> T:
        """One unary call with the agent's backoff; ``attempts`` None: until it succeeds.
        A refused agent raises AgentRefusedError at once; INVALID_ARGUMENT is not retried."""
        attempt = 0
        while True:
            try:
                return await call(await self.stub())
            except asyncio.CancelledError:
                if not closed_under_us():
                    raise  # the caller is being cancelled
                # the channel was closed under the call (a renewal): a new one is ready
            except grpc.aio.AioRpcError as exc:
                attempt += 1
                failure = stream_failure(exc.code())
                if failure is Failure.STOP:
                    raise AgentRefusedError(f"refused: {exc.details()}", exc.code()) from None
                if failure is Failure.DROP_IN_FLIGHT or (
                    attempts is not None and attempt >= attempts
                ):
                    raise
                await self._sleep(reconnect_delay(attempt - 1, self._rand))
