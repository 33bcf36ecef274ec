"""The live sockets: ``/ws/device`` (a device hears of claimable commands and
sends status and results) and ``/ws/customer`` (a customer watches devices).

An idle socket costs what the protocol needs (uvicorn's connection and the
coroutine that waits for the socket's next message) and a :class:`_Peer`:
no task, no buffer. Events reach it through its :class:`Outbox`, whose
sending task lives only while there is something to send; a socket that
falls ``ws_send_queue`` events behind is closed with 1013 and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pydantic
import pydantic_core
from starlette.datastructures import QueryParams
from starlette.routing import WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from .._errors import DomainError, Forbidden, Unauthenticated
from ..edge import RateLimiter, error_response
from ..events import Outbox
from ._errors import InvalidDeviceCredentials, TooManySockets
from ._schemas import DEVICE_ID, ResultBody, StatusData
from ._views import command_message

if TYPE_CHECKING:
    from ._api import DeviceGateway
    from ._events import Hub

__all__ = ["Sockets"]

log = logging.getLogger("gateway_server")

TOO_SLOW = 1013  # "try again later": the socket fell too far behind its events


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


def _credential(ws: WebSocket, header: bytes, param: str) -> str:
    """A credential of the handshake: its header, else its query parameter
    (for clients that cannot set headers; headers stay out of access logs).
    Read from the scope, so that nothing parsed is kept on the socket."""
    for name, value in ws.scope["headers"]:
        if name == header:
            return str(value.decode("latin-1"))
    return QueryParams(ws.scope["query_string"]).get(param, "")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "data": {"code": code, "message": message}}


class _Peer:
    """One open socket's state of ours: its outbox, the topics it hears, and
    its number (its key for the message rate)."""

    __slots__ = ("closing", "hub", "name", "number", "outbox", "topics", "ws")

    def __init__(self, ws: WebSocket, name: str, number: int, hub: Hub, limit: int) -> None:
        self.ws = ws
        self.name = name
        self.number = number
        self.hub = hub
        self.outbox = Outbox(ws.send_text, limit, self.too_slow)
        self.topics: tuple[str, ...] = ()  # a handful at most: a tuple is the smallest
        self.closing: asyncio.Task[None] | None = None

    def subscribe(self, topic: str) -> None:
        if self.outbox.stopped or topic in self.topics:
            return
        self.topics += (topic,)
        self.hub.subscribe(topic, self.outbox)

    def unsubscribe(self, topic: str) -> None:
        if topic in self.topics:
            self.topics = tuple(t for t in self.topics if t != topic)
            self.hub.unsubscribe(topic, self.outbox)

    def unsubscribe_all(self) -> None:
        for topic in self.topics:
            self.unsubscribe(topic)

    def too_slow(self) -> None:
        """The outbox is full: hear nothing more, count it, close with 1013."""
        self.unsubscribe_all()
        self.hub.too_slow[self.name] += 1
        log.warning(
            "closing the socket of %s with %d: %d events waiting, the send queue's limit",
            self.name, TOO_SLOW, self.outbox.limit,
        )  # fmt: skip
        self.closing = asyncio.get_running_loop().create_task(self._close(TOO_SLOW))

    async def _close(self, code: int) -> None:
        # The close frame waits behind what the peer has not read yet; the
        # socket's loop ends when it is sent (or when the peer is gone).
        with contextlib.suppress(Exception):
            await self.ws.close(code, "too slow: the send queue is full")

    async def end(self) -> None:
        await self.outbox.close()
        self.unsubscribe_all()
        if self.closing is not None:
            self.closing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.closing


OnMessage = Callable[[dict[str, Any], _Peer], Awaitable[None]]


class Sockets:
    def __init__(self, api: DeviceGateway) -> None:
        self.api = api
        self.settings = api.services.settings
        self.clock = api.services.clock
        # One limiter for every socket, keyed by the socket's number: a count
        # only for a socket that sent something, its table bounded (max_keys).
        self.limiter = RateLimiter(self.settings.ws_messages_per_second, 1.0, self.clock)
        self._numbers = itertools.count()

    def routes(self) -> list[WebSocketRoute]:
        return [
            WebSocketRoute("/ws/device", self.device),
            WebSocketRoute("/ws/customer", self.customer),
        ]

    async def _serve(
        self,
        ws: WebSocket,
        name: str,
        topic: str | None,
        on_message: OnMessage,
        on_open: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Subscribe to ``topic`` and forward what it carries; then ``on_open``
        (after subscribing, so nothing published meanwhile is missed); then answer
        each message with ``on_message``, rate-limited, errors as error messages."""
        hub = self.api.hub
        peer = _Peer(ws, name, next(self._numbers), hub, self.settings.ws_send_queue)
        hub.sockets.add(ws)
        # The handshake is over and its headers were read: a socket lives for
        # hours, and their copy in the scope is a twentieth of what it costs
        # (so are the parsed query parameters, which the endpoints parse for
        # the handshake alone instead of keeping them on the socket).
        ws.scope["headers"] = []
        try:
            if topic is not None:
                peer.subscribe(topic)
            if on_open is not None:
                await on_open()
            while True:
                frame = await ws.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                await self._answer(ws, peer, frame, on_message)
        except (WebSocketDisconnect, RuntimeError):
            if WebSocketState.DISCONNECTED not in (ws.client_state, ws.application_state):
                raise  # not the socket going away: a bug, for uvicorn to log
            return  # gone, or closed by the server (shutdown, too slow)
        finally:
            await peer.end()
            hub.sockets.discard(ws)
            if ws.client_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await ws.close()

    async def _answer(
        self, ws: WebSocket, peer: _Peer, frame: Message, on_message: OnMessage
    ) -> None:
        # A binary frame is read as UTF-8 JSON too; anything else is refused below.
        raw = frame.get("text") or (frame.get("bytes") or b"").decode("utf-8", "replace")
        if not self.limiter.hit(str(peer.number)).allowed:
            rate = self.limiter.limit
            await ws.send_json(_error("RATE_LIMITED", f"over {rate} messages a second"))
            return
        try:
            message = pydantic_core.from_json(raw, allow_inf_nan=False)
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                raise ValueError("a message is an object with a type")
            await on_message(message, peer)
        except DomainError as exc:
            await ws.send_json(_error(exc.code, exc.message))
        except (ValueError, pydantic.ValidationError) as exc:
            await ws.send_json(_error("INVALID_MESSAGE", str(exc)[:300]))

    async def device(self, ws: WebSocket) -> None:
        api = self.api
        token = _credential(ws, b"x-device-token", "")
        device_id = _credential(ws, b"x-device-id", "deviceId")
        if token:  # a session token from /device/auth
            found = await api.devices.device_for_token(token)
            if found is None:
                await ws.close(code=1008, reason="invalid device token")
                return
            device_id = found[0]
        elif not await self._device_secret(ws, device_id):
            return
        sockets, cap = api.hub.device_sockets, self.settings.max_sockets_per_device
        if not api.hub.admit(sockets, device_id, cap):
            await _refuse(ws, TooManySockets("the device has as many sockets open as it may"))
            return

        async def on_message(message: dict[str, Any], peer: _Peer) -> None:
            await api.guard.charge(api.guard.device_limiter, device_id)  # as its requests are
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

        name, topic = f"device {device_id}", f"device:{device_id}"
        try:
            await ws.accept()
            await self._serve(ws, name, topic, on_message, send_backlog)
        finally:
            api.hub.leave(sockets, device_id)

    async def _device_secret(self, ws: WebSocket, device_id: str) -> bool:
        """Check the device's secret (``X-Device-Secret``, else ``deviceSecret``);
        a failure counts in the same budget as REST's: past it, 429 not 403."""
        api = self.api
        secret = _credential(ws, b"x-device-secret", "deviceSecret")
        valid_id = re.fullmatch(DEVICE_ID, device_id) is not None
        if valid_id and secret and await api.devices.check_device_secret(device_id, secret):
            return True
        error = InvalidDeviceCredentials("invalid device credentials")
        await _refuse(ws, await api.guard.failed(ws, device_id if valid_id else "?", error))
        return False

    async def customer(self, ws: WebSocket) -> None:
        api = self.api
        scheme, _, bearer = _credential(ws, b"authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = bearer.strip()
        else:
            token = QueryParams(ws.scope["query_string"]).get("token", "")
        try:
            verified = await api.guard.verifier.verify(token)
        except DomainError:
            await ws.close(code=1008, reason="invalid customer token")
            return
        customer = verified.customer
        if not api.hub.admit(api.hub.customers, customer, self.settings.max_sockets_per_customer):
            await _refuse(ws, TooManySockets("the customer has as many sockets open as it may"))
            return
        api.hub.expiry[ws] = verified.expires_at  # closed with 1008 then, idle or not

        async def on_message(message: dict[str, Any], peer: _Peer) -> None:
            if self.clock() >= verified.expires_at:
                await ws.close(code=1008, reason="credentials expired")
                return
            await api.guard.charge(api.guard.customer_limiter, customer)  # as its requests are
            kind = message["type"]
            device_id = message.get("deviceId")
            if kind not in ("subscribe", "unsubscribe"):
                raise ValueError(f"unknown message type {kind!r}")
            if not isinstance(device_id, str) or not re.fullmatch(DEVICE_ID, device_id):
                raise ValueError("deviceId is required")
            if kind == "subscribe":
                if not await api.devices.owns_device(customer, device_id):
                    raise Forbidden("device not owned by customer")
                peer.subscribe(f"watch:{device_id}")
                await ws.send_json({"type": "subscribed", "deviceId": device_id})
            else:
                peer.unsubscribe(f"watch:{device_id}")
                await ws.send_json({"type": "unsubscribed", "deviceId": device_id})

        try:
            await ws.accept()
            await self._serve(ws, f"customer {customer}", None, on_message)
        finally:
            api.hub.leave(api.hub.customers, customer)
            api.hub.expiry.pop(ws, None)
