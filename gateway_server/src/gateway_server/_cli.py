"""``gateway-server``: serve, demo, provision, mint-customer-token."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from . import _db
from ._app import create_app
from ._security import CustomerVerifier
from ._settings import Settings
from ._store import Store

__all__ = ["GatewayServer", "main"]


class GatewayServer(uvicorn.Server):
    """uvicorn with the gateway's shutdown: on SIGTERM/SIGINT, open WebSockets
    are closed with 1001 (going away) before uvicorn drains HTTP requests
    (up to the configured graceful timeout, 30 s by default)."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.gateway_app = app

    async def shutdown(self, sockets: Any = None) -> None:
        await self.gateway_app.state.hub.close_all(1001)
        await super().shutdown(sockets)


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    return Settings.from_env(
        data_dir=args.data_dir,
        database_url=args.database_url,
        redis_url=getattr(args, "redis_url", None),
        jwt_secret=args.jwt_secret,
        jwt_jwks=getattr(args, "jwt_jwks", None),
        jwt_audience=args.jwt_audience,
        jwt_customer_claim=args.jwt_customer_claim,
        **extra,
    ).with_generated_secret()


def run_server(settings: Settings, host: str, port: int, log_level: str) -> None:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # the gateway writes its own access log, secrets redacted
        timeout_graceful_shutdown=int(settings.drain_seconds),
        ws="websockets",
        lifespan="on",
    )
    GatewayServer(config, app).run()


async def _seed(settings: Settings) -> dict[str, Any]:
    engine = _db.connect(settings.effective_database_url)
    await _db.migrate(engine)
    store = Store(engine, settings, time.time)
    customer = "demo-customer"
    devices = []
    for i in range(1, 4):
        device_id = f"demo-device-{i}"
        code, _ = await store.provision(customer, device_id, f"Demo device {i}", f"Lab bench {i}")
        if i < 3:
            _, secret = await store.register(device_id, code, {"model": "demo-kit"})
            devices.append({"deviceId": device_id, "deviceSecret": secret})
        else:
            devices.append({"deviceId": device_id, "activationCode": code})
    session = await store.create_session(customer, "demo-device-1", "diagnostic", "demo session")
    for kind, priority in (("collect_logs", 5), ("ping", 0), ("disk_usage", 1)):
        await store.enqueue(customer, session["id"], kind, {"verbose": True}, priority)
    await engine.dispose()
    return {"customer": customer, "devices": devices, "sessionId": session["id"]}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where the SQLite file and the JWT secret live (default ./gateway-data)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy async URL (default: SQLite in the data dir)",
    )
    parser.add_argument(
        "--jwt-secret",
        default=None,
        help="HS256 secret for customer JWTs (default: generated in the data dir)",
    )
    parser.add_argument(
        "--jwt-audience", default=None, help="required 'aud' of customer JWTs (default: gateway)"
    )
    parser.add_argument(
        "--jwt-customer-claim", default=None, help="claim naming the customer (default: sub)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gateway-server", description="Reference server for the device gateway API."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--redis-url", default=None, help="Redis for readiness checks (optional)")
    serve.add_argument(
        "--jwt-jwks", default=None, help="JWKS file or URL for RS256/ES256 customer JWTs"
    )
    serve.add_argument("--log-level", default="info")

    demo = sub.add_parser("demo", help="serve with a seeded customer, devices and commands")
    _common(demo)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--log-level", default="warning")
    demo.add_argument(
        "--credentials-file", default=None, help="also write the printed credentials here as JSON"
    )

    provision = sub.add_parser(
        "provision", help="pre-provision a device and print its activation code"
    )
    _common(provision)
    provision.add_argument("--customer", required=True)
    provision.add_argument("--device-id", required=True)
    provision.add_argument("--name", default=None)

    mint = sub.add_parser("mint-customer-token", help="print an HS256 customer JWT for local tests")
    _common(mint)
    mint.add_argument("--customer", required=True)
    mint.add_argument("--ttl", type=int, default=3600)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if args.command == "serve":
        run_server(_settings(args), args.host, args.port, args.log_level)
        return 0
    if args.command == "demo":
        if args.data_dir is None and args.database_url is None:
            args.data_dir = tempfile.mkdtemp(prefix="gateway-demo-")
        settings = _settings(args)
        seeded = asyncio.run(_seed(settings))
        verifier = CustomerVerifier(
            secret=settings.jwt_secret,
            audience=settings.jwt_audience,
            customer_claim=settings.jwt_customer_claim,
        )
        credentials = {
            "baseUrl": f"http://{args.host}:{args.port}",
            "customerToken": verifier.mint(seeded["customer"], ttl=24 * 3600),
            **seeded,
        }
        print(json.dumps(credentials, indent=2), flush=True)
        if args.credentials_file:
            Path(args.credentials_file).write_text(json.dumps(credentials))
        run_server(settings, args.host, args.port, args.log_level)
        return 0
    if args.command == "provision":
        settings = _settings(args)

        async def provision_one() -> tuple[str, float]:
            engine = _db.connect(settings.effective_database_url)
            await _db.migrate(engine)
            try:
                return await Store(engine, settings, time.time).provision(
                    args.customer, args.device_id, args.name, None
                )
            finally:
                await engine.dispose()

        code, expires = asyncio.run(provision_one())
        print(
            json.dumps({"deviceId": args.device_id, "activationCode": code, "expiresAt": expires})
        )
        return 0
    if args.command == "mint-customer-token":
        settings = _settings(args)
        verifier = CustomerVerifier(
            secret=settings.jwt_secret,
            audience=settings.jwt_audience,
            customer_claim=settings.jwt_customer_claim,
        )
        print(verifier.mint(args.customer, ttl=args.ttl))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
