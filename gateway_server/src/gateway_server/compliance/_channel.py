"""What the agent channel does to the database, one transaction each:
enrollment (a token spent atomically, the agent recorded), the caller's
record (a revoked or unknown agent refused), a batch of drift events (each
applied once per event id, a heal command chosen when the site's tier and a
runbook allow), healing results, heartbeats and their pending commands.
The gRPC side (``_grpc.py``) only translates; the checks of each message are
``_messages.py``'s, the rules ``_rules.py``'s."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..storage import Database
from . import _tables as t
from ._ca import Issued
from ._fleet import FleetStore
from ._incidents import IncidentService
from ._messages import Drift, Enrollment, Healing, Heartbeat
from ._sites import SiteStore
from ._sql import AGENT_CALLER, EVENT_REMEMBER, EVENT_SEEN, EXECUTION_PENDING

__all__ = ["AgentGone", "Channel", "Command", "Enrolled", "TokenRefused", "command_of"]

_a, _x = t.agents.c, t.executions.c


class TokenRefused(PermissionError):
    """An enrollment token that is unknown, expired, revoked or used up (one
    answer for each, so a caller learns nothing about which)."""


class AgentGone(PermissionError):
    """The certificate's agent is revoked, or unknown here."""


@attrs.frozen
class Command:
    command_id: str
    check_type: str
    action: str
    params: dict[str, str]
    timeout_seconds: int = 0


def command_of(command_id: str, check_type: str, runbook_id: str, steps_json: str) -> Command:
    """A runbook as one HealCommand: its first step's action and params; the
    runbook id, and every step (JSON) when there are several, in the params."""
    steps = json.loads(steps_json) or [{"action": "", "params": {}}]
    params = {str(k): str(v) for k, v in (steps[0].get("params") or {}).items()}
    params["runbook_id"] = runbook_id
    if len(steps) > 1:
        params["steps"] = json.dumps(steps, separators=(",", ":"))
    return Command(command_id, check_type, str(steps[0].get("action", "")), params)


_NO_COMMAND = json.dumps({"command": None})


def _command_json(command: Command | None) -> str:
    if command is None:
        return _NO_COMMAND
    return json.dumps({"command": attrs.asdict(command)})


def _command_from(reply: str) -> Command | None:
    data = json.loads(reply).get("command")
    return None if data is None else Command(**data)


@attrs.frozen
class _Site:
    """What the channel needs of an agent's site."""

    id: str
    partner_id: str
    capability_tier: str


@attrs.frozen
class Enrolled:
    agent_id: str
    site_id: str
    capability_tier: str
    issued: Issued


