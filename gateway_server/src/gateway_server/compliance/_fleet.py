"""The fleet: agents (enrolled, checking in, reporting RMM status, revoked)
and what a site's overview adds up from them. Every method is one
transaction; reads are scoped to the caller's partner."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from ..storage import Database
from . import _tables as t
from ._errors import missing
from ._rules import CHECK_TYPES, rate
from ._sql import owned_site, page

__all__ = ["FleetStore"]

_a, _k, _i = t.agents.c, t.agent_checks.c, t.incidents.c


class FleetStore:
    def __init__(
        self, database: Database, clock: Callable[[], float], check_interval: float
    ) -> None:
        self.database = database
        self.now = clock
        self.check_interval = check_interval

    def _online(self, now: float) -> sa.ColumnElement[bool]:
        return sa.and_(_a.revoked_at.is_(None), _a.last_checkin >= now - 3 * self.check_interval)

    # -- what the agent channel writes ------------------------------------------------------
    async def register(
        self,
        site_id: str,
        hostname: str,
        *,
        os_version: str = "",
        agent_version: str = "",
        mac_address: str | None = None,
        certificate_expires_at: float | None = None,
    ) -> str:
        agent_id = str(uuid.uuid4())
        async with self.database.write() as conn:
            site = (await conn.execute(sa.select(t.sites).where(t.sites.c.id == site_id))).first()
            if site is None:
                raise missing("site")
            await self.register_in(
                conn,
                agent_id,
                site,
                hostname,
                os_version=os_version,
                agent_version=agent_version,
                mac_address=mac_address,
                certificate_expires_at=certificate_expires_at,
            )
        return agent_id

    async def register_in(
        self,
        conn: Any,
        agent_id: str,
        site: Any,
        hostname: str,
        *,
        os_version: str,
        agent_version: str,
        mac_address: str | None,
        certificate_expires_at: float | None,
    ) -> None:
        """The agent recorded, in the caller's transaction (enrollment spends its
        token in the same one)."""
        now = self.now()
        await conn.execute(
            sa.insert(t.agents).values(
                id=agent_id,
                site_id=site.id,
                partner_id=site.partner_id,
                hostname=hostname,
                os_version=os_version,
                agent_version=agent_version,
                mac_address=mac_address,
                enrolled_at=now,
                last_checkin=now,
                certificate_expires_at=certificate_expires_at,
                drift_count=0,
                healing_count=0,
            )
        )

    async def heartbeat(
        self, agent_id: str, drift_count: int, healing_count: int, agent_version: str | None
    ) -> None:
        values: dict[str, Any] = {
            "last_checkin": self.now(),
            "drift_count": drift_count,
            "healing_count": healing_count,
        }
        if agent_version:
            values["agent_version"] = agent_version
        async with self.database.write() as conn:
            await conn.execute(sa.update(t.agents).where(_a.id == agent_id).values(**values))

    async def rmm_report(self, agent_id: str, detected: Sequence[dict[str, Any]]) -> None:
        async with self.database.write() as conn:
            await conn.execute(
                sa.update(t.agents)
                .where(_a.id == agent_id)
                .values(rmm=json.dumps(list(detected)), rmm_reported_at=self.now())
            )

    # -- what users read --------------------------------------------------------------------
    async def _failing(self, conn: Any, agent_ids: Sequence[str]) -> dict[str, list[str]]:
        if not agent_ids:
            return {}
        query = sa.select(_k.agent_id, _k.check_type).where(
            _k.agent_id.in_(agent_ids), _k.passed.is_(False)
        )
        failing: dict[str, list[str]] = {}
        for row in (await conn.execute(query)).all():
            failing.setdefault(row.agent_id, []).append(row.check_type)
        return {k: sorted(v, key=CHECK_TYPES.index) for k, v in failing.items()}

    async def agents(
        self, partner_id: str, site_id: str, status: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[Any, list[str]]], int]:
        query = sa.select(t.agents).where(_a.site_id == site_id)
        now = self.now()
        if status == "revoked":
            query = query.where(_a.revoked_at.is_not(None))
        elif status == "online":
            query = query.where(self._online(now))
        elif status == "offline":
            query = query.where(_a.revoked_at.is_(None), sa.not_(self._online(now)))
        async with self.database.read() as conn:
            await owned_site(conn, partner_id, site_id)
            rows, total = await page(conn, query, (_a.hostname, _a.id), limit, offset)
            failing = await self._failing(conn, [r.id for r in rows])
        return [(r, failing.get(r.id, [])) for r in rows], total

    async def _agent(self, conn: Any, partner_id: str, agent_id: str) -> Any:
        query = sa.select(t.agents).where(_a.id == agent_id, _a.partner_id == partner_id)
        row = (await conn.execute(query)).first()
        if row is None:
            raise missing("agent")
        return row

    async def agent(self, partner_id: str, agent_id: str) -> tuple[Any, list[str]]:
        async with self.database.read() as conn:
            row = await self._agent(conn, partner_id, agent_id)
            failing = await self._failing(conn, [agent_id])
        return row, failing.get(agent_id, [])

    async def revoke(self, partner_id: str, agent_id: str) -> tuple[Any, list[str]]:
        async with self.database.write() as conn:
            await self._agent(conn, partner_id, agent_id)
            await conn.execute(
                sa.update(t.agents)
                .where(_a.id == agent_id, _a.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            row = await self._agent(conn, partner_id, agent_id)
            failing = await self._failing(conn, [agent_id])
        return row, failing.get(agent_id, [])

    async def _counts(self, conn: Any, site_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Per site: agents online/offline/revoked, the last check-in, open
        incidents, and (passing, reporting) per check over agents not revoked."""
        now = self.now()
        live = _a.revoked_at.is_(None)
        agents_q = (
            sa.select(
                _a.site_id,
                sa.func.sum(sa.case((self._online(now), 1), else_=0)).label("online"),
                sa.func.sum(sa.case((live, 1), else_=0)).label("live"),
                sa.func.sum(sa.case((live, 0), else_=1)).label("revoked"),
                sa.func.max(_a.last_checkin).label("last_checkin"),
            )
            .where(_a.site_id.in_(site_ids))
            .group_by(_a.site_id)
        )
        incidents_q = (
            sa.select(_i.site_id, sa.func.count().label("open"))
            .where(_i.site_id.in_(site_ids), _i.resolved.is_(False))
            .group_by(_i.site_id)
        )
        checks_q = (
            sa.select(
                _k.site_id,
                _k.check_type,
                sa.func.count().label("reporting"),
                sa.func.sum(sa.case((_k.passed.is_(True), 1), else_=0)).label("passing"),
            )
            .select_from(t.agent_checks.join(t.agents, _a.id == _k.agent_id))
            .where(_k.site_id.in_(site_ids), live)
            .group_by(_k.site_id, _k.check_type)
        )
        out: dict[str, dict[str, Any]] = {
            s: {"online": 0, "live": 0, "revoked": 0, "last_checkin": None, "open": 0, "checks": {}}
            for s in site_ids
        }
        for row in (await conn.execute(agents_q)).all():
            out[row.site_id].update(
                online=int(row.online or 0),
                live=int(row.live or 0),
                revoked=int(row.revoked or 0),
                last_checkin=row.last_checkin,
            )
        for row in (await conn.execute(incidents_q)).all():
            out[row.site_id]["open"] = int(row.open)
        for row in (await conn.execute(checks_q)).all():
            out[row.site_id]["checks"][row.check_type] = (int(row.passing or 0), int(row.reporting))
        return out

    async def summaries(
        self, partner_id: str, limit: int, offset: int
    ) -> tuple[list[tuple[Any, dict[str, Any]]], int]:
        query = sa.select(t.sites).where(t.sites.c.partner_id == partner_id)
        order = (t.sites.c.name_key, t.sites.c.id)
        async with self.database.read() as conn:
            sites, total = await page(conn, query, order, limit, offset)
            counts = await self._counts(conn, [s.id for s in sites])
        return [(s, counts[s.id]) for s in sites], total

    async def overview(
        self, partner_id: str, site_id: str
    ) -> tuple[Any, dict[str, Any], list[Any]]:
        """The site, its counts, and the RMM reports of its agents not revoked."""
        async with self.database.read() as conn:
            site = await owned_site(conn, partner_id, site_id)
            counts = (await self._counts(conn, [site_id]))[site_id]
            rmm_q = sa.select(_a.rmm).where(
                _a.site_id == site_id, _a.revoked_at.is_(None), _a.rmm_reported_at.is_not(None)
            )
            reports = [json.loads(r.rmm) for r in (await conn.execute(rmm_q)).all()]
        return site, counts, reports


def compliance(counts: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per check type, in the contract's order."""
    entries = []
    for check in CHECK_TYPES:
        passing, reporting = counts["checks"].get(check, (0, 0))
        entries.append(
            {
                "check_type": check,
                "reporting": reporting,
                "passing": passing,
                "failing": reporting - passing,
                "rate": rate(passing, reporting),
            }
        )
    return entries


def overall_rate(counts: dict[str, Any]) -> float | None:
    checks = counts["checks"].values()
    return rate(sum(p for p, _ in checks), sum(r for _, r in checks))


def rmm_summary(reports: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Any]:
    products: dict[str, dict[str, Any]] = {}
    for agents in reports:
        running_here = {a["name"] for a in agents if a["running"]}
        for name in {a["name"] for a in agents}:
            entry = products.setdefault(name, {"name": name, "hosts": 0, "running": 0})
            entry["hosts"] += 1
            entry["running"] += name in running_here
    running = sum(1 for agents in reports if any(a["running"] for a in agents))
    return {
        "agents_reporting": len(reports),
        "agents_with_rmm_running": running,
        "products": sorted(products.values(), key=lambda p: p["name"]),
    }
