"""The live sockets: ``/ws/device`` (a device hears of claimable commands and
sends status and results) and ``/ws/customer`` (a customer watches devices)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pydantic
import pydantic_core
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketState

from .._errors import DomainError, Forbidden, Unauthenticated
from ..edge import RateLimiter, error_response
from ..events import Subscription
from ._errors import InvalidDeviceCredentials, TooManySockets
from ._schemas import DEVICE_ID, ResultBody, StatusData
from ._views import command_message

if TYPE_CHECKING:
    from ._api import DeviceGateway

__all__ = ["Sockets"]

OnMessage = Callable[[dict[str, Any], Subscription], Awaitable[None]]


async def _pump(ws: WebSocket, subscription: Subscription) -> None:
    async for message in subscription:
        await ws.send_json(message)


async def _refuse(ws: WebSocket, error: DomainError) -> None:
    """Refuse the upgrade. Bad credentials: closed before accepting (the
    server answers 403). Anything else (429 with Retry-After): the error's
    own answer, where the server can send one (the denial response)."""
    if isinstance(error, Unauthenticated | Forbidden) or (
        "websocket.http.response" not in ws.scope.get("extensions", {})
    ):
        await ws.close(code=1008, reason=error.message[:120])
        return
    await ws.send_denial_response(error_response(error))


def _credential(ws: WebSocket, header: str, param: str) -> str:
    """A credential of the handshake: its header, else its query parameter
    (for clients that cannot set headers; headers stay out of access logs)."""
    return ws.headers.get(header) or ws.query_params.get(param, "")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "data": {"code": code, "message": message}}


class Sockets:
    def __init__(self, api: DeviceGateway) -> None:
        self.api = api
        self.settings = api.services.settings
        self.clock = api.services.clock

    def routes(self) -> list[WebSocketRoute]:
        return [
            WebSocketRoute("/ws/device", self.device),
            WebSocketRoute("/ws/customer", self.customer),
        ]

    async def _serve(
        self,
        ws: WebSocket,
        topics: list[str],
        on_message: OnMessage,
        on_open: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Subscribe to ``topics`` and forward what they carry; then ``on_open``
        (after subscribing, so nothing published meanwhile is missed); then answer
        each message with ``on_message``, rate-limited, errors as error messages."""
        rate = self.settings.ws_messages_per_second
        limiter = RateLimiter(rate, 1.0, self.clock)
        hub = self.api.hub
        hub.sockets.add(ws)
        try:
            async with self.api.services.broker.subscription() as sub:
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
                                _error("RATE_LIMITED", f"over {rate} messages a second")
                            )
                            continue
                        try:
                            message = pydantic_core.from_json(raw, allow_inf_nan=False)
                            if not isinstance(message, dict) or not isinstance(
                                message.get("type"), str
                            ):
                                raise ValueError("a message is an object with a type")
                            await on_message(message, sub)
                        except DomainError as exc:
                            await ws.send_json(_error(exc.code, exc.message))
                        except (ValueError, pydantic.ValidationError) as exc:
                            await ws.send_json(_error("INVALID_MESSAGE", str(exc)[:300]))
                finally:
                    pump.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pump
        finally:
            hub.sockets.discard(ws)
            if ws.client_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await ws.close()

    async def device(self, ws: WebSocket) -> None:
        api = self.api
        token = ws.headers.get("x-device-token")
        device_id = _credential(ws, "x-device-id", "deviceId")
        if token is not None:  # a session token from /device/auth
            found = await api.devices.device_for_token(token)
            if found is None:
                await ws.close(code=1008, reason="invalid device token")
                return
            device_id = found[0]
        elif not await self._device_secret(ws, device_id):
            return
        if not api.hub.admit(api.hub.devices, device_id, self.settings.max_sockets_per_device):
            await _refuse(ws, TooManySockets("the device has as many sockets open as it may"))
            return

        async def on_message(message: dict[str, Any], sub: Subscription) -> None:
            api.guard.charge(api.guard.device_limiter, device_id)  # as its requests are
            kind = message["type"]
            data = message.get("data")
            if kind == "status":
                beat = StatusData.model_validate(data if data is not None else {})
                metrics = beat.metrics.model_dump() if beat.metrics else None
                api.telemetry.record(device_id, beat.status, metrics, beat.diagnostics)
                update = {"deviceId": device_id, "status": beat.status, "metrics": metrics}
                await api.events.device_status(device_id, update)
                await ws.send_json({"type": "status_ack", "data": {"deviceId": device_id}})
            elif kind == "command_result":
                if not isinstance(data, dict) or not isinstance(data.get("commandId"), str):
                    raise ValueError("command_result needs data.commandId")
                command_id = data["commandId"]
                body = ResultBody.model_validate_json(
                    json.dumps({k: v for k, v in data.items() if k != "commandId"})
                )
                done = await api.queue.complete(
                    device_id, command_id, body.claimToken, body.model_dump()
                )
                if not done.replayed:
                    await api.events.command_changed(command_id, device_id)
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
            for notice in await api.queue.claimable(device_id):
                await ws.send_json(command_message(notice))

        try:
            await ws.accept()
            await self._serve(ws, [f"device:{device_id}"], on_message, send_backlog)
        finally:
            api.hub.leave(api.hub.devices, device_id)

    async def _device_secret(self, ws: WebSocket, device_id: str) -> bool:
        """Check the device's secret (``X-Device-Secret``, else ``deviceSecret``);
        a failure counts in the same budget as REST's: past it, 429 not 403."""
        api = self.api
        secret = _credential(ws, "x-device-secret", "deviceSecret")
        valid_id = re.fullmatch(DEVICE_ID, device_id) is not None
        if valid_id and secret and await api.devices.check_device_secret(device_id, secret):
            return True
        error = InvalidDeviceCredentials("invalid device credentials")
        await _refuse(ws, api.guard.failed(ws, device_id if valid_id else "?", error))
        return False

    async def customer(self, ws: WebSocket) -> None:
        api = self.api
        scheme, _, bearer = ws.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else ws.query_params.get("token", "")
        try:
            verified = await api.guard.verifier.verify(token)
        except DomainError:
            await ws.close(code=1008, reason="invalid customer token")
            return
        customer = verified.customer
        if not api.hub.admit(api.hub.customers, customer, self.settings.max_sockets_per_customer):
            await _refuse(ws, TooManySockets("the customer has as many sockets open as it may"))
            return
        watching: set[str] = set()
        api.hub.expiry[ws] = verified.expires_at  # closed with 1008 then, idle or not

        async def on_message(message: dict[str, Any], sub: Subscription) -> None:
            if self.clock() >= verified.expires_at:
                await ws.close(code=1008, reason="credentials expired")
                return
            api.guard.charge(api.guard.customer_limiter, customer)  # as its requests are
            kind = message["type"]
            device_id = message.get("deviceId")
            if kind not in ("subscribe", "unsubscribe"):
                raise ValueError(f"unknown message type {kind!r}")
            if not isinstance(device_id, str) or not re.fullmatch(DEVICE_ID, device_id):
                raise ValueError("deviceId is required")
            if kind == "subscribe":
                if not await api.devices.owns_device(customer, device_id):
                    raise Forbidden("device not owned by customer")
                sub.add(f"watch:{device_id}")
                if device_id not in watching:
                    watching.add(device_id)
                    api.hub.join(api.hub.watched, device_id)
                await ws.send_json({"type": "subscribed", "deviceId": device_id})
            else:
                sub.remove(f"watch:{device_id}")
                if device_id in watching:
                    watching.discard(device_id)
                    api.hub.leave(api.hub.watched, device_id)
                await ws.send_json({"type": "unsubscribed", "deviceId": device_id})

        try:
            await ws.accept()
            await self._serve(ws, [], on_message)
        finally:
            api.hub.leave(api.hub.customers, customer)
            api.hub.expiry.pop(ws, None)
            for device_id in watching:
                api.hub.leave(api.hub.watched, device_id)
