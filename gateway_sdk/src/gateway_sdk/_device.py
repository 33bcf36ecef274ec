"""``DeviceClient`` and ``AsyncDeviceClient``: a device's side of the gateway.

The device secret is returned once, at registration, and kept wherever the
caller says (a :class:`SecretStore`). Session tokens (``X-Device-Token``) are
fetched from it on demand and renewed before they expire or after a 401, in
a single flight (sdk_core's token manager).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, Unpack

import attrs
import httpx

from sdk_core import (
    APIConnectionError,
    APIStatusError,
    AsyncAPIClient,
    AsyncClientOptions,
    Clock,
    ConflictError,
    InputValidationError,
    PermissionDeniedError,
    RateLimitError,
    RequestOptions,
    SDKError,
    Secret,
    SyncAPIClient,
    SyncClientOptions,
    Token,
    TokenAuth,
    TokenFlow,
    make_status_error,
)

from ._models import (
    ClaimedCommand,
    CompleteResult,
    DeviceState,
    HeartbeatResult,
    RegisteredDevice,
    ResultStatus,
)
from ._patience import Patience
from ._version import __version__
from ._ws import AsyncDeviceSocket, DeviceSocket

__all__ = [
    "AsyncDeviceClient",
    "DeviceClient",
    "FileSecretStore",
    "MemorySecretStore",
    "SecretNotSavedError",
    "SecretStore",
    "WorkerStats",
]

log = logging.getLogger("gateway_sdk")

Handler = Callable[[ClaimedCommand], Any]
AsyncHandler = Callable[[ClaimedCommand], Awaitable[Any] | Any]


# ======================================================================= secrets
class SecretStore(Protocol):
    """Where a device keeps its secret between runs."""

    def load(self) -> str | None: ...

    def save(self, secret: str) -> None: ...


class MemorySecretStore:
    def __init__(self, secret: str | None = None) -> None:
        self._secret = Secret(secret) if secret else None

    def load(self) -> str | None:
        return self._secret.reveal() if self._secret else None

    def save(self, secret: str) -> None:
        self._secret = Secret(secret)

    def __repr__(self) -> str:
        return f"MemorySecretStore(secret={'set' if self._secret else 'unset'})"


class FileSecretStore:
    """A file readable by its owner only (mode 0600).

    The server shows a device secret once, so ``save`` makes it durable before
    it counts as saved: written to a new temporary file beside the target,
    flushed to disk, renamed over the target, and the directory entry flushed
    too. A crash or power cut at any point leaves the old file or the new one,
    never an empty or partial one; a failed save leaves the old one untouched.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save(self, secret: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp: a fresh name, created 0600, never a leftover of another writer
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secret)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if os.name == "posix":  # the rename itself on disk (no directory handles on Windows)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def __repr__(self) -> str:
        return f"FileSecretStore({str(self.path)!r})"


class SecretNotSavedError(SDKError):
    """The device is registered, but its secret store failed to keep the secret.

    The server shows a device secret once and the activation code is spent,
    so the secret is here (``secret``, a :class:`Secret`: redacted in reprs
    and logs; ``secret.reveal()`` gives it) for the caller to keep elsewhere.
    Without it the device cannot authenticate again. The store's own error is
    the ``__cause__``.
    """

    def __init__(self, device_id: str, secret: Secret) -> None:
        super().__init__(
            f"device {device_id} is registered but its secret could not be saved; "
            "keep error.secret elsewhere now, it is not shown again"
        )
        self.device_id = device_id
        self.secret = secret


@attrs.frozen(repr=False)
class DeviceLogin:
    """Token provider: POST /api/v1/device/auth with the stored secret."""

    auth_url: str
    device_id: str
    store: SecretStore

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
            raise make_status_error(response, now=time.time())
        data = response.json()
        return Token(
            access_token=Secret(str(data["token"])), expires_at=now + float(data["expiresIn"])
        )


def device_auth(
    base_url: str, device_id: str, store: SecretStore, clock: Clock | None
) -> TokenAuth:
    """Session tokens in ``X-Device-Token``, fetched with the stored secret, renewed ahead."""
    login = DeviceLogin(f"{base_url.rstrip('/')}/api/v1/device/auth", device_id, store)
    return TokenAuth(login, refresh_margin=60.0, clock=clock, header="X-Device-Token", scheme=None)


