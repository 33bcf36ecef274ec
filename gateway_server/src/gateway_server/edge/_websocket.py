"""uvicorn's sans-I/O WebSocket protocol, holding less while a socket is idle.

A gateway's sockets are idle almost all their lives, and uvicorn's protocol
keeps, for each, what only a busy or opening socket needs: an
:class:`asyncio.Queue` for the messages on their way to the app (four deques
and an event: about 3 KB), an :class:`asyncio.Event` for the transport's
write flow (another deque), and the handshake's request and response with
their headers (about 3 KB more), which nothing reads once the response is
sent. Here the messages wait in a list made when one comes and dropped when
it is read, the write flow's event exists only while the transport's buffer
is full, and the handshake is forgotten once answered.

Keepalive pings are uvicorn's, due on a grid of :data:`PING_TICK` seconds:
10,000 sockets pinged every 20 s are 500 pings a second, and each timer of
its own woke the event loop (a system call and a turn of the loop each, about
half of what an idle socket costs the server's CPU); on the grid, the pings
due in one tick go out in one turn. A ping is at most a tick late.
Everything else is uvicorn's own: framing, pings and their timeouts, closing.

The class replaces uvicorn's attributes of the same names and keeps the part
of their interface that uvicorn calls (``put_nowait``, ``get``, ``empty``;
``set``, ``clear``, ``wait``); tests run every socket of a served gateway
through it.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["PING_TICK", "LeanWebSocketProtocol"]

PING_TICK = 0.25
"""Seconds: keepalive pings are due on multiples of it (one loop turn each)."""


class _Inbox:
    """The messages on their way to the app, in order: a list only while
    some wait, a future only while the app waits (uvicorn's one reader)."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiters: list[asyncio.Future[None]] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        self._wake_next()

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item

    async def get(self) -> Any:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = [waiter]
            else:
                self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif self._items:  # woken, then cancelled: the next reader takes it
                    self._wake_next()
                raise
            finally:
                if not self._waiters:
                    self._waiters = None
        return self.get_nowait()

    def _wake_next(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


class _Gate:
    """Open while the transport takes writes. An :class:`asyncio.Event` (and
    its deque of waiters) exists only while it is shut."""

    __slots__ = ("_shut",)

    def __init__(self) -> None:
        self._shut: asyncio.Event | None = None

    def is_set(self) -> bool:
        return self._shut is None

    def set(self) -> None:
        shut, self._shut = self._shut, None
        if shut is not None:
            shut.set()  # every sender waiting goes on

    def clear(self) -> None:
        if self._shut is None:
            self._shut = asyncio.Event()

    async def wait(self) -> bool:
        if self._shut is not None:
            await self._shut.wait()
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """``uvicorn.Config(ws=LeanWebSocketProtocol)``: uvicorn's websockets-sansio
    implementation with the idle state above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Gate()  # type: ignore[assignment]

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        due = self.loop.time() + max(0.0, self.ping_interval - self.last_ping_rtt)
        self.ping_timer = self.loop.call_at(
            math.ceil(due / PING_TICK) * PING_TICK, self.send_keepalive_ping
        )

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and hasattr(self, "response"):
            # Answered (accepted, refused or denied): the handshake is history.
            del self.request, self.response