class Channel:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], float],
        sites: SiteStore,
        fleet: FleetStore,
        service: IncidentService,
    ) -> None:
        self.database = database
        self.now = clock
        self.sites = sites
        self.fleet = fleet
        self.service = service

    # -- enrollment and the caller ---------------------------------------------------------
    async def enroll(self, request: Enrollment, issue: Callable[[str], Issued]) -> Enrolled:
        """Spend one use of the token (atomically: a used-up token admits no
        more agents however many enroll at once) and record the agent. The
        certificate is issued before the token is spent (a bad CSR spends
        nothing), and only for a token that is active."""
        if not await self.sites.token_active(request.token):
            # before any signing: a stranger's guesses cost a lookup, not a certificate
            raise TokenRefused("the enrollment token is not valid")
        agent_id = str(uuid.uuid4())
        issued = issue(agent_id)
        async with self.database.write() as conn:
            site_id = await self.sites.spend_token_in(conn, request.token)
            if site_id is None:
                raise TokenRefused("the enrollment token is not valid")
            site = await self.service.site_in(conn, site_id)
            await self.fleet.register_in(
                conn,
                agent_id,
                site,
                request.hostname,
                os_version=request.os_version,
                agent_version=request.agent_version,
                mac_address=request.mac_address,
                certificate_expires_at=issued.not_after,
            )
        return Enrolled(agent_id, site_id, site.capability_tier, issued)

    async def _live(self, conn: Any, agent_id: str) -> tuple[Any, Any]:
        """The agent and its site (``id``, ``partner_id``, ``capability_tier``)."""
        row = (await conn.execute(AGENT_CALLER, {"p_agent_id": agent_id})).first()
        if row is None or row.revoked_at is not None or row.site is None:
            raise AgentGone("this agent is revoked")
        return row, _Site(row.site, row.partner_id, row.capability_tier)

    async def caller(self, agent_id: str) -> tuple[Any, Any]:
        """The agent (and its site) a certificate names; AgentGone if revoked."""
        async with self.database.read() as conn:
            return await self._live(conn, agent_id)

    async def renewed(self, agent_id: str, issued: Issued) -> None:
        async with self.database.write() as conn:
            await self._live(conn, agent_id)
            await conn.execute(
                sa.update(t.agents)
                .where(_a.id == agent_id)
                .values(certificate_expires_at=issued.not_after)
            )

    # -- reports ---------------------------------------------------------------------------
    async def _seen(self, conn: Any, agent_id: str, event_id: str) -> str | None:
        if not event_id:
            return None
        params = {"p_agent_id": agent_id, "p_event_id": event_id}
        reply: str | None = (await conn.execute(EVENT_SEEN, params)).scalar()
        return reply

    async def _remember(
        self, conn: Any, agent_id: str, event_id: str, kind: str, reply: str
    ) -> None:
        if event_id:
            params = {"p_agent_id": agent_id, "p_event_id": event_id, "p_kind": kind}
            await conn.execute(EVENT_REMEMBER, {**params, "p_reply": reply, "p_now": self.now()})

    async def _heal(
        self, conn: Any, agent: Any, site: Any, incident_id: str, check: str
    ) -> Command | None:
        """A heal command for the incident, when the tier and a runbook allow one
        and none is pending for it already (a repeated failure sends no second)."""
        pending = {"p_incident_id": incident_id}
        if (await conn.execute(EXECUTION_PENDING, pending)).first() is not None:
            return None
        runbook = await self.service.runbook_in(conn, site, check)
        if runbook is None:
            return None
        command_id = str(uuid.uuid4())
        await self.service.start_execution_in(conn, incident_id, runbook.id, command_id, agent.id)
        return command_of(command_id, check, runbook.id, runbook.steps)

    async def drift(self, agent_id: str, events: Sequence[Drift]) -> list[Command | None]:
        """Each event applied once per (agent, event id), in one transaction;
        for each, the heal command its ack carries (again for a re-sent one)."""
        try:
            return await self._drift(agent_id, events)
        except IntegrityError:
            # The same event id from a second stream of this agent, at the same
            # moment: the batch is rolled back whole; the second time, it is seen.
            return await self._drift(agent_id, events)

    async def _drift(self, agent_id: str, events: Sequence[Drift]) -> list[Command | None]:
        replies: list[Command | None] = []
        async with self.database.write() as conn:
            agent, site = await self._live(conn, agent_id)
            for event in events:
                seen = await self._seen(conn, agent_id, event.event_id)
                if seen is not None:
                    replies.append(_command_from(seen))
                    continue
                outcome = await self.service.drift_in(
                    conn,
                    site,
                    event.hostname,
                    event.check_type,
                    event.passed,
                    agent_id=agent_id,
                    expected=event.expected,
                    actual=event.actual,
                    hipaa_control=event.hipaa_control,
                    observed_at=event.observed_at,
                    metadata=event.metadata,
                )
                command = None
                if outcome.incident_id is not None:
                    command = await self._heal(
                        conn, agent, site, outcome.incident_id, event.check_type
                    )
                await self._remember(
                    conn, agent_id, event.event_id, "drift", _command_json(command)
                )
                replies.append(command)
        return replies

    async def healing(self, agent_id: str, result: Healing) -> None:
        """Recorded once per event id, and once per command id: a result for a
        command already finished is acknowledged without a second record."""
        async with self.database.write() as conn:
            _, site = await self._live(conn, agent_id)
            if await self._seen(conn, agent_id, result.event_id) is not None:
                return
            command_id = result.command_id
            if command_id is not None:
                query = sa.select(_x.status, _x.agent_id).where(_x.command_id == command_id)
                sent = (await conn.execute(query)).first()
                if sent is None or sent.agent_id != agent_id:
                    command_id = None  # not a command of this agent's: no execution touched
                elif sent.status != "pending":
                    return  # answered already: acknowledged, not recorded again
            await self.service.healing_in(
                conn,
                site.id,
                result.hostname,
                result.check_type,
                result.success,
                command_id=command_id,
                error_message=result.error_message,
                artifacts=result.artifacts,
            )
            await self._remember(conn, agent_id, result.event_id, "healing", _command_json(None))

    async def heartbeat(self, agent_id: str, beat: Heartbeat) -> list[Command]:
        """The check-in recorded; the heal commands sent to this agent and not
        answered yet (an agent runs each command id once)."""
        await self.caller(agent_id)
        await self.fleet.heartbeat(
            agent_id, beat.drift_count, beat.healing_count, beat.agent_version
        )
        query = (
            sa.select(_x.command_id, _x.runbook_id, t.runbooks.c.check_type, t.runbooks.c.steps)
            .select_from(t.executions.join(t.runbooks, t.runbooks.c.id == _x.runbook_id))
            .where(_x.agent_id == agent_id, _x.status == "pending")
            .order_by(_x.started_at, _x.id)
            .limit(32)
        )
        async with self.database.read() as conn:
            rows = (await conn.execute(query)).all()
        return [command_of(r.command_id, r.check_type, r.runbook_id, r.steps) for r in rows]
