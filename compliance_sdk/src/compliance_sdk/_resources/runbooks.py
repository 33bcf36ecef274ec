"""``client.runbooks``: the runbook library and its executions."""

from __future__ import annotations

import functools
from typing import Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    NotGiven,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import CheckType, ExecutionStatus, Runbook, RunbookExecution, RunbookLevel
from ._base import AsyncResource, SyncResource

__all__ = [
    "AsyncRunbooks",
    "AsyncRunbooksWithRawResponse",
    "Runbooks",
    "RunbooksWithRawResponse",
]

RUNBOOKS = "/api/runbooks"


class Runbooks(SyncResource):
    def list(
        self,
        *,
        check_type: CheckType | NotGiven | None = NOT_GIVEN,
        level: RunbookLevel | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Runbook]:
        """The first page of the built-in runbooks and the partner's, fetched now."""
        params = req.list_params(limit, offset, **req.runbook_filters(check_type, level))
        return self._list(RUNBOOKS, Runbook, params, options)

    def get(self, runbook_id: str, **options: Unpack[RequestOverrides]) -> Runbook:
        return self._one(req.get(req.path(RUNBOOKS, runbook_id, "runbook_id")), Runbook, options)

    def executions(
        self,
        runbook_id: str,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        status: ExecutionStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[RunbookExecution]:
        path = req.path(RUNBOOKS, runbook_id, "runbook_id", "/executions")
        params = req.list_params(limit, offset, **req.execution_filters(site_id, status))
        return self._list(path, RunbookExecution, params, options)

    @functools.cached_property
    def with_raw_response(self) -> RunbooksWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return RunbooksWithRawResponse(self)


class AsyncRunbooks(AsyncResource):
    def list(
        self,
        *,
        check_type: CheckType | NotGiven | None = NOT_GIVEN,
        level: RunbookLevel | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Runbook]:
        params = req.list_params(limit, offset, **req.runbook_filters(check_type, level))
        return self._list(RUNBOOKS, Runbook, params, options)

    async def get(self, runbook_id: str, **options: Unpack[RequestOverrides]) -> Runbook:
        opts = req.get(req.path(RUNBOOKS, runbook_id, "runbook_id"))
        return await self._one(opts, Runbook, options)

    def executions(
        self,
        runbook_id: str,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        status: ExecutionStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[RunbookExecution]:
        path = req.path(RUNBOOKS, runbook_id, "runbook_id", "/executions")
        params = req.list_params(limit, offset, **req.execution_filters(site_id, status))
        return self._list(path, RunbookExecution, params, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncRunbooksWithRawResponse:
        return AsyncRunbooksWithRawResponse(self)


class RunbooksWithRawResponse:
    def __init__(self, runbooks: Runbooks) -> None:
        self.list = to_raw_response_wrapper(runbooks.list)
        self.get = to_raw_response_wrapper(runbooks.get)
        self.executions = to_raw_response_wrapper(runbooks.executions)


class AsyncRunbooksWithRawResponse:
    def __init__(self, runbooks: AsyncRunbooks) -> None:
        self.list = async_to_raw_response_wrapper(runbooks.list)
        self.get = async_to_raw_response_wrapper(runbooks.get)
        self.executions = async_to_raw_response_wrapper(runbooks.executions)
