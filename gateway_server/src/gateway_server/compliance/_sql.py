"""What every compliance store's SQL shares: a page of a filtered query with
its total, and the site a partner owns (the one scoping check: another
partner's site is answered exactly as one that does not exist); and the
statements of the hot reads, built once and run on the SQLite fast path.

The incidents list is the dashboard's main read: a count and a page per
combination of its four filters (sixteen pairs, each using the index that
fits: the count reads only an index, the page walks the newest-first index
and stops after the page), on the fast path rather than through SQLAlchemy.
A window count beside the page was slower: it sorts every match (measured
with benchmarks/bench_compliance.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..storage import hot
from ._errors import missing
from ._tables import (
    agent_checks,
    agent_events,
    agents,
    executions,
    incidents,
    runbooks,
    sessions,
    sites,
    users,
)

__all__ = [
    "AGENT_CALLER",
    "CHECK_FORGET",
    "CHECK_RECORD",
    "EVENT_REMEMBER",
    "EVENT_SEEN",
    "EXECUTION_PENDING",
    "RUNBOOKS_FOR",
    "INCIDENT_FILTERS",
    "INCIDENT_OPEN",
    "SESSION",
    "incident_page",
    "owned_site",
    "page",
]

INCIDENT_FILTERS = ("site_id", "severity", "resolved", "check_type")
LISTED = (
    "id",
    "site_id",
    "hostname",
    "check_type",
    "severity",
    "resolved",
    "resolved_at",
    "hipaa_controls",
    "created_at",
)
"""The columns of an incident in a list (the contract's Incident)."""
_i = incidents.c


def p(name: str, kind: Any = sa.String) -> sa.BindParameter[Any]:
    """The bind parameter ``p_<name>``."""
    return sa.bindparam(f"p_{name}", type_=kind)


def _filtered(query: sa.Select[Any], present: tuple[bool, ...]) -> sa.Select[Any]:
    query = query.where(_i.partner_id == p("partner_id"))
    for name, given in zip(INCIDENT_FILTERS, present, strict=True):
        if given:
            kind = sa.Boolean if name == "resolved" else sa.String
            query = query.where(_i[name] == p(name, kind))
    return query


def _incident_statements(present: tuple[bool, ...]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    # The list's fields only (reading the drift's columns too took half the
    # page's time); ``resolved`` as an integer: a boolean column needs
    # SQLAlchemy's result processor, which the fast path's plain cursor does not run.
    columns = [_i[name] for name in LISTED if name != "resolved"]
    resolved = sa.type_coerce(_i.resolved, sa.Integer).label("resolved")
    rows = _filtered(sa.select(*columns, resolved), present)
    rows = rows.order_by(_i.created_at.desc(), _i.id.desc())
    rows = rows.limit(p("limit", sa.Integer)).offset(p("offset", sa.Integer))
    return hot(_filtered(sa.select(sa.func.count()), present)), hot(rows)


_INCIDENT_STATEMENTS = {
    present: _incident_statements(present)
    for present in itertools.product((False, True), repeat=len(INCIDENT_FILTERS))
}


def incident_page(filters: Mapping[str, Any]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The count and the page statements of incidents with these filters."""
    return _INCIDENT_STATEMENTS[tuple(name in filters for name in INCIDENT_FILTERS)]


_s, _u = sessions.c, users.c
SESSION = hot(
    sa.select(_s.expires_at, _s.revoked_at, _u.id, _u.username, _u.role, _u.partner_id)
    .select_from(sessions.join(users, _u.id == _s.user_id))
    .where(_s.token_hash == p("token_hash"))
)
"""A session and its user, by the token's hash."""

# The agent channel's per-event statements (a drift stream runs them for every
# event: through SQLAlchemy they cost five times the SQL, bench_agent_drift.py).
_k, _v, _a = agent_checks.c, agent_events.c, agents.c
AGENT_CALLER = hot(
    sa.select(
        _a.id,
        _a.hostname,
        _a.revoked_at,
        _a.site_id,
        sites.c.id.label("site"),
        sites.c.partner_id,
        sites.c.capability_tier,
    )
    .select_from(agents.outerjoin(sites, sites.c.id == _a.site_id))
    .where(_a.id == p("agent_id"))
)
"""The agent a certificate names, with what its reports need of its site."""
CHECK_FORGET = hot(
    sa.delete(agent_checks).where(_k.agent_id == p("agent_id"), _k.check_type == p("check_type"))
)
CHECK_RECORD = hot(
    sa.insert(agent_checks).values(
        agent_id=p("agent_id"),
        check_type=p("check_type"),
        site_id=p("site_id"),
        passed=p("passed", sa.Boolean),
        observed_at=p("observed_at", sa.Float),
    )
)
"""An agent's latest state of a check (the one row of (agent, check))."""
INCIDENT_OPEN = hot(
    sa.select(_i.id, _i.occurrences).where(
        _i.site_id == p("site_id"),
        _i.hostname == p("hostname"),
        _i.check_type == p("check_type"),
        _i.resolved.is_(False),
    )
)
"""The open incident of a site's host and check, if any."""
EVENT_SEEN = hot(
    sa.select(_v.reply).where(_v.agent_id == p("agent_id"), _v.event_id == p("event_id"))
)
EVENT_REMEMBER = hot(
    sa.insert(agent_events).values(
        agent_id=p("agent_id"),
        event_id=p("event_id"),
        kind=p("kind"),
        reply=p("reply"),
        created_at=p("now", sa.Float),
    )
)
"""What the channel answered an event id of an agent (to answer a re-send the same)."""


async def page(
    conn: Any,
    query: sa.Select[Any],
    order: Sequence[sa.ColumnElement[Any] | sa.UnaryExpression[Any]],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """``limit`` rows of ``query`` from ``offset`` in ``order``, and how many match in all."""
    total = (await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar()
    rows = (await conn.execute(query.order_by(*order).limit(limit).offset(offset))).all()
    return rows, int(total or 0)


async def owned_site(conn: Any, partner_id: str, site_id: str) -> Any:
    """The site row if it is ``partner_id``'s; 404 SITE_NOT_FOUND otherwise."""
    query = sa.select(sites).where(sites.c.id == site_id, sites.c.partner_id == partner_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise missing("site")
    return row


EXECUTION_PENDING = hot(
    sa.select(executions.c.id)
    .where(executions.c.incident_id == p("incident_id"), executions.c.status == "pending")
    .limit(1)
)
"""A runbook already sent to heal the incident and not answered yet."""
_r = runbooks.c
RUNBOOKS_FOR = hot(
    sa.select(
        _r.id,
        _r.name,
        _r.level,
        _r.check_type,
        _r.steps,
        # an integer: the fast path's cursor runs no boolean result processor
        sa.type_coerce(_r.is_disruptive, sa.Integer).label("is_disruptive"),
    )
    .where(
        _r.check_type == p("check_type"),
        sa.or_(_r.partner_id.is_(None), _r.partner_id == p("partner_id")),
    )
    .order_by(_r.partner_id.is_(None), _r.created_at.desc(), _r.id)
)
"""The runbooks for a check a partner may use: its own (newest first), then the built-in."""
