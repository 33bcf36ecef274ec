"""What the agent hands to its user and takes from it: heal commands, their
outcomes, RMM agents. Plain frozen records; the protobuf messages stay inside."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

import attrs

from .._proto import compliance_pb2 as pb

__all__ = [
    "DEFAULT_HEAL_TIMEOUT",
    "HealCommand",
    "HealHandler",
    "HealOutcome",
    "RMMAgent",
    "run_handler",
]

DEFAULT_HEAL_TIMEOUT = 60.0


def _frozen_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


@attrs.frozen
class HealCommand:
    """A runbook step the server asks this agent to run."""

    command_id: str
    check_type: str
    action: str
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    timeout_seconds: float = DEFAULT_HEAL_TIMEOUT

    @classmethod
    def from_proto(cls, message: pb.HealCommand) -> HealCommand:
        return cls(
            command_id=message.command_id,
            check_type=message.check_type,
            action=message.action,
            params=dict(message.params),
            timeout_seconds=float(message.timeout_seconds or DEFAULT_HEAL_TIMEOUT),
        )


@attrs.frozen
class HealOutcome:
    """What a heal handler answers (a bare ``True``/``False`` works too)."""

    success: bool
    error_message: str = ""
    artifacts: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)


@attrs.frozen
class RMMAgent:
    """A remote-management agent found on the machine."""

    name: str
    version: str = ""
    running: bool = False
    service_name: str = ""

    def to_proto(self) -> pb.RMMAgent:
        return pb.RMMAgent(
            name=self.name,
            version=self.version,
            running=self.running,
            service_name=self.service_name,
        )


HealResult = HealOutcome | bool
HealHandler = Callable[[HealCommand], HealResult | Awaitable[HealResult]]
"""A heal handler: sync (run in a worker thread) or async; an exception or a
timeout (the command's ``timeout_seconds``) is reported as a failed healing."""


async def run_handler(handler: HealHandler | None, command: HealCommand) -> HealOutcome:
    """The handler's outcome for ``command``: an exception, a timeout (the command's
    ``timeout_seconds``) or no handler at all is a failed healing, with the reason."""
    if handler is None:
        return HealOutcome(False, "no heal handler registered on this agent")

    async def call() -> HealResult:
        answer: object
        if inspect.iscoroutinefunction(handler):
            answer = handler(command)
        else:  # a plain function may block: a worker thread runs it
            answer = await asyncio.to_thread(
                cast(Callable[[HealCommand], object], handler), command
            )
        if inspect.isawaitable(answer):
            answer = await answer
        return cast(HealResult, answer)

    try:
        result = await asyncio.wait_for(call(), command.timeout_seconds)
    except TimeoutError:
        return HealOutcome(False, f"timed out after {command.timeout_seconds:g} s")
    except Exception as exc:  # the handler's failure is the healing's result
        return HealOutcome(False, f"{type(exc).__name__}: {exc}")
    return result if isinstance(result, HealOutcome) else HealOutcome(bool(result))
