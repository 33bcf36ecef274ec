"""The queue as devices work it: claim, extend, result; and what is claimable
(for heartbeats and device sockets) and whose claims ran out. Every method is
one transaction over the statements of ``_sql.py``; the decisions are
``_rules.py``'s, where each rule is listed with the statement enforcing it.

On SQLite, writers are serialised in-process (one writer at a time is all
SQLite allows anyway), so they queue instead of failing with "database is
locked"; on PostgreSQL, claims read the head with ``SKIP LOCKED``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from .._settings import Settings
from ..security import hash_secret, new_secret, same_hash
from ..storage import Database
from . import _sql as sql
from ._errors import ClaimExpired, Unknown
from ._records import ClaimedCommand, Completion
from ._rules import check_extend, claim_deadline, exhausted, refused_result
from ._views import loads, notice

__all__ = ["PendingCounts", "QueueStore"]


class PendingCounts:
    """Claimable-command counts reported by heartbeats, recomputed at most once a
    second per device, and forgotten whenever the device's queue changes here."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    def get(self, device_id: str, now: float) -> int | None:
        cached = self._counts.get(device_id)
        if cached is not None and now - cached[1] < 1.0:
            return cached[0]
        return None

    def put(self, device_id: str, count: int, now: float) -> None:
        self._counts[device_id] = (count, now)

    def forget(self, device_id: str) -> None:
        self._counts.pop(device_id, None)


class QueueStore:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], float],
        pending: PendingCounts,
    ) -> None:
        self.database = database
        self.settings = settings
        self.now = clock
        self.pending = pending

    async def pending_count(self, device_id: str) -> int:
        """How many of the device's commands are claimable now (cached for a second)."""
        now = self.now()
        count = self.pending.get(device_id, now)
        if count is None:
            async with self.database.read() as conn:
                result = await conn.execute(
                    sql.COUNT_CLAIMABLE, {"p_device_id": device_id, "p_now": now}
                )
                count = int(result.scalar_one())
            self.pending.put(device_id, count, now)
        return count

    async def claim(
        self, device_id: str, limit: int, visibility_ms: int
    ) -> tuple[list[ClaimedCommand], list[str]]:
        """Claimed commands, and the ids of commands moved to the dead-letter state."""
        self.pending.forget(device_id)
        now = self.now()
        visible_until = claim_deadline(now, visibility_ms)
        claimed: list[ClaimedCommand] = []
        dead: list[str] = []
        max_claims = self.settings.max_claims
        params = {
            "p_device_id": device_id,
            "p_now": now,
            "p_until": visible_until,
            "p_max_claims": max_claims,
        }
        misses = 0
        async with self.database.write() as conn:
            while len(claimed) < limit:
                token = new_secret(24)
                params["p_token_hash"] = hash_secret(token)
                row = (await conn.execute(sql.TAKE_NEXT, params)).first()
                if row is not None:
                    claimed.append(
                        ClaimedCommand(
                            row.id,
                            row.type,
                            loads(row.parameters),
                            row.priority,
                            token,
                            visible_until,
                        )
                    )
                    continue
                # Nothing taken: an empty queue, a head claimed too often (it goes to
                # the dead-letter state), or (with concurrent writers) a head taken
                # between this statement's read and its write: look again, a few times.
                head = (await conn.execute(sql.HEAD, params)).first()
                if head is None:
                    break
                if exhausted(head.claim_count, max_claims):
                    moved = await conn.execute(sql.BURY, {**params, "p_seq": head.seq})
                    if moved.rowcount == 1:
                        dead.append(head.id)
                    continue
                misses += 1
                if misses > 3:
                    break
        return claimed, dead

    async def _command_of(self, conn: Any, device_id: str, command_id: str) -> Any:
        row = (await conn.execute(sql.BY_ID, {"p_command_id": command_id})).first()
        if row is None or row.device_id != device_id:
            raise Unknown("command")
        return row

    async def extend(self, device_id: str, command_id: str, token: str, extension_ms: int) -> float:
        """The claim's new deadline."""
        now = self.now()
        async with self.database.write() as conn:
            row = await self._command_of(conn, device_id, command_id)
            check_extend(row.state, same_hash(row.claim_token_hash, token), row.visible_until, now)
            until = claim_deadline(now, extension_ms)
            updated = await conn.execute(
                sql.EXTEND,
                {
                    "p_seq": row.seq,
                    "p_token_hash": row.claim_token_hash,
                    "p_now": now,
                    "p_until": until,
                },
            )
            if updated.rowcount != 1:  # ran out between the read and the update
                raise ClaimExpired("the claim has expired")
        return until

    async def complete(
        self, device_id: str, command_id: str, token: str, result: dict[str, Any]
    ) -> Completion:
        self.pending.forget(device_id)
        now = self.now()
        async with self.database.write() as conn:
            # The usual case in one statement (FINISH); anything else: read the
            # command to say why.
            done = await conn.execute(
                sql.FINISH,
                {
                    "p_command_id": command_id,
                    "p_device_id": device_id,
                    "p_token_hash": hash_secret(token),
                    "p_now": now,
                    "p_result_status": result["status"],
                    "p_output": result.get("output"),
                    "p_error": result.get("error"),
                    "p_executed_at": result["executedAt"],
                    "p_duration": result["duration"],
                },
            )
            finished = done.first()
            if finished is not None:
                next_id = None if finished.next_id is None else str(finished.next_id)
                return Completion(command_id, result["status"], False, next_id)
            row = await self._command_of(conn, device_id, command_id)
            refused_result(row.state, same_hash(row.claim_token_hash, token))
            # the same result sent again under the same token: the same answer
            head = (await conn.execute(sql.HEAD, {"p_device_id": device_id, "p_now": now})).first()
            next_id = None if head is None else str(head.id)
            return Completion(row.id, str(row.result_status), True, next_id)

    async def claimable(self, device_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The device's commands claimable now, in claim order (at most ``limit``),
        as the ``command`` notices a device socket receives."""
        params = {
            "p_device_id": device_id,
            "p_now": self.now(),
            "p_max_claims": self.settings.max_claims,
            "p_limit": limit,
        }
        async with self.database.read() as conn:
            rows = (await conn.execute(sql.CLAIMABLE, params)).all()
        return [notice(row) for row in rows]

    async def claims_run_out(
        self, device_ids: Collection[str], since: float, until: float
    ) -> list[tuple[str, dict[str, Any]]]:
        """(device id, notice) of these devices' commands whose claim ran out in
        (``since``, ``until``]: claimable again, nobody told. The statement reads
        the window's run-outs by the ``visible_until`` index, few whatever the
        number of sockets; the devices are picked here."""
        if not device_ids:
            return []
        params = {
            "p_since": since,
            "p_until": until,
            "p_max_claims": self.settings.max_claims,
        }
        async with self.database.read() as conn:
            rows = (await conn.execute(sql.RUN_OUT, params)).all()
        return [(str(row.device_id), notice(row)) for row in rows if row.device_id in device_ids]
