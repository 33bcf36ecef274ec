"""``client.incidents``: drift that failed a check, until healed or resolved."""

from __future__ import annotations

import functools
from typing import Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    NotGiven,
    RequestOptions,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import CheckType, Incident, IncidentDetail, Severity
from ._base import AsyncResource, SyncResource

__all__ = [
    "AsyncIncidents",
    "AsyncIncidentsWithRawResponse",
    "Incidents",
    "IncidentsWithRawResponse",
]

INCIDENTS = "/api/incidents"


def _resolve(incident_id: str, note: str | NotGiven | None) -> RequestOptions:
    path = req.path(INCIDENTS, incident_id, "incident_id", "/resolve")
    return req.post(path, req.note_body("note", note))


class Incidents(SyncResource):
    def list(
        self,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        severity: Severity | NotGiven | None = NOT_GIVEN,
        resolved: bool | NotGiven | None = NOT_GIVEN,
        check_type: CheckType | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Incident]:
        """The first page of the matching incidents, newest first, fetched now
        (so a refused filter fails here); ``.total`` counts every match, and
        iterating the page walks the incidents of every page, the filters kept."""
        filters = req.incident_filters(site_id, severity, resolved, check_type)
        return self._list(INCIDENTS, Incident, req.list_params(limit, offset, **filters), options)

    def get(self, incident_id: str, **options: Unpack[RequestOverrides]) -> IncidentDetail:
        """The incident with its drift data and the runbook executed."""
        opts = req.get(req.path(INCIDENTS, incident_id, "incident_id"))
        return self._one(opts, IncidentDetail, options)

    def resolve(
        self,
        incident_id: str,
        *,
        note: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> IncidentDetail:
        """Resolve by hand (a resolved incident is 409 INCIDENT_ALREADY_RESOLVED)."""
        return self._one(_resolve(incident_id, note), IncidentDetail, options)

    @functools.cached_property
    def with_raw_response(self) -> IncidentsWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return IncidentsWithRawResponse(self)


class AsyncIncidents(AsyncResource):
    def list(
        self,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        severity: Severity | NotGiven | None = NOT_GIVEN,
        resolved: bool | NotGiven | None = NOT_GIVEN,
        check_type: CheckType | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Incident]:
        """``await`` it for the first page, or ``async for`` over every incident."""
        filters = req.incident_filters(site_id, severity, resolved, check_type)
        return self._list(INCIDENTS, Incident, req.list_params(limit, offset, **filters), options)

    async def get(self, incident_id: str, **options: Unpack[RequestOverrides]) -> IncidentDetail:
        opts = req.get(req.path(INCIDENTS, incident_id, "incident_id"))
        return await self._one(opts, IncidentDetail, options)

    async def resolve(
        self,
        incident_id: str,
        *,
        note: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> IncidentDetail:
        return await self._one(_resolve(incident_id, note), IncidentDetail, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncIncidentsWithRawResponse:
        return AsyncIncidentsWithRawResponse(self)


class IncidentsWithRawResponse:
    def __init__(self, incidents: Incidents) -> None:
        self.list = to_raw_response_wrapper(incidents.list)
        self.get = to_raw_response_wrapper(incidents.get)
        self.resolve = to_raw_response_wrapper(incidents.resolve)


class AsyncIncidentsWithRawResponse:
    def __init__(self, incidents: AsyncIncidents) -> None:
        self.list = async_to_raw_response_wrapper(incidents.list)
        self.get = async_to_raw_response_wrapper(incidents.get)
        self.resolve = async_to_raw_response_wrapper(incidents.resolve)
