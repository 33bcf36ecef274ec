"""``gateway-server``: serve, demo, provision, mint-customer-token.

Every setting of :class:`Settings` is a flag (``--max-claims 8``), built from
the class itself; a flag wins over its ``GATEWAY_*`` environment variable,
which wins over the default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError

from ._app import GatewayApp, create_app
from ._schema import upgrade
from ._services import Services
from ._settings import Settings
from .device_gateway import DeviceGateway, customer_verifier

__all__ = ["GatewayServer", "main", "socket_options"]

# The settings that the commands working on the database alone take.
_STORAGE = ("data_dir", "database_url", "jwt_secret", "jwt_audience", "jwt_customer_claim")


class GatewayServer(uvicorn.Server):
    """uvicorn with the gateway's shutdown: on SIGTERM/SIGINT, open WebSockets
    are closed with 1001 (going away) before uvicorn drains HTTP requests
    (up to the configured drain time, 30 s by default)."""

    def __init__(self, config: uvicorn.Config, app: GatewayApp) -> None:
        super().__init__(config)
        self.gateway_app = app

    async def shutdown(self, sockets: Any = None) -> None:
        await self.gateway_app.close_sockets()
        await super().shutdown(sockets)


def _add_settings(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    group = parser.add_argument_group(
        "settings", "each also read from GATEWAY_<NAME> in the environment; a flag wins"
    )
    for name in names:
        field = Settings.model_fields[name]
        default = field.get_default(call_default_factory=True)
        shown = "generated" if name == "jwt_secret" else default
        help_text = f"{field.description} [env GATEWAY_{name.upper()}; default {shown}]"
        flag = "--" + name.replace("_", "-")
        if field.annotation is bool:
            group.add_argument(
                flag, dest=name, default=None, action=argparse.BooleanOptionalAction, help=help_text
            )
        else:
            group.add_argument(flag, dest=name, default=None, metavar=name.upper(), help=help_text)


def _settings(args: argparse.Namespace, **defaults: Any) -> Settings:
    """The settings: flags given, then the environment, then ``defaults``, then the class's."""
    given = {
        name: value
        for name in Settings.model_fields
        if (value := getattr(args, name, None)) is not None
    }
    for name, value in defaults.items():
        if name not in given and f"GATEWAY_{name.upper()}" not in os.environ:
            given[name] = value
    try:
        return Settings(**given).with_generated_secret()
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise SystemExit(f"gateway-server: invalid settings: {problems}") from None


def socket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's WebSocket options from the settings: the implementation,
    compression and keepalive pings (a peer that misses a pong is dropped)."""
    return {
        "ws": settings.ws_implementation,
        "ws_per_message_deflate": settings.ws_per_message_deflate,
        "ws_ping_interval": settings.ws_ping_interval,
        "ws_ping_timeout": settings.ws_ping_timeout,
    }


def run_server(settings: Settings) -> None:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # the gateway writes its own access log, secrets redacted
        timeout_graceful_shutdown=int(settings.drain_seconds),
        lifespan="on",
        **socket_options(settings),
    )
    GatewayServer(config, app).run()


async def _with_gateway(settings: Settings) -> tuple[Services, DeviceGateway]:
    services = Services.create(settings)
    await upgrade(services.database.engine)
    return services, DeviceGateway(services)


async def _seed(settings: Settings) -> dict[str, Any]:
    services, gateway = await _with_gateway(settings)
    customer = "demo-customer"
    devices = []
    try:
        for i in range(1, 4):
            device_id = f"demo-device-{i}"
            code, _ = await gateway.devices.provision(
                customer, device_id, f"Demo device {i}", f"Lab bench {i}"
            )
            if i < 3:
                metadata = {"model": "demo-kit"}
                _, secret, _ = await gateway.devices.register(device_id, code, metadata)
                devices.append({"deviceId": device_id, "deviceSecret": secret})
            else:
                devices.append({"deviceId": device_id, "activationCode": code})
        session = await gateway.sessions.create_session(
            customer, "demo-device-1", "diagnostic", "demo session"
        )
        for kind, priority in (("collect_logs", 5), ("ping", 0), ("disk_usage", 1)):
            await gateway.sessions.enqueue(customer, session.id, kind, {"verbose": True}, priority)
    finally:
        await services.database.close()
    return {"customer": customer, "devices": devices, "sessionId": session.id}


async def _provision(settings: Settings, customer: str, device_id: str, name: str | None) -> Any:
    services, gateway = await _with_gateway(settings)
    try:
        return await gateway.devices.provision(customer, device_id, name, None)
    finally:
        await services.database.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway-server", description="Reference server for the device gateway API."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    every = list(Settings.model_fields)

    serve = sub.add_parser("serve", help="run the server")
    _add_settings(serve, every)

    demo = sub.add_parser("demo", help="serve with a seeded customer, devices and commands")
    demo.add_argument(
        "--credentials-file", default=None, help="also write the printed credentials here as JSON"
    )
    _add_settings(demo, every)

    provision = sub.add_parser(
        "provision", help="pre-provision a device and print its activation code"
    )
    provision.add_argument("--customer", required=True)
    provision.add_argument("--device-id", required=True)
    provision.add_argument("--name", default=None)
    _add_settings(provision, _STORAGE)

    mint = sub.add_parser("mint-customer-token", help="print an HS256 customer JWT for local tests")
    mint.add_argument("--customer", required=True)
    mint.add_argument("--ttl", type=int, default=3600)
    _add_settings(mint, _STORAGE)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if args.command == "serve":
        run_server(_settings(args))
        return 0
    if args.command == "demo":
        defaults: dict[str, Any] = {"log_level": "warning"}
        if args.data_dir is None and args.database_url is None:
            defaults["data_dir"] = tempfile.mkdtemp(prefix="gateway-demo-")
        settings = _settings(args, **defaults)
        seeded = asyncio.run(_seed(settings))
        verifier = customer_verifier(settings)
        credentials = {
            "baseUrl": f"http://{settings.host}:{settings.port}",
            "customerToken": verifier.mint(seeded["customer"], ttl=24 * 3600),
            **seeded,
        }
        print(json.dumps(credentials, indent=2), flush=True)
        if args.credentials_file:
            Path(args.credentials_file).write_text(json.dumps(credentials))
        run_server(settings)
        return 0
    if args.command == "provision":
        settings = _settings(args)
        code, expires = asyncio.run(_provision(settings, args.customer, args.device_id, args.name))
        print(
            json.dumps({"deviceId": args.device_id, "activationCode": code, "expiresAt": expires})
        )
        return 0
    if args.command == "mint-customer-token":
        settings = _settings(args)
        print(customer_verifier(settings).mint(args.customer, ttl=args.ttl))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
