"""Two ``gateway-server serve`` processes against one PostgreSQL and one Redis
(a redis-server of the test's own): a customer socket on process A hears the
``command_update`` of a result submitted to process B; a device's limit of
100 requests a minute holds across both together; a session logged out
through A is refused by B at once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio
from websockets.asyncio.client import connect

from gateway_server import CustomerVerifier
from tests.gateway_support import TIMESTAMP, ServerProcess, postgres_database
from tests.redis_support import RedisServer, prefix

# One pair of processes for the module (starting two costs seconds on a small machine).
pytestmark = [pytest.mark.timeout(120), pytest.mark.asyncio(loop_scope="module")]

SECRET = "redis-process-secret-" + "r" * 24
PASSWORD = "correct horse battery staple"
BEAT = {"timestamp": TIMESTAMP, "status": "online"}


def customer() -> dict[str, str]:
    token = CustomerVerifier(secret=SECRET, audience="gateway").mint("cust-a")
    return {"Authorization": f"Bearer {token}"}


class Pair:
    """Processes A and B of one deployment."""

    def __init__(self, tmp_path: Path, database: str, redis_url: str) -> None:
        self.prefix = prefix()
        self.database = database
        self.tmp_path = tmp_path
        common = ("--database-url", database, "--redis-url", redis_url,
                  "--redis-prefix", self.prefix, "--device-rate-per-minute", "100")  # fmt: skip
        self.a = ServerProcess(tmp_path / "a", SECRET, *common, log=tmp_path / "a.log")
        self.b = ServerProcess(tmp_path / "b", SECRET, *common, log=tmp_path / "b.log")

    def __iter__(self) -> Iterator[ServerProcess]:
        return iter((self.a, self.b))


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory, shared_redis: RedisServer) -> Any:
    tmp_path = tmp_path_factory.mktemp("pair")
    async with postgres_database() as database:
        servers = Pair(tmp_path, database, shared_redis.url)
        try:
            for server in servers:  # one after the other: A migrates the schema first
                await asyncio.to_thread(server.start)
            yield servers
        finally:
            for server in servers:
                server.stop()


async def device(http: httpx.AsyncClient, pair: Pair, device_id: str) -> dict[str, str]:
    """Provisioned through A, registered through B, authenticated through A."""
    r = await http.post(
        f"{pair.a.url}/api/v1/customer/devices/provision",
        json={"deviceId": device_id},
        headers=customer(),
    )
    code = r.json()["device"]["activationCode"]
    r = await http.post(
        f"{pair.b.url}/api/v1/device/register",
        json={"deviceId": device_id, "activationCode": code},
    )
    secret = r.json()["deviceSecret"]
    r = await http.post(
        f"{pair.a.url}/api/v1/device/auth", json={"deviceId": device_id, "deviceSecret": secret}
    )
    return {"X-Device-Token": r.json()["token"]}


async def wait_for_subscribers(url: str, channel: str) -> None:
    client = redis.asyncio.Redis.from_url(url)
    try:
        async with asyncio.timeout(10):
            # another process subscribes: polled, nothing here to wait on
            while not (await client.pubsub_numsub(channel))[0][1]:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def test_a_socket_on_a_hears_the_result_submitted_to_b(
    pair: Pair, shared_redis: RedisServer
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        token = await device(http, pair, "proc-001")
        ws_url = pair.a.url.replace("http", "ws") + "/ws/customer"
        async with connect(ws_url, additional_headers=customer()) as ws:
            await ws.send(json.dumps({"type": "subscribe", "deviceId": "proc-001"}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            channel = f"{pair.prefix}events:watch:proc-001"
            await wait_for_subscribers(shared_redis.url, channel)

            r = await http.post(
                f"{pair.a.url}/api/v1/customer/sessions",
                json={"deviceId": "proc-001", "type": "diagnostic"},
                headers=customer(),
            )
            session = r.json()["session"]["id"]
            r = await http.post(
                f"{pair.a.url}/api/v1/customer/sessions/{session}/commands",
                json={"type": "ping", "parameters": {}},
                headers=customer(),
            )
            command = r.json()["command"]["id"]
            r = await http.post(f"{pair.b.url}/api/v1/device/commands/claim", headers=token)
            (claimed,) = r.json()["commands"]
            r = await http.post(
                f"{pair.b.url}/api/v1/device/commands/{command}/result",
                json={"claimToken": claimed["claimToken"], "status": "success",
                      "executedAt": TIMESTAMP, "duration": 0.1, "output": "pong"},
                headers=token,
            )  # fmt: skip
            assert r.status_code == 200, r.text

            statuses = []
            async with asyncio.timeout(10):
                while "completed" not in statuses:
                    event = json.loads(await ws.recv())
                    assert event["type"] == "command_update"
                    assert event["data"]["id"] == command
                    statuses.append(event["data"]["status"])
            # enqueued on A (heard there), claimed and completed on B (heard through Redis)
            assert statuses == ["pending", "claimed", "completed"]


async def test_a_device_limit_holds_across_both_processes(pair: Pair) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for attempt in range(2):  # again, should the minute turn in the middle
            token = await device(http, pair, f"limit-{attempt:03d}")
            answers = [
                await http.post(f"{server.url}/api/v1/device/heartbeat", json=BEAT, headers=token)
                for _ in range(51)
                for server in pair
            ]
            if len({r.headers["X-RateLimit-Reset"] for r in answers}) == 1:
                break
        codes = [r.status_code for r in answers]
        assert codes == [200] * 100 + [429] * 2  # 50 through each, then refused by both
        assert answers[99].headers["X-RateLimit-Remaining"] == "0"
        assert answers[100].json()["error"]["code"] == "RATE_LIMITED"
        assert int(answers[101].headers["Retry-After"]) >= 1


async def test_a_session_logged_out_through_a_is_refused_by_b(pair: Pair) -> None:
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "gateway_server._cli", "create-user", "--username", "ops",
         "--role", "viewer", "--partner", "acme", "--password-stdin",
         "--database-url", pair.database, "--data-dir", str(pair.tmp_path / "a"),
         "--compliance-password-memory-kib", "1024", "--compliance-password-time-cost", "1"],
        input=PASSWORD.encode(), check=True, capture_output=True,
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            f"{pair.b.url}/api/auth/login", json={"username": "ops", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        bearer = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await http.get(f"{pair.b.url}/api/auth/me", headers=bearer)).status_code == 200
        assert (await http.post(f"{pair.a.url}/api/auth/logout", headers=bearer)).status_code == 204
        # B verified the session a moment ago (it trusts that for 10 s): the notice ends it
        r = await http.get(f"{pair.b.url}/api/auth/me", headers=bearer)
        async with asyncio.timeout(5):
            while r.status_code != 401:
                await asyncio.sleep(0.02)
                r = await http.get(f"{pair.b.url}/api/auth/me", headers=bearer)
        assert r.json()["code"] == "SESSION_INVALID"