# ======================================================================= requests (I/O-free)
def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(value: dt.datetime | str | None) -> str:
    if value is None:
        return _now_iso()
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def register_request(
    device_id: str, activation_code: str, location: str | None, model: str | None
) -> RequestOptions:
    if not activation_code:
        raise InputValidationError("activation_code", "must not be empty")
    body: dict[str, Any] = {"deviceId": device_id, "activationCode": activation_code}
    metadata = {k: v for k, v in {"location": location, "model": model}.items() if v is not None}
    if metadata:
        body["metadata"] = metadata
    return RequestOptions(
        method="POST", url="/api/v1/device/register", json=body, authenticated=False
    )


def keep_secret(store: SecretStore, device_id: str, answer: dict[str, Any]) -> RegisteredDevice:
    """The registered device, once its shown-once secret is in ``store`` (the
    secret first: nothing else in the answer may stand in its way)."""
    secret = str(answer["deviceSecret"])
    try:
        store.save(secret)
    except Exception as exc:
        raise SecretNotSavedError(device_id, Secret(secret)) from exc
    return RegisteredDevice.model_validate(answer["device"])


def heartbeat_request(
    status: DeviceState,
    metrics: Mapping[str, float] | None,
    diagnostics: Any,
    timestamp: dt.datetime | None,
) -> RequestOptions:
    if status not in ("online", "busy", "error"):
        raise InputValidationError("status", "must be online, busy or error", value=status)
    body: dict[str, Any] = {"timestamp": _iso(timestamp), "status": status}
    if metrics is not None:
        missing = {"cpu", "memory", "uptime"} - set(metrics)
        if missing:
            raise InputValidationError(
                "metrics", f"needs cpu, memory and uptime (missing {sorted(missing)})"
            )
        body["metrics"] = {k: float(metrics[k]) for k in ("cpu", "memory", "uptime")}
    if diagnostics is not None:
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


def _command_id(command: ClaimedCommand | str) -> str:
    value = command.id if isinstance(command, ClaimedCommand) else command
    if not isinstance(value, str) or not value or "/" in value:
        raise InputValidationError("command", "must be a command or its id", value=value)
    return value


def extend_request(command_id: str, claim_token: str, extension_ms: int) -> RequestOptions:
    if not 1 <= extension_ms <= 300_000:
        raise InputValidationError("extension_ms", "must be from 1 to 300,000", value=extension_ms)
    body = {"claimToken": claim_token, "extensionMs": int(extension_ms)}
    return RequestOptions(
        method="POST", url=f"/api/v1/device/commands/{command_id}/extend", json=body
    )


def result_request(
    command_id: str,
    claim_token: str,
    status: ResultStatus,
    *,
    output: str | None,
    error: str | None,
    executed_at: dt.datetime | str | None,
    duration: float,
) -> RequestOptions:
    if status not in ("success", "failure", "timeout"):
        raise InputValidationError("status", "must be success, failure or timeout", value=status)
    if duration < 0:
        raise InputValidationError("duration", "must not be negative", value=duration)
    body: dict[str, Any] = {
        "claimToken": claim_token,
        "status": status,
        "executedAt": _iso(executed_at),
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
        url=f"/api/v1/device/commands/{command_id}/result",
        json=body,
        idempotent=True,
    )


@attrs.define
class WorkerStats:
    """What :meth:`DeviceClient.run` did."""

    completed: int = 0
    failed: int = 0
    """Handler raised: reported as ``failure``."""
    lost: int = 0
    """The claim expired or was taken over before the result went in, or
    before the command's turn came (such a command is not run)."""
    conflicts: int = 0
    submit_errors: int = 0
    transient_errors: int = 0
    """Claims and results that failed for a moment (the gateway unreachable, a
    5xx, a 429) and were tried again."""


