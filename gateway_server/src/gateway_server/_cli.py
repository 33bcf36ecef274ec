"""``gateway-server``: serve, demo, provision, mint-customer-token, create-user,
enrollment-token.

Every setting of :class:`Settings` is a flag (``--max-claims 8``), built from
the class itself; a flag wins over its ``GATEWAY_*`` environment variable,
which wins over the default.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import json
import logging
import logging.config
import os
import socket
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError

from . import _workers
from ._app import GatewayApp, create_app
from ._errors import DomainError
from ._schema import upgrade
from ._services import Services
from ._settings import Settings
from .compliance import Compliance, enrollment_token, seed_demo
from .device_gateway import DeviceGateway, customer_verifier
from .edge import LeanWebSocketProtocol, RedactSecrets, with_deadlines
from .emulators import environment

__all__ = ["GatewayServer", "main", "serve_on", "serving_options", "socket_options"]

# The settings that the commands working on the database alone take.
_STORAGE = ("data_dir", "database_url", "jwt_secret", "jwt_audience", "jwt_customer_claim")
_USERS = (
    "data_dir",
    "database_url",
    "compliance_password_memory_kib",
    "compliance_password_time_cost",
)


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


def configure_logging(level: str) -> None:
    """One handler, on stderr, for every logger of the process (uvicorn's and
    the websockets library's too): each line passes :class:`RedactSecrets`,
    so no credential reaches the log at any level. ``level`` is the
    gateway's and uvicorn's (uvicorn.Config sets its own loggers); other
    libraries (the database drivers) log from INFO up whatever it is."""
    logging.addLevelName(5, "TRACE")  # uvicorn's level below DEBUG
    number = logging.getLevelName(level.upper())
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"redact": {"()": RedactSecrets}},
            "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stderr",
                    "formatter": "plain",
                    "filters": ["redact"],
                }
            },
            "root": {"level": max(number, logging.INFO), "handlers": ["stderr"]},
            "loggers": {
                "gateway_server": {"level": number},
                # httpx logs every request's whole URL at INFO; the server's own calls
                # (the escalation webhook, whose URL is often a secret) must not show.
                "httpx": {"level": "WARNING"},
            },
        }
    )


def socket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's WebSocket options from the settings: the implementation,
    compression and keepalive pings (a peer that misses a pong is dropped)."""
    return {
        "ws": (
            LeanWebSocketProtocol
            if settings.ws_implementation == "lean"
            else settings.ws_implementation
        ),
        "ws_per_message_deflate": settings.ws_per_message_deflate,
        "ws_ping_interval": settings.ws_ping_interval,
        "ws_ping_timeout": settings.ws_ping_timeout,
        "ws_max_size": settings.max_body_bytes,  # a socket message is held to the body limit
    }


def serving_options(settings: Settings) -> dict[str, Any]:
    """Everything uvicorn is told besides the app, address and logging: the
    request deadlines, the sockets, proxy trust, the drain time. The one
    statement of how the server is served, by ``serve`` and by the test kit."""
    return {
        "access_log": False,  # the gateway writes its own access log, secrets redacted
        "timeout_graceful_shutdown": int(settings.drain_seconds),
        "http": with_deadlines(settings.header_timeout, settings.body_timeout),
        # X-Forwarded-For only from the proxies named: else anyone picks their address
        "proxy_headers": settings.forwarded_allow_ips is not None,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        **socket_options(settings),
    }


def serve_on(settings: Settings, sock: socket.socket | None = None) -> None:
    """One server process: on ``sock`` (a worker of ``--workers``), else on its own."""
    app = create_app(settings)
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # configure_logging's handler, not uvicorn's own
        log_level=settings.log_level,
        lifespan="on",
        **serving_options(settings),
    )
    GatewayServer(config, app).run(sockets=None if sock is None else [sock])


def run_server(settings: Settings) -> int:
    if settings.workers == 1:
        serve_on(settings)
        return 0
    if (reason := _workers.refusal(settings)) is not None:
        raise SystemExit(f"gateway-server: {reason}")
    configure_logging(settings.log_level)
    # the socket, bound once here and shared by the workers (uvicorn binds it the same way)
    sock = uvicorn.Config(serve_on, host=settings.host, port=settings.port).bind_socket()
    return _workers.supervise(sock, settings.workers, functools.partial(serve_on, settings))


async def _with_gateway(settings: Settings) -> tuple[Services, DeviceGateway]:
    services = Services.create(settings)
    services.prepare_storage()
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
        compliance = await seed_demo(Compliance(services))
    finally:
        await services.database.close()
    return {
        "customer": customer,
        "devices": devices,
        "sessionId": session.id,
        "compliance": compliance,
    }


