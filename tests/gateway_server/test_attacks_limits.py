"""Attacks on the limits: keys that grow the limiter's table without end, and
answers or messages larger or more frequent than a caller is allowed.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

import contextlib
import stat
from pathlib import Path
from typing import Any

import pytest

from gateway_server.device_gateway._rules import page_length
from gateway_server.edge import FailureBudget, RateLimiter, in_process, redis_limits
from tests.gateway_support import Clock, Gateway, running_gateway
from tests.redis_support import redis_link


def test_f7_a_flood_of_new_keys_cannot_grow_the_limiter_without_bound() -> None:
    """Finding 7: bodies of unauthenticated requests choose the limiter's keys
    (device ids, addresses); the table holds at most ``max_keys`` whatever
    arrives, and a key counted in this window keeps counting meanwhile."""
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock, max_keys=1000)
    for _ in range(3):
        assert limiter.hit("device:real").allowed
    assert not limiter.hit("device:real").allowed
    for i in range(5000):
        limiter.hit(f"device:flood-{i}")
        assert len(limiter) <= 1000
    # The oldest keys go first: the real key was evicted by the flood and
    # starts again (a limit can only loosen under a flood, never deny).
    assert limiter.hit("device:real").remaining == 2
    assert limiter.hit("device:flood-4999").remaining == 1
    clock.advance(60)  # the next window starts empty
    assert limiter.hit("device:other").remaining == 2
    assert len(limiter) == 1


def test_f7_the_window_keeps_its_counts_below_the_bound() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 60.0, clock, max_keys=10)
    for key in "abcde":
        limiter.hit(key)
    assert [limiter.hit(k).allowed for k in "abcde"] == [True] * 5
    assert [limiter.hit(k).allowed for k in "abcde"] == [False] * 5
    verdict = limiter.hit("a")
    assert verdict.remaining == 0
    assert verdict.reset_at == (clock() // 60 + 1) * 60


# -- finding 11: one answer holding every result -----------------------------------------
async def _session_page(gw: Gateway, session: str, query: str = "") -> dict[str, Any]:
    r = await gw.call("GET", f"/api/v1/customer/sessions/{session}{query}", headers=gw.customer())
    assert r.status_code == 200, r.text
    return dict(r.json()["session"])


async def test_f11_a_sessions_commands_come_in_pages(gw: Gateway) -> None:
    """Finding 11: a session answered with every command and every output."""
    await gw.device("dev-001")
    session = await gw.session("dev-001")
    ids = [await gw.enqueue(session, f"job-{i}") for i in range(7)]
    first = await _session_page(gw, session, "?limit=3")
    assert [c["id"] for c in first["commands"]] == ids[:3]
    assert first["commandsTotal"] == 7
    last = await _session_page(gw, session, "?limit=3&offset=6")
    assert [c["id"] for c in last["commands"]] == ids[6:]
    assert [c["id"] for c in (await _session_page(gw, session))["commands"]] == ids
    for bad in ("?limit=0", "?limit=201", "?offset=-1"):
        r = await gw.call("GET", f"/api/v1/customer/sessions/{session}{bad}", headers=gw.customer())
        assert r.status_code == 400


def test_f11_a_page_always_moves_on() -> None:
    assert page_length([]) == 0
    assert page_length([5_000_000, 1]) == 1  # one command at least, however large
    assert page_length([1_000_000, 1_000_000, 1]) == 2
    assert page_length([10] * 200) == 200


async def test_f11_large_results_end_a_page_early(gw: Gateway) -> None:
    """40 results of 1 MB came back as one 40 MB answer: a page ends before
    its results pass 2,000,000 characters (one command at least)."""
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    for i in range(5):
        await gw.enqueue(session, f"dump-{i}")
    for _ in range(5):
        (claimed,) = await gw.claim(device)
        body = {
            "claimToken": claimed["claimToken"], "status": "success", "output": "o" * 900_000,
            "executedAt": "2024-06-01T10:00:00Z", "duration": 1.0,
        }  # fmt: skip
        r = await gw.call(
            "POST", f"/api/v1/device/commands/{claimed['id']}/result", json_body=body,
            headers={"X-Device-Token": device["X-Device-Token"]},
        )  # fmt: skip
        assert r.status_code == 200, r.text
    sizes, offset = [], 0
    while offset < 5:
        page = await _session_page(gw, session, f"?offset={offset}")
        assert page["commandsTotal"] == 5
        sizes.append(len(page["commands"]))
        offset += len(page["commands"])
    assert sizes == [2, 2, 1]


# -- finding 12: the small ones -------------------------------------------------------------
@pytest.mark.parametrize("value", ["\u0665", "\uff15", "1\u0665", "\u00b2"])
async def test_f12_only_ascii_digits_make_an_integer(gw: Gateway, value: str) -> None:
    """Finding 12: ``limit=\u0665`` (an Arabic-Indic five) was taken as 5."""
    r = await gw.call("GET", f"/api/v1/customer/devices?limit={value}", headers=gw.customer())
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"field": "limit"}


async def test_f12_the_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    """Finding 12: the SQLite file and its WAL were world-readable (0644)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # as an older server (or the umask) left it
    async with running_gateway(tmp_path) as gw:
        await gw.device("dev-001")  # writes: the WAL and its index exist now
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert {"gateway.db", "gateway.db-wal", "gateway.db-shm"} <= set(files)
        assert set(files.values()) == {0o600}, files


@pytest.mark.parametrize("backend", ["in-process", "redis"])
async def test_a_failure_budget_counts_failures_per_name_and_address_then_per_address(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """The same budget whether counted in this process or in Redis (for every process)."""
    now = [0.0]
    limits = in_process(lambda: now[0])
    async with contextlib.AsyncExitStack() as stack:
        if backend == "redis":
            link = await stack.enter_async_context(
                redis_link(request.getfixturevalue("redis_server").url)
            )
            limits = redis_limits(link, lambda: now[0])
        await _spend_a_budget(FailureBudget(2, lambda: now[0], per_address=2, limits=limits), now)


async def _spend_a_budget(budget: FailureBudget, now: list[float]) -> None:
    assert await budget.fail("dev-1", "10.0.0.1") is None
    assert await budget.spent("dev-1", "10.0.0.1") is None  # looking counts nothing
    assert await budget.fail("dev-1", "10.0.0.1") is None
    refused = await budget.fail("dev-1", "10.0.0.1")
    assert refused is not None
    assert refused.code == "RATE_LIMITED"
    assert refused.headers is not None
    assert refused.headers["Retry-After"] == "60"
    assert await budget.spent("dev-1", "10.0.0.1") is not None
    assert await budget.spent("dev-1", "10.0.0.2") is None  # another address: its own budget
    # the address's own budget (2 x 2) counts the failures of every name from it
    assert await budget.fail("dev-2", "10.0.0.1") is None
    assert await budget.fail("dev-2", "10.0.0.1") is None
    assert await budget.fail("dev-3", "10.0.0.1") is not None
    now[0] = 60.0  # a new minute
    assert await budget.spent("dev-1", "10.0.0.1") is None