def _outcome(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


class _Claims:
    """The claims a worker holds: the batch it claimed, less each command whose
    result has gone in and each whose claim was lost.

    All of them are kept alive, those waiting their turn in the batch as well
    as the one running: with ``limit`` > 1 the tail of a batch would otherwise
    expire while the head runs, be claimed by another worker, and then run
    twice. A command whose claim was lost before its turn is not run.

    Shared by the sync worker (whose keeper is a thread, hence the lock) and
    the async one.
    """

    def __init__(self, commands: list[ClaimedCommand], visibility_ms: int, claimed: float) -> None:
        self._held = {c.id: c for c in commands}
        self._lock = threading.Lock()
        # Until when (monotonic) each claim is surely live: counted from before the
        # request that made or extended it, so never later than the server's.
        self._until = {c.id: claimed + visibility_ms / 1000 for c in commands}
        self.every = visibility_ms / 3000
        """Seconds between extensions: a third of the visibility timeout."""
        self.extension_ms = min(visibility_ms, 300_000)

    def held(self) -> list[ClaimedCommand]:
        with self._lock:
            return list(self._held.values())

    def holds(self, command: ClaimedCommand) -> bool:
        with self._lock:
            return command.id in self._held

    def release(self, command: ClaimedCommand) -> None:
        with self._lock:
            self._held.pop(command.id, None)

    def hand_back(self) -> list[ClaimedCommand]:
        """The commands never started (the worker was stopped), released here:
        the caller extends each by 1 ms, so that other workers can claim them at
        once instead of after the visibility timeout (best effort: a claim not
        handed back still comes back then)."""
        with self._lock:
            left, self._held = list(self._held.values()), {}
        if left:
            log.info("stopped: handing back %d claimed commands not started", len(left))
        return left

    def extended(self, command: ClaimedCommand, sent: float) -> None:
        """An extension sent at ``sent`` (monotonic) went in."""
        with self._lock:
            self._until[command.id] = sent + self.extension_ms / 1000

    def live_until(self, command: ClaimedCommand) -> float:
        with self._lock:
            return self._until[command.id]

    def not_extended(self, command: ClaimedCommand, exc: Exception) -> None:
        """An extension failed: refused (403) means the claim is gone; anything
        else (the network, a 5xx) is tried again at the next turn."""
        if isinstance(exc, PermissionDeniedError):
            self.release(command)
        else:
            log.warning("extending %s failed: %s", command.id, exc)


def _transient(exc: Exception, statuses: frozenset[int]) -> bool:
    """A failure worth waiting out: the gateway unreachable or timing out, or
    a status the client's retry policy retries (``statuses``: 408, 429, 5xx by
    default), once the client's own retries are spent."""
    if isinstance(exc, APIConnectionError):
        return True
    return isinstance(exc, APIStatusError) and exc.status_code in statuses


def _patience_wait(
    patience: Patience,
    exc: Exception,
    stats: WorkerStats,
    what: str,
    statuses: frozenset[int],
    *,
    before: float | None = None,
) -> float | None:
    """Seconds the worker waits before trying ``what`` again, or ``None`` to
    give up: the failure is not transient, the outage has lasted too long, or
    (``before``, for a result: when its claim may be gone; it is sent again
    with the same token, so the server takes it once) it would be too late."""
    if not _transient(exc, statuses):
        return None
    asked = exc.retry_after if isinstance(exc, RateLimitError) else None
    wait = patience.next_wait(asked=asked, before=before)
    if wait is not None:
        stats.transient_errors += 1
        log.warning("%s failed (%s); trying again in %.1f s", what, exc, wait)
    return wait


def _resend_wait(
    exc: Exception,
    patience: Patience,
    stats: WorkerStats,
    *,
    claims: _Claims,
    command: ClaimedCommand,
    statuses: frozenset[int],
) -> float | None:
    """After a result failed to go in: seconds to wait before sending it again
    (same token, so the server takes it once) while its claim surely lives;
    or ``None``, the failure settled (counted and logged), to give up."""
    wait = _patience_wait(
        patience,
        exc,
        stats,
        f"result of {command.id}",
        statuses,
        before=claims.live_until(command),
    )
    if wait is None:
        _settle(stats, exc, command)
    return wait


def _want(limit: int, max_commands: int | None, handled: int) -> int:
    """How many commands to claim: never more than ``max_commands`` leaves room
    for (claims the worker would not run would sit out their timeout)."""
    return limit if max_commands is None else min(limit, max_commands - handled)


def _skip(stats: WorkerStats, claims: _Claims, command: ClaimedCommand) -> bool:
    """True (and counted as lost) if the command's claim went before its turn."""
    if claims.holds(command):
        return False
    stats.lost += 1
    log.warning("claim on %s was lost before its turn; not running it", command.id)
    return True


def _settle(stats: WorkerStats, exc: Exception, command: ClaimedCommand) -> None:
    if isinstance(exc, PermissionDeniedError):
        stats.lost += 1
        log.warning("claim on %s was lost before its result went in: %s", command.id, exc)
    elif isinstance(exc, ConflictError):
        stats.conflicts += 1
        log.warning("command %s was completed under another claim", command.id)
    else:
        stats.submit_errors += 1
        log.error("result of %s not accepted: %s", command.id, exc)


# ======================================================================= sync
class DeviceClient(SyncAPIClient):
    """A device of the gateway (sync)."""

    package_name = "gateway_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str,
        device_id: str,
        device_secret: str | None = None,
        *,
        secret_store: SecretStore | None = None,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        self.device_id = device_id
        self.secret_store = secret_store or MemorySecretStore()
        if device_secret:
            self.secret_store.save(device_secret)
        auth = device_auth(base_url, device_id, self.secret_store, options.get("clock"))
        options.setdefault("max_retries", 3)
        super().__init__(base_url=base_url, auth=auth, **options)

    def register(
        self, activation_code: str, *, location: str | None = None, model: str | None = None
    ) -> RegisteredDevice:
        """Register with the one-time activation code; the secret goes to
        ``secret_store`` (:class:`SecretNotSavedError`, carrying it, if the
        store fails)."""
        opts = register_request(self.device_id, activation_code, location, model)
        answer = self.request_raw(opts, dict).parsed
        return keep_secret(self.secret_store, self.device_id, answer)

    def heartbeat(
        self,
        status: DeviceState = "online",
        *,
        metrics: Mapping[str, float] | None = None,
        diagnostics: Any = None,
        timestamp: dt.datetime | None = None,
    ) -> HeartbeatResult:
        opts = heartbeat_request(status, metrics, diagnostics, timestamp)
        return self.request_raw(opts, HeartbeatResult).parsed  # type: ignore[no-any-return]

    def claim(
        self, limit: int = 1, *, visibility_timeout_ms: int | None = None
    ) -> list[ClaimedCommand]:
        raw = self.request_raw(claim_request(limit, visibility_timeout_ms), dict)
        return [ClaimedCommand.model_validate(c) for c in raw.parsed["commands"]]

    def extend(
        self,
        command: ClaimedCommand | str,
        claim_token: str | None = None,
        *,
        extension_ms: int = 300_000,
    ) -> dt.datetime:
        token = claim_token or (command.claim_token if isinstance(command, ClaimedCommand) else "")
        data = self.request_raw(
            extend_request(_command_id(command), token, extension_ms), dict
        ).parsed
        return dt.datetime.fromisoformat(str(data["visibleUntil"]).replace("Z", "+00:00"))

    def complete(
        self,
        command: ClaimedCommand,
        status: ResultStatus = "success",
        *,
        output: str | None = None,
        error: str | None = None,
        executed_at: dt.datetime | str | None = None,
        duration: float = 0.0,
    ) -> CompleteResult:
        """Submit the result; retried safely (same claim token) after a network failure."""
        opts = result_request(
            _command_id(command), command.claim_token, status,
            output=output, error=error, executed_at=executed_at, duration=duration,
        )  # fmt: skip
        return CompleteResult.from_wire(self.request_raw(opts, dict).parsed)

    def run(
        self,
        handler: Handler,
        *,
        visibility_timeout_ms: int = 60_000,
        limit: int = 1,
        poll_interval: float = 1.0,
        max_commands: int | None = None,
        stop: threading.Event | None = None,
        exit_when_idle: bool = False,
        max_outage: float | None = None,
    ) -> WorkerStats:
        """Claim, run ``handler``, extend the claim while it runs, submit the result.

        The handler's return value (a string, or anything JSON-able) is the
        output; an exception is reported as ``failure`` with its message.
        Commands are claimed ``limit`` at a time (never more than
        ``max_commands`` leaves room for) and run one after another; every
        claim of the batch not yet answered, the waiting ones too, is extended
        every third of ``visibility_timeout_ms``. A command whose claim was
        lost before its turn is not run (counted in ``lost``). When ``stop``
        is set, the command running finishes, and the batch's commands not yet
        started are handed back (claimable by other workers at once).

        An unreachable gateway, a 5xx or a 429 (once the client's own retries
        are spent) is waited out, from ``poll_interval`` doubling to 30 s: the
        claims are tried again, and a result is sent again with the same token
        for as long as its claim lives (``stats.transient_errors`` counts the
        waits). After ``max_outage`` seconds of failures in a row (default: no
        limit) the last error is raised; any other error is raised at once.
        """
        stop = stop or threading.Event()
        stats = WorkerStats()
        patience = Patience(poll_interval, max_outage)
        handled = 0
        while not stop.is_set():
            want = _want(limit, max_commands, handled)
            sent = time.monotonic()
            try:
                commands = self.claim(want, visibility_timeout_ms=visibility_timeout_ms)
            except (APIStatusError, APIConnectionError) as exc:
                wait = _patience_wait(
                    patience, exc, stats, "claim", self.retry_policy.retry_statuses
                )
                if wait is None:
                    raise
                stop.wait(wait)
                continue
            patience.ok()
            if not commands:
                if exit_when_idle:
                    break
                stop.wait(poll_interval)
                continue
            claims = _Claims(commands, visibility_timeout_ms, sent)
            done = threading.Event()
            keeper = threading.Thread(
                target=self._keep, args=(claims, done), name="gateway-claims", daemon=True
            )
            keeper.start()
            try:
                for command in commands:
                    if stop.is_set():
                        break
                    self._work(command, handler, claims, stats, patience)
                    handled += 1
            finally:
                done.set()
                keeper.join()
            for command in claims.hand_back():
                with contextlib.suppress(APIStatusError, APIConnectionError):
                    self.extend(command, extension_ms=1)
            if max_commands is not None and handled >= max_commands:
                break
        return stats

    def _keep(self, claims: _Claims, done: threading.Event) -> None:
        while not done.wait(claims.every):
            for command in claims.held():
                sent = time.monotonic()
                try:
                    self.extend(command, extension_ms=claims.extension_ms)
                except (APIStatusError, APIConnectionError) as exc:
                    claims.not_extended(command, exc)
                else:
                    claims.extended(command, sent)

    def _work(
        self,
        command: ClaimedCommand,
        handler: Handler,
        claims: _Claims,
        stats: WorkerStats,
        patience: Patience,
    ) -> None:
        if _skip(stats, claims, command):
            return
        started = time.monotonic()
        status: ResultStatus = "success"
        output = error = None
        try:
            output = _outcome(handler(command))
        except Exception as exc:
            status, error = "failure", f"{type(exc).__name__}: {exc}"
        duration = time.monotonic() - started
        try:
            while True:
                try:
                    self.complete(command, status, output=output, error=error, duration=duration)
                    break
                except (APIStatusError, APIConnectionError) as exc:
                    wait = _resend_wait(
                        exc,
                        patience,
                        stats,
                        claims=claims,
                        command=command,
                        statuses=self.retry_policy.retry_statuses,
                    )
                    if wait is None:
                        return
                    time.sleep(wait)
            patience.ok()
        finally:
            claims.release(command)
        if status == "success":
            stats.completed += 1
        else:
            stats.failed += 1

    def socket(self) -> DeviceSocket:
        """A WebSocket to ``/ws/device``: command notices in, status and results out."""
        secret = self.secret_store.load()
        if not secret:
            raise SDKError("the device has no secret yet: register it first")
        return DeviceSocket(str(self.base_url), self.device_id, secret)


# ======================================================================= async
class AsyncDeviceClient(AsyncAPIClient):
    """A device of the gateway (async): the same methods, awaited."""

    package_name = "gateway_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str,
        device_id: str,
        device_secret: str | None = None,
        *,
        secret_store: SecretStore | None = None,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        self.device_id = device_id
        self.secret_store = secret_store or MemorySecretStore()
        if device_secret:
            self.secret_store.save(device_secret)
        auth = device_auth(base_url, device_id, self.secret_store, options.get("clock"))
        options.setdefault("max_retries", 3)
        super().__init__(base_url=base_url, auth=auth, **options)

    async def register(
        self, activation_code: str, *, location: str | None = None, model: str | None = None
    ) -> RegisteredDevice:
        opts = register_request(self.device_id, activation_code, location, model)
        answer = (await self.request_raw(opts, dict)).parsed
        return keep_secret(self.secret_store, self.device_id, answer)

    async def heartbeat(
        self,
        status: DeviceState = "online",
        *,
        metrics: Mapping[str, float] | None = None,
        diagnostics: Any = None,
        timestamp: dt.datetime | None = None,
    ) -> HeartbeatResult:
        opts = heartbeat_request(status, metrics, diagnostics, timestamp)
        return (await self.request_raw(opts, HeartbeatResult)).parsed  # type: ignore[no-any-return]

    async def claim(
        self, limit: int = 1, *, visibility_timeout_ms: int | None = None
    ) -> list[ClaimedCommand]:
        raw = await self.request_raw(claim_request(limit, visibility_timeout_ms), dict)
        return [ClaimedCommand.model_validate(c) for c in raw.parsed["commands"]]

    async def extend(
        self,
        command: ClaimedCommand | str,
        claim_token: str | None = None,
        *,
        extension_ms: int = 300_000,
    ) -> dt.datetime:
        token = claim_token or (command.claim_token if isinstance(command, ClaimedCommand) else "")
        data = (
            await self.request_raw(extend_request(_command_id(command), token, extension_ms), dict)
        ).parsed
        return dt.datetime.fromisoformat(str(data["visibleUntil"]).replace("Z", "+00:00"))

    async def complete(
        self,
        command: ClaimedCommand,
        status: ResultStatus = "success",
        *,
        output: str | None = None,
        error: str | None = None,
        executed_at: dt.datetime | str | None = None,
        duration: float = 0.0,
    ) -> CompleteResult:
        opts = result_request(
            _command_id(command), command.claim_token, status,
            output=output, error=error, executed_at=executed_at, duration=duration,
        )  # fmt: skip
        return CompleteResult.from_wire((await self.request_raw(opts, dict)).parsed)

    async def run(
        self,
        handler: AsyncHandler,
        *,
        visibility_timeout_ms: int = 60_000,
        limit: int = 1,
        poll_interval: float = 1.0,
        max_commands: int | None = None,
        stop: asyncio.Event | None = None,
        exit_when_idle: bool = False,
        max_outage: float | None = None,
    ) -> WorkerStats:
        """The async worker loop, as :meth:`DeviceClient.run`; ``handler`` may be
        a coroutine function or a plain function (run in a thread)."""
        stop = stop or asyncio.Event()
        stats = WorkerStats()
        patience = Patience(poll_interval, max_outage)
        handled = 0
        while not stop.is_set():
            want = _want(limit, max_commands, handled)
            sent = time.monotonic()
            try:
                commands = await self.claim(want, visibility_timeout_ms=visibility_timeout_ms)
            except (APIStatusError, APIConnectionError) as exc:
                wait = _patience_wait(
                    patience, exc, stats, "claim", self.retry_policy.retry_statuses
                )
                if wait is None:
                    raise
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                continue
            patience.ok()
            if not commands:
                if exit_when_idle:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_interval)
                continue
            claims = _Claims(commands, visibility_timeout_ms, sent)
            keeper = asyncio.create_task(self._keep(claims))
            try:
                for command in commands:
                    if stop.is_set():
                        break
                    await self._work(command, handler, claims, stats, patience)
                    handled += 1
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
            for command in claims.hand_back():
                with contextlib.suppress(APIStatusError, APIConnectionError):
                    await self.extend(command, extension_ms=1)
            if max_commands is not None and handled >= max_commands:
                break
        return stats

    async def _keep(self, claims: _Claims) -> None:
        while True:
            await asyncio.sleep(claims.every)
            for command in claims.held():
                sent = time.monotonic()
                try:
                    await self.extend(command, extension_ms=claims.extension_ms)
                except (APIStatusError, APIConnectionError) as exc:
                    claims.not_extended(command, exc)
                else:
                    claims.extended(command, sent)

    async def _work(
        self,
        command: ClaimedCommand,
        handler: AsyncHandler,
        claims: _Claims,
        stats: WorkerStats,
        patience: Patience,
    ) -> None:
        if _skip(stats, claims, command):
            return
        started = time.monotonic()
        status: ResultStatus = "success"
        output = error = None
        try:
            if inspect.iscoroutinefunction(handler):
                value = await handler(command)
            else:
                value = await asyncio.to_thread(handler, command)
                if inspect.isawaitable(value):
                    value = await value
            output = _outcome(value)
        except Exception as exc:
            status, error = "failure", f"{type(exc).__name__}: {exc}"
        duration = time.monotonic() - started
        try:
            while True:
                try:
                    await self.complete(
                        command, status, output=output, error=error, duration=duration
                    )
                    break
                except (APIStatusError, APIConnectionError) as exc:
                    wait = _resend_wait(
                        exc,
                        patience,
                        stats,
                        claims=claims,
                        command=command,
                        statuses=self.retry_policy.retry_statuses,
                    )
                    if wait is None:
                        return
                    await asyncio.sleep(wait)
            patience.ok()
        finally:
            claims.release(command)
        if status == "success":
            stats.completed += 1
        else:
            stats.failed += 1

    def socket(self) -> AsyncDeviceSocket:
        secret = self.secret_store.load()
        if not secret:
            raise SDKError("the device has no secret yet: register it first")
        return AsyncDeviceSocket(str(self.base_url), self.device_id, secret)
