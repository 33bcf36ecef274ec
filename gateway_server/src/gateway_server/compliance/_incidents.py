"""Incidents: what users read and resolve, and what the agents' reports do to
them (the internal service the agent channel calls, ``IncidentService``).

A drift event that fails a check opens the incident of that site, host and
check, or updates the one already open; a successful healing result resolves
it and finishes the runbook execution it answers; a resolution by a non-L1
runbook's steps counts toward a learning candidate. Each is one transaction;
the decisions are ``_rules.py``'s."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa

from ..storage import Database
from . import _tables as t
from ._errors import missing
from ._library import CONTROLS
from ._rules import (
    SEVERITY,
    DriftAction,
    check_unresolved,
    drift_action,
    healing_resolves,
    heals,
    issue_signature,
    learns_from,
    pattern_key,
)
from ._sql import (
    CHECK_FORGET,
    CHECK_RECORD,
    INCIDENT_OPEN,
    RUNBOOKS_FOR,
    incident_page,
    owned_site,
)

__all__ = ["DriftOutcome", "IncidentService", "IncidentStore"]

_i, _x, _a, _k, _r, _c = (
    t.incidents.c,
    t.executions.c,
    t.agents.c,
    t.agent_checks.c,
    t.runbooks.c,
    t.candidates.c,
)


class IncidentStore:
    """What users do with incidents, scoped to their partner."""

    def __init__(self, database: Database, clock: Callable[[], float]) -> None:
        self.database = database
        self.now = clock

    async def find(
        self, partner_id: str, filters: Mapping[str, Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        params = {f"p_{name}": value for name, value in filters.items()}
        params["p_partner_id"] = partner_id
        count, rows_of = incident_page(filters)
        async with self.database.read() as conn:
            total = int((await conn.execute(count, params)).scalar() or 0)
            if not total and "site_id" in filters:
                # An incident carries its site's partner, so a match already
                # proves the site the caller's; only an empty answer must tell
                # "none" from "not yours".
                await owned_site(conn, partner_id, filters["site_id"])
            if not total or offset >= total:
                return [], total
            window = {**params, "p_limit": limit, "p_offset": offset}
            return (await conn.execute(rows_of, window)).all(), total

    async def _detail(self, conn: Any, partner_id: str, incident_id: str) -> tuple[Any, Any]:
        query = sa.select(t.incidents).where(_i.id == incident_id, _i.partner_id == partner_id)
        row = (await conn.execute(query)).first()
        if row is None:
            raise missing("incident")
        latest = (
            sa.select(t.executions)
            .where(_x.incident_id == incident_id)
            .order_by(_x.started_at.desc(), _x.id.desc())
            .limit(1)
        )
        return row, (await conn.execute(latest)).first()

    async def get(self, partner_id: str, incident_id: str) -> tuple[Any, Any]:
        async with self.database.read() as conn:
            return await self._detail(conn, partner_id, incident_id)

    async def resolve(
        self, partner_id: str, incident_id: str, user_id: str, note: str | None
    ) -> tuple[Any, Any]:
        async with self.database.write() as conn:
            row, _ = await self._detail(conn, partner_id, incident_id)
            check_unresolved(bool(row.resolved))
            await conn.execute(
                sa.update(t.incidents)
                .where(_i.id == incident_id, _i.resolved.is_(False))
                .values(
                    resolved=True,
                    resolved_at=self.now(),
                    resolved_by="user",
                    resolved_by_user_id=user_id,
                    resolution_note=note,
                )
            )
            return await self._detail(conn, partner_id, incident_id)


@attrs.frozen
class DriftOutcome:
    incident_id: str | None
    opened: bool


class IncidentService:
    """What the agents' reports do: the one entry point of the agent channel
    (issue 19) into incidents, executions and learning; tests call it directly.
    Each public method is one transaction; the ``*_in`` ones run inside the
    caller's (the agent channel applies a batch of events in one)."""

    def __init__(
        self, database: Database, clock: Callable[[], float], learning_threshold: int
    ) -> None:
        self.database = database
        self.now = clock
        self.learning_threshold = learning_threshold

    async def site_in(self, conn: Any, site_id: str) -> Any:
        row = (await conn.execute(sa.select(t.sites).where(t.sites.c.id == site_id))).first()
        if row is None:
            raise missing("site")
        return row

    async def drift(
        self,
        site_id: str,
        hostname: str,
        check_type: str,
        passed: bool,
        **details: Any,
    ) -> DriftOutcome:
        """``details``: agent_id, expected, actual, hipaa_control, observed_at, metadata."""
        async with self.database.write() as conn:
            site = await self.site_in(conn, site_id)
            return await self.drift_in(conn, site, hostname, check_type, passed, **details)

    async def drift_in(
        self,
        conn: Any,
        site: Any,
        hostname: str,
        check_type: str,
        passed: bool,
        *,
        agent_id: str | None = None,
        expected: str = "",
        actual: str = "",
        hipaa_control: str = "",
        observed_at: float | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> DriftOutcome:
        now = self.now()
        observed = now if observed_at is None else observed_at
        control = hipaa_control or CONTROLS[check_type]
        site_id = site.id
        if agent_id is not None:
            check = {"p_agent_id": agent_id, "p_check_type": check_type}
            await conn.execute(CHECK_FORGET, check)
            await conn.execute(
                CHECK_RECORD,
                {**check, "p_site_id": site_id, "p_passed": passed, "p_observed_at": observed},
            )
        current = None
        if not passed:  # a passing check changes no incident: no need to look
            where = {"p_site_id": site_id, "p_hostname": hostname, "p_check_type": check_type}
            current = (await conn.execute(INCIDENT_OPEN, where)).first()
        action = drift_action(passed, current is not None)
        drift = {
            "agent_id": agent_id,
            "expected": expected,
            "actual": actual,
            "hipaa_control": control,
            "metadata": json.dumps(dict(metadata or {})),
            "observed_at": observed,
            "last_seen_at": observed,
        }
        if action is DriftAction.OPEN:
            incident_id = str(uuid.uuid4())
            await conn.execute(
                sa.insert(t.incidents).values(
                    id=incident_id,
                    site_id=site_id,
                    partner_id=site.partner_id,
                    hostname=hostname,
                    check_type=check_type,
                    severity=SEVERITY[check_type],
                    resolved=False,
                    hipaa_controls=json.dumps([control]),
                    occurrences=1,
                    created_at=now,
                    **drift,
                )
            )
            return DriftOutcome(incident_id, True)
        if action is DriftAction.UPDATE:
            assert current is not None
            await conn.execute(
                sa.update(t.incidents)
                .where(_i.id == current.id)
                .values(occurrences=current.occurrences + 1, **drift)
            )
            return DriftOutcome(current.id, False)
        return DriftOutcome(None, False)

    async def runbook_for(self, site_id: str, check_type: str) -> Any | None:
        """The runbook that heals ``check_type`` on the site, as its tier allows:
        the partner's own (newest first), then the built-in ones."""
        async with self.database.read() as conn:
            return await self.runbook_in(conn, await self.site_in(conn, site_id), check_type)

    async def runbook_in(self, conn: Any, site: Any, check_type: str) -> Any | None:
        params = {"p_check_type": check_type, "p_partner_id": site.partner_id}
        for row in (await conn.execute(RUNBOOKS_FOR, params)).all():
            if heals(site.capability_tier, row.level, bool(row.is_disruptive)):
                return row
        return None

    async def start_execution(
        self, incident_id: str, runbook_id: str, command_id: str, agent_id: str | None = None
    ) -> str:
        """A runbook sent to heal the incident: its execution, pending until the result."""
        async with self.database.write() as conn:
            return await self.start_execution_in(
                conn, incident_id, runbook_id, command_id, agent_id
            )

    async def start_execution_in(
        self, conn: Any, incident_id: str, runbook_id: str, command_id: str, agent_id: str | None
    ) -> str:
        execution_id = str(uuid.uuid4())
        incident = (await conn.execute(sa.select(t.incidents).where(_i.id == incident_id))).first()
        if incident is None:
            raise missing("incident")
        await conn.execute(
            sa.insert(t.executions).values(
                id=execution_id,
                runbook_id=runbook_id,
                site_id=incident.site_id,
                partner_id=incident.partner_id,
                agent_id=agent_id or incident.agent_id,
                hostname=incident.hostname,
                incident_id=incident_id,
                command_id=command_id,
                status="pending",
                artifacts="{}",
                started_at=self.now(),
            )
        )
        return execution_id

    async def healing(
        self, site_id: str, hostname: str, check_type: str, success: bool, **details: Any
    ) -> str | None:
        """An agent's healing result: the execution finished, the incident
        resolved on success (by the agent), the resolution learned from.
        The incident resolved, if one was. ``details``: command_id,
        error_message, artifacts."""
        async with self.database.write() as conn:
            return await self.healing_in(conn, site_id, hostname, check_type, success, **details)

    async def healing_in(
        self,
        conn: Any,
        site_id: str,
        hostname: str,
        check_type: str,
        success: bool,
        *,
        command_id: str | None = None,
        error_message: str | None = None,
        artifacts: Mapping[str, str] | None = None,
    ) -> str | None:
        now = self.now()
        execution = None
        if command_id is not None:
            query = sa.select(t.executions).where(
                _x.command_id == command_id, _x.site_id == site_id
            )
            execution = (await conn.execute(query)).first()
        if execution is not None and execution.status == "pending":
            await conn.execute(
                sa.update(t.executions)
                .where(_x.id == execution.id)
                .values(
                    status="succeeded" if success else "failed",
                    error_message=error_message,
                    artifacts=json.dumps(dict(artifacts or {})),
                    finished_at=now,
                )
            )
        if execution is not None and execution.incident_id is not None:
            incident_q = sa.select(t.incidents).where(_i.id == execution.incident_id)
        else:
            incident_q = sa.select(t.incidents).where(
                _i.site_id == site_id,
                _i.hostname == hostname,
                _i.check_type == check_type,
                _i.resolved.is_(False),
            )
        incident = (await conn.execute(incident_q)).first()
        if incident is None:
            return None
        if execution is not None:
            await self._learn(conn, incident, execution.runbook_id, success, now)
        if not healing_resolves(success, bool(incident.resolved)):
            return None
        await conn.execute(
            sa.update(t.incidents)
            .where(_i.id == incident.id, _i.resolved.is_(False))
            .values(resolved=True, resolved_at=now, resolved_by="agent")
        )
        return str(incident.id)

    async def _learn(
        self, conn: Any, incident: Any, runbook_id: str, success: bool, now: float
    ) -> None:
        runbook = (await conn.execute(sa.select(t.runbooks).where(_r.id == runbook_id))).first()
        if runbook is None or not learns_from(runbook.level):
            return
        signature = issue_signature(incident.check_type, incident.expected, incident.actual)
        steps = json.loads(runbook.steps)
        key = pattern_key(incident.check_type, signature, steps)
        query = sa.select(t.candidates).where(_c.site_id == incident.site_id, _c.pattern_key == key)
        known = (await conn.execute(query)).first()
        if known is None:
            await conn.execute(
                sa.insert(t.candidates).values(
                    id=str(uuid.uuid4()),
                    site_id=incident.site_id,
                    partner_id=incident.partner_id,
                    check_type=incident.check_type,
                    issue_signature=signature,
                    resolution_steps=json.dumps(steps),
                    pattern_key=key,
                    occurrences=1,
                    success_count=int(success),
                    status="pending",
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
        else:
            await conn.execute(
                sa.update(t.candidates)
                .where(_c.id == known.id)
                .values(
                    occurrences=_c.occurrences + 1,
                    success_count=_c.success_count + int(success),
                    last_seen_at=now,
                )
            )
