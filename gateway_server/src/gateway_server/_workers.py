"""``gateway-server serve --workers N``: N server processes on one listening socket.

The parent binds the socket once (as uvicorn's own supervisor does) and
spawns N processes; each is a whole server (its own app, connection pool and
SIGTERM handling, WebSockets closed with 1001) accepting on the inherited
socket, so the kernel spreads connections across them. The parent forwards
SIGTERM/SIGINT to every worker and waits for them. When a worker dies on its
own, the parent stops the others and exits with status 1: the process
manager above it (systemd, Kubernetes, supervisord) restarts the whole,
rather than this supervisor hiding a crash loop (docs/deployment.md).

Several processes share one database: PostgreSQL (SQLite's fast path keeps
one connection per process and is refused here, see :func:`refusal`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
from collections.abc import Callable, Sequence
from types import FrameType

from ._settings import Settings

__all__ = ["refusal", "supervise"]


def refusal(settings: Settings) -> str | None:
    """Why these settings cannot run as several processes, or None."""
    if settings.workers > 1 and settings.effective_database_url.startswith("sqlite"):
        return (
            f"--workers {settings.workers} needs a database several processes can share "
            "(--database-url postgresql+asyncpg://...): SQLite here is one process's, "
            "written through its one connection"
        )
    return None


def supervise(sock: socket.socket, workers: int, target: Callable[[socket.socket], None]) -> int:
    """Run ``target(sock)`` in ``workers`` spawned processes until SIGTERM/SIGINT
    (passed on to each; status 0 once all have stopped) or until one exits by
    itself (the others are stopped; status 1)."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=(sock,)) for _ in range(workers)]
    received: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        _signal_all(processes, signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        sock.close()  # the workers hold it now
        while not received and all(p.exitcode is None for p in processes):
            multiprocessing.connection.wait([p.sentinel for p in processes], timeout=1.0)
        if not received:  # a worker died by itself
            _signal_all(processes, signal.SIGTERM)
        for process in processes:
            process.join()
        return 0 if received else 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _signal_all(processes: Sequence[multiprocessing.process.BaseProcess], signum: int) -> None:
    for process in processes:
        if process.pid is not None and process.exitcode is None:
            os.kill(process.pid, signum)
