"""Time, injectable: every wait and deadline in the suite reads one of these."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["AsyncSleep", "Clock", "Sleep", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines, token expiry)."""
        ...

    def time(self) -> float:
        """Unix time (HTTP dates, epoch reset headers)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]

SYSTEM_CLOCK = SystemClock()
default_sleep: Sleep = time.sleep
default_async_sleep: AsyncSleep = asyncio.sleep
