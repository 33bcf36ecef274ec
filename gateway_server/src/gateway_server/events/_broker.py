"""Fan-out of live events to WebSocket subscribers, behind a small interface.

:class:`InProcessBroker` serves one server process; a backend shared by
several processes implements the same :class:`Broker` protocol. Topics are
named by the API that publishes on them (the device gateway's are in
``device_gateway/_events.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

__all__ = ["Broker", "InProcessBroker", "Subscription"]


class Subscription(Protocol):
    def add(self, topic: str) -> None: ...

    def remove(self, topic: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...


class Broker(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscription(self) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    def has_subscribers(self, topic: str) -> bool:
        """False only when no one can be listening (skip building the event)."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class _LocalSubscription:
    def __init__(self, broker: InProcessBroker, maxsize: int) -> None:
        self._broker = broker
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        self.topics: set[str] = set()

    def add(self, topic: str) -> None:
        self.topics.add(topic)
        self._broker._subscribers[topic].add(self)

    def remove(self, topic: str) -> None:
        self.topics.discard(topic)
        self._broker._subscribers[topic].discard(self)

    def deliver(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a slow consumer loses events, not the server
            self.queue.put_nowait(message)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.queue.get()


class InProcessBroker:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: defaultdict[str, set[_LocalSubscription]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        for sub in list(self._subscribers.get(topic, ())):
            sub.deliver(message)

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[Subscription]:
        sub = _LocalSubscription(self, self._queue_size)
        try:
            yield sub
        finally:
            for topic in list(sub.topics):
                sub.remove(topic)

    def has_subscribers(self, topic: str) -> bool:
        return bool(self._subscribers.get(topic))

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()
