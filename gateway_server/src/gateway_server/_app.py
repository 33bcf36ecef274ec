"""The Starlette application: routes, auth, limits, errors, live sockets."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import json
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import urlparse

import pydantic
import pydantic_core
import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from . import _db
from ._broker import Broker, InProcessBroker
from ._errors import APIError, error_response
from ._json import JSONResponse
from ._ratelimit import RateLimiter, Verdict
from ._security import CustomerVerifier, InvalidCustomerToken
from ._settings import Settings
from ._store import Store, iso
from ._version import __version__

__all__ = ["create_app"]

log = logging.getLogger("gateway_server")
access_log = logging.getLogger("gateway_server.access")

M = TypeVar("M", bound=pydantic.BaseModel)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
SECRET_PARAMS = re.compile(r"(?i)(secret|token|password|code|key)")
_VERDICT = "gateway.rate_verdict"  # scope key: the rate-limit verdict of this request


# ============================================================================ request models
class _Body(pydantic.BaseModel):
    """Exactly the documented fields, strictly typed; an optional field is
    left out, not sent as null (unless the contract allows null there).
    Strict numbers: an integer is a valid float, a boolean or a string is
    not, and neither is a number JSON cannot write back (``1e400``)."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @pydantic.model_validator(mode="after")
    def _no_nulls(self) -> Self:
        # After validation, on the fields the caller sent: a field sent holds
        # None only if it was sent as null. (A "before" validator here made
        # pydantic build a dict from the JSON first, on every request.)
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name}: must not be null (leave it out instead)")
        return self


def _timestamp(value: str) -> str:
    """An RFC 3339 date-time that names a real instant (leap second allowed)."""
    if not RFC3339.match(value):
        raise ValueError(_NOT_A_TIMESTAMP)
    text = value[:10] + "T" + value[11:]
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    if text[17:19] == "60":  # a leap second is valid RFC 3339; datetime cannot hold it
        text = text[:17] + "59" + text[19:]
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(_NOT_A_TIMESTAMP) from None
    return value


_NOT_A_TIMESTAMP = "must be an RFC 3339 date-time, e.g. 2024-06-01T10:00:00Z"


def _json_int(value: Any) -> Any:
    """JSON Schema's integer: any number with no fractional part (``5.0`` too)."""
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return int(value)
    return value


