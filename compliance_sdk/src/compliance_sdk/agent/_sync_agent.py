"""``ComplianceAgent``: the same agent for code without an event loop.

grpc's streams and the agent's four loops are asyncio's, so the sync twin runs
one :class:`AsyncComplianceAgent` on an event loop in a daemon thread it owns,
and each method hands its coroutine to that loop and waits for the answer.
Every decision stays in the async agent and ``_rules``; this holds only the
thread. ``run()`` blocks until ``stop()`` (from another thread or a heal
handler) or Ctrl-C; ``start()`` runs the agent in the background.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from sdk_core import Clock

from .._proto import compliance_pb2 as pb
from ._async_agent import AsyncComplianceAgent
from ._config import AgentConfig
from ._errors import AgentError
from ._identity import AgentIdentity
from ._models import HealHandler, RMMAgent

__all__ = ["ComplianceAgent"]

T = TypeVar("T")


class ComplianceAgent:
    """The compliance agent, blocking calls. ``enroll`` once, then ``run`` (or ``start``)."""

    def __init__(
        self,
        config: AgentConfig | None = None,
        *,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"clock": clock, "environ": environ}
        if rand is not None:
            kwargs["rand"] = rand
        self.agent = AsyncComplianceAgent(config, **kwargs)
        """The async agent this one drives (its counters: ``drift_count``...)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._running: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return repr(self.agent).replace("AsyncComplianceAgent", "ComplianceAgent", 1)

    def __enter__(self) -> ComplianceAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def config(self) -> AgentConfig:
        return self.agent.config

    @property
    def identity(self) -> AgentIdentity:
        return self.agent.identity

    @property
    def agent_id(self) -> str:
        return self.agent.agent_id

    @property
    def enrolled(self) -> bool:
        return self.agent.enrolled

    # --- the loop thread ------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="compliance-agent", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        loop = self._ensure_loop()
        if threading.current_thread() is self._thread:
            coro.close()  # waiting here would block the loop that must answer
            raise AgentError(
                "a blocking call from the agent's own loop (an async heal handler): "
                "await the same method on agent.agent instead"
            )
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError from None

    # --- the agent's calls, blocking --------------------------------------------

    def enroll(
        self,
        token: str,
        ca_fingerprint: str,
        *,
        ca_pem: bytes | str | None = None,
        address: str | None = None,
    ) -> AgentIdentity:
        return self._call(self.agent.enroll(token, ca_fingerprint, ca_pem=ca_pem, address=address))

    def renew(self) -> AgentIdentity:
        return self._call(self.agent.renew())

    def on_heal(self, handler: HealHandler) -> HealHandler:
        """Register the heal handler; a plain function runs in a worker thread."""
        return self.agent.on_heal(handler)

    def report_drift(
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
        return self._call(
            self.agent.report_drift(
                check_type,
                passed,
                expected=expected,
                actual=actual,
                hipaa_control=hipaa_control,
                metadata=metadata,
                event_id=event_id,
            )
        )

    def wait_acked(self, timeout: float | None = None) -> None:
        self._call(self.agent.wait_acked(timeout))

    def wait_idle(self, timeout: float | None = None) -> None:
        self._call(self.agent.wait_idle(timeout))

    @property
    def pending_events(self) -> list[str]:
        """Event ids not yet acknowledged, oldest first (read on the agent's loop)."""

        async def read() -> list[str]:
            return self.agent.pending_events

        return self._call(read())

    def report_rmm(self, agents: Sequence[RMMAgent]) -> None:
        self._call(self.agent.report_rmm(agents))

    def heartbeat(self) -> pb.HeartbeatResponse:
        return self._call(self.agent.heartbeat())

    # --- running ------------------------------------------------------------

    def start(self) -> None:
        """Run the agent in its thread and return; ``stop()`` or ``close()`` ends it."""
        loop = self._ensure_loop()
        if self._running is None or self._running.done():
            self._running = asyncio.run_coroutine_threadsafe(self.agent.run(), loop)

    def run(self) -> None:
        """Run the agent until ``stop()`` or Ctrl-C; raises what ended it (a refused agent)."""
        self.start()
        assert self._running is not None
        try:
            self._running.result()
        except KeyboardInterrupt:
            self.stop()
            raise

    run_forever = run

    def stop(self) -> None:
        """Make ``run`` return (safe from any thread); waits until the agent stopped."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self.agent.stop)
        if self._running is not None and threading.current_thread() is not self._thread:
            # run()'s caller sees what ended it; stopping goes on regardless
            with contextlib.suppress(Exception):
                self._running.result(30)

    def close(self) -> None:
        """Stop the agent and its thread."""
        self.stop()
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.agent.aclose(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
        self._loop = self._thread = None