async def _create_user(
    settings: Settings, username: str, password: str, role: str, partner: str
) -> dict[str, str]:
    services = Services.create(settings)
    await upgrade(services.database.engine)
    try:
        api = Compliance(services)
        partner_id = await api.users.partner(partner)
        user_id = await api.users.create_user(username, password, role, partner_id)
    finally:
        await services.database.close()
    return {"id": user_id, "username": username, "role": role, "partner_id": partner_id}


def _password(from_stdin: bool) -> str:
    """The new user's password: a line of standard input, or asked twice on a terminal
    (never a flag: the command line shows in the process list)."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("gateway-server: the passwords differ")
    return first


async def _enrollment_token(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    services = Services.create(settings)
    services.prepare_storage()
    await upgrade(services.database.engine)
    try:
        return await enrollment_token(
            Compliance(services), args.site, args.expires_in, args.max_uses, args.description
        )
    finally:
        await services.database.close()


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

    user = sub.add_parser(
        "create-user", help="create a compliance platform user (the password from standard input)"
    )
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=["admin", "operator", "viewer"])
    user.add_argument(
        "--partner", required=True, help="the partner's name (created if there is none)"
    )
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    _add_settings(user, _USERS)

    token = sub.add_parser(
        "enrollment-token",
        help="create a compliance agent enrollment token for a site (printed once, as JSON)",
    )
    token.add_argument("--site", required=True, help="the site's id, or its name if unique")
    token.add_argument(
        "--expires-in", type=int, default=86_400, help="seconds, 300 to 2592000 (default a day)"
    )
    token.add_argument("--max-uses", type=int, default=None, help="agents it may enroll")
    token.add_argument("--description", default=None)
    _add_settings(token, ("data_dir", "database_url"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("info")

    if args.command == "serve":
        return run_server(_settings(args))
    if args.command == "demo":
        defaults: dict[str, Any] = {"log_level": "warning"}
        if args.data_dir is None and args.database_url is None:
            defaults["data_dir"] = tempfile.mkdtemp(prefix="gateway-demo-")
        settings = _settings(args, **defaults)
        seeded = asyncio.run(_seed(settings))
        verifier = customer_verifier(settings)
        base_url = f"http://{settings.host}:{settings.port}"
        credentials = {
            "baseUrl": base_url,
            "customerToken": verifier.mint(seeded["customer"], ttl=24 * 3600),
            **seeded,
        }
        variables = {
            "GATEWAY_BASE_URL": base_url,
            "GATEWAY_TOKEN": credentials["customerToken"],
            "COMPLIANCE_BASE_URL": base_url,
            "COMPLIANCE_USERNAME": seeded["compliance"]["username"],
            "COMPLIANCE_PASSWORD": seeded["compliance"]["password"],
        }
        if settings.grpc_enabled and settings.grpc_enrollment_port:
            # where an agent enrolls (examples/compliance_agent.py, `compliance-agent enroll`)
            enrollment = f"{settings.host}:{settings.grpc_enrollment_port}"
            credentials["compliance"]["agentEnrollmentAddress"] = enrollment
            variables["COMPLIANCE_AGENT_ENROLLMENT_ADDR"] = enrollment
        if settings.emulators:
            # the clients read these variables: `export` them and run examples/*.py
            credentials["emulators"] = environment(settings, base_url)
            variables.update(credentials["emulators"])
        # every client of the suite reads these: `export` them all (docs/notebooks.md)
        credentials["environment"] = variables
        print(json.dumps(credentials, indent=2), flush=True)
        if args.credentials_file:
            Path(args.credentials_file).write_text(json.dumps(credentials))
        return run_server(settings)
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
    if args.command == "create-user":
        settings = _settings(args)
        password = _password(args.password_stdin)
        if not password:
            raise SystemExit("gateway-server: an empty password")
        try:
            created = asyncio.run(
                _create_user(settings, args.username, password, args.role, args.partner)
            )
        except DomainError as exc:
            raise SystemExit(f"gateway-server: {exc.message}") from None
        print(json.dumps(created))
        return 0
    if args.command == "enrollment-token":
        if not 300 <= args.expires_in <= 2_592_000 or (args.max_uses or 1) < 1:
            raise SystemExit("gateway-server: --expires-in 300..2592000, --max-uses 1 or more")
        try:
            made = asyncio.run(_enrollment_token(_settings(args), args))
        except DomainError as exc:
            raise SystemExit(f"gateway-server: {exc.message}") from None
        except ValueError as exc:
            raise SystemExit(f"gateway-server: {exc}") from None
        print(json.dumps(made))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
