"""The outbox on disk, so that drift events reported before the agent process
stops (a reboot, a crash) are sent when it starts again, with the same event
ids: ``outbox.log`` in the state directory, mode 0600.

One line per change, appended and flushed at once: ``+ <base64 DriftEvent>``
when an event is reported, ``- <event_id>`` when it is acknowledged. Loading
replays the lines; a torn last line (the process died mid-write) is ignored.
When acknowledged lines outnumber the waiting events (and there are at least
``compact_after``), the file is rewritten with the waiting events only
(a fresh 0600 file renamed over the old one). Lines are flushed to the
operating system, not fsynced: a process crash loses nothing, a power cut may
lose the last events.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import IO

from google.protobuf.message import DecodeError

from .._proto import compliance_pb2 as pb
from ._identity import write_private

__all__ = ["Spool"]

SPOOL_FILE = "outbox.log"


class Spool:
    def __init__(self, directory: Path, compact_after: int = 1000) -> None:
        self.path = directory / SPOOL_FILE
        self.compact_after = compact_after
        self._file: IO[bytes] | None = None
        self._acks = 0

    def load(self) -> list[pb.DriftEvent]:
        """The events reported and not acknowledged, oldest first."""
        if not self.path.exists():
            return []
        waiting: dict[str, pb.DriftEvent] = {}
        acks = 0
        for line in self.path.read_bytes().splitlines():
            kind, _, body = line.partition(b" ")
            if kind == b"+":
                try:
                    event = pb.DriftEvent.FromString(base64.b64decode(body, validate=True))
                except (binascii.Error, DecodeError):
                    continue  # a torn line
                if event.event_id:
                    waiting[event.event_id] = event
            elif kind == b"-":
                waiting.pop(body.decode(errors="replace"), None)
                acks += 1
        self._acks = acks
        events = list(waiting.values())
        if acks:
            self._rewrite(events)
        return events

    def added(self, event: pb.DriftEvent) -> None:
        self._write(b"+ " + base64.b64encode(event.SerializeToString()) + b"\n")

    def acked(self, event_id: str) -> None:
        self._write(b"- " + event_id.encode() + b"\n")
        self._acks += 1

    def compact_due(self, waiting: int) -> bool:
        """Whether acknowledged lines dominate the file (cheap: asked at every ack)."""
        return self._acks >= self.compact_after and self._acks > waiting

    def compact(self, waiting: list[pb.DriftEvent]) -> None:
        """Rewrite the file with the ``waiting`` events only."""
        self._rewrite(waiting)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, line: bytes) -> None:
        if self._file is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(fd, "ab")
        self._file.write(line)
        self._file.flush()

    def _rewrite(self, events: list[pb.DriftEvent]) -> None:
        self.close()
        lines = [b"+ " + base64.b64encode(e.SerializeToString()) + b"\n" for e in events]
        write_private(self.path, b"".join(lines))
        self._acks = 0
