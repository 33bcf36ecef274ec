"""``client.learning``: recurring successful resolutions, promoted to runbooks or rejected."""

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
from .._models import CandidateStatus, CheckType, LearningCandidate, Runbook, Severity
from ._base import AsyncResource, SyncResource

__all__ = [
    "AsyncLearning",
    "AsyncLearningWithRawResponse",
    "Learning",
    "LearningWithRawResponse",
]

CANDIDATES = "/api/learning/candidates"


def _promote(
    candidate_id: str,
    name: str | NotGiven | None,
    description: str | NotGiven | None,
    is_disruptive: bool | NotGiven | None,
    severity: Severity | NotGiven | None,
) -> RequestOptions:
    body = req.promote_body(name, description, is_disruptive, severity)
    return req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/promote"), body)


def _reject(candidate_id: str, reason: str | NotGiven | None) -> RequestOptions:
    body = req.note_body("reason", reason)
    return req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/reject"), body)


class Learning(SyncResource):
    def list(
        self,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        check_type: CheckType | NotGiven | None = NOT_GIVEN,
        status: CandidateStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[LearningCandidate]:
        """The first page of the learning candidates, fetched now."""
        filters = req.candidate_filters(site_id, check_type, status)
        params = req.list_params(limit, offset, **filters)
        return self._list(CANDIDATES, LearningCandidate, params, options)

    def get(self, candidate_id: str, **options: Unpack[RequestOverrides]) -> LearningCandidate:
        opts = req.get(req.path(CANDIDATES, candidate_id, "candidate_id"))
        return self._one(opts, LearningCandidate, options)

    def promote(
        self,
        candidate_id: str,
        *,
        name: str | NotGiven | None = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        is_disruptive: bool | NotGiven | None = NOT_GIVEN,
        severity: Severity | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Runbook:
        """Make the candidate a runbook of the partner; what is left out is derived."""
        opts = _promote(candidate_id, name, description, is_disruptive, severity)
        return self._one(opts, Runbook, options)

    def reject(
        self,
        candidate_id: str,
        *,
        reason: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> LearningCandidate:
        return self._one(_reject(candidate_id, reason), LearningCandidate, options)

    @functools.cached_property
    def with_raw_response(self) -> LearningWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return LearningWithRawResponse(self)


class AsyncLearning(AsyncResource):
    def list(
        self,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        check_type: CheckType | NotGiven | None = NOT_GIVEN,
        status: CandidateStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[LearningCandidate]:
        filters = req.candidate_filters(site_id, check_type, status)
        params = req.list_params(limit, offset, **filters)
        return self._list(CANDIDATES, LearningCandidate, params, options)

    async def get(
        self, candidate_id: str, **options: Unpack[RequestOverrides]
    ) -> LearningCandidate:
        opts = req.get(req.path(CANDIDATES, candidate_id, "candidate_id"))
        return await self._one(opts, LearningCandidate, options)

    async def promote(
        self,
        candidate_id: str,
        *,
        name: str | NotGiven | None = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        is_disruptive: bool | NotGiven | None = NOT_GIVEN,
        severity: Severity | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Runbook:
        opts = _promote(candidate_id, name, description, is_disruptive, severity)
        return await self._one(opts, Runbook, options)

    async def reject(
        self,
        candidate_id: str,
        *,
        reason: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> LearningCandidate:
        return await self._one(_reject(candidate_id, reason), LearningCandidate, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncLearningWithRawResponse:
        return AsyncLearningWithRawResponse(self)


class LearningWithRawResponse:
    def __init__(self, learning: Learning) -> None:
        self.list = to_raw_response_wrapper(learning.list)
        self.get = to_raw_response_wrapper(learning.get)
        self.promote = to_raw_response_wrapper(learning.promote)
        self.reject = to_raw_response_wrapper(learning.reject)


class AsyncLearningWithRawResponse:
    def __init__(self, learning: AsyncLearning) -> None:
        self.list = async_to_raw_response_wrapper(learning.list)
        self.get = async_to_raw_response_wrapper(learning.get)
        self.promote = async_to_raw_response_wrapper(learning.promote)
        self.reject = async_to_raw_response_wrapper(learning.reject)
