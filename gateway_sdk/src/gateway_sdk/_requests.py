"""Every request of the gateway clients, built and checked without I/O.

Each builder validates its arguments (an :class:`InputValidationError` naming
the field, before anything is sent) and returns the :class:`RequestOptions`
both twins send; the sync and async clients only send them, with the caller's
per-call options as :func:`per_call` lets them through.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs
import httpx

from sdk_core import (
    APIResponse,
    Clock,
    InputValidationError,
    NotGiven,
    OffsetPagination,
    Page,
    RequestOptions,
    SDKError,
    Secret,
    SystemClock,
    Token,
    TokenAuth,
    TokenFlow,
    make_status_error,
    no_idempotency_key,
)

from ._models import (
    ClaimedCommand,
    Device,
    DeviceState,
    ProvisionedDevice,
    ResultStatus,
    SessionCommand,
    SessionType,
)
from ._secret_store import SecretStore

__all__ = [
    "COMMAND_PAGES",
    "DEVICE_PAGES",
    "SYSTEM_INFO",
    "DeviceLogin",
    "StatusFilter",
    "claim_request",
    "commands_to_page",
    "create_session_request",
    "decide_request",
    "device_status_request",
    "device_auth",
    "devices_request",
    "enqueue_request",
    "extend_request",
    "heartbeat_request",
    "list_params",
    "per_call",
    "provision_request",
    "provisioned",
    "register_request",
    "result_request",
    "session_commands_request",
    "session_request",
    "to_page",
    "valid_command_id",
    "valid_device_id",
    "valid_plain_id",
]

DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
PLAIN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
COMMAND_TYPE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
StatusFilter = Literal["online", "offline", "all"]
DEVICE_PAGES: Final = OffsetPagination()
"""``GET /api/v1/customer/devices`` pages by ``offset`` and ``limit``, up to ``total``."""
COMMAND_PAGES: Final = OffsetPagination()
"""``GET /api/v1/customer/sessions/{id}`` pages the session's commands the same
way, up to ``commandsTotal``; a page may hold fewer than ``limit`` (the server
ends one before its results pass 2,000,000 characters), and the next one starts
after the commands received."""


# ======================================================================= options
def per_call(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """A gateway call's per-call options (sdk_core's ``RequestOverrides``).

    ``idempotency_key`` is refused by name: the gateway's contract has no
    ``Idempotency-Key`` and its server does not deduplicate by one, while
    sdk_core would retry a POST carrying a key as if it were safe to send
    twice (an enqueue, twice, is two commands).
    """
    return no_idempotency_key(
        options,
        "is not taken by gateway calls: the gateway does not deduplicate by "
        "Idempotency-Key (complete() is safe to send again without one)",
    )


# ======================================================================= ids
def valid_device_id(value: object, field: str = "device_id") -> str:
    """A device id as the contract has it (3 to 64 characters, no empty one)."""
    if not isinstance(value, str) or not DEVICE_ID.match(value):
        raise InputValidationError(
            field, "must be 3 to 64 of letters, digits, '.', '_' or '-'", value=value
        )
    return value


def valid_plain_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not PLAIN_ID.match(value):
        raise InputValidationError(field, "must be an id", value=value)
    return value


def valid_command_id(command: ClaimedCommand | str) -> str:
    value = command.id if isinstance(command, ClaimedCommand) else command
    if not isinstance(value, str) or not value or "/" in value:
        raise InputValidationError("command", "must be a command or its id", value=value)
    return value


def _claim_token(command: ClaimedCommand | str, claim_token: str | None) -> str:
    token = claim_token or (command.claim_token if isinstance(command, ClaimedCommand) else "")
    if not isinstance(token, str) or not token:
        # no value= : a claim token is a credential of the claim
        raise InputValidationError("claim_token", "must not be empty (the claim's token)")
    return token


def _iso(value: dt.datetime | str | None, now: float) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        value = dt.datetime.fromtimestamp(now, dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ======================================================================= device
@attrs.frozen(repr=False)
class DeviceLogin:
    """Token provider: POST /api/v1/device/auth with the stored secret."""

    auth_url: str
    device_id: str
    store: SecretStore
    clock: Clock = attrs.field(factory=SystemClock)

    def token_flow(self, current: Token | None, now: float) -> TokenFlow:
        secret = self.store.load()
        if not secret:
            raise SDKError(
                f"device {self.device_id} has no secret: register it first or pass device_secret"
            )
        response = yield httpx.Request(
            "POST", self.auth_url, json={"deviceId": self.device_id, "deviceSecret": secret}
        )
        if response.is_error:
            raise make_status_error(response, now=self.clock.time())
        data = response.json()
        return Token(
            access_token=Secret(str(data["token"])), expires_at=now + float(data["expiresIn"])
        )


def device_auth(
    base_url: str, device_id: str, store: SecretStore, clock: Clock | None
) -> TokenAuth:
    """Session tokens in ``X-Device-Token``, fetched with the stored secret, renewed ahead."""
    login = DeviceLogin(
        f"{base_url.rstrip('/')}/api/v1/device/auth", device_id, store, clock or SystemClock()
    )
    return TokenAuth(login, refresh_margin=60.0, clock=clock, header="X-Device-Token", scheme=None)


def register_request(
    device: str, activation_code: str, location: str | None, model: str | None
) -> RequestOptions:
    if not isinstance(activation_code, str) or not activation_code:
        raise InputValidationError("activation_code", "must not be empty")
    body: dict[str, Any] = {"deviceId": device, "activationCode": activation_code}
    metadata = {k: v for k, v in {"location": location, "model": model}.items() if v is not None}
    if metadata:
        body["metadata"] = metadata
    return RequestOptions(
        method="POST", url="/api/v1/device/register", json=body, authenticated=False
    )


def heartbeat_request(
    status: DeviceState,
    metrics: Mapping[str, float] | None,
    diagnostics: Any | NotGiven,
    timestamp: dt.datetime | None,
    now: float,
) -> RequestOptions:
    if status not in ("online", "busy", "error"):
        raise InputValidationError("status", "must be online, busy or error", value=status)
    body: dict[str, Any] = {"timestamp": _iso(timestamp, now), "status": status}
    if metrics is not None:
        missing = {"cpu", "memory", "uptime"} - set(metrics)
        if missing:
            raise InputValidationError(
                "metrics", f"needs cpu, memory and uptime (missing {sorted(missing)})"
            )
        body["metrics"] = {k: float(metrics[k]) for k in ("cpu", "memory", "uptime")}
    if not isinstance(diagnostics, NotGiven):  # None is sent: the contract allows null
        body["diagnostics"] = diagnostics
    return RequestOptions(method="POST", url="/api/v1/device/heartbeat", json=body)


def claim_request(limit: int, visibility_timeout_ms: int | None) -> RequestOptions:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10:
        raise InputValidationError("limit", "must be an integer from 1 to 10", value=limit)
    body: dict[str, Any] = {"limit": limit}
    if visibility_timeout_ms is not None:
        if not 1000 <= visibility_timeout_ms <= 43_200_000:
            raise InputValidationError(
                "visibility_timeout_ms",
                "must be from 1,000 to 43,200,000",
                value=visibility_timeout_ms,
            )
        body["visibilityTimeout"] = int(visibility_timeout_ms)
    return RequestOptions(method="POST", url="/api/v1/device/commands/claim", json=body)


def extend_request(
    command: ClaimedCommand | str, claim_token: str | None, extension_ms: int
) -> RequestOptions:
    cid = valid_command_id(command)
    token = _claim_token(command, claim_token)
    if not 1 <= extension_ms <= 300_000:
        raise InputValidationError("extension_ms", "must be from 1 to 300,000", value=extension_ms)
    body = {"claimToken": token, "extensionMs": int(extension_ms)}
    return RequestOptions(method="POST", url=f"/api/v1/device/commands/{cid}/extend", json=body)


def result_request(
    command: ClaimedCommand,
    status: ResultStatus,
    *,
    output: str | None,
    error: str | None,
    executed_at: dt.datetime | str | None,
    duration: float,
    now: float,
) -> RequestOptions:
    cid = valid_command_id(command)
    token = _claim_token(command, None)
    if status not in ("success", "failure", "timeout"):
        raise InputValidationError("status", "must be success, failure or timeout", value=status)
    if duration < 0:
        raise InputValidationError("duration", "must not be negative", value=duration)
    body: dict[str, Any] = {
        "claimToken": token,
        "status": status,
        "executedAt": _iso(executed_at, now),
        "duration": float(duration),
    }
    if output is not None:
        body["output"] = output
    if error is not None:
        body["error"] = error
    # Idempotent by design: the server answers a resubmission under the same
    # token with the same success, so a lost answer is safe to send again.
    return RequestOptions(
        method="POST",
        url=f"/api/v1/device/commands/{cid}/result",
        json=body,
        idempotent=True,
    )


# ======================================================================= customer
def _page_size(page_size: object) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 200:
        raise InputValidationError("page_size", "must be an integer from 1 to 200", value=page_size)
    return page_size


def list_params(status: StatusFilter, page_size: int) -> dict[str, Any]:
    if status not in ("online", "offline", "all"):
        raise InputValidationError("status", "must be online, offline or all", value=status)
    return {"status": status, "limit": _page_size(page_size)}


def devices_request(status: StatusFilter, page_size: int) -> RequestOptions:
    """The customer's devices, ``page_size`` a page (``DEVICE_PAGES`` adds the offset)."""
    params = list_params(status, page_size)
    return RequestOptions(method="GET", url="/api/v1/customer/devices", params=params)


