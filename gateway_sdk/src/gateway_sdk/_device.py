"""``DeviceClient`` and ``AsyncDeviceClient``: a device's side of the gateway.

The device secret is returned once, at registration, and kept wherever the
caller says (a :class:`SecretStore`). Session tokens (``X-Device-Token``) are
fetched from it on demand and renewed before they expire or after a 401, in
a single flight (sdk_core's token manager). Requests are built in
``_requests``; the worker's decisions are :class:`WorkerState`'s; the twins
here only send, sleep and run the handler.

Every method that makes one call takes the per-call options
(``timeout=``, ``extra_headers=``, ``extra_query=``, ``extra_body=``) and has
a twin under ``with_raw_response`` answering an ``APIResponse`` of it.
``run``, ``socket`` are not one call: ``client.with_options(...)`` sets the
options of a worker's calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import threading
from collections.abc import Mapping
from typing import Any, Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncClientOptions,
    NotGiven,
    RequestOverrides,
    SDKError,
    Secret,
    SyncClientOptions,
)

from ._config import device_identity, gateway_url
from ._models import (
    ClaimedCommand,
    CompleteResult,
    DeviceState,
    HeartbeatResult,
    RegisteredDevice,
    ResultStatus,
)
from ._probes import AsyncProbes, SyncProbes
from ._raw import AsyncDeviceClientWithRawResponse, DeviceClientWithRawResponse
from ._requests import (
    claim_request,
    device_auth,
    extend_request,
    heartbeat_request,
    register_request,
    result_request,
)
from ._run import AsyncHandler, Handler, run_async, run_sync
from ._secret_store import MemorySecretStore, SecretStore, keep_secret
from ._worker import WorkerSettings, WorkerStats
from ._ws import AsyncDeviceSocket, DeviceSocket

__all__ = ["AsyncDeviceClient", "DeviceClient"]


def _visible_until(data: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(data["visibleUntil"]).replace("Z", "+00:00"))


def _store_for(secret: Secret | None, store: SecretStore | None) -> SecretStore:
    kept = store or MemorySecretStore()
    if secret:
        kept.save(secret.reveal())
    return kept


def _socket_secret(store: SecretStore) -> str:
    secret = store.load()
    if not secret:
        raise SDKError("the device has no secret yet: register it first")
    return secret


# ======================================================================= sync
class DeviceClient(SyncProbes):
    """A device of the gateway (sync).

    ``base_url``, ``device_id`` and ``device_secret`` default to
    ``GATEWAY_BASE_URL``, ``GATEWAY_DEVICE_ID`` and (without a
    ``secret_store``) ``GATEWAY_DEVICE_SECRET``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        device_id: str | None = None,
        device_secret: str | Secret | None = None,
        *,
        secret_store: SecretStore | None = None,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        url = gateway_url(base_url)
        self.device_id, secret = device_identity(
            device_id, device_secret, has_store=secret_store is not None
        )
        self.secret_store = _store_for(secret, secret_store)
        auth = device_auth(url, self.device_id, self.secret_store, options.get("clock"))
        options.setdefault("max_retries", 3)
        super().__init__(base_url=url, auth=auth, **options)

    def register(
        self,
        activation_code: str,
        *,
        location: str | None = None,
        model: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> RegisteredDevice:
        """Register with the one-time activation code; the secret goes to
        ``secret_store`` (:class:`SecretNotSavedError`, carrying it, if the
        store fails)."""
        opts = register_request(self.device_id, activation_code, location, model)
        answer = self._call(opts, dict, options)
        return keep_secret(self.secret_store, self.device_id, answer)

    def heartbeat(
        self,
        status: DeviceState = "online",
        *,
        metrics: Mapping[str, float] | None = None,
        diagnostics: Any | NotGiven = NOT_GIVEN,
        timestamp: dt.datetime | None = None,
        **options: Unpack[RequestOverrides],
    ) -> HeartbeatResult:
        """Report the device alive; ``diagnostics`` left out is not sent, ``None`` sends null."""
        opts = heartbeat_request(status, metrics, diagnostics, timestamp, self.clock.time())
        return self._call(opts, HeartbeatResult, options)

    def claim(
        self,
        limit: int = 1,
        *,
        visibility_timeout_ms: int | None = None,
        **options: Unpack[RequestOverrides],
    ) -> list[ClaimedCommand]:
        data = self._call(claim_request(limit, visibility_timeout_ms), dict, options)
        return [ClaimedCommand.model_validate(c) for c in data["commands"]]

    def extend(
        self,
        command: ClaimedCommand | str,
        claim_token: str | None = None,
        *,
        extension_ms: int = 300_000,
        **options: Unpack[RequestOverrides],
    ) -> dt.datetime:
        opts = extend_request(command, claim_token, extension_ms)
        return _visible_until(self._call(opts, dict, options))

    def complete(
        self,
        command: ClaimedCommand,
        status: ResultStatus = "success",
        *,
        output: str | None = None,
        error: str | None = None,
        executed_at: dt.datetime | str | None = None,
        duration: float = 0.0,
        **options: Unpack[RequestOverrides],
    ) -> CompleteResult:
        """Submit the result; retried safely (same claim token) after a network failure."""
        opts = result_request(
            command, status, output=output, error=error, executed_at=executed_at,
            duration=duration, now=self.clock.time(),
        )  # fmt: skip
        return CompleteResult.from_wire(self._call(opts, dict, options))

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

        Waits use the client's ``clock`` and ``sleep``; with the real ones a
        ``stop`` cuts a wait short (with a ``sleep`` of your own it is seen
        when the wait ends).
        """
        settings = WorkerSettings(
            visibility_timeout_ms=visibility_timeout_ms, limit=limit, poll_interval=poll_interval,
            max_commands=max_commands, exit_when_idle=exit_when_idle, max_outage=max_outage,
        )  # fmt: skip
        return run_sync(self, handler, settings, stop or threading.Event())

    def socket(self) -> DeviceSocket:
        """A WebSocket to ``/ws/device``: command notices in, status and results out."""
        return DeviceSocket(str(self.base_url), self.device_id, _socket_secret(self.secret_store))

    @functools.cached_property
    def with_raw_response(self) -> DeviceClientWithRawResponse:
        """The same calls, answering an ``APIResponse`` of what they return."""
        return DeviceClientWithRawResponse(self)


# ======================================================================= async
class AsyncDeviceClient(AsyncProbes):
    """A device of the gateway (async): the same methods, awaited."""

    def __init__(
        self,
        base_url: str | None = None,
        device_id: str | None = None,
        device_secret: str | Secret | None = None,
        *,
        secret_store: SecretStore | None = None,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        url = gateway_url(base_url)
        self.device_id, secret = device_identity(
            device_id, device_secret, has_store=secret_store is not None
        )
        self.secret_store = _store_for(secret, secret_store)
        auth = device_auth(url, self.device_id, self.secret_store, options.get("clock"))
        options.setdefault("max_retries", 3)
        super().__init__(base_url=url, auth=auth, **options)

    async def register(
        self,
        activation_code: str,
        *,
        location: str | None = None,
        model: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> RegisteredDevice:
        opts = register_request(self.device_id, activation_code, location, model)
        answer = await self._call(opts, dict, options)
        return keep_secret(self.secret_store, self.device_id, answer)

    async def heartbeat(
        self,
        status: DeviceState = "online",
        *,
        metrics: Mapping[str, float] | None = None,
        diagnostics: Any | NotGiven = NOT_GIVEN,
        timestamp: dt.datetime | None = None,
        **options: Unpack[RequestOverrides],
    ) -> HeartbeatResult:
        opts = heartbeat_request(status, metrics, diagnostics, timestamp, self.clock.time())
        return await self._call(opts, HeartbeatResult, options)

    async def claim(
        self,
        limit: int = 1,
        *,
        visibility_timeout_ms: int | None = None,
        **options: Unpack[RequestOverrides],
    ) -> list[ClaimedCommand]:
        data = await self._call(claim_request(limit, visibility_timeout_ms), dict, options)
        return [ClaimedCommand.model_validate(c) for c in data["commands"]]

    async def extend(
        self,
        command: ClaimedCommand | str,
        claim_token: str | None = None,
        *,
        extension_ms: int = 300_000,
        **options: Unpack[RequestOverrides],
    ) -> dt.datetime:
        opts = extend_request(command, claim_token, extension_ms)
        return _visible_until(await self._call(opts, dict, options))

    async def complete(
        self,
        command: ClaimedCommand,
        status: ResultStatus = "success",
        *,
        output: str | None = None,
        error: str | None = None,
        executed_at: dt.datetime | str | None = None,
        duration: float = 0.0,
        **options: Unpack[RequestOverrides],
    ) -> CompleteResult:
        opts = result_request(
            command, status, output=output, error=error, executed_at=executed_at,
            duration=duration, now=self.clock.time(),
        )  # fmt: skip
        return CompleteResult.from_wire(await self._call(opts, dict, options))

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
        settings = WorkerSettings(
            visibility_timeout_ms=visibility_timeout_ms, limit=limit, poll_interval=poll_interval,
            max_commands=max_commands, exit_when_idle=exit_when_idle, max_outage=max_outage,
        )  # fmt: skip
        return await run_async(self, handler, settings, stop or asyncio.Event())

    def socket(self) -> AsyncDeviceSocket:
        return AsyncDeviceSocket(
            str(self.base_url), self.device_id, _socket_secret(self.secret_store)
        )

    @functools.cached_property
    def with_raw_response(self) -> AsyncDeviceClientWithRawResponse:
        return AsyncDeviceClientWithRawResponse(self)