def _finite(value: Any) -> Any:
    """Free-form JSON whose numbers JSON can write back: ``1e400`` parses as
    infinity, which would be stored and then break every answer showing it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


JsonInt = Annotated[int, pydantic.BeforeValidator(_json_int)]
JsonValue = Annotated[Any, pydantic.AfterValidator(_finite)]
Timestamp = pydantic.constr(max_length=64)
DeviceId = pydantic.constr(pattern=DEVICE_ID)


class RegisterMetadata(_Body):
    location: pydantic.constr(max_length=200) | None = None  # type: ignore[valid-type]
    model: pydantic.constr(max_length=200) | None = None  # type: ignore[valid-type]


class RegisterBody(_Body):
    deviceId: DeviceId  # type: ignore[valid-type]
    activationCode: pydantic.constr(min_length=1, max_length=128)  # type: ignore[valid-type]
    metadata: RegisterMetadata | None = None


class AuthBody(_Body):
    deviceId: DeviceId  # type: ignore[valid-type]
    deviceSecret: pydantic.constr(min_length=1, max_length=256)  # type: ignore[valid-type]


class Metrics(_Body):
    cpu: float = pydantic.Field(ge=0)
    memory: float = pydantic.Field(ge=0)
    uptime: float = pydantic.Field(ge=0)


class HeartbeatBody(_Body):
    nullable = frozenset({"diagnostics"})
    timestamp: Timestamp  # type: ignore[valid-type]
    status: Literal["online", "busy", "error"]
    metrics: Metrics | None = None
    diagnostics: JsonValue = None

    _ts = pydantic.field_validator("timestamp")(_timestamp)


class StatusData(_Body):
    """A device socket's ``status`` message: what a heartbeat carries, minus
    the timestamp (the socket message is the moment)."""

    model_config = pydantic.ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)
    nullable = frozenset({"diagnostics"})
    status: Literal["online", "busy", "error"] = "online"
    metrics: Metrics | None = None
    diagnostics: JsonValue = None


class ClaimBody(_Body):
    limit: JsonInt = pydantic.Field(default=1, ge=1, le=10)
    visibilityTimeout: JsonInt = pydantic.Field(default=300_000, ge=1000, le=43_200_000)


class ExtendBody(_Body):
    claimToken: pydantic.constr(min_length=1, max_length=256)  # type: ignore[valid-type]
    extensionMs: JsonInt = pydantic.Field(ge=1, le=300_000)


class ResultBody(_Body):
    claimToken: pydantic.constr(min_length=1, max_length=256)  # type: ignore[valid-type]
    status: Literal["success", "failure", "timeout"]
    output: pydantic.constr(max_length=1_000_000) | None = None  # type: ignore[valid-type]
    error: pydantic.constr(max_length=100_000) | None = None  # type: ignore[valid-type]
    executedAt: Timestamp  # type: ignore[valid-type]
    duration: float = pydantic.Field(ge=0)

    _ts = pydantic.field_validator("executedAt")(_timestamp)


class ProvisionBody(_Body):
    deviceId: DeviceId  # type: ignore[valid-type]
    name: pydantic.constr(min_length=1, max_length=200) | None = None  # type: ignore[valid-type]
    location: pydantic.constr(max_length=200) | None = None  # type: ignore[valid-type]


class SessionBody(_Body):
    deviceId: DeviceId  # type: ignore[valid-type]
    type: Literal["diagnostic", "remediation"]
    description: pydantic.constr(max_length=2000) | None = None  # type: ignore[valid-type]


class EnqueueBody(_Body):
    type: pydantic.constr(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")  # type: ignore[valid-type]
    parameters: dict[str, JsonValue] | None = None
    priority: JsonInt = pydantic.Field(default=0, ge=0, le=100)


class ApproveBody(_Body):
    commandId: pydantic.constr(min_length=1, max_length=64)  # type: ignore[valid-type]
    approved: bool
    reason: pydantic.constr(max_length=2000) | None = None  # type: ignore[valid-type]


def _validation_error(exc: pydantic.ValidationError) -> APIError:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return APIError(400, "VALIDATION_ERROR", f"{field}: {message}", {"field": field})


async def read_json(request: Request, model: type[M], *, optional: bool = False) -> M:
    """The body as ``model``: size-limited, JSON, and exactly the documented fields."""
    limit = request.app.state.settings.max_body_bytes
    length = _header(request, b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise APIError(413, "PAYLOAD_TOO_LARGE", f"body over {limit} bytes")
    # The ASGI messages read directly: Request.stream() is an async generator,
    # whose set-up and the loop's bookkeeping for it cost more than the read.
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            raise APIError(413, "PAYLOAD_TOO_LARGE", f"body over {limit} bytes")
        chunks.append(chunk)
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    # No body at all is an absent body; whitespace alone is a body that is not JSON.
    if not raw:
        if not optional:
            raise APIError(400, "INVALID_JSON", "a JSON body is required")
        raw = b"{}"
    try:
        return model.model_validate_json(raw)  # one parse: pydantic reads the JSON itself
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise APIError(400, "INVALID_JSON", "the body is not valid JSON") from None
        if first["type"] in ("model_type", "model_attributes_type") and not first["loc"]:
            raise APIError(400, "INVALID_JSON", "the body must be a JSON object") from None
        raise _validation_error(exc) from None


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,12}", raw):
        raise APIError(400, "VALIDATION_ERROR", f"{name}: must be an integer", {"field": name})
    value = int(raw)
    if not low <= value <= high:
        raise APIError(
            400, "VALIDATION_ERROR", f"{name}: must be from {low} to {high}", {"field": name}
        )
    return value


def known_query(request: Request, *allowed: str) -> None:
    """Refuse query parameters the operation does not define (a typo such as
    ``?limt=5`` must not silently fall back to the default)."""
    if not request.scope.get("query_string"):
        return
    for name in request.query_params:
        if name not in allowed:
            raise APIError(
                400, "VALIDATION_ERROR", f"unknown query parameter {name!r}", {"field": name}
            )


def _path_id(request: Request, pattern: str = r"^[A-Za-z0-9._:-]{1,64}$") -> str:
    value = str(request.path_params["id"])
    if not re.fullmatch(pattern, value):
        raise APIError(404, "NOT_FOUND", "no such resource")
    return value


# ============================================================================ auth and limits
class _Hub:
    """Open WebSockets, so that shutdown can close them with 1001; and, for the
    claims that run out, the devices with a socket open here (``devices``) and
    those a customer socket here watches (``watched``)."""

    def __init__(self) -> None:
        self.sockets: set[WebSocket] = set()
        self.devices: collections.Counter[str] = collections.Counter()
        self.watched: collections.Counter[str] = collections.Counter()

    @staticmethod
    def join(counter: collections.Counter[str], device_id: str) -> None:
        counter[device_id] += 1

    @staticmethod
    def leave(counter: collections.Counter[str], device_id: str) -> None:
        counter[device_id] -= 1
        if counter[device_id] <= 0:
            del counter[device_id]

    async def close_all(self, code: int = 1001) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=code, reason="server shutting down")


def _limited(verdict: Verdict, now: float) -> APIError:
    return APIError(429, "RATE_LIMITED", "too many requests", headers=verdict.headers(now))


def _check_rate(request: Request, limiter: RateLimiter, key: str) -> None:
    verdict = limiter.hit(key)
    if not verdict.allowed:
        raise _limited(verdict, request.app.state.clock())
    request.scope[_VERDICT] = verdict  # ok() answers with its headers


def _header(request: Request, name: bytes) -> str | None:
    """One request header (``name`` lower-case), read straight from the scope."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def device_of(request: Request) -> tuple[str, str]:
    token = _header(request, b"x-device-token")
    if not token:
        raise APIError(401, "UNAUTHENTICATED", "X-Device-Token is required")
    found = await request.app.state.store.device_for_token(token)
    if found is None:
        raise APIError(401, "INVALID_DEVICE_TOKEN", "invalid or expired device token")
    _check_rate(request, request.app.state.device_limiter, found[0])
    return (str(found[0]), str(found[1]))