def to_page(raw: APIResponse[Any]) -> Page[Device]:
    data = raw.parsed
    return Page(
        [Device.model_validate(d) for d in data["devices"]], total=data.get("total"), raw=data
    )


def device_status_request(device: str) -> RequestOptions:
    return RequestOptions(
        method="GET", url=f"/api/v1/customer/devices/{valid_device_id(device)}/status"
    )


def provision_request(device: str, name: str | None, location: str | None) -> RequestOptions:
    body: dict[str, Any] = {"deviceId": valid_device_id(device)}
    if name is not None:
        body["name"] = name
    if location is not None:
        body["location"] = location
    return RequestOptions(method="POST", url="/api/v1/customer/devices/provision", json=body)


SYSTEM_INFO = RequestOptions(method="GET", url="/api/v1/customer/system/info")


def provisioned(data: dict[str, Any]) -> ProvisionedDevice:
    return ProvisionedDevice.model_validate(
        {**data["device"], "instructions": data.get("instructions")}
    )


def create_session_request(
    device: str, session_type: SessionType, description: str | None
) -> RequestOptions:
    if session_type not in ("diagnostic", "remediation"):
        raise InputValidationError("type", "must be diagnostic or remediation", value=session_type)
    body: dict[str, Any] = {"deviceId": valid_device_id(device), "type": session_type}
    if description is not None:
        body["description"] = description
    return RequestOptions(method="POST", url="/api/v1/customer/sessions", json=body)


