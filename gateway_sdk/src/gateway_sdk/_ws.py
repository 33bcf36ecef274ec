"""WebSocket helpers for ``/ws/device`` and ``/ws/customer`` (sync and async).

Messages are JSON objects ``{"type", "data"}``; incoming ones are parsed into
typed events (:class:`CommandAvailable`, :class:`DeviceStatusEvent`,
:class:`CommandUpdate`, or a plain :class:`SocketEvent`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ._models import SocketEvent, parse_socket_event

__all__ = ["AsyncCustomerSubscription", "AsyncDeviceSocket", "CustomerSubscription", "DeviceSocket"]


def ws_url(base_url: str, path: str, query: dict[str, str]) -> str:
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return f"{base}{path}?{urlencode(query)}"


def result_message(
    command_id: str,
    *,
    claim_token: str,
    status: str,
    executed_at: str,
    duration: float,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """A ``command_result`` message for ``/ws/device`` (the REST result body plus ``commandId``)."""
    data = {"commandId": command_id, "claimToken": claim_token, "status": status,
            "executedAt": executed_at, "duration": duration, **extra}  # fmt: skip
    return {"type": "command_result", "data": data}


class _SyncSocket:
    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: ClientConnection | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Self:
        connection = connect(self._url, open_timeout=10, close_timeout=5)
        self._conn = self._stack.enter_context(connection)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    @property
    def close_code(self) -> int | None:
        return self._conn.close_code if self._conn is not None else None

    def send(self, message: dict[str, Any]) -> None:
        assert self._conn is not None, "use the socket in a with block"
        self._conn.send(json.dumps(message))

    def receive(self, timeout: float | None = None) -> SocketEvent:
        """The next message (raises ``TimeoutError`` after ``timeout`` seconds)."""
        assert self._conn is not None, "use the socket in a with block"
        return parse_socket_event(self._conn.recv(timeout=timeout))

    def __iter__(self) -> Iterator[SocketEvent]:
        while True:
            try:
                yield self.receive()
            except ConnectionClosed:
                return


class _AsyncSocket:
    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        self._conn = await aconnect(self._url, open_timeout=10, close_timeout=5)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    @property
    def close_code(self) -> int | None:
        return self._conn.close_code if self._conn is not None else None

    async def send(self, message: dict[str, Any]) -> None:
        assert self._conn is not None, "use the socket in an async with block"
        await self._conn.send(json.dumps(message))

    async def receive(self) -> SocketEvent:
        assert self._conn is not None, "use the socket in an async with block"
        return parse_socket_event(await self._conn.recv())

    async def __aiter__(self) -> AsyncIterator[SocketEvent]:
        while True:
            try:
                yield await self.receive()
            except ConnectionClosed:
                return


class DeviceSocket(_SyncSocket):
    """``with device.socket() as ws: for event in ws: ...``"""

    def __init__(self, base_url: str, device_id: str, secret: str) -> None:
        super().__init__(
            ws_url(base_url, "/ws/device", {"deviceId": device_id, "deviceSecret": secret})
        )

    def send_status(self, status: str = "online", **data: Any) -> None:
        self.send({"type": "status", "data": {"status": status, **data}})

    def send_result(
        self,
        command_id: str,
        claim_token: str,
        status: str,
        *,
        executed_at: str,
        duration: float,
        **extra: Any,
    ) -> None:
        message = result_message(
            command_id, claim_token=claim_token, status=status,
            executed_at=executed_at, duration=duration, extra=extra,
        )  # fmt: skip
        self.send(message)


class AsyncDeviceSocket(_AsyncSocket):
    def __init__(self, base_url: str, device_id: str, secret: str) -> None:
        super().__init__(
            ws_url(base_url, "/ws/device", {"deviceId": device_id, "deviceSecret": secret})
        )

    async def send_status(self, status: str = "online", **data: Any) -> None:
        await self.send({"type": "status", "data": {"status": status, **data}})

    async def send_result(
        self,
        command_id: str,
        claim_token: str,
        status: str,
        *,
        executed_at: str,
        duration: float,
        **extra: Any,
    ) -> None:
        message = result_message(
            command_id, claim_token=claim_token, status=status,
            executed_at=executed_at, duration=duration, extra=extra,
        )  # fmt: skip
        await self.send(message)


class CustomerSubscription(_SyncSocket):
    """Live ``device_status`` and ``command_update`` events of the customer's devices."""

    def __init__(self, base_url: str, token: str, device_ids: Iterable[str] = ()) -> None:
        super().__init__(ws_url(base_url, "/ws/customer", {"token": token}))
        self._initial = list(device_ids)

    def __enter__(self) -> Self:
        super().__enter__()
        for device_id in self._initial:
            self.subscribe(device_id)
        return self

    def subscribe(self, device_id: str, timeout: float = 10.0) -> SocketEvent:
        """Subscribe and wait for the server's answer (``subscribed`` or ``error``)."""
        self.send({"type": "subscribe", "deviceId": device_id})
        return self.receive(timeout)

    def unsubscribe(self, device_id: str) -> None:
        self.send({"type": "unsubscribe", "deviceId": device_id})


class AsyncCustomerSubscription(_AsyncSocket):
    def __init__(self, base_url: str, token: str, device_ids: Iterable[str] = ()) -> None:
        super().__init__(ws_url(base_url, "/ws/customer", {"token": token}))
        self._initial = list(device_ids)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        for device_id in self._initial:
            await self.subscribe(device_id)
        return self

    async def subscribe(self, device_id: str) -> SocketEvent:
        await self.send({"type": "subscribe", "deviceId": device_id})
        return await self.receive()

    async def unsubscribe(self, device_id: str) -> None:
        await self.send({"type": "unsubscribe", "deviceId": device_id})
