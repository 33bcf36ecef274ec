"""``client.sre``: the SRE agent's anomalies, recommendations and problems."""

from __future__ import annotations

import functools
from typing import Any, Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    MutationOverrides,
    NotGiven,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import Anomaly, Order, Problem, Recommendation, Severity
from ._base import AsyncResource, SyncResource
from .monitoring import acknowledge_request


def _anomaly(anomaly_id: int | str) -> str:
    return f"/api/sre/anomalies/{req.path_id(anomaly_id, 'anomaly_id')}"


def _problem(problem_id: int | str) -> str:
    return f"/api/sre/problems/{req.path_id(problem_id, 'problem_id')}"


class SRE(SyncResource):
    def list_anomalies(
        self,
        *,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        severity: Severity | NotGiven = NOT_GIVEN,
        resolved: bool | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Anomaly]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            cluster_id=cluster_id, severity=req.severity(severity), resolved=resolved,
        )  # fmt: skip
        return self._list("/api/sre/anomalies", Anomaly, params, options)

    def get_anomaly(self, anomaly_id: int | str, **options: Unpack[RequestOverrides]) -> Anomaly:
        return self._data(req.get(_anomaly(anomaly_id)), Anomaly, options)

    def acknowledge_anomaly(
        self, anomaly_id: int | str, **options: Unpack[RequestOverrides]
    ) -> Anomaly:
        opts = acknowledge_request("/api/sre/anomalies", anomaly_id, "anomaly_id")
        return self._data(opts, Anomaly, options)

    def list_recommendations(
        self,
        *,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        category: str | NotGiven = NOT_GIVEN,
        min_confidence: float | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Recommendation]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order, cluster_id=cluster_id,
            category=category, min_confidence=req.confidence(min_confidence),
        )  # fmt: skip
        return self._list("/api/sre/recommendations", Recommendation, params, options)

    def recommendation_feedback(
        self,
        recommendation_id: int | str,
        *,
        helpful: bool,
        applied: bool | NotGiven = NOT_GIVEN,
        comment: str | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> dict[str, Any]:
        """Tell the SRE agent whether a recommendation helped."""
        opts = req.feedback_request(recommendation_id, helpful, applied, comment)
        return self._data(opts, dict, options)

    def list_problems(
        self,
        *,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        status: str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Problem]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order, cluster_id=cluster_id, status=status
        )
        return self._list("/api/sre/problems", Problem, params, options)

    def get_problem(self, problem_id: int | str, **options: Unpack[RequestOverrides]) -> Problem:
        return self._data(req.get(_problem(problem_id)), Problem, options)

    @functools.cached_property
    def with_raw_response(self) -> SREWithRawResponse:
        return SREWithRawResponse(self)


class AsyncSRE(AsyncResource):
    def list_anomalies(
        self,
        *,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        severity: Severity | NotGiven = NOT_GIVEN,
        resolved: bool | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Anomaly]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            cluster_id=cluster_id, severity=req.severity(severity), resolved=resolved,
        )  # fmt: skip
        return self._list("/api/sre/anomalies", Anomaly, params, options)

    async def get_anomaly(
        self, anomaly_id: int | str, **options: Unpack[RequestOverrides]
    ) -> Anomaly:
        return await self._data(req.get(_anomaly(anomaly_id)), Anomaly, options)

    async def acknowledge_anomaly(
        self, anomaly_id: int | str, **options: Unpack[RequestOverrides]
    ) -> Anomaly:
        opts = acknowledge_request("/api/sre/anomalies", anomaly_id, "anomaly_id")
        return await self._data(opts, Anomaly, options)

    def list_recommendations(
        self,
        *,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        category: str | NotGiven = NOT_GIVEN,
        min_confidence: float | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Recommendation]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order, cluster_id=cluster_id,
            category=category, min_confidence=req.confidence(min_confidence),
        )  # fmt: skip
        return self._list("/api/sre/recommendations", Recommendation, params, options)

    async def recommendation_feedback(
        self,
        recommendation_id: int | str,
        *,
        helpful: bool,
        applied: bool | NotGiven = NOT_GIVEN,
        comment: str | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> dict[str, Any]:
        opts = req.feedback_request(recommendation_id, helpful, applied, comment)
        return await self._data(opts, dict, options)

    def list_problems(
        self,
        *,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        status: str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Problem]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order, cluster_id=cluster_id, status=status
        )
        return self._list("/api/sre/problems", Problem, params, options)

    async def get_problem(
        self, problem_id: int | str, **options: Unpack[RequestOverrides]
    ) -> Problem:
        return await self._data(req.get(_problem(problem_id)), Problem, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncSREWithRawResponse:
        return AsyncSREWithRawResponse(self)


class SREWithRawResponse:
    def __init__(self, sre: SRE) -> None:
        self.list_anomalies = to_raw_response_wrapper(sre.list_anomalies)
        self.get_anomaly = to_raw_response_wrapper(sre.get_anomaly)
        self.acknowledge_anomaly = to_raw_response_wrapper(sre.acknowledge_anomaly)
        self.list_recommendations = to_raw_response_wrapper(sre.list_recommendations)
        self.recommendation_feedback = to_raw_response_wrapper(sre.recommendation_feedback)
        self.list_problems = to_raw_response_wrapper(sre.list_problems)
        self.get_problem = to_raw_response_wrapper(sre.get_problem)


class AsyncSREWithRawResponse:
    def __init__(self, sre: AsyncSRE) -> None:
        self.list_anomalies = async_to_raw_response_wrapper(sre.list_anomalies)
        self.get_anomaly = async_to_raw_response_wrapper(sre.get_anomaly)
        self.acknowledge_anomaly = async_to_raw_response_wrapper(sre.acknowledge_anomaly)
        self.list_recommendations = async_to_raw_response_wrapper(sre.list_recommendations)
        self.recommendation_feedback = async_to_raw_response_wrapper(sre.recommendation_feedback)
        self.list_problems = async_to_raw_response_wrapper(sre.list_problems)
        self.get_problem = async_to_raw_response_wrapper(sre.get_problem)
