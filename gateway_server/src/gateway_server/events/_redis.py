"""Redis, shared by several server processes (``--redis-url``): the connection
of this process (:class:`RedisLink`) and the event broker over its pub/sub
(:class:`RedisBroker`).

Each process holds one pub/sub connection and subscribes there once to each
topic someone in the process listens to; a message read from it is handed to
the subscribers here (the :class:`InProcessBroker` inside). So a publication
costs one ``PUBLISH``, which Redis copies to the processes subscribed to the
topic only, each of which writes it to its own subscribers. The processes
tell each other which topics they listen to (``_interest.py``), so that a
topic nobody anywhere hears costs nothing, as in one process.

Redis going away loses live events, never data: :meth:`RedisBroker.publish`
delivers to this process's subscribers, then tries Redis; a failure is
logged and counted (``missed``), never raised, since the write it announces
is committed already. Clients re-read by REST what they missed (a reconnecting
customer socket gets no replay). The listener reconnects by itself, with a
growing delay, subscribes again to every topic, and then tells the caches
(:meth:`after_reconnect`) to drop what they hold: invalidations sent
meanwhile were missed.

``redis`` (the redis-py package, the ``redis`` extra) is imported only when
a link starts, so a server without ``--redis-url`` does not need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import Unavailable
from .._json import dumps
from ._broker import InProcessBroker, Subscriber
from ._interest import ORIGIN, Interest

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["REDIS_TIMEOUT", "RedisBroker", "RedisLink"]

log = logging.getLogger("gateway_server")

REDIS_TIMEOUT = 2.0
"""Seconds a Redis command (or a connection) may take before it counts as down."""
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
"""Seconds between the listener's attempts to reconnect; the last one repeats."""


