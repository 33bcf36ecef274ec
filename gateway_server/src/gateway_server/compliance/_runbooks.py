"""The runbook library (built-in and the partner's own), its executions, and
learning candidates (promote to a runbook, reject). A partner sees the
built-in runbooks and its own, and counts only its own executions. Every
method is one transaction; the decisions are ``_rules.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..storage import Database
from . import _tables as t
from ._errors import missing
from ._library import CONTROLS
from ._rules import check_pending
from ._sql import owned_site, page

__all__ = ["LearningStore", "RunbookStore"]

_r, _x, _c = t.runbooks.c, t.executions.c, t.candidates.c
Stats = tuple[int, int, int]  # executions, succeeded, finished


def _visible(partner_id: str) -> sa.ColumnElement[bool]:
    return sa.or_(_r.partner_id.is_(None), _r.partner_id == partner_id)


async def _stats(conn: Any, partner_id: str, runbook_ids: Sequence[str]) -> dict[str, Stats]:
    if not runbook_ids:
        return {}
    query = (
        sa.select(
            _x.runbook_id,
            sa.func.count().label("n"),
            sa.func.sum(sa.case((_x.status == "succeeded", 1), else_=0)).label("ok"),
            sa.func.sum(sa.case((_x.status == "pending", 0), else_=1)).label("done"),
        )
        .where(_x.partner_id == partner_id, _x.runbook_id.in_(runbook_ids))
        .group_by(_x.runbook_id)
    )
    return {
        row.runbook_id: (int(row.n), int(row.ok or 0), int(row.done or 0))
        for row in (await conn.execute(query)).all()
    }


async def _runbook(conn: Any, partner_id: str, runbook_id: str) -> tuple[Any, Stats]:
    query = sa.select(t.runbooks).where(_r.id == runbook_id, _visible(partner_id))
    row = (await conn.execute(query)).first()
    if row is None:
        raise missing("runbook")
    stats = await _stats(conn, partner_id, [runbook_id])
    return row, stats.get(runbook_id, (0, 0, 0))


class RunbookStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def find(
        self, partner_id: str, filters: Mapping[str, Any], limit: int, offset: int
    ) -> tuple[list[tuple[Any, Stats]], int]:
        query = sa.select(t.runbooks).where(_visible(partner_id))
        for name in ("check_type", "level"):
            if name in filters:
                query = query.where(_r[name] == filters[name])
        async with self.database.read() as conn:
            rows, total = await page(conn, query, (_r.name, _r.id), limit, offset)
            stats = await _stats(conn, partner_id, [r.id for r in rows])
        return [(r, stats.get(r.id, (0, 0, 0))) for r in rows], total

    async def get(self, partner_id: str, runbook_id: str) -> tuple[Any, Stats]:
        async with self.database.read() as conn:
            return await _runbook(conn, partner_id, runbook_id)

    async def executions(
        self,
        partner_id: str,
        runbook_id: str,
        filters: Mapping[str, Any],
        limit: int,
        offset: int,
    ) -> tuple[list[Any], int]:
        query = sa.select(t.executions).where(
            _x.runbook_id == runbook_id, _x.partner_id == partner_id
        )
        for name in ("site_id", "status"):
            if name in filters:
                query = query.where(_x[name] == filters[name])
        async with self.database.read() as conn:
            await _runbook(conn, partner_id, runbook_id)
            if "site_id" in filters:
                await owned_site(conn, partner_id, filters["site_id"])
            order = (_x.started_at.desc(), _x.id.desc())
            return await page(conn, query, order, limit, offset)


class LearningStore:
    """Candidates are recorded by ``IncidentService``; they are proposed once
    their steps fixed the issue ``threshold`` times."""

    def __init__(self, database: Database, clock: Callable[[], float], threshold: int) -> None:
        self.database = database
        self.now = clock
        self.threshold = threshold

    def _proposed(self, partner_id: str) -> sa.Select[Any]:
        return sa.select(t.candidates).where(
            _c.partner_id == partner_id, _c.success_count >= self.threshold
        )

    async def find(
        self, partner_id: str, filters: Mapping[str, Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        query = self._proposed(partner_id)
        for name in ("site_id", "check_type", "status"):
            if name in filters:
                query = query.where(_c[name] == filters[name])
        order = (_c.occurrences.desc(), _c.last_seen_at.desc(), _c.id.desc())
        async with self.database.read() as conn:
            if "site_id" in filters:
                await owned_site(conn, partner_id, filters["site_id"])
            return await page(conn, query, order, limit, offset)

    async def _candidate(self, conn: Any, partner_id: str, candidate_id: str) -> Any:
        row = (await conn.execute(self._proposed(partner_id).where(_c.id == candidate_id))).first()
        if row is None:
            raise missing("candidate")
        return row

    async def get(self, partner_id: str, candidate_id: str) -> Any:
        async with self.database.read() as conn:
            return await self._candidate(conn, partner_id, candidate_id)

    async def promote(
        self,
        partner_id: str,
        candidate_id: str,
        user_id: str,
        *,
        name: str | None,
        description: str | None,
        is_disruptive: bool,
    ) -> tuple[Any, Stats]:
        """A level L1 runbook of the partner from the candidate's steps."""
        now = self.now()
        runbook_id = str(uuid.uuid4())
        async with self.database.write() as conn:
            candidate = await self._candidate(conn, partner_id, candidate_id)
            check_pending(candidate.status)
            await conn.execute(
                sa.insert(t.runbooks).values(
                    id=runbook_id,
                    partner_id=partner_id,
                    name=name or f"Learned: {candidate.issue_signature}"[:255],
                    description=description
                    or f"Promoted from {candidate.success_count} successful resolutions.",
                    level="L1",
                    check_type=candidate.check_type,
                    hipaa_controls=f'["{CONTROLS[candidate.check_type]}"]',
                    is_disruptive=is_disruptive,
                    steps=candidate.resolution_steps,
                    source_candidate_id=candidate_id,
                    created_at=now,
                )
            )
            await conn.execute(
                sa.update(t.candidates)
                .where(_c.id == candidate_id, _c.status == "pending")
                .values(
                    status="promoted",
                    promoted_runbook_id=runbook_id,
                    decided_at=now,
                    decided_by=user_id,
                )
            )
            return await _runbook(conn, partner_id, runbook_id)

    async def reject(
        self, partner_id: str, candidate_id: str, user_id: str, reason: str | None
    ) -> Any:
        async with self.database.write() as conn:
            candidate = await self._candidate(conn, partner_id, candidate_id)
            check_pending(candidate.status)
            await conn.execute(
                sa.update(t.candidates)
                .where(_c.id == candidate_id, _c.status == "pending")
                .values(
                    status="rejected",
                    decided_at=self.now(),
                    decided_by=user_id,
                    reject_reason=reason,
                )
            )
            return await self._candidate(conn, partner_id, candidate_id)
