"""``/api/incidents``, ``/api/runbooks`` (the library and its executions) and
``/api/learning`` (candidates: promote, reject)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ..edge import ok
from ._parsing import body, flag, one_of, path_uuid, query, uuid
from ._routing import Operation
from ._rules import ADMIN, CHECK_TYPES, OPERATE, READ
from ._schemas import CandidatePromoteBody, CandidateRejectBody, IncidentResolveBody
from ._site_routes import created
from ._views import (
    candidate_json,
    execution_json,
    incident_detail_json,
    listed_incident,
    page_json,
    runbook_json,
)

if TYPE_CHECKING:
    from ._api import Compliance

__all__ = ["IncidentRoutes"]

CHECK = one_of(*CHECK_TYPES)
INCIDENT_FILTERS = {
    "site_id": uuid,
    "severity": one_of("critical", "high", "medium", "low"),
    "resolved": flag,
    "check_type": CHECK,
}
RUNBOOK_FILTERS = {"check_type": CHECK, "level": one_of("L1", "L2", "L3")}
EXECUTION_FILTERS = {
    "site_id": uuid,
    "status": one_of("pending", "succeeded", "failed", "timed_out"),
}
CANDIDATE_FILTERS = {
    "site_id": uuid,
    "check_type": CHECK,
    "status": one_of("pending", "promoted", "rejected"),
}


class IncidentRoutes:
    def __init__(self, api: Compliance) -> None:
        self.api = api
        self.limit = api.services.settings.max_body_bytes

    def operations(self) -> list[Operation]:
        candidate = "/api/learning/candidates/{candidate_id}"
        return [
            ("GET", "/api/incidents", self.list_incidents),
            ("GET", "/api/incidents/{incident_id}", self.get_incident),
            ("POST", "/api/incidents/{incident_id}/resolve", self.resolve),
            ("GET", "/api/runbooks", self.list_runbooks),
            ("GET", "/api/runbooks/{runbook_id}", self.get_runbook),
            ("GET", "/api/runbooks/{runbook_id}/executions", self.executions),
            ("GET", "/api/learning/candidates", self.list_candidates),
            ("GET", candidate, self.get_candidate),
            ("POST", candidate + "/promote", self.promote),
            ("POST", candidate + "/reject", self.reject),
        ]

    # -- incidents --------------------------------------------------------------------------
    async def list_incidents(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        q = query(request, INCIDENT_FILTERS, page=True)
        limit, offset = q.pop("limit"), q.pop("offset")
        rows, total = await self.api.incidents.find(caller.partner_id, q, limit, offset)
        return ok(request, page_json([listed_incident(r) for r in rows], total, limit, offset))

    async def get_incident(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        incident_id = path_uuid(request, "incident_id")
        query(request, {})
        row, execution = await self.api.incidents.get(caller.partner_id, incident_id)
        return ok(request, incident_detail_json(row, execution))

    async def resolve(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, OPERATE)
        incident_id = path_uuid(request, "incident_id")
        query(request, {})
        change = await body(request, IncidentResolveBody, self.limit, optional=True)
        row, execution = await self.api.incidents.resolve(
            caller.partner_id, incident_id, caller.user_id, change.note
        )
        return ok(request, incident_detail_json(row, execution))

    # -- runbooks ---------------------------------------------------------------------------
    async def list_runbooks(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        q = query(request, RUNBOOK_FILTERS, page=True)
        limit, offset = q.pop("limit"), q.pop("offset")
        rows, total = await self.api.runbooks.find(caller.partner_id, q, limit, offset)
        items = [runbook_json(r, *stats) for r, stats in rows]
        return ok(request, page_json(items, total, limit, offset))

    async def get_runbook(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        runbook_id = path_uuid(request, "runbook_id")
        query(request, {})
        row, stats = await self.api.runbooks.get(caller.partner_id, runbook_id)
        return ok(request, runbook_json(row, *stats))

    async def executions(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        runbook_id = path_uuid(request, "runbook_id")
        q = query(request, EXECUTION_FILTERS, page=True)
        limit, offset = q.pop("limit"), q.pop("offset")
        rows, total = await self.api.runbooks.executions(
            caller.partner_id, runbook_id, q, limit, offset
        )
        return ok(request, page_json([execution_json(r) for r in rows], total, limit, offset))

    # -- learning ---------------------------------------------------------------------------
    async def list_candidates(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        q = query(request, CANDIDATE_FILTERS, page=True)
        limit, offset = q.pop("limit"), q.pop("offset")
        rows, total = await self.api.learning.find(caller.partner_id, q, limit, offset)
        return ok(request, page_json([candidate_json(r) for r in rows], total, limit, offset))

    async def get_candidate(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        candidate_id = path_uuid(request, "candidate_id")
        query(request, {})
        return ok(
            request, candidate_json(await self.api.learning.get(caller.partner_id, candidate_id))
        )

    async def promote(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        candidate_id = path_uuid(request, "candidate_id")
        query(request, {})
        choice = await body(request, CandidatePromoteBody, self.limit, optional=True)
        row, stats = await self.api.learning.promote(
            caller.partner_id,
            candidate_id,
            caller.user_id,
            name=choice.name,
            description=choice.description,
            is_disruptive=choice.is_disruptive,
        )
        return created(request, runbook_json(row, *stats), f"/api/runbooks/{row.id}")

    async def reject(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, OPERATE)
        candidate_id = path_uuid(request, "candidate_id")
        query(request, {})
        choice = await body(request, CandidateRejectBody, self.limit, optional=True)
        row = await self.api.learning.reject(
            caller.partner_id, candidate_id, caller.user_id, choice.reason
        )
        return ok(request, candidate_json(row))
