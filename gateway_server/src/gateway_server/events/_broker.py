"""Fan-out of live events to WebSocket subscribers, behind a small interface.

:class:`InProcessBroker` serves one server process; a backend shared by
several processes implements the same :class:`Broker` protocol (it would
read the shared channel once per process and deliver to the subscribers
here: :class:`~gateway_server.events.RedisBroker`). Topics are named by the
API that publishes on them (the device gateway's are in
``device_gateway/_events.py``).

A publication costs work in proportion to the topic's subscribers, never
to every socket: the message is written as JSON once, then handed to each
subscriber's :meth:`Subscriber.deliver`, which only queues it (an
:class:`~gateway_server.events.Outbox`), so a slow subscriber never holds
up the publisher or the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .._json import dumps

__all__ = ["Broker", "InProcessBroker", "Subscriber"]


class Subscriber(Protocol):
    def deliver(self, text: str) -> None:
        """Take one message (JSON text) of a topic subscribed to. Must not
        block or raise: queue it, or drop the subscriber."""
        ...


class Broker(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Deliver ``message`` to the topic's subscribers, here and in every
        process sharing the broker. Never raises: a backend that is down loses
        the live event for the other processes (and logs it), never the caller's
        write, which was committed before."""
        ...

    def subscribe(self, topic: str, subscriber: Subscriber) -> None: ...

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        """Stop delivering ``topic`` to ``subscriber`` (nothing if it was not subscribed)."""
        ...

    def has_subscribers(self, topic: str) -> bool:
        """False only when no one can be listening (skip building the event)."""
        ...

    def after_reconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the broker is back after an outage, in
        which other processes' messages may have been missed (caches drop all)."""
        ...

    async def ping(self) -> bool: ...

    async def start(self) -> None:
        """Start listening (in the running event loop); subscriptions made before count."""
        ...

    async def close(self) -> None: ...


class InProcessBroker:
    def __init__(self) -> None:
        # A topic's subscriber, or its set of them: most topics (a device's
        # own socket, one portal watching a device) have one, and a set for
        # each would be a tenth of what an idle device socket costs.
        self._topics: dict[str, Subscriber | set[Subscriber]] = {}

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        if topic in self._topics:
            self.deliver(topic, dumps(message).decode())

    def deliver(self, topic: str, text: str) -> None:
        """Hand a message already written as JSON to the topic's subscribers here."""
        subscribers = self._topics.get(topic)
        if subscribers is None:
            return
        if isinstance(subscribers, set):
            for subscriber in tuple(subscribers):  # a subscriber may drop itself meanwhile
                subscriber.deliver(text)
        else:
            subscribers.deliver(text)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        heard = self._topics.get(topic)
        if heard is None:
            self._topics[topic] = subscriber
        elif isinstance(heard, set):
            heard.add(subscriber)
        elif heard is not subscriber:
            self._topics[topic] = {heard, subscriber}

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        heard = self._topics.get(topic)
        if isinstance(heard, set):
            heard.discard(subscriber)
            if len(heard) == 1:
                (self._topics[topic],) = heard
        elif heard is subscriber:  # a topic nobody hears costs nothing
            del self._topics[topic]

    def has_subscribers(self, topic: str) -> bool:
        return topic in self._topics

    def topics(self) -> list[str]:
        """The topics someone here subscribes to."""
        return list(self._topics)

    def after_reconnect(self, callback: Callable[[], None]) -> None:
        """Never called: nothing in-process goes away."""

    async def ping(self) -> bool:
        return True

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        self._topics.clear()