def customer_of(request: Request) -> str:
    header = _header(request, b"authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise APIError(401, "UNAUTHENTICATED", "Authorization: Bearer <jwt> is required")
    try:
        customer = str(request.app.state.verifier.customer_id(token.strip()))
    except InvalidCustomerToken as exc:
        raise APIError(401, "INVALID_TOKEN", f"invalid customer token: {exc}") from None
    _check_rate(request, request.app.state.customer_limiter, customer)
    return customer


def _auth_attempt(request: Request, device_id: str) -> None:
    limiter: RateLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "?"
    for key in (f"device:{device_id}", f"ip:{client}"):
        verdict = (
            limiter.hit(key)
            if key.startswith("device:")
            else request.app.state.auth_ip_limiter.hit(key)
        )
        if not verdict.allowed:
            raise _limited(verdict, request.app.state.clock())


def ok(request: Request, body: Any, status: int = 200) -> JSONResponse:
    """A success answer, with the caller's rate-limit headers."""
    response = JSONResponse(body, status_code=status)
    verdict: Verdict | None = request.scope.get(_VERDICT)
    if verdict is not None:
        response.raw_headers.extend(verdict.raw_headers())
    return response


# ============================================================================ routes: public
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "timestamp": iso(time.time())})


async def redis_ping(url: str, timeout: float = 2.0) -> None:
    """PING over RESP; raises when Redis does not answer +PONG."""
    parsed = urlparse(url)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout
    )
    try:
        if parsed.password:
            writer.write(f"AUTH {parsed.password}\r\n".encode())
            await writer.drain()
            await asyncio.wait_for(reader.readline(), timeout)
        writer.write(b"PING\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line.startswith(b"+PONG"):
            raise ConnectionError(f"unexpected answer {line!r}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def readyz(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, bool] = {}
    errors: list[str] = []
    try:
        await asyncio.wait_for(state.store.ping(), 5)
        checks["database"] = True
    except Exception as exc:
        checks["database"] = False
        errors.append(f"database: {type(exc).__name__}: {exc}")
    if state.settings.redis_url:
        try:
            await redis_ping(state.settings.redis_url)
            checks["redis"] = True
        except Exception as exc:
            checks["redis"] = False
            errors.append(f"redis: {type(exc).__name__}: {exc}")
    ready = all(checks.values())
    body: dict[str, Any] = {"ready": ready, "checks": checks}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=200 if ready else 503)


async def version(request: Request) -> Response:
    return JSONResponse({"version": __version__})


def load_contract() -> dict[str, Any]:
    try:
        text = resources.files("gateway_server").joinpath("gateway.openapi.yaml").read_text()
    except (FileNotFoundError, OSError):
        repo = Path(__file__).resolve().parents[3] / "contracts" / "gateway.openapi.yaml"
        text = repo.read_text()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


async def openapi_json(request: Request) -> Response:
    return JSONResponse(request.app.state.contract)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Device gateway API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


async def docs(request: Request) -> Response:
    return HTMLResponse(DOCS_PAGE)


# ============================================================================ routes: devices
async def device_register(request: Request) -> Response:
    known_query(request)
    body = await read_json(request, RegisterBody)
    _auth_attempt(request, body.deviceId)
    metadata = body.metadata.model_dump(exclude_none=True) if body.metadata else None
    device, secret = await request.app.state.store.register(
        body.deviceId, body.activationCode, metadata
    )
    await publish_status(
        request.app, body.deviceId, {"deviceId": body.deviceId, "status": "registered"}
    )
    return JSONResponse({"success": True, "device": device, "deviceSecret": secret})


async def device_auth(request: Request) -> Response:
    known_query(request)
    body = await read_json(request, AuthBody)
    _auth_attempt(request, body.deviceId)
    token, ttl = await request.app.state.store.authenticate(body.deviceId, body.deviceSecret)
    return JSONResponse({"token": token, "expiresIn": ttl, "deviceId": body.deviceId})


async def device_heartbeat(request: Request) -> Response:
    device_id, _ = await device_of(request)
    known_query(request)
    body = await read_json(request, HeartbeatBody)
    metrics = body.metrics.model_dump() if body.metrics else None
    pending = await request.app.state.store.heartbeat(
        device_id, body.status, metrics, body.diagnostics
    )
    await publish_status(
        request.app,
        device_id,
        {
            "deviceId": device_id,
            "status": body.status,
            "metrics": metrics,
            "pendingCommands": pending,
        },
    )
    interval = request.app.state.settings.heartbeat_interval_ms
    return ok(request, {"success": True, "nextHeartbeat": interval, "pendingCommands": pending})


async def commands_claim(request: Request) -> Response:
    device_id, _ = await device_of(request)
    known_query(request)
    body = await read_json(request, ClaimBody, optional=True)
    claimed, dead = await request.app.state.store.claim(
        device_id, body.limit, body.visibilityTimeout
    )
    for command_id in (*dead, *(c.id for c in claimed)):
        await publish_command(request.app, command_id, device_id)
    return ok(request, {"commands": [c.to_json() for c in claimed]})


async def command_extend(request: Request) -> Response:
    device_id, _ = await device_of(request)
    known_query(request)
    command_id = _path_id(request)
    body = await read_json(request, ExtendBody)
    until = await request.app.state.store.extend(
        device_id, command_id, body.claimToken, body.extensionMs
    )
    return ok(request, {"success": True, "visibleUntil": iso(until)})


async def command_result(request: Request) -> Response:
    device_id, _ = await device_of(request)
    known_query(request)
    command_id = _path_id(request)
    body = await read_json(request, ResultBody)
    done = await request.app.state.store.complete(
        device_id, command_id, body.claimToken, body.model_dump()
    )
    if not done.replayed:
        await publish_command(request.app, command_id, device_id)
    answer: dict[str, Any] = {"success": True}
    if done.next_command:
        answer["nextCommand"] = {"id": done.next_command}
    return ok(request, answer)


# ============================================================================ routes: customers
async def customer_devices(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request, "status", "limit", "offset")
    status = request.query_params.get("status", "all")
    if status not in ("online", "offline", "all"):
        raise APIError(
            400, "VALIDATION_ERROR", "status: must be online, offline or all", {"field": "status"}
        )
    limit = _query_int(request, "limit", 50, 1, 200)
    offset = _query_int(request, "offset", 0, 0, 1_000_000_000)
    devices, total = await request.app.state.store.list_devices(customer, status, limit, offset)
    return ok(request, {"devices": devices, "total": total})


async def customer_provision(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request)
    body = await read_json(request, ProvisionBody)
    code, expires = await request.app.state.store.provision(
        customer, body.deviceId, body.name, body.location
    )
    return ok(
        request,
        {
            "device": {"id": body.deviceId, "activationCode": code, "expiresAt": iso(expires)},
            "instructions": (
                "Give this one-time activation code to the device during setup: it registers "
                "with POST /api/v1/device/register and receives its device secret once. "
                "The code expires in 24 hours."
            ),
        },
        201,
    )


async def customer_device_status(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request)
    device_id = _path_id(request, DEVICE_ID)
    return ok(request, {"device": await request.app.state.store.device_status(customer, device_id)})


async def session_create(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request)
    body = await read_json(request, SessionBody)
    session = await request.app.state.store.create_session(
        customer, body.deviceId, body.type, body.description
    )
    return ok(request, {"session": session}, 201)


async def session_get(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request)
    session_id = _path_id(request)
    return ok(request, {"session": await request.app.state.store.get_session(customer, session_id)})


async def session_enqueue(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request)
    session_id = _path_id(request)
    body = await read_json(request, EnqueueBody)
    command, device_id, claimable = await request.app.state.store.enqueue(
        customer, session_id, body.type, body.parameters, body.priority
    )
    if claimable:
        await notify_device(request.app, device_id, command)
    await publish_command(request.app, command["id"], device_id)
    return ok(request, {"command": command}, 201)


async def session_approve(request: Request) -> Response:
    customer = customer_of(request)
    known_query(request)
    session_id = _path_id(request)
    body = await read_json(request, ApproveBody)
    status, device_id = await request.app.state.store.approve(
        customer, session_id, body.commandId, body.approved, body.reason
    )
    if status == "approved":
        update = await request.app.state.store.command_update(body.commandId)
        if update is not None:
            await notify_device(request.app, device_id, update)
    await publish_command(request.app, body.commandId, device_id)
    return ok(request, {"success": True, "command": {"id": body.commandId, "status": status}})


async def system_info(request: Request) -> Response:
    customer_of(request)
    known_query(request)
    state = request.app.state
    return ok(
        request,
        {
            "version": __version__,
            "build": state.build,
            "environment": state.settings.environment,
            "uptime": round(time.monotonic() - state.started, 3),
            "services": {
                "database": state.store.engine.url.get_backend_name(),
                "broker": "redis" if state.settings.redis_url else "in-process",
                "websockets": len(state.hub.sockets),
            },
        },
    )


# ============================================================================ live events
async def publish_status(app: Starlette, device_id: str, data: dict[str, Any]) -> None:
    topic = f"watch:{device_id}"
    if app.state.broker.has_subscribers(topic):
        await app.state.broker.publish(topic, {"type": "device_status", "data": data})


async def publish_command(app: Starlette, command_id: str, device_id: str) -> None:
    """A ``command_update`` to whoever watches the command's device."""
    if not app.state.broker.has_subscribers(f"watch:{device_id}"):
        return  # nobody watches this device: skip reading the command back
    update = await app.state.store.command_update(command_id)
    if update is not None:
        await app.state.broker.publish(
            f"watch:{update['deviceId']}", {"type": "command_update", "data": update}
        )


def command_message(command: dict[str, Any]) -> dict[str, Any]:
    """The ``command`` message a device socket receives for a claimable command."""
    data = {"id": command["id"], "type": command["type"], "priority": command.get("priority", 0)}
    return {"type": "command", "data": data}


async def notify_device(app: Starlette, device_id: str, command: dict[str, Any]) -> None:
    await app.state.broker.publish(f"device:{device_id}", command_message(command))


async def notify_run_out_claims(app: Starlette, since: float, until: float) -> None:
    """For each command whose claim ran out in (``since``, ``until``]: a
    ``command`` notice to its device's sockets here (it is claimable again, and
    nothing else would tell a device that only listens) and a ``command_update``
    to the customer sockets here that watch the device (claimed -> pending)."""
    hub: _Hub = app.state.hub
    devices = hub.devices.keys() | hub.watched.keys()
    for device_id, notice in await app.state.store.claims_run_out(devices, since, until):
        if device_id in hub.devices:
            await notify_device(app, device_id, notice)
        await publish_command(app, notice["id"], device_id)


async def _pump(ws: WebSocket, subscription: Any) -> None:
    async for message in subscription:
        await ws.send_json(message)


async def _serve_socket(
    ws: WebSocket,
    topics: list[str],
    on_message: Callable[[dict[str, Any], Any], Awaitable[None]],
    on_open: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Subscribe to ``topics`` and forward what they carry; then ``on_open``
    (after subscribing, so nothing published meanwhile is missed); then answer
    each message with ``on_message``, rate-limited, errors as error messages."""
    app = ws.app
    state = app.state
    limiter = RateLimiter(state.settings.ws_messages_per_second, 1.0, state.clock)
    state.hub.sockets.add(ws)
    try:
        async with state.broker.subscription() as sub:
            for topic in topics:
                sub.add(topic)
            pump = asyncio.create_task(_pump(ws, sub))
            try:
                if on_open is not None:
                    await on_open()
                while True:
                    try:
                        frame = await ws.receive()
                    except RuntimeError:  # closed by the server (shutdown)
                        return
                    if frame["type"] == "websocket.disconnect":
                        return
                    # A binary frame is read as UTF-8 JSON too; anything else is refused below.
                    raw = frame.get("text") or (frame.get("bytes") or b"").decode(
                        "utf-8", "replace"
                    )
                    if not limiter.hit("socket").allowed:
                        await ws.send_json(
                            {
                                "type": "error",
                                "data": {
                                    "code": "RATE_LIMITED",
                                    "message": "over 10 messages a second",
                                },
                            }
                        )
                        continue
                    try:
                        message = pydantic_core.from_json(raw, allow_inf_nan=False)
                        if not isinstance(message, dict) or not isinstance(
                            message.get("type"), str
                        ):
                            raise ValueError("a message is an object with a type")
                        await on_message(message, sub)
                    except APIError as exc:
                        await ws.send_json(
                            {"type": "error", "data": {"code": exc.code, "message": exc.message}}
                        )
                    except (ValueError, pydantic.ValidationError) as exc:
                        await ws.send_json(
                            {
                                "type": "error",
                                "data": {"code": "INVALID_MESSAGE", "message": str(exc)[:300]},
                            }
                        )
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
    finally:
        state.hub.sockets.discard(ws)
        if ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close()


async def ws_device(ws: WebSocket) -> None:
    state = ws.app.state
    device_id = ws.query_params.get("deviceId", "")
    secret = ws.query_params.get("deviceSecret", "")
    if (
        not re.fullmatch(DEVICE_ID, device_id)
        or not secret
        or not await state.store.check_device_secret(device_id, secret)
    ):
        await ws.close(code=1008, reason="invalid device credentials")
        return
    await ws.accept()

    async def on_message(message: dict[str, Any], sub: Any) -> None:
        kind = message["type"]
        data = message.get("data")
        if kind == "status":
            beat = StatusData.model_validate(data if data is not None else {})
            metrics = beat.metrics.model_dump() if beat.metrics else None
            await state.store.heartbeat(device_id, beat.status, metrics, beat.diagnostics)
            update = {"deviceId": device_id, "status": beat.status, "metrics": metrics}
            await publish_status(ws.app, device_id, update)
            await ws.send_json({"type": "status_ack", "data": {"deviceId": device_id}})
        elif kind == "command_result":
            if not isinstance(data, dict) or not isinstance(data.get("commandId"), str):
                raise ValueError("command_result needs data.commandId")
            command_id = data["commandId"]
            body = ResultBody.model_validate_json(
                json.dumps({k: v for k, v in data.items() if k != "commandId"})
            )
            done = await state.store.complete(
                device_id, command_id, body.claimToken, body.model_dump()
            )
            if not done.replayed:
                await publish_command(ws.app, command_id, device_id)
            await ws.send_json(
                {
                    "type": "command_result_ack",
                    "data": {
                        "commandId": command_id,
                        "success": True,
                        "nextCommand": done.next_command,
                    },
                }
            )
        else:
            raise ValueError(f"unknown message type {kind!r}")

    async def send_backlog() -> None:
        # What is claimable already: a device that only listens learns of it now.
        for notice in await state.store.claimable(device_id):
            await ws.send_json(command_message(notice))

    state.hub.join(state.hub.devices, device_id)
    try:
        await _serve_socket(ws, [f"device:{device_id}"], on_message, send_backlog)
    finally:
        state.hub.leave(state.hub.devices, device_id)


async def ws_customer(ws: WebSocket) -> None:
    state = ws.app.state
    token = ws.query_params.get("token", "")
    try:
        customer = str(state.verifier.customer_id(token))
    except InvalidCustomerToken:
        await ws.close(code=1008, reason="invalid customer token")
        return
    await ws.accept()
    watching: set[str] = set()

    async def on_message(message: dict[str, Any], sub: Any) -> None:
        kind = message["type"]
        device_id = message.get("deviceId")
        if kind not in ("subscribe", "unsubscribe"):
            raise ValueError(f"unknown message type {kind!r}")
        if not isinstance(device_id, str) or not re.fullmatch(DEVICE_ID, device_id):
            raise ValueError("deviceId is required")
        if kind == "subscribe":
            if not await state.store.owns_device(customer, device_id):
                raise APIError(403, "FORBIDDEN", "device not owned by customer")
            sub.add(f"watch:{device_id}")
            if device_id not in watching:
                watching.add(device_id)
                state.hub.join(state.hub.watched, device_id)
            await ws.send_json({"type": "subscribed", "deviceId": device_id})
        else:
            sub.remove(f"watch:{device_id}")
            if device_id in watching:
                watching.discard(device_id)
                state.hub.leave(state.hub.watched, device_id)
            await ws.send_json({"type": "unsubscribed", "deviceId": device_id})

    try:
        await _serve_socket(ws, [], on_message)
    finally:
        for device_id in watching:
            state.hub.leave(state.hub.watched, device_id)


# ============================================================================ the edge
def _redacted_path(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return path
    parts = []
    for pair in query.split("&"):
        name, _, _value = pair.partition("=")
        parts.append(f"{name}=[REDACTED]" if SECRET_PARAMS.search(name) else pair)
    return f"{path}?{'&'.join(parts)}"


class Edge:
    """X-Request-ID on every response and one structured access-log line per
    request, with secret-looking query values masked and no headers logged.

    A request id the caller did not send is this process's random prefix and
    a counter: unique without a system call per request (``uuid4`` reads
    the OS's random source each time, a few percent of a device request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._ids = map(f"{secrets.token_hex(8)}{{:016x}}".format, itertools.count(1))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = None
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                candidate = value.decode("latin-1")
                if re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", candidate):
                    request_id = candidate
                break
        request_id = request_id or next(self._ids)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method", "WS"),
                            "path": _redacted_path(scope),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "client": (scope.get("client") or ("?",))[0],
                        }
                    )
                )


