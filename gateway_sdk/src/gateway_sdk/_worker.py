"""The device worker's decisions, I/O-free: one state object both twins drive.

:meth:`DeviceClient.run` and :meth:`AsyncDeviceClient.run` only send, sleep
and run the handler; :class:`WorkerState` decides everything else: how many
commands to claim, what to wait after a failure (:class:`Patience`), which
claims the keeper extends and when, which command of a batch to run next (not
one whose claim was lost), whether a result is sent again or given up, what is
handed back on a stop, and the :class:`WorkerStats`. Time is read from the
client's :class:`~sdk_core.Clock`, so a fake clock drives it in tests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from sdk_core import (
    APIConnectionError,
    APIStatusError,
    Clock,
    ConflictError,
    PermissionDeniedError,
    RateLimitError,
)

from ._models import ClaimedCommand, ResultStatus
from ._patience import Patience

__all__ = ["Outcome", "WorkerSettings", "WorkerState", "WorkerStats"]

log = logging.getLogger("gateway_sdk")


@attrs.define
class WorkerStats:
    """What :meth:`DeviceClient.run` did."""

    completed: int = 0
    failed: int = 0
    """Handler raised: reported as ``failure``."""
    lost: int = 0
    """The claim expired or was taken over before the result went in, or
    before the command's turn came (such a command is not run)."""
    conflicts: int = 0
    submit_errors: int = 0
    transient_errors: int = 0
    """Claims and results that failed for a moment (the gateway unreachable, a
    5xx, a 429) and were tried again."""


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """The arguments of ``run`` (see :meth:`DeviceClient.run`)."""

    visibility_timeout_ms: int
    limit: int
    poll_interval: float
    max_commands: int | None
    exit_when_idle: bool
    max_outage: float | None


@attrs.frozen
class Outcome:
    """What a handler made of a command: the result to submit."""

    status: ResultStatus
    output: str | None
    error: str | None
    duration: float