class RedisLink:
    """This process's client of Redis (a pool of connections), made when the
    app starts, in its event loop, and closed when it stops; and the prefix
    of every key and channel."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._client: Redis | None = None
        self._listening: Redis | None = None

    def __repr__(self) -> str:  # the URL may hold a password
        return f"RedisLink(prefix={self.prefix!r})"

    def start(self) -> None:
        try:
            # The optional extra: only a server given --redis-url imports it.
            from redis.asyncio import Redis  # noqa: PLC0415
            from redis.backoff import NoBackoff  # noqa: PLC0415
            from redis.exceptions import ConnectionError as Dropped  # noqa: PLC0415
            from redis.retry import Retry  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - the extra is in every test venv
            raise RuntimeError("--redis-url needs the redis extra: gateway-server[redis]") from exc
        self._client = Redis.from_url(
            self.url,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            # One retry, at once: a pooled connection that Redis dropped (a restart)
            # fails once and is replaced; Redis down fails the command in one go.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[Dropped],
        )
        # The pub/sub connection in a pool of its own: one that was subscribed
        # never goes back to serve commands; its owner reconnects it (no retry).
        self._listening = Redis.from_url(
            self.url, socket_connect_timeout=REDIS_TIMEOUT, retry=Retry(NoBackoff(), 0)
        )

    @property
    def client(self) -> Redis:
        if self._client is None:
            raise Unavailable("redis: not connected (the server is not running)")
        return self._client

    def pubsub(self) -> PubSub:
        """A new pub/sub connection (the broker's listener holds one)."""
        if self._listening is None:
            raise Unavailable("redis: not connected (the server is not running)")
        return self._listening.pubsub()

    async def ping(self) -> None:
        """Return once Redis answers; raise otherwise."""
        await self.client.ping()

    async def close(self) -> None:
        clients, self._client, self._listening = (self._client, self._listening), None, None
        for client in clients:
            if client is not None:
                await client.aclose()


class RedisBroker:
    """The :class:`~gateway_server.events.Broker` of several processes, over Redis pub/sub."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.local = InProcessBroker()
        self.origin = secrets.token_hex(ORIGIN // 2)
        self.interest = Interest(self.origin)
        self.missed = 0
        """Publications that reached this process's subscribers only (Redis was down)."""
        self.listening = asyncio.Event()
        """Set while the pub/sub connection is up and subscribed."""
        self._changes: asyncio.Queue[tuple[bool, str]] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._reconnected: list[Callable[[], None]] = []

    def channel(self, topic: str) -> str:
        return f"{self.link.prefix}events:{topic}"

    @property
    def control(self) -> str:
        """The channel on which the processes tell which topics they listen to."""
        return f"{self.link.prefix}interest"

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        text = dumps(message).decode()
        self.local.deliver(topic, text)
        if not self.interest.listens(topic) and self.listening.is_set():
            return  # no other process listens (and Redis is up: they would have said)
        if not self.listening.is_set():  # down: don't make every request wait for it
            self._missed(topic, "not connected")
            return
        try:
            await self.link.client.publish(self.channel(topic), f"{self.origin}{text}")
        except Exception as exc:
            self._missed(topic, f"{type(exc).__name__}: {exc}")

    def _missed(self, topic: str, why: str) -> None:
        if not self.missed:
            log.warning("redis: live events reach this process only (%s; first: %s)", why, topic)
        self.missed += 1

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        first = not self.local.has_subscribers(topic)
        self.local.subscribe(topic, subscriber)
        if first and self._changes is not None:
            self._changes.put_nowait((True, topic))

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        self.local.unsubscribe(topic, subscriber)
        if not self.local.has_subscribers(topic) and self._changes is not None:
            self._changes.put_nowait((False, topic))

    def has_subscribers(self, topic: str) -> bool:
        """Someone listens here, or another process said it does."""
        return self.local.has_subscribers(topic) or self.interest.listens(topic)

    def after_reconnect(self, callback: Callable[[], None]) -> None:
        self._reconnected.append(callback)

    async def ping(self) -> bool:
        """Redis answers and this process hears its topics (or raise: not ready)."""
        await self.link.ping()
        if not self.listening.is_set():
            raise Unavailable("redis answers, but the pub/sub listener is not subscribed (yet)")
        return True

    async def start(self) -> None:
        """Start the listener and give it ``REDIS_TIMEOUT`` to subscribe, so that
        a process starts ready; with Redis down it starts anyway, not ready."""
        if self._listener is None:
            self.listening = asyncio.Event()  # of this run's event loop
            self._listener = asyncio.create_task(self._listen())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REDIS_TIMEOUT):
                await self.listening.wait()

    async def close(self) -> None:
        """Stop listening; the subscriptions made here stay (for the next start)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            if self.listening.is_set():  # the others stop publishing for us
                with contextlib.suppress(Exception):
                    await self._say(self.interest.leaving())
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        self.listening.clear()

    # -- the listener ----------------------------------------------------------------------
    async def _listen(self) -> None:
        attempt, lost = 0, False
        while True:
            try:
                async with self.link.pubsub() as pubsub:
                    # Changes queue from here on; the subscription below covers the rest.
                    self._changes = asyncio.Queue()
                    topics = self.local.topics()
                    await pubsub.subscribe(self.control, *map(self.channel, topics))
                    # What the others listen to, asked again: what was known may be stale.
                    self.interest.forget_all()
                    await self._say(self.interest.everything(topics, ask=True))
                    self.listening.set()
                    if lost:
                        log.warning("redis: pub/sub connected again")
                        self.missed = 0
                        for callback in self._reconnected:
                            callback()
                    attempt, lost = 0, False
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._apply_changes(pubsub))
                        group.create_task(self._read(pubsub))
            except Exception as exc:
                self.listening.clear()
                self._changes = None
                if not lost:
                    log.warning("redis: pub/sub lost (%s); reconnecting", _reason(exc))
                lost = True
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                attempt += 1

    async def _apply_changes(self, pubsub: PubSub) -> None:
        changes = self._changes
        assert changes is not None
        while True:
            wanted, topic = await changes.get()
            if wanted:  # announced first: the others err towards publishing
                await self._say(self.interest.added(topic))
                await pubsub.subscribe(self.channel(topic))
            elif not self.local.has_subscribers(topic):  # nobody came back meanwhile
                await pubsub.unsubscribe(self.channel(topic))
                await self._say(self.interest.removed(topic))

    async def _say(self, message: str) -> None:
        await self.link.client.publish(self.control, message)

    async def _read(self, pubsub: PubSub) -> None:
        skip = len(self.channel(""))
        origin = self.origin.encode()
        control = self.control.encode()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message["type"] != "message":
                continue
            data: bytes = message["data"]
            if message["channel"] == control:
                if self.interest.hear(data.decode()):  # a process (re)connected: tell it
                    await self._say(self.interest.everything(self.local.topics()))
            elif data[:ORIGIN] != origin:  # ours were delivered here when published
                topic = message["channel"][skip:].decode()
                self.local.deliver(topic, data[ORIGIN:].decode())


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
