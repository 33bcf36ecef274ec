"""The worker's decisions on their own: WorkerState and Patience, I/O-free,
on a fake clock (what DeviceClient.run's loops do with them is test_run.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway_sdk import APIConnectionError, ClaimedCommand, WorkerStats
from gateway_sdk._patience import Patience
from gateway_sdk._worker import WorkerSettings, WorkerState
from sdk_core import PermissionDeniedError, RetryPolicy, make_status_error
from tests.gateway_sdk.conftest import BASE
from tests.support import FakeClock


def worker_state(
    *,
    clock: FakeClock | None = None,
    rand: Any = lambda: 1.0,
    visibility_timeout_ms: int = 3000,
    limit: int = 1,
    poll_interval: float = 1.0,
    max_commands: int | None = None,
    exit_when_idle: bool = False,
    max_outage: float | None = None,
) -> WorkerState:
    settings = WorkerSettings(
        visibility_timeout_ms=visibility_timeout_ms, limit=limit, poll_interval=poll_interval,
        max_commands=max_commands, exit_when_idle=exit_when_idle, max_outage=max_outage,
    )  # fmt: skip
    return WorkerState(
        settings,
        retry_statuses=RetryPolicy().retry_statuses,  # what the client's own retries retry
        clock=clock or FakeClock(),
        rand=rand,
    )


def command(cid: str) -> ClaimedCommand:
    return ClaimedCommand.model_validate(
        {
            "id": cid,
            "type": "job",
            "claimToken": f"tok-{cid}",
            "visibleUntil": "2030-01-01T00:00:00Z",
        }
    )


def test_patience_doubles_to_a_cap_and_has_limits() -> None:
    clock = FakeClock(start=0.0)
    patience = Patience(0.5, 100.0, clock=clock, rand=lambda: 1.0)  # no jitter
    assert [patience.next_wait() for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert patience.next_wait(asked=7) == 7  # what the server asked for
    assert patience.next_wait(before=clock.now + 10) is None  # 30 s would end too late
    clock.now = 100.0  # failing since 0: the outage limit
    assert patience.next_wait() is None
    patience.ok()
    assert patience.next_wait() == 0.5
    jittered = Patience(1.0, None, rand=lambda: 0.0)
    assert jittered.next_wait() == 0.5  # half the ceiling at the least


def test_the_worker_waits_out_only_transient_failures() -> None:
    state = worker_state(poll_interval=0.5, rand=lambda: 1.0)
    stats: WorkerStats = state.stats
    request = httpx.Request("POST", f"{BASE}/api/v1/device/commands/claim")

    def answer(status: int, **headers: str) -> Exception:
        return make_status_error(httpx.Response(status, headers=headers, request=request), now=0)

    down = APIConnectionError(request=request)
    assert state.claim_failed(down) == 0.5
    assert state.claim_failed(answer(503)) == 1
    limited = answer(429, **{"Retry-After": "7"})
    assert state.claim_failed(limited) == 7
    for status in (400, 401, 403, 404, 409):
        assert state.claim_failed(answer(status)) is None
    assert stats.transient_errors == 3


def test_the_keeper_extends_every_claim_of_the_batch_a_third_into_its_life() -> None:
    clock = FakeClock(start=0.0)
    state = worker_state(clock=clock, visibility_timeout_ms=3000, limit=3)
    assert state.want() == 3  # the claim is sent now, at 0
    clock.advance(0.2)  # the claim's answer
    assert state.claimed([command("a"), command("b"), command("c")]) is None
    assert state.keeper_wait() == pytest.approx(0.8)  # due at 1.0: a third of 3 s after sending
    assert state.due() == []
    clock.advance(0.8)
    assert [c.id for c in state.due()] == ["a", "b", "c"]  # the waiting ones too
    for held in state.due():
        state.extended(held, state.extending())
    assert state.keeper_wait() == pytest.approx(1.0)
    first = state.next_command(stopped=False)
    assert first is not None
    state.result_in(first, state.succeeded(state.started(), "ok"))
    clock.advance(1.0)
    assert [c.id for c in state.due()] == ["b", "c"]  # a's result is in: no longer kept


def test_a_refused_extension_drops_the_claim_and_its_command_is_not_run() -> None:
    clock = FakeClock(start=0.0)
    state = worker_state(clock=clock, limit=2)
    state.want()
    state.claimed([command("head"), command("tail")])
    clock.advance(1.0)
    request = httpx.Request("POST", f"{BASE}/api/v1/device/commands/tail/extend")
    refused = make_status_error(httpx.Response(403, request=request), now=0)
    assert isinstance(refused, PermissionDeniedError)
    state.not_extended(command("tail"), refused, clock.monotonic())
    down = APIConnectionError(request=request)
    state.not_extended(command("head"), down, clock.monotonic())  # tried again a turn later
    assert state.keeper_wait() == pytest.approx(1.0)
    head = state.next_command(stopped=False)
    assert head is not None
    assert head.id == "head"
    state.result_in(head, state.failed(state.started(), RuntimeError("disk on fire")))
    assert state.next_command(stopped=False) is None  # the tail is skipped, counted lost
    assert (state.stats.failed, state.stats.lost) == (1, 1)


def test_a_stop_hands_back_what_was_not_started_and_max_commands_ends_the_run() -> None:
    state = worker_state(limit=3, max_commands=4)
    assert state.want() == 3
    state.claimed([command("a"), command("b"), command("c")])
    assert state.next_command(stopped=False) is not None
    assert state.next_command(stopped=True) is None
    assert [c.id for c in state.hand_back()] == ["b", "c"]
    assert state.running(stopped=False)
    assert state.want() == 3
    state.claimed([command("d"), command("e"), command("f")])
    while state.next_command(stopped=False) is not None:
        pass
    assert state.hand_back() == []
    assert not state.running(stopped=False)  # 1 + 3 handled: max_commands reached


def test_an_idle_worker_polls_or_ends() -> None:
    assert worker_state(poll_interval=2.5).claimed([]) == 2.5
    idle = worker_state(exit_when_idle=True)
    assert idle.claimed([]) == 0.0
    assert not idle.running(stopped=False)


def test_a_result_is_sent_again_only_while_its_claim_surely_lives() -> None:
    clock = FakeClock(start=0.0)
    state = worker_state(clock=clock, visibility_timeout_ms=3000, poll_interval=0.5)
    state.want()
    clock.advance(0.5)  # the claim's answer came late: it lives until 3.0, from the sending
    state.claimed([command("a")])
    job = state.next_command(stopped=False)
    assert job is not None
    request = httpx.Request("POST", f"{BASE}/api/v1/device/commands/a/result")
    down = APIConnectionError(request=request)
    waits = []
    while (wait := state.result_failed(job, down)) is not None:
        waits.append(wait)
        clock.advance(wait)
    assert waits == [0.5, 1.0]  # a third wait (2.0) would end past 3.0
    assert (state.stats.transient_errors, state.stats.submit_errors) == (2, 1)