def _output(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def transient(exc: Exception, statuses: frozenset[int]) -> bool:
    """A failure worth waiting out: the gateway unreachable or timing out, or
    a status the client's retry policy retries (``statuses``: 408, 429, 5xx by
    default), once the client's own retries are spent."""
    if isinstance(exc, APIConnectionError):
        return True
    return isinstance(exc, APIStatusError) and exc.status_code in statuses


class WorkerState:
    """One run of the worker, I/O-free.

    The claims of the batch in hand are all kept alive, those waiting their
    turn as well as the one running: with ``limit`` > 1 the tail of a batch
    would otherwise expire while the head runs, be claimed by another worker,
    and then run twice. The sync keeper is a thread, hence the lock.
    """

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        retry_statuses: frozenset[int],
        clock: Clock,
        rand: Callable[[], float],
    ) -> None:
        self.stats = WorkerStats()
        self.visibility_timeout_ms = settings.visibility_timeout_ms
        self.every = settings.visibility_timeout_ms / 3000
        """Seconds between extensions of a claim: a third of the visibility timeout."""
        self.extension_ms = min(settings.visibility_timeout_ms, 300_000)
        self._limit = settings.limit
        self._poll_interval = settings.poll_interval
        self._max_commands = settings.max_commands
        self._exit_when_idle = settings.exit_when_idle
        self._statuses = retry_statuses
        self._clock = clock
        self._patience = Patience(
            settings.poll_interval, settings.max_outage, clock=clock, rand=rand
        )
        self._handled = 0
        self._over = False
        self._sent = 0.0
        self._lock = threading.Lock()
        self._batch: deque[ClaimedCommand] = deque()
        self._held: dict[str, ClaimedCommand] = {}
        # Until when (monotonic) each claim surely lives, counted from before the
        # request that made or extended it, so never later than the server's.
        self._until: dict[str, float] = {}
        self._due: dict[str, float] = {}

    # -- claiming ------------------------------------------------------------------
    def running(self, stopped: bool) -> bool:
        return not stopped and not self._over

    def want(self) -> int:
        """How many commands to claim now (never more than ``max_commands``
        leaves room for: claims the worker would not run would sit out their
        timeout); the claim counts as sent now."""
        self._sent = self._clock.monotonic()
        if self._max_commands is None:
            return self._limit
        return min(self._limit, self._max_commands - self._handled)

    def claim_failed(self, exc: Exception) -> float | None:
        """Seconds to wait before claiming again, or ``None``: raise ``exc``."""
        return self._wait_after(exc, "claim")

    def claimed(self, commands: list[ClaimedCommand]) -> float | None:
        """Take the batch a claim answered: ``None`` if there is work, else
        the seconds to wait before claiming again (0 and the run over, with
        ``exit_when_idle``)."""
        self._patience.ok()
        if not commands:
            if self._exit_when_idle:
                self._over = True
                return 0.0
            return self._poll_interval
        with self._lock:
            self._batch = deque(commands)
            self._held = {c.id: c for c in commands}
            live = self._sent + self.visibility_timeout_ms / 1000
            self._until = {c.id: live for c in commands}
            self._due = {c.id: self._sent + self.every for c in commands}
        return None

    # -- the batch -----------------------------------------------------------------
    def next_command(self, stopped: bool) -> ClaimedCommand | None:
        """The batch's next command to run, or ``None`` (the batch is done, or
        the worker was stopped). A command whose claim went before its turn
        is skipped, counted as lost."""
        while not stopped and self._batch:
            command = self._batch.popleft()
            self._handled += 1
            with self._lock:
                held = command.id in self._held
            if held:
                return command
            self.stats.lost += 1
            log.warning("claim on %s was lost before its turn; not running it", command.id)
        return None

    def started(self) -> float:
        return self._clock.monotonic()

    def succeeded(self, started: float, value: Any) -> Outcome:
        return Outcome("success", _output(value), None, self._clock.monotonic() - started)

    def failed(self, started: float, exc: BaseException) -> Outcome:
        error = f"{type(exc).__name__}: {exc}"
        return Outcome("failure", None, error, self._clock.monotonic() - started)

    def result_in(self, command: ClaimedCommand, outcome: Outcome) -> None:
        self._release(command)
        self._patience.ok()
        if outcome.status == "success":
            self.stats.completed += 1
        else:
            self.stats.failed += 1

    def result_failed(self, command: ClaimedCommand, exc: Exception) -> float | None:
        """After a result failed to go in: seconds to wait before sending it
        again (same token, so the server takes it once) while its claim surely
        lives; or ``None``, the failure settled (counted and logged): give up."""
        with self._lock:
            before = self._until.get(command.id, self._clock.monotonic())
        wait = self._wait_after(exc, f"result of {command.id}", before=before)
        if wait is None:
            self._release(command)
            self._settle(command, exc)
        return wait

    def hand_back(self) -> list[ClaimedCommand]:
        """The end of a batch: the commands never started (the worker was
        stopped), released here for the caller to extend by 1 ms, so that
        other workers can claim them at once instead of after the visibility
        timeout (best effort: a claim not handed back comes back then)."""
        with self._lock:
            left = [c for c in self._batch if c.id in self._held]
            self._batch.clear()
            self._held.clear()
        if left:
            log.info("stopped: handing back %d claimed commands not started", len(left))
        if self._max_commands is not None and self._handled >= self._max_commands:
            self._over = True
        return left

    # -- the keeper ----------------------------------------------------------------
    def keeper_wait(self) -> float:
        """Seconds until the next extension is due (at most ``every``)."""
        now = self._clock.monotonic()
        with self._lock:
            due = [self._due[i] for i in self._held]
        return max(0.0, min([self.every, *(d - now for d in due)]))

    def due(self) -> list[ClaimedCommand]:
        """The claims to extend now (``extension_ms`` each)."""
        now = self._clock.monotonic()
        with self._lock:
            return [c for i, c in self._held.items() if self._due[i] <= now]

    def extending(self) -> float:
        return self._clock.monotonic()

    def extended(self, command: ClaimedCommand, sent: float) -> None:
        """An extension sent at ``sent`` (monotonic) went in."""
        with self._lock:
            if command.id in self._held:
                self._until[command.id] = sent + self.extension_ms / 1000
                self._due[command.id] = sent + self.every

    def not_extended(self, command: ClaimedCommand, exc: Exception, sent: float) -> None:
        """An extension failed: refused (403) means the claim is gone; anything
        else (the network, a 5xx) is tried again a turn later."""
        if isinstance(exc, PermissionDeniedError):
            self._release(command)
            return
        log.warning("extending %s failed: %s", command.id, exc)
        with self._lock:
            if command.id in self._held:
                self._due[command.id] = sent + self.every

    # -- shared ----------------------------------------------------------------------
    def _release(self, command: ClaimedCommand) -> None:
        with self._lock:
            self._held.pop(command.id, None)

    def _wait_after(
        self, exc: Exception, what: str, *, before: float | None = None
    ) -> float | None:
        """Seconds the worker waits before trying ``what`` again, or ``None`` to
        give up: the failure is not transient, the outage has lasted too long,
        or (``before``, for a result: when its claim may be gone) it would be
        too late."""
        if not transient(exc, self._statuses):
            return None
        asked = exc.retry_after if isinstance(exc, RateLimitError) else None
        wait = self._patience.next_wait(asked=asked, before=before)
        if wait is not None:
            self.stats.transient_errors += 1
            log.warning("%s failed (%s); trying again in %.1f s", what, exc, wait)
        return wait

    def _settle(self, command: ClaimedCommand, exc: Exception) -> None:
        if isinstance(exc, PermissionDeniedError):
            self.stats.lost += 1
            log.warning("claim on %s was lost before its result went in: %s", command.id, exc)
        elif isinstance(exc, ConflictError):
            self.stats.conflicts += 1
            log.warning("command %s was completed under another claim", command.id)
        else:
            self.stats.submit_errors += 1
            log.error("result of %s not accepted: %s", command.id, exc)
