"""uvicorn's HTTP/1.1 protocol (h11) with a deadline on request heads.

uvicorn closes a keep-alive connection that stays silent, but not one that
sends part of a request head and stops: such connections stayed open for as
long as the client liked (200 of them for 90 s in issue 16). Here a
connection must complete each request's head within ``header_timeout``
seconds, counted from the connection or from the end of the previous
response; otherwise it is closed. (A body that stalls is the app's to time
out, answering 408: ``read_json``.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["with_header_timeout"]

log = logging.getLogger("gateway_server.edge")


class _HeaderDeadline(H11Protocol):
    header_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole head has arrived
            self._disarm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request's head is due

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._late)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _late(self) -> None:
        self._head_timer = None
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.debug("closing a connection that sent no whole request head in time")
            self.transport.close()


def with_header_timeout(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol class, closing connections whose request head
    takes over ``seconds`` (``uvicorn.Config(http=...)``)."""
    return type("GatewayH11Protocol", (_HeaderDeadline,), {"header_timeout": seconds})