class DeviceLane:
    """A device's request loop (claim, result, heartbeat, extend) from the
    edge straight to its endpoint.

    A device worker makes these requests many times a second, and on them
    Starlette's exception middleware, router walk and per-route exception
    wrapper were a tenth of the app's own time. The routes are the app's own
    ``Route`` objects, matched by Starlette itself, so a path, a method or a
    root path means exactly what it means to the router; anything they do not
    fully match (another path, a wrong method, a trailing slash) goes on to
    the router as before. An error answers as the exception middleware would
    answer it (the same handlers); anything unexpected goes up to the
    server-error middleware's 500, as before.
    """

    def __init__(self, app: ASGIApp, routes: Sequence[Route]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    request = Request(scope, receive, send)
                    try:
                        response = await route.endpoint(request)
                    except APIError as exc:
                        response = await _api_error(request, exc)
                    except HTTPException as exc:
                        response = await _http_error(request, exc)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    error = APIError(exc.status_code, codes.get(exc.status_code, "HTTP_ERROR"), str(exc.detail))
    error.headers = dict(exc.headers) if exc.headers else None
    return error_response(error)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(APIError(500, "INTERNAL_ERROR", "internal error"))


# ============================================================================ the app
class _Gateway(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # The edge outside even Starlette's server-error middleware, so that its
        # 500 answer too carries a request id and gets an access-log line.
        return Edge(super().build_middleware_stack())


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] | None = None,
    broker: Broker | None = None,
    build: str = "dev",
) -> Starlette:
    """The gateway as an ASGI app. It opens its database (and migrates it) on startup."""
    settings = (settings or Settings.from_env()).with_generated_secret()
    now = clock or time.time

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = settings.effective_database_url
        if url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = _db.connect(url, synchronous=settings.sqlite_synchronous)
        await _db.migrate(engine)
        store = app.state.store = Store(engine, settings, now)

        async def every_second() -> None:
            scanned = now()
            while True:
                await asyncio.sleep(1.0)
                try:
                    await store.flush_heartbeats()
                except Exception:
                    log.exception("writing heartbeats failed; retrying in a second")
                try:
                    until = now()
                    await notify_run_out_claims(app, scanned, until)
                    scanned = until
                except Exception:
                    log.exception("looking for claims that ran out failed; retrying in a second")

        flusher = asyncio.create_task(every_second())
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await store.flush_heartbeats()
            await app.state.hub.close_all(1001)
            await store.close()
            await app.state.broker.close()
            await engine.dispose()

    public: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/version", version),
        Route("/openapi.json", openapi_json),
        Route("/docs", docs),
    ]
    try:
        from swagger_ui_bundle import swagger_ui_path  # noqa: PLC0415

        public.append(
            Mount("/docs/static", app=StaticFiles(directory=swagger_ui_path), name="swagger")
        )
    except ImportError:  # pragma: no cover
        pass
    device_loop = [  # served by DeviceLane, and listed in the router as every route is
        Route("/api/v1/device/commands/claim", commands_claim, methods=["POST"]),
        Route("/api/v1/device/commands/{id}/result", command_result, methods=["POST"]),
        Route("/api/v1/device/heartbeat", device_heartbeat, methods=["POST"]),
        Route("/api/v1/device/commands/{id}/extend", command_extend, methods=["POST"]),
    ]
    routes = [
        *device_loop,
        Route("/api/v1/device/register", device_register, methods=["POST"]),
        Route("/api/v1/device/auth", device_auth, methods=["POST"]),
        Route("/api/v1/customer/devices", customer_devices, methods=["GET"]),
        Route("/api/v1/customer/devices/provision", customer_provision, methods=["POST"]),
        Route("/api/v1/customer/devices/{id}/status", customer_device_status, methods=["GET"]),
        Route("/api/v1/customer/sessions", session_create, methods=["POST"]),
        Route("/api/v1/customer/sessions/{id}", session_get, methods=["GET"]),
        Route("/api/v1/customer/sessions/{id}/commands", session_enqueue, methods=["POST"]),
        Route("/api/v1/customer/sessions/{id}/approve", session_approve, methods=["POST"]),
        Route("/api/v1/customer/system/info", system_info, methods=["GET"]),
        WebSocketRoute("/ws/device", ws_device),
        WebSocketRoute("/ws/customer", ws_customer),
        *public,
    ]
    app = _Gateway(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            APIError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.settings = settings
    app.state.clock = now
    app.state.build = build
    app.state.started = time.monotonic()
    app.state.hub = _Hub()
    app.state.broker = broker or InProcessBroker()
    app.state.contract = load_contract()
    app.state.verifier = CustomerVerifier(
        secret=settings.jwt_secret,
        jwks=settings.jwt_jwks,
        audience=settings.jwt_audience,
        customer_claim=settings.jwt_customer_claim,
    )
    app.state.device_limiter = RateLimiter(settings.device_rate_per_minute, 60.0, now)
    app.state.customer_limiter = RateLimiter(settings.customer_rate_per_minute, 60.0, now)
    app.state.auth_limiter = RateLimiter(settings.auth_attempts_per_minute, 60.0, now)
    app.state.auth_ip_limiter = RateLimiter(settings.auth_attempts_per_minute * 30, 60.0, now)
    app.add_middleware(DeviceLane, routes=device_loop)
    return app
