"""Which topics the other processes listen to, told on one control channel,
so that a publisher skips what nobody anywhere hears (and the work of
building it: reading a command back, say), as the in-process broker does.
I/O-free: :class:`~gateway_server.events.RedisBroker` carries the messages.

A message is a kind, the sender's origin (16 characters), then its payload:

- ``+<origin><topic>``: the sender listens to ``topic`` now;
- ``-<origin><topic>``: it no longer does;
- ``=<origin><topics>``: everything it listens to (one topic a line), replacing
  what was known of it; ``?`` the same, and asks every other process for its
  own ``=`` (a process sends it when it connects, or connects again);
- ``x<origin>``: the sender stops.

A listener is announced before its subscription is made and withdrawn after it
is dropped, so a publisher errs towards publishing. A process that dies
without ``x`` stays known (its topics cost a ``PUBLISH`` nobody reads) until the
others reconnect to Redis, when each forgets everything and asks again.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

__all__ = ["Interest"]

ORIGIN = 16


class Interest:
    def __init__(self, origin: str) -> None:
        assert len(origin) == ORIGIN
        self.origin = origin
        self._of: dict[str, set[str]] = {}
        """Each other process's topics."""
        self._count: collections.Counter[str] = collections.Counter()
        """How many other processes listen to each topic."""

    def listens(self, topic: str) -> bool:
        """Does another process listen to ``topic``?"""
        return topic in self._count

    def forget_all(self) -> None:
        self._of.clear()
        self._count.clear()

    # -- what this process says ------------------------------------------------------------
    def added(self, topic: str) -> str:
        return f"+{self.origin}{topic}"

    def removed(self, topic: str) -> str:
        return f"-{self.origin}{topic}"

    def everything(self, topics: Iterable[str], *, ask: bool = False) -> str:
        return ("?" if ask else "=") + self.origin + "\n".join(topics)

    def leaving(self) -> str:
        return f"x{self.origin}"

    # -- what it hears -----------------------------------------------------------------------
    def hear(self, message: str) -> bool:
        """Take in another process's message; True if it asks for our topics."""
        kind, origin, payload = message[:1], message[1 : 1 + ORIGIN], message[1 + ORIGIN :]
        if origin == self.origin or len(origin) != ORIGIN:
            return False  # our own, or not one of ours
        if kind == "+":
            self._add(origin, payload)
        elif kind == "-":
            self._remove(origin, payload)
        elif kind in ("=", "?", "x"):
            for topic in list(self._of.get(origin, ())):
                self._remove(origin, topic)
            self._of.pop(origin, None)
            if kind != "x":
                for topic in filter(None, payload.split("\n")):
                    self._add(origin, topic)
        return kind == "?"

    def _add(self, origin: str, topic: str) -> None:
        topics = self._of.setdefault(origin, set())
        if topic not in topics:
            topics.add(topic)
            self._count[topic] += 1

    def _remove(self, origin: str, topic: str) -> None:
        topics = self._of.get(origin)
        if topics is not None and topic in topics:
            topics.discard(topic)
            self._count[topic] -= 1
            if self._count[topic] <= 0:
                del self._count[topic]
