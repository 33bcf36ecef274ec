"""A heal handler's outcome, whatever the handler does: async or blocking, a bool
or an outcome, an exception, a timeout, or no handler at all."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from compliance_sdk._proto import compliance_pb2 as pb
from compliance_sdk.agent import AgentConfig, AgentError, ComplianceAgent, HealCommand, HealOutcome
from compliance_sdk.agent._models import run_handler

COMMAND = HealCommand("c-1", "firewall", "enable_firewall", {"profile": "domain"}, 5)


async def test_async_and_blocking_handlers() -> None:
    threads: list[str] = []

    async def healer(command: HealCommand) -> HealOutcome:
        return HealOutcome(True, artifacts={"ran": command.action})

    def blocking(command: HealCommand) -> bool:
        threads.append(threading.current_thread().name)
        return command.params["profile"] == "domain"

    assert await run_handler(healer, COMMAND) == HealOutcome(True, "", {"ran": "enable_firewall"})
    assert await run_handler(blocking, COMMAND) == HealOutcome(True)
    assert threads
    assert threads[0] != threading.current_thread().name  # not on the loop
    assert await run_handler(lambda c: False, COMMAND) == HealOutcome(False)


async def test_failures_are_outcomes_with_their_reason() -> None:
    def broken(command: HealCommand) -> bool:
        raise PermissionError("netsh refused")

    async def slow(command: HealCommand) -> bool:
        await asyncio.sleep(10)
        return True

    assert await run_handler(broken, COMMAND) == HealOutcome(
        False, "PermissionError: netsh refused"
    )
    quick = HealCommand("c-2", "firewall", "enable_firewall", timeout_seconds=0.05)
    assert await run_handler(slow, quick) == HealOutcome(False, "timed out after 0.05 s")
    assert await run_handler(None, COMMAND) == HealOutcome(
        False, "no heal handler registered on this agent"
    )


def test_a_command_from_the_wire() -> None:
    message = pb.HealCommand(
        command_id="c-9", check_type="defender", action="start", params={"a": "b"}
    )
    command = HealCommand.from_proto(message)
    assert command == HealCommand("c-9", "defender", "start", {"a": "b"}, 60.0)  # 0 means 60
    message.timeout_seconds = 5
    assert HealCommand.from_proto(message).timeout_seconds == 5.0


def test_a_blocking_call_from_the_agents_own_loop_is_refused(tmp_path: Path) -> None:
    """An async handler on the sync agent's loop that calls a blocking method would
    wait for the loop it blocks: refused with the way out, not a hang."""
    with ComplianceAgent(AgentConfig(state_dir=tmp_path), environ={}) as agent:

        async def inside() -> str:
            try:
                agent.wait_acked(1)
            except AgentError as exc:
                return str(exc)
            return "no error"

        answer = agent._call(inside())
    assert "await the same method on agent.agent" in answer
