"""uvicorn's HTTP/1.1 protocol (h11) with deadlines on request heads and bodies.

uvicorn closes a keep-alive connection that stays silent, but not one that
sends part of a request and stops: such connections stayed open for as long
as the client liked (200 of them for 90 s in issue 16). Here:

- a request's head must be complete within ``header_timeout`` seconds,
  counted from the connection or from the end of the previous response;
  otherwise the connection is closed;
- its body within ``body_timeout`` seconds of the head; otherwise the
  client is answered 408 ``REQUEST_TIMEOUT`` (unless an answer has begun)
  and the connection closed. The app then reads a disconnect, marked in the
  scope (``BODY_TIMED_OUT``), so that it logs the 408 too.

Both are timers of the connection, armed only while something is missing:
a request whose head and body arrive together (the usual case) arms none.
A connection upgraded to a WebSocket is no longer this protocol's: its
timers are disarmed and none is armed again (h11 still sees the upgrade
request's body as due, and a body timer armed after the upgrade closed every
socket ``body_timeout`` seconds after it opened, and kept this object alive
until then).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .._errors import TimedOut
from .._json import dumps
from ._parsing import BODY_TIMED_OUT

__all__ = ["with_deadlines"]

log = logging.getLogger("gateway_server.edge")


class _Deadlines(H11Protocol):
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    _head_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _upgraded = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self._upgraded:
            return  # the WebSocket protocol has the connection now
        state = self.conn.their_state
        if state is h11.IDLE:
            return  # no whole head yet: the head's timer runs
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if state is h11.SEND_BODY:
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(self.body_timeout, self._body_late)
        elif self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._disarm()  # the next request's head is due
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_late)

    def _disarm(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.debug("closing a connection that sent no whole request head in time")
            self.transport.close()

    def _body_late(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
            return
        if cycle is not None and not cycle.response_started:
            error = TimedOut(f"the body took over {self.body_timeout:g} s")
            body = dumps({"error": {"code": error.code, "message": error.message}})
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
                (b"connection", b"close"),
            ]
            for event in (h11.Response(status_code=408, headers=headers), h11.Data(data=body)):
                self.transport.write(self.conn.send(event) or b"")
            self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        if cycle is not None:  # the app reads a disconnect, and knows why
            cast("dict[str, Any]", cycle.scope)[BODY_TIMED_OUT] = True
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


def with_deadlines(header_timeout: float, body_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol class with these deadlines (``uvicorn.Config(http=...)``)."""
    return type(
        "GatewayH11Protocol",
        (_Deadlines,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )
