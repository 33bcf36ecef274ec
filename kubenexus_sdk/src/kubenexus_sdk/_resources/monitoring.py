"""``client.metrics`` and ``client.alerts``."""

from __future__ import annotations

import datetime as dt
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
from .._models import Alert, ClusterMetrics, Order, Resolution, Severity, TimeSeries
from ._base import AsyncResource, SyncResource


def acknowledge_request(path: str, ident: int | str, field: str) -> RequestOptions:
    # Acknowledging twice is acknowledging once: safe to send again.
    return RequestOptions(
        method="POST", url=f"{path}/{req.path_id(ident, field)}/acknowledge", idempotent=True
    )


def _cluster_metrics(cluster_id: int | str | None) -> RequestOptions:
    params = (
        {"cluster_id": req.path_id(cluster_id, "cluster_id")} if cluster_id is not None else None
    )
    return req.get("/api/metrics/clusters", params)


class Metrics(SyncResource):
    def clusters(
        self, cluster_id: int | str | None = None, **options: Unpack[RequestOverrides]
    ) -> list[ClusterMetrics]:
        """Current metrics of every cluster, or of one."""
        return self._data(_cluster_metrics(cluster_id), list[ClusterMetrics], options)

    def timeseries(
        self,
        metric_name: str,
        *,
        start_time: dt.datetime,
        end_time: dt.datetime,
        resolution: Resolution | None = None,
        cluster_id: int | str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> TimeSeries:
        """A metric over time; naive datetimes are taken as UTC."""
        opts = req.timeseries_request(metric_name, start_time, end_time, resolution, cluster_id)
        return self._data(opts, TimeSeries, options)

    @functools.cached_property
    def with_raw_response(self) -> MetricsWithRawResponse:
        return MetricsWithRawResponse(self)


class AsyncMetrics(AsyncResource):
    async def clusters(
        self, cluster_id: int | str | None = None, **options: Unpack[RequestOverrides]
    ) -> list[ClusterMetrics]:
        return await self._data(_cluster_metrics(cluster_id), list[ClusterMetrics], options)

    async def timeseries(
        self,
        metric_name: str,
        *,
        start_time: dt.datetime,
        end_time: dt.datetime,
        resolution: Resolution | None = None,
        cluster_id: int | str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> TimeSeries:
        opts = req.timeseries_request(metric_name, start_time, end_time, resolution, cluster_id)
        return await self._data(opts, TimeSeries, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncMetricsWithRawResponse:
        return AsyncMetricsWithRawResponse(self)


class Alerts(SyncResource):
    def list(
        self,
        *,
        severity: Severity | NotGiven = NOT_GIVEN,
        status: str | NotGiven = NOT_GIVEN,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Alert]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            severity=req.severity(severity), status=status, cluster_id=cluster_id,
        )  # fmt: skip
        return self._list("/api/alerts", Alert, params, options)

    def acknowledge(self, alert_id: int | str, **options: Unpack[RequestOverrides]) -> Alert:
        return self._data(acknowledge_request("/api/alerts", alert_id, "alert_id"), Alert, options)

    @functools.cached_property
    def with_raw_response(self) -> AlertsWithRawResponse:
        return AlertsWithRawResponse(self)


class AsyncAlerts(AsyncResource):
    def list(
        self,
        *,
        severity: Severity | NotGiven = NOT_GIVEN,
        status: str | NotGiven = NOT_GIVEN,
        cluster_id: int | str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Alert]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            severity=req.severity(severity), status=status, cluster_id=cluster_id,
        )  # fmt: skip
        return self._list("/api/alerts", Alert, params, options)

    async def acknowledge(self, alert_id: int | str, **options: Unpack[RequestOverrides]) -> Alert:
        opts = acknowledge_request("/api/alerts", alert_id, "alert_id")
        return await self._data(opts, Alert, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncAlertsWithRawResponse:
        return AsyncAlertsWithRawResponse(self)


class MetricsWithRawResponse:
    def __init__(self, metrics: Metrics) -> None:
        self.clusters = to_raw_response_wrapper(metrics.clusters)
        self.timeseries = to_raw_response_wrapper(metrics.timeseries)


class AsyncMetricsWithRawResponse:
    def __init__(self, metrics: AsyncMetrics) -> None:
        self.clusters = async_to_raw_response_wrapper(metrics.clusters)
        self.timeseries = async_to_raw_response_wrapper(metrics.timeseries)


class AlertsWithRawResponse:
    def __init__(self, alerts: Alerts) -> None:
        self.list = to_raw_response_wrapper(alerts.list)
        self.acknowledge = to_raw_response_wrapper(alerts.acknowledge)


class AsyncAlertsWithRawResponse:
    def __init__(self, alerts: AsyncAlerts) -> None:
        self.list = async_to_raw_response_wrapper(alerts.list)
        self.acknowledge = async_to_raw_response_wrapper(alerts.acknowledge)
