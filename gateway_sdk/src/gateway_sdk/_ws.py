"""WebSocket helpers for ``/ws/device`` and ``/ws/customer`` (sync and async).

Messages are JSON objects ``{"type", "data"}``; incoming ones are parsed into
typed events (:class:`CommandAvailable`, :class:`DeviceStatusEvent`,
:class:`CommandUpdate`, or a plain :class:`SocketEvent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from sdk_core import AsyncSleep, Clock, Sleep

from ._models import SocketEvent, parse_socket_event
from ._patience import Patience

__all__ = ["AsyncCustomerSubscription", "AsyncDeviceSocket", "CustomerSubscription", "DeviceSocket"]

log = logging.getLogger("gateway_sdk")


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
        self._open()
        return self

    def _open(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()
        connection = connect(self._url, open_timeout=10, close_timeout=5)
        self._conn = self._stack.enter_context(connection)

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
        await self._open()
        return self

    async def _open(self) -> None:
        if self._conn is not None:
            await self._conn.close()
        self._conn = await aconnect(self._url, open_timeout=10, close_timeout=5)

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


def reconnectable(exc: BaseException) -> bool:
    """A failure to connect worth waiting out: refused, reset, timed out, cut
    during the handshake (a server dying or starting), or a 5xx answer to it;
    a refused token is not."""
    if isinstance(exc, InvalidStatus):
        return exc.response.status_code >= 500
    return isinstance(exc, (OSError, TimeoutError, InvalidHandshake, ConnectionClosed))


class _Feed:
    """A customer subscription's state, I/O-free, shared by the sync and async
    twins: the devices to subscribe to on connecting, those subscribed to (and
    so subscribed to again after a reconnection), and whether and how long to
    try reconnecting."""

    def __init__(
        self,
        base_url: str,
        token: str,
        device_ids: Iterable[str],
        *,
        reconnect: bool,
        max_outage: float | None,
        clock: Clock | None,
    ) -> None:
        self.url = ws_url(base_url, "/ws/customer", {"token": token})
        self._clock = clock
        self.initial = list(device_ids)
        self._devices: dict[str, None] = {}
        self._reconnect = reconnect
        self._max_outage = max_outage
        self.closing = False

    def add(self, device_id: str) -> dict[str, Any]:
        self._devices[device_id] = None
        return {"type": "subscribe", "deviceId": device_id}

    def discard(self, device_id: str) -> dict[str, Any]:
        self._devices.pop(device_id, None)
        return {"type": "unsubscribe", "deviceId": device_id}

    def resubscribe(self) -> list[dict[str, Any]]:
        """The subscribe messages of a new connection (their answers come as events)."""
        return [self.add(device_id) for device_id in list(self._devices)]

    def will_reconnect(self) -> bool:
        """After a dropped connection: open it again (not if the caller closed it)."""
        return self._reconnect and not self.closing

    def patience(self) -> Patience:
        return Patience(0.5, self._max_outage, clock=self._clock)

    def reconnected(self) -> SocketEvent:
        """The event a reconnecting subscription yields: events of the outage
        are lost, so a portal refetches what it shows."""
        return SocketEvent(type="reconnected", data={"deviceIds": list(self._devices)})


def _gave_way(exc: BaseException, patience: Patience) -> float | None:
    """Seconds to wait before reconnecting again, or ``None`` to give up."""
    wait = patience.next_wait() if reconnectable(exc) else None
    if wait is not None:
        log.warning("reconnecting to the gateway failed (%s); again in %.1f s", exc, wait)
    return wait


class CustomerSubscription(_SyncSocket):
    """Live ``device_status`` and ``command_update`` events of the customer's devices.

    Iterating ends when the connection does, unless ``reconnect`` is set: then
    a dropped connection (a server restart, a network cut) is opened again,
    waiting from half a second doubling to 30 s, the devices are subscribed
    again, and a ``reconnected`` event marks the gap (events of the outage
    are lost: refetch what you show). After ``max_outage`` seconds without a
    connection, or if the gateway refuses the token, the error is raised.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        device_ids: Iterable[str] = (),
        *,
        reconnect: bool = False,
        max_outage: float | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._feed = _Feed(
            base_url, token, device_ids, reconnect=reconnect, max_outage=max_outage, clock=clock
        )
        self._sleep = sleep or time.sleep
        super().__init__(self._feed.url)

    def __enter__(self) -> Self:
        super().__enter__()
        for device_id in self._feed.initial:
            self.subscribe(device_id)
        return self

    def close(self) -> None:
        self._feed.closing = True
        super().close()

    def subscribe(self, device_id: str, timeout: float = 10.0) -> SocketEvent:
        """Subscribe and wait for the server's answer (``subscribed`` or ``error``)."""
        self.send(self._feed.add(device_id))
        return self.receive(timeout)

    def unsubscribe(self, device_id: str) -> None:
        self.send(self._feed.discard(device_id))

    def __iter__(self) -> Iterator[SocketEvent]:
        while True:
            try:
                yield self.receive()
            except ConnectionClosed:
                if not self._feed.will_reconnect():
                    return
                self._reopen()
                yield self._feed.reconnected()

    def _reopen(self) -> None:
        patience = self._feed.patience()
        while True:
            try:
                self._open()
            except Exception as exc:
                wait = _gave_way(exc, patience)
                if wait is None:
                    raise
                self._sleep(wait)
                continue
            for message in self._feed.resubscribe():
                self.send(message)
            return


class AsyncCustomerSubscription(_AsyncSocket):
    """:class:`CustomerSubscription` for asyncio (the same ``reconnect``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        device_ids: Iterable[str] = (),
        *,
        reconnect: bool = False,
        max_outage: float | None = None,
        clock: Clock | None = None,
        sleep: AsyncSleep | None = None,
    ) -> None:
        self._feed = _Feed(
            base_url, token, device_ids, reconnect=reconnect, max_outage=max_outage, clock=clock
        )
        self._sleep = sleep or asyncio.sleep
        super().__init__(self._feed.url)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        for device_id in self._feed.initial:
            await self.subscribe(device_id)
        return self

    async def close(self) -> None:
        self._feed.closing = True
        await super().close()

    async def subscribe(self, device_id: str) -> SocketEvent:
        await self.send(self._feed.add(device_id))
        return await self.receive()

    async def unsubscribe(self, device_id: str) -> None:
        await self.send(self._feed.discard(device_id))

    async def __aiter__(self) -> AsyncIterator[SocketEvent]:
        while True:
            try:
                yield await self.receive()
            except ConnectionClosed:
                if not self._feed.will_reconnect():
                    return
                await self._reopen()
                yield self._feed.reconnected()

    async def _reopen(self) -> None:
        patience = self._feed.patience()
        while True:
            try:
                await self._open()
            except Exception as exc:
                wait = _gave_way(exc, patience)
                if wait is None:
                    raise
                await self._sleep(wait)
                continue
            for message in self._feed.resubscribe():
                await self.send(message)
            return
