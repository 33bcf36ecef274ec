"""Incidents, the runbook library and its executions, and learning candidates:
the sync/async pairs over :mod:`._requests`."""

from __future__ import annotations

from sdk_core import AsyncPaginator, SyncPaginator

from . import _requests as req
from ._models import (
    CheckType,
    Incident,
    IncidentDetail,
    LearningCandidate,
    Runbook,
    RunbookExecution,
    RunbookLevel,
    Severity,
)
from ._resource import Async, Sync

__all__ = ["AsyncIncidents", "AsyncLearning", "AsyncRunbooks", "Incidents", "Learning", "Runbooks"]

INCIDENTS, RUNBOOKS, CANDIDATES = "/api/incidents", "/api/runbooks", "/api/learning/candidates"


# ========================================================================== incidents
class Incidents(Sync):
    def list(
        self,
        *,
        site_id: str | None = None,
        severity: Severity | None = None,
        resolved: bool | None = None,
        check_type: CheckType | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Incident]:
        """Incidents across every page, newest first, filtered; ``.first_page().total``
        counts every match."""
        filters = req.incident_filters(site_id, severity, resolved, check_type)
        return self._paginate(INCIDENTS, Incident, req.list_params(limit, **filters))

    def get(self, incident_id: str) -> IncidentDetail:
        return self._one(req.get(req.path(INCIDENTS, incident_id, "incident_id")), IncidentDetail)

    def resolve(self, incident_id: str, *, note: str | None = None) -> IncidentDetail:
        opts = req.post(
            req.path(INCIDENTS, incident_id, "incident_id", "/resolve"), req.note_body("note", note)
        )
        return self._one(opts, IncidentDetail)


class AsyncIncidents(Async):
    def list(
        self,
        *,
        site_id: str | None = None,
        severity: Severity | None = None,
        resolved: bool | None = None,
        check_type: CheckType | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Incident]:
        filters = req.incident_filters(site_id, severity, resolved, check_type)
        return self._paginate(INCIDENTS, Incident, req.list_params(limit, **filters))

    async def get(self, incident_id: str) -> IncidentDetail:
        opts = req.get(req.path(INCIDENTS, incident_id, "incident_id"))
        return await self._one(opts, IncidentDetail)

    async def resolve(self, incident_id: str, *, note: str | None = None) -> IncidentDetail:
        opts = req.post(
            req.path(INCIDENTS, incident_id, "incident_id", "/resolve"), req.note_body("note", note)
        )
        return await self._one(opts, IncidentDetail)


# =========================================================================== runbooks
class Runbooks(Sync):
    def list(
        self,
        *,
        check_type: CheckType | None = None,
        level: RunbookLevel | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Runbook]:
        params = req.list_params(limit, **req.runbook_filters(check_type, level))
        return self._paginate(RUNBOOKS, Runbook, params)

    def get(self, runbook_id: str) -> Runbook:
        return self._one(req.get(req.path(RUNBOOKS, runbook_id, "runbook_id")), Runbook)

    def executions(
        self,
        runbook_id: str,
        *,
        site_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[RunbookExecution]:
        path = req.path(RUNBOOKS, runbook_id, "runbook_id", "/executions")
        params = req.list_params(limit, **req.execution_filters(site_id, status))
        return self._paginate(path, RunbookExecution, params)


class AsyncRunbooks(Async):
    def list(
        self,
        *,
        check_type: CheckType | None = None,
        level: RunbookLevel | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Runbook]:
        params = req.list_params(limit, **req.runbook_filters(check_type, level))
        return self._paginate(RUNBOOKS, Runbook, params)

    async def get(self, runbook_id: str) -> Runbook:
        return await self._one(req.get(req.path(RUNBOOKS, runbook_id, "runbook_id")), Runbook)

    def executions(
        self,
        runbook_id: str,
        *,
        site_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[RunbookExecution]:
        path = req.path(RUNBOOKS, runbook_id, "runbook_id", "/executions")
        params = req.list_params(limit, **req.execution_filters(site_id, status))
        return self._paginate(path, RunbookExecution, params)


# =========================================================================== learning
class Learning(Sync):
    def list(
        self,
        *,
        site_id: str | None = None,
        check_type: CheckType | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[LearningCandidate]:
        params = req.list_params(limit, **req.candidate_filters(site_id, check_type, status))
        return self._paginate(CANDIDATES, LearningCandidate, params)

    def get(self, candidate_id: str) -> LearningCandidate:
        opts = req.get(req.path(CANDIDATES, candidate_id, "candidate_id"))
        return self._one(opts, LearningCandidate)

    def promote(
        self,
        candidate_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        is_disruptive: bool | None = None,
        severity: Severity | None = None,
    ) -> Runbook:
        body = req.promote_body(name, description, is_disruptive, severity)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/promote"), body)
        return self._one(opts, Runbook)

    def reject(self, candidate_id: str, *, reason: str | None = None) -> LearningCandidate:
        body = req.note_body("reason", reason)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/reject"), body)
        return self._one(opts, LearningCandidate)


class AsyncLearning(Async):
    def list(
        self,
        *,
        site_id: str | None = None,
        check_type: CheckType | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[LearningCandidate]:
        params = req.list_params(limit, **req.candidate_filters(site_id, check_type, status))
        return self._paginate(CANDIDATES, LearningCandidate, params)

    async def get(self, candidate_id: str) -> LearningCandidate:
        opts = req.get(req.path(CANDIDATES, candidate_id, "candidate_id"))
        return await self._one(opts, LearningCandidate)

    async def promote(
        self,
        candidate_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        is_disruptive: bool | None = None,
        severity: Severity | None = None,
    ) -> Runbook:
        body = req.promote_body(name, description, is_disruptive, severity)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/promote"), body)
        return await self._one(opts, Runbook)

    async def reject(self, candidate_id: str, *, reason: str | None = None) -> LearningCandidate:
        body = req.note_body("reason", reason)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/reject"), body)
        return await self._one(opts, LearningCandidate)
