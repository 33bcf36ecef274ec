"""A subscriber's bounded queue of messages on their way out, and the task
that sends them, which runs only while there is something to send."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Outbox"]

log = logging.getLogger("gateway_server")


class Outbox:
    """What the broker delivers to one socket, queued and sent in order.

    An idle subscriber holds this object alone: the queue is made when a
    message comes and dropped once it is sent, and the task that sends
    exists only meanwhile. :meth:`deliver` never waits, so a slow socket
    never delays the publisher or the other subscribers; at most ``limit``
    messages wait. One more and the subscriber is too slow: the queue is
    dropped, ``on_overflow`` is called (once), and nothing more is queued.
    A send that fails (the peer is gone) stops the sending the same way,
    without ``on_overflow``: the socket's own loop sees the disconnect.
    """

    __slots__ = ("_on_overflow", "_queue", "_send", "_task", "limit", "stopped")

    def __init__(
        self, send: Callable[[str], Awaitable[None]], limit: int, on_overflow: Callable[[], None]
    ) -> None:
        self._send = send
        self._on_overflow = on_overflow
        self._queue: collections.deque[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self.limit = limit
        self.stopped = False

    def __len__(self) -> int:
        """Messages waiting (the one being sent is no longer counted)."""
        return len(self._queue) if self._queue is not None else 0

    @property
    def sending(self) -> bool:
        return self._task is not None

    def deliver(self, text: str) -> None:
        if self.stopped:
            return
        if self._queue is None:
            self._queue = collections.deque()
        elif len(self._queue) >= self.limit:
            self.stop()
            self._on_overflow()
            return
        self._queue.append(text)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while queue:
                await self._send(queue.popleft())
        except Exception as exc:  # the peer is gone: its own loop ends the socket
            log.debug("a socket's send failed, its queue is dropped: %r", exc)
            self.stopped = True
        finally:
            if self._task is asyncio.current_task():
                self._task = None
                self._queue = None  # an idle subscriber keeps no buffer

    def stop(self) -> None:
        """Queue nothing more; drop what waits and stop sending it."""
        self.stopped = True
        self._queue = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        """:meth:`stop`, and wait until a send under way has given up."""
        task = self._task
        self.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
