"""Heartbeat telemetry, buffered: last seen, reported status, metrics, diagnostics.

A heartbeat is telemetry, not a state change anyone was promised, so it is
kept in memory and written once a second (:meth:`Telemetry.flush`, one
transaction for every device), which keeps heartbeats off the write lock.
Reads of a device see the buffer at once (:meth:`Telemetry.overlay`). A crash
loses at most the last second of it.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from .._json import dumps
from ..storage import Database
from ._sql import WRITE_TELEMETRY

__all__ = ["Telemetry"]


class Telemetry:
    def __init__(self, database: Database, clock: Callable[[], float]) -> None:
        self.database = database
        self.now = clock
        self._beats: dict[str, dict[str, Any]] = {}

    def record(self, device_id: str, status: str, metrics: Any, diagnostics: Any) -> None:
        beat = self._beats.setdefault(device_id, {})
        beat.update(last_seen=self.now(), reported_status=status)
        if metrics is not None:
            beat["metrics"] = dumps(metrics).decode()
        if diagnostics is not None:
            beat["diagnostics"] = dumps(diagnostics).decode()

    async def flush(self) -> int:
        """Write buffered telemetry; the number of devices written."""
        if not self._beats:
            return 0
        beats, self._beats = self._beats, {}
        async with self.database.write() as conn:
            for device_id, values in beats.items():
                await conn.execute(WRITE_TELEMETRY.values(**values), {"p_device_id": device_id})
        return len(beats)

    def overlay(self, row: Any) -> Any:
        """A device row with its buffered telemetry applied."""
        beat = self._beats.get(row.id)
        if not beat:
            return row
        return types.SimpleNamespace(**{**row._mapping, **beat})
