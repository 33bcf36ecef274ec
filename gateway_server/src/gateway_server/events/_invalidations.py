"""Cache entries every process drops at once: a revoked device token, a
logged-out session. The store that changed the database publishes the key on
a topic of the broker after the commit; each process (this one at once, the
others when the message arrives) drops that key from its cache, and drops
everything when its broker reconnects after an outage, in which notices may
have been missed. The caches re-read the database within seconds anyway
(their recheck time): the notice makes the refusal immediate everywhere."""

from __future__ import annotations

import json
from collections.abc import Callable

from ._broker import Broker

__all__ = ["Invalidations"]


class Invalidations:
    """The notices of one cache on ``topic``: ``forget(key)`` drops one entry,
    ``forget(None)`` all of them."""

    def __init__(self, broker: Broker, topic: str, forget: Callable[[str | None], None]) -> None:
        self.broker = broker
        self.topic = topic
        self.forget = forget
        broker.subscribe(topic, self)
        broker.after_reconnect(lambda: forget(None))

    def deliver(self, text: str) -> None:
        key = json.loads(text).get("key")
        self.forget(key if isinstance(key, str) else None)

    async def publish(self, key: str) -> None:
        """After the change is committed: drop ``key`` here, then everywhere."""
        self.forget(key)
        await self.broker.publish(self.topic, {"key": key})
