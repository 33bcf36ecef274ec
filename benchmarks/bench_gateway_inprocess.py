"""The gateway app's own time per operation, driven in-process (no sockets).

bench_gateway.py measures what a client sees through uvicorn; this one calls
the ASGI apps directly, one request at a time, so that what is left is the
app's own work: the bare Starlette JSON route, a heartbeat, a claim + complete
cycle and an enqueue, each in microseconds and as a ratio to the bare route.
The best of several batches is printed (the machine's noise only ever adds).
Use it to see whether a change to the request path helps before measuring it
over a socket; the targets live in bench_gateway.py.

With ``--redis-url``, the heartbeat, the cycle and the enqueue are measured
again in the same run on a gateway using that Redis (the limits counted there,
every event published there), each as a ratio to the in-process figure: what
sharing costs one request.

    python benchmarks/bench_gateway_inprocess.py [--batches 6] [--size 400] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway_server import CustomerVerifier, Settings, create_app

SECRET = "bench-secret-" + "z" * 32
BEAT = json.dumps(
    {
        "timestamp": "2024-06-01T10:00:00Z",
        "status": "online",
        "metrics": {"cpu": 0.1, "memory": 0.2, "uptime": 3},
    }
).encode()
RESULT = {"status": "success", "executedAt": "2024-06-01T10:00:00Z", "duration": 0.01}


async def bare(request: Request) -> JSONResponse:
    return JSONResponse({"success": True, "nextHeartbeat": 30000, "pendingCommands": 0})


async def call(
    app: Any, path: str, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, bytes]:
    """One POST through the ASGI app, the body in a single message."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        "headers": [
            (b"host", b"bench"), (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()), *(headers or []),
        ],
    }  # fmt: skip
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the app runs
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def best_of(batches: int, size: int, one: Callable[[], Awaitable[None]]) -> float:
    """Microseconds per call of ``one``: the best batch of ``size`` calls."""
    times = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(size):
            await one()
        times.append((time.perf_counter() - started) / size * 1e6)
    return min(times)


async def measure(batches: int, size: int, **overrides: Any) -> dict[str, float]:
    """Microseconds per bare call, heartbeat, cycle and enqueue."""
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as data:
        unlimited = 10**9
        settings = Settings(
            data_dir=Path(data),
            jwt_secret=SECRET,
            device_rate_per_minute=unlimited,
            customer_rate_per_minute=unlimited,
            auth_attempts_per_minute=unlimited,
            **overrides,
        )
        gateway = create_app(settings)
        bare_app = Starlette(routes=[Route("/bench/bare", bare, methods=["POST"])])
        async with gateway.router.lifespan_context(gateway):
            token = CustomerVerifier(secret=SECRET, audience="gateway").mint("bench")
            customer = [(b"authorization", f"Bearer {token}".encode())]

            async def post(path: str, body: dict[str, Any], headers: Any = None) -> Any:
                status, answer = await call(gateway, path, json.dumps(body).encode(), headers)
                assert status < 300, (status, answer)
                return json.loads(answer)

            provision = "/api/v1/customer/devices/provision"
            code = (await post(provision, {"deviceId": "bench-00"}, customer))["device"]
            secret = (
                await post(
                    "/api/v1/device/register",
                    {"deviceId": "bench-00", "activationCode": code["activationCode"]},
                )
            )["deviceSecret"]
            auth = {"deviceId": "bench-00", "deviceSecret": secret}
            device_token = (await post("/api/v1/device/auth", auth))["token"]
            device = [(b"x-device-token", device_token.encode())]
            opened = {"deviceId": "bench-00", "type": "diagnostic"}
            session = (await post("/api/v1/customer/sessions", opened, customer))["session"]["id"]
            enqueue_path = f"/api/v1/customer/sessions/{session}/commands"

            async def enqueue() -> None:
                await post(enqueue_path, {"type": "job", "parameters": {"n": 1}}, customer)

            async def cycle() -> None:
                claim = {"limit": 1, "visibilityTimeout": 60_000}
                (command,) = (await post("/api/v1/device/commands/claim", claim, device))[
                    "commands"
                ]
                result = {**RESULT, "claimToken": command["claimToken"]}
                path = f"/api/v1/device/commands/{command['id']}/result"
                await post(path, result, device)

            async def heartbeat() -> None:
                status, _ = await call(gateway, "/api/v1/device/heartbeat", BEAT, device)
                assert status == 200

            async def bare_call() -> None:
                status, _ = await call(bare_app, "/bench/bare", BEAT)
                assert status == 200

            enqueue_us = await best_of(batches, size, enqueue)
            for _ in range(batches * size):  # work for every cycle to come
                await enqueue()
            bare_us = await best_of(batches, size, bare_call)
            heartbeat_us = await best_of(batches, size, heartbeat)
            cycle_us = await best_of(batches, size, cycle)
    return {
        "bare": bare_us,
        "heartbeat": heartbeat_us,
        "claim + complete cycle": cycle_us,
        "enqueue": enqueue_us,
    }


async def run(batches: int, size: int, redis_url: str | None) -> None:
    local = await measure(batches, size)
    bare_us = local.pop("bare")
    print(f"bare Starlette JSON route : {bare_us:7.1f} us")
    for name, us in local.items():
        print(f"{name:26s}: {us:7.1f} us  ({bare_us / us:.2f}x the bare route's rate)")
    if redis_url is None:
        return
    shared = await measure(batches, size, redis_url=redis_url, redis_prefix="bench:")
    print(f"with Redis ({redis_url}):")
    for name, us in local.items():
        ratio = shared[name] / us
        print(f"{name:26s}: {shared[name]:7.1f} us  ({ratio:.2f}x the in-process time)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--redis-url", help="also measure with this Redis (keys under bench:)")
    args = parser.parse_args()
    asyncio.run(run(args.batches, args.size, args.redis_url))


if __name__ == "__main__":
    main()