def session_request(session_id: str) -> RequestOptions:
    sid = valid_plain_id(session_id, "session_id")
    return RequestOptions(method="GET", url=f"/api/v1/customer/sessions/{sid}")


def session_commands_request(session_id: str, page_size: int) -> RequestOptions:
    """The session's commands, oldest first, ``page_size`` a page (``COMMAND_PAGES``
    adds the offset)."""
    sid = valid_plain_id(session_id, "session_id")
    params = {"limit": _page_size(page_size)}
    return RequestOptions(method="GET", url=f"/api/v1/customer/sessions/{sid}", params=params)


def commands_to_page(raw: APIResponse[Any]) -> Page[SessionCommand]:
    session = raw.parsed["session"]
    commands = [SessionCommand.model_validate(c) for c in session["commands"]]
    return Page(commands, total=session.get("commandsTotal"), raw=raw.parsed)


def enqueue_request(
    session_id: str, command_type: str, parameters: Mapping[str, Any] | None, priority: int
) -> RequestOptions:
    if not isinstance(command_type, str) or not COMMAND_TYPE.match(command_type):
        raise InputValidationError(
            "type", "must be 1 to 100 of letters, digits, '_', '.', ':' or '-'", value=command_type
        )
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
        raise InputValidationError("priority", "must be an integer from 0 to 100", value=priority)
    body: dict[str, Any] = {"type": command_type, "priority": priority}
    if parameters is not None:
        body["parameters"] = dict(parameters)
    sid = valid_plain_id(session_id, "session_id")
    return RequestOptions(method="POST", url=f"/api/v1/customer/sessions/{sid}/commands", json=body)


def decide_request(
    session_id: str, command: str, approved: bool, reason: str | None
) -> RequestOptions:
    body: dict[str, Any] = {
        "commandId": valid_plain_id(command, "command_id"),
        "approved": approved,
    }
    if reason is not None:
        body["reason"] = reason
    sid = valid_plain_id(session_id, "session_id")
    return RequestOptions(method="POST", url=f"/api/v1/customer/sessions/{sid}/approve", json=body)
