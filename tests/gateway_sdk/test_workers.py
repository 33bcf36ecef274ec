"""20 concurrent workers over 2,000 commands, some crashing mid-command:
every command completed exactly once, none lost, none completed twice."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from gateway_sdk import AsyncCustomerClient, AsyncDeviceClient, ConflictError, PermissionDeniedError
from gateway_server import create_app
from tests.gateway_sdk.conftest import FAST, achecked
from tests.gateway_support import api, customer_token, postgres_database, settings

BASE = "http://gateway.test"
COMMANDS = 2_000
WORKERS = 20
CRASH_RATE = 0.08


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_twenty_workers_two_thousand_commands_with_crashes(
    tmp_path: Path, database: str
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        url = None
        if database == "postgresql":  # real concurrent transactions (skipped without a server)
            url = await stack.enter_async_context(postgres_database())
        await _twenty_workers(tmp_path, url)


async def _twenty_workers(tmp_path: Path, database_url: str | None) -> None:
    # Abandoned claims come back after 1 s; allow more claims than the default 5
    # before dead-lettering so that an unlucky command is not parked by the test itself.
    app = create_app(settings(tmp_path, max_claims=50, database_url=database_url, **FAST))
    rng = random.Random(20_000)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with achecked(transport=transport, base_url=BASE, timeout=60) as http:
            cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
            code = (await cust.devices.provision("fleet-01")).activation_code
            first = AsyncDeviceClient(BASE, "fleet-01", http_client=http)
            await first.register(code)
            secret = first.secret_store.load()
            session = await cust.sessions.create("fleet-01")
            for i in range(COMMANDS):
                await cust.sessions.enqueue(session.id, f"job_{i}", {"i": i}, priority=i % 3)

            def client(_: int) -> AsyncDeviceClient:
                return AsyncDeviceClient(BASE, "fleet-01", secret, http_client=http)

            accepted, crashes = await work(client, COMMANDS, WORKERS, rng)

        async with api(app).services.database.read() as conn:
            states = dict(
                (
                    await conn.execute(
                        sa.text("SELECT state, count(*) FROM commands GROUP BY state")
                    )
                ).all()
            )
            outputs = (await conn.execute(sa.text("SELECT id, output, type FROM commands"))).all()
    assert crashes > 0
    assert states == {"completed": COMMANDS}
    assert len(accepted) == COMMANDS
    assert set(accepted.values()) == {1}  # never completed twice
    assert all(output == kind for _, output, kind in outputs)


async def work(
    client: Callable[[int], AsyncDeviceClient], commands: int, workers: int, rng: random.Random
) -> tuple[Counter[str], int]:
    """``workers`` concurrent device workers (worker ``i`` works through
    ``client(i)``, a fresh one after each crash), claiming 5 at a time for
    1 s and sometimes crashing mid-command with its claims held, until
    ``commands`` results are accepted (bounded: 120 s): how often each
    command's result was accepted, and how many crashes there were."""
    accepted: Counter[str] = Counter()
    crashes = 0
    deadline = time.monotonic() + 120

    async def worker(i: int) -> None:
        nonlocal crashes
        device = client(i)
        # Until every command is done (abandoned claims come back after 1 s), bounded.
        while len(accepted) < commands and time.monotonic() < deadline:
            claimed = await device.claim(5, visibility_timeout_ms=1000)
            if not claimed:
                await asyncio.sleep(0.2)
                continue
            for command in claimed:
                if rng.random() < CRASH_RATE:
                    crashes += 1  # the worker dies holding its claims; a new one starts
                    device = client(i)
                    break
                try:
                    result = await device.complete(command, output=command.type)
                except (PermissionDeniedError, ConflictError):
                    continue  # our claim expired first: someone else owns it now
                assert result.success
                accepted[command.id] += 1

    await asyncio.gather(*(worker(i) for i in range(workers)))
    return accepted, crashes
