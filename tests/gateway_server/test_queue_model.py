"""The command queue against a model of its rules, in random sequences.

Hypothesis drives the real app (in-process, SQLite, a clock moved by hand)
through enqueues, approvals and rejections, claims, extensions, results with
current and stale tokens, and the passing of time, and checks every answer
against a plain model of the addendum's rules: priority then FIFO; a claim
hides a command until its visibility runs out, then its token is dead; extend
and result need the current token and a live claim (403); the same result
again answers as the first, another token's 409; a command claimed
``MAX_CLAIMS`` times without a result is dead-lettered by the next claim that
reaches it; a remediation command is claimable only once approved, a rejected
one never. After every step the customer's view of both sessions must match
the model (status and claim count of every command). Every exchange is also
checked against contracts/gateway.openapi.yaml.

On SQLite, and on the machine's PostgreSQL (skipped where there is none).
Bounded: GATEWAY_MODEL_EXAMPLES sequences (default 25; two fifths of that on
PostgreSQL) of up to 40 steps, the same ones each run; GATEWAY_FUZZ_RANDOM=1
draws new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.gateway_support import TIMESTAMP, Gateway, _dev, postgres_database, running_gateway

pytestmark = pytest.mark.one_backend(
    "it runs its model on SQLite and on a PostgreSQL database of its own"
)

MAX_CLAIMS = 2
EXAMPLES = int(os.environ.get("GATEWAY_MODEL_EXAMPLES", "25"))


@attrs.define
class Command:
    id: str
    device: str
    priority: int
    seq: int
    state: str  # pending | awaiting_approval | rejected | completed | dead_letter
    claim_count: int = 0
    token: str | None = None  # the current claim's token
    until: float | None = None  # the current claim's visibility
    done_token: str | None = None  # the token the result came with
    tokens: list[str] = attrs.Factory(list)  # every token handed out for it

    def claimable(self, now: float) -> bool:
        return self.state == "pending" and (self.until is None or self.until <= now)

    def status(self, now: float) -> str:
        """What the customer sees."""
        if self.state == "pending" and self.until is not None and self.until > now:
            return "claimed"
        return self.state


class QueueModel(RuleBasedStateMachine):
    """Two devices of one customer: "d" with a diagnostic session, "r" with a
    remediation session (its commands wait for approval)."""

    postgres = False  # the machine's PostgreSQL instead of SQLite

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="gateway-model-"))
        self.stack = contextlib.AsyncExitStack()
        self.gw: Gateway = self.wait(self.start())
        self.devices = {d: self.wait(self.gw.device(f"dev-{d}")) for d in ("d", "r")}
        self.sessions = {
            "d": self.wait(self.gw.session("dev-d", "diagnostic")),
            "r": self.wait(self.gw.session("dev-r", "remediation")),
        }
        self.commands: dict[str, Command] = {}

    async def start(self) -> Gateway:
        url = await self.stack.enter_async_context(postgres_database()) if self.postgres else None
        running = running_gateway(
            self.tmp,
            database_url=url,
            max_claims=MAX_CLAIMS,
            device_rate_per_minute=10**9,
            customer_rate_per_minute=10**9,
        )
        return await self.stack.enter_async_context(running)

    def wait(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        try:
            self.wait(self.stack.aclose())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def now(self) -> float:
        return self.gw.clock.now

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        return self.wait(self.gw.call("POST", path, json_body=body, headers=headers))

    def queue(self, device: str) -> list[Command]:
        """The device's claimable commands, in claim order."""
        ready = [c for c in self.commands.values() if c.device == device and c.claimable(self.now)]
        return sorted(ready, key=lambda c: (-c.priority, c.seq))

    def claimed_ever(self) -> list[Command]:
        return [c for c in self.commands.values() if c.tokens]

    @initialize(priorities=st.lists(st.integers(0, 3), min_size=1, max_size=4))
    def some_commands(self, priorities: list[int]) -> None:
        for priority in priorities:
            self.enqueue("d", priority)

    # -- customers -------------------------------------------------------------------
    # A few commands only, so that the same ones are claimed again and again:
    # claims that run out, stale tokens, dead letters.
    @precondition(lambda self: len(self.commands) < 6)
    @rule(device=st.sampled_from(["d", "r"]), priority=st.integers(0, 3))
    def enqueue(self, device: str, priority: int) -> None:
        r = self.post(
            f"/api/v1/customer/sessions/{self.sessions[device]}/commands",
            {"type": "job", "priority": priority},
            self.gw.customer(),
        )
        assert r.status_code == 201, r.text
        state = "pending" if device == "d" else "awaiting_approval"
        command_id = r.json()["command"]["id"]
        self.commands[command_id] = Command(command_id, device, priority, len(self.commands), state)

    @precondition(lambda self: any(c.device == "r" for c in self.commands.values()))
    @rule(data=st.data(), approved=st.booleans())
    def decide(self, data: st.DataObject, approved: bool) -> None:
        # (in enqueue order: the ids are random, a draw must not depend on them)
        command = data.draw(st.sampled_from([c for c in self.commands.values() if c.device == "r"]))
        r = self.post(
            f"/api/v1/customer/sessions/{self.sessions['r']}/approve",
            {"commandId": command.id, "approved": approved},
            self.gw.customer(),
        )
        if command.state != "awaiting_approval":
            assert r.status_code == 409, r.text
            return
        assert r.status_code == 200, r.text
        command.state = "pending" if approved else "rejected"

    # -- devices ---------------------------------------------------------------------
    @rule(
        device=st.sampled_from(["d", "r"]),
        limit=st.integers(1, 3),
        visibility=st.sampled_from([1000, 2000]),
    )
    def claim(self, device: str, limit: int, visibility: int) -> None:
        expected: list[Command] = []
        for command in self.queue(device):
            if len(expected) == limit:
                break
            if command.claim_count >= MAX_CLAIMS:
                command.state, command.token, command.until = "dead_letter", None, None
                continue
            expected.append(command)
        r = self.post(
            "/api/v1/device/commands/claim",
            {"limit": limit, "visibilityTimeout": visibility},
            _dev(self.devices[device]),
        )
        assert r.status_code == 200, r.text
        got = r.json()["commands"]
        assert [c["id"] for c in got] == [c.id for c in expected]
        for command, answer in zip(expected, got, strict=True):
            assert answer["claimToken"] not in command.tokens
            command.claim_count += 1
            command.token = answer["claimToken"]
            command.until = self.now + visibility / 1000
            command.tokens.append(command.token)

    @precondition(lambda self: bool(self.claimed_ever()))
    @rule(data=st.data(), extension=st.sampled_from([1000, 3000]))
    def extend(self, data: st.DataObject, extension: int) -> None:
        command = data.draw(st.sampled_from(self.claimed_ever()))
        token = data.draw(st.sampled_from(command.tokens))
        r = self.post(
            f"/api/v1/device/commands/{command.id}/extend",
            {"claimToken": token, "extensionMs": extension},
            _dev(self.devices[command.device]),
        )
        live = command.state == "pending" and command.until is not None and command.until > self.now
        if token == command.token and live:
            assert r.status_code == 200, r.text
            command.until = self.now + extension / 1000
        else:
            assert r.status_code == 403, r.text

    @precondition(lambda self: bool(self.claimed_ever()))
    @rule(data=st.data())
    def result(self, data: st.DataObject) -> None:
        command = data.draw(st.sampled_from(self.claimed_ever()))
        token = data.draw(st.sampled_from(command.tokens))
        r = self.post(
            f"/api/v1/device/commands/{command.id}/result",
            {"claimToken": token, "status": "success", "executedAt": TIMESTAMP, "duration": 1},
            _dev(self.devices[command.device]),
        )
        live = command.state == "pending" and command.until is not None and command.until > self.now
        if command.state == "completed" and token != command.done_token:
            assert r.status_code == 409, r.text
            return
        if command.state == "completed":  # the same result again: the same answer
            assert r.status_code == 200, r.text
        elif token == command.token and live:
            assert r.status_code == 200, r.text
            command.state, command.done_token, command.until = "completed", token, None
        else:
            assert r.status_code == 403, r.text
            return
        # The next command named is the head of the device's queue, if any.
        head = next((c.id for c in self.queue(command.device) if c.id != command.id), None)
        assert r.json().get("nextCommand", {}).get("id") == head

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.0]))
    def tick(self, seconds: float) -> None:
        self.gw.clock.advance(seconds)

    def live_claims(self) -> list[float]:
        return [
            c.until for c in self.commands.values() if c.until is not None and c.until > self.now
        ]

    @precondition(lambda self: bool(self.live_claims()))
    @rule()
    def to_the_next_expiry(self) -> None:
        """Exactly to the instant the next claim runs out (claimable again, its
        token dead): the boundary both sides must agree on."""
        self.gw.clock.advance(min(self.live_claims()) - self.now)

    # -- what the customer sees, after every step -------------------------------------
    @invariant()
    def customer_view_matches(self) -> None:
        for device, session in self.sessions.items():
            r = self.wait(
                self.gw.call(
                    "GET", f"/api/v1/customer/sessions/{session}", headers=self.gw.customer()
                )
            )
            assert r.status_code == 200, r.text
            seen = {
                c["id"]: (c["status"], c["claimCount"]) for c in r.json()["session"]["commands"]
            }
            model = {
                c.id: (c.status(self.now), c.claim_count)
                for c in self.commands.values()
                if c.device == device
            }
            assert seen == model


class QueueModelOnPostgres(QueueModel):
    postgres = True


QueueModel.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("GATEWAY_FUZZ_RANDOM") != "1",
    # No shrinking: every example starts a gateway, and a failing sequence of
    # at most 40 steps reads well enough as it is.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
QueueModelOnPostgres.TestCase.settings = settings(
    QueueModel.TestCase.settings, max_examples=max(EXAMPLES * 2 // 5, 1)
)
test_queue_follows_its_model = QueueModel.TestCase
test_queue_follows_its_model_on_postgres = QueueModelOnPostgres.TestCase
