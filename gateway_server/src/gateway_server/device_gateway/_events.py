"""Live events of the device gateway, through the broker (``events/``).

Topics: ``device:<id>`` reaches the device's own sockets (``command`` notices),
``watch:<id>`` the customer sockets subscribed to that device
(``device_status`` and ``command_update``). :class:`Hub` knows the sockets
open on this process, so that shutdown can close them with 1001 and the
run-out scan looks only at devices someone here listens to.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket

from ..events import Broker, Subscriber
from ._queue import QueueStore
from ._sessions import SessionStore
from ._views import command_message, command_update

__all__ = ["Hub", "LiveEvents"]

CLOSE_WAIT = 5.0  # seconds a shutdown waits for the sockets' close frames to go out


class Hub:
    """The sockets open on this process and what they hear: shutdown closes
    them with 1001; for the claims that run out, the devices with a socket
    open here (``devices``) and those a customer socket here watches
    (``watched``), both kept by :meth:`subscribe`; the sockets of each device
    and customer (``device_sockets``, ``customers``), which are capped; the
    sockets whose credential expires (``expiry``); and how many were closed
    for falling behind (``too_slow``, per socket owner: ``customer <id>``,
    ``device <id>``)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.sockets: set[WebSocket] = set()
        self.expiry: dict[WebSocket, float] = {}
        """Sockets opened with a credential that expires, and when it does."""
        self.devices: collections.Counter[str] = collections.Counter()
        self.watched: collections.Counter[str] = collections.Counter()
        self.device_sockets: collections.Counter[str] = collections.Counter()
        """Device sockets open here, per device."""
        self.customers: collections.Counter[str] = collections.Counter()
        """Customer sockets open here, per customer."""
        self.too_slow: collections.Counter[str] = collections.Counter()

    def _counter(self, topic: str) -> tuple[collections.Counter[str], str]:
        kind, _, device_id = topic.partition(":")
        return (self.devices if kind == "device" else self.watched), device_id

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        """``subscriber`` hears ``topic`` (``device:<id>`` or ``watch:<id>``)."""
        self.broker.subscribe(topic, subscriber)
        counter, device_id = self._counter(topic)
        counter[device_id] += 1

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        """Once for each :meth:`subscribe` of the same two."""
        self.broker.unsubscribe(topic, subscriber)
        self.leave(*self._counter(topic))

    @staticmethod
    def admit(counter: collections.Counter[str], key: str, cap: int) -> bool:
        """Join ``counter`` under ``key`` unless it holds ``cap`` sockets already."""
        if counter[key] >= cap:
            return False
        counter[key] += 1
        return True

    @staticmethod
    def leave(counter: collections.Counter[str], key: str) -> None:
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]

    async def close_expired(self, now: float) -> None:
        """Close with 1008 the sockets whose credential has expired."""
        for ws, until in list(self.expiry.items()):
            if until <= now:
                self.expiry.pop(ws, None)
                with contextlib.suppress(Exception):
                    await ws.close(code=1008, reason="credentials expired")

    async def close_all(self, code: int = 1001, wait: float = CLOSE_WAIT) -> None:
        """Close every socket with ``code``, all at once and for ``wait``
        seconds at most: a peer that stopped reading cannot take its close
        frame, and must hold up neither the others nor the shutdown."""

        async def close(ws: WebSocket) -> None:
            with contextlib.suppress(Exception):
                await ws.close(code=code, reason="server shutting down")

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await asyncio.gather(*(close(ws) for ws in list(self.sockets)))


class LiveEvents:
    def __init__(
        self,
        broker: Broker,
        sessions: SessionStore,
        queue: QueueStore,
        hub: Hub,
        clock: Callable[[], float],
    ) -> None:
        self.broker = broker
        self.sessions = sessions
        self.queue = queue
        self.hub = hub
        self.now = clock

    async def device_status(self, device_id: str, data: dict[str, Any]) -> None:
        """A ``device_status`` to whoever watches the device."""
        topic = f"watch:{device_id}"
        if self.broker.has_subscribers(topic):
            await self.broker.publish(topic, {"type": "device_status", "data": data})

    async def command_changed(self, command_id: str, device_id: str) -> None:
        """A ``command_update`` to whoever watches the command's device."""
        if not self.broker.has_subscribers(f"watch:{device_id}"):
            return  # nobody watches this device: skip reading the command back
        row = await self.sessions.command(command_id)
        if row is not None:
            await self.broker.publish(
                f"watch:{row.device_id}",
                {"type": "command_update", "data": command_update(row, self.now())},
            )

    async def claimable(self, device_id: str, command: dict[str, Any]) -> None:
        """A ``command`` notice to the device's sockets: this command is claimable."""
        await self.broker.publish(f"device:{device_id}", command_message(command))

    async def claims_run_out(self, since: float, until: float) -> None:
        """For each command whose claim ran out in (``since``, ``until``]: a
        ``command`` notice to its device's sockets here (it is claimable again,
        and nothing else would tell a device that only listens) and a
        ``command_update`` to the customer sockets here that watch the device
        (claimed -> pending)."""
        devices = self.hub.devices.keys() | self.hub.watched.keys()
        for device_id, notice in await self.queue.claims_run_out(devices, since, until):
            if device_id in self.hub.devices:
                await self.claimable(device_id, notice)
            await self.command_changed(notice["id"], device_id)
