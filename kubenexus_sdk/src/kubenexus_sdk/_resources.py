"""The KubeNexus resources, in sync/async pairs over :mod:`._requests`."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sdk_core import (
    AsyncAPIResource,
    AsyncPaginator,
    RequestOptions,
    SyncAPIResource,
    SyncPaginator,
)

from . import _requests as req
from ._models import (
    Alert,
    Anomaly,
    Cluster,
    ClusterHealth,
    ClusterMetrics,
    ClusterType,
    Envelope,
    ListEnvelope,
    Order,
    Problem,
    Recommendation,
    Resolution,
    Role,
    Severity,
    TimeSeries,
    User,
    UserStatus,
    Webhook,
    WebhookEvent,
)

if TYPE_CHECKING:
    from ._client import AsyncKubeNexusClient, KubeNexusClient

M = TypeVar("M")


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class _Sync(SyncAPIResource):
    _client: KubeNexusClient

    def _data(self, opts: RequestOptions, model: type[M]) -> M:
        envelope = self._client.request_raw(opts, Envelope[model])  # type: ignore[valid-type]
        return cast(M, envelope.parsed.data)

    def _none(self, opts: RequestOptions) -> None:
        self._client.request_raw(opts, None)

    def _paginate(self, path: str, model: type[M], params: dict[str, Any]) -> SyncPaginator[M]:
        def fetch(page_params: dict[str, Any]) -> Any:
            raw = self._client.request_raw(req.get(path, page_params), ListEnvelope[model])  # type: ignore[valid-type]
            return req.to_page(raw)

        return SyncPaginator(fetch, req.PAGINATION, params)


class _Async(AsyncAPIResource):
    _client: AsyncKubeNexusClient

    async def _data(self, opts: RequestOptions, model: type[M]) -> M:
        envelope = await self._client.request_raw(opts, Envelope[model])  # type: ignore[valid-type]
        return cast(M, envelope.parsed.data)

    async def _none(self, opts: RequestOptions) -> None:
        await self._client.request_raw(opts, None)

    def _paginate(self, path: str, model: type[M], params: dict[str, Any]) -> AsyncPaginator[M]:
        async def fetch(page_params: dict[str, Any]) -> Any:
            raw = await self._client.request_raw(req.get(path, page_params), ListEnvelope[model])  # type: ignore[valid-type]
            return req.to_page(raw)

        return AsyncPaginator(fetch, req.PAGINATION, params)


# ======================================================================= clusters
def _cluster_path(cluster_id: int | str, suffix: str = "") -> str:
    return f"/api/clusters/{req.path_id(cluster_id, 'cluster_id')}{suffix}"


def _cluster_fields(
    *,
    name: str,
    cluster_type: ClusterType,
    description: str | None,
    region: str | None,
    kubeconfig: str | None,
    cloud_provider_id: int | str | None,
    tags: Mapping[str, str] | None,
) -> dict[str, Any]:
    return _drop_none(
        name=name,
        cluster_type=cluster_type,
        description=description,
        region=region,
        kubeconfig=kubeconfig,
        cloud_provider_id=cloud_provider_id,
        tags=dict(tags) if tags is not None else None,
    )


class Clusters(_Sync):
    def list(
        self,
        *,
        status: str | None = None,
        provider: str | None = None,
        region: str | None = None,
        search: str | None = None,
        sort: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> SyncPaginator[Cluster]:
        """Clusters across every page, one page fetched at a time (``limit`` per page).
        Iterate for clusters, or ``.pages()`` for pages."""
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            status=status, provider=provider, region=region, search=search,
        )  # fmt: skip
        return self._paginate("/api/clusters", Cluster, params)

    def get(self, cluster_id: int | str) -> Cluster:
        return self._data(req.get(_cluster_path(cluster_id)), Cluster)

    def create(
        self,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | None = None,
        region: str | None = None,
        kubeconfig: str | None = None,
        cloud_provider_id: int | str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Cluster:
        """Add a cluster: ``on_premise`` needs ``kubeconfig``; ``eks``, ``gke`` and
        ``aks`` need ``cloud_provider_id`` (checked before sending)."""
        fields = _cluster_fields(
            name=name, cluster_type=cluster_type, description=description, region=region,
            kubeconfig=kubeconfig, cloud_provider_id=cloud_provider_id, tags=tags,
        )  # fmt: skip
        return self._data(req.cluster_write_request("POST", "/api/clusters", fields), Cluster)

    def update(
        self,
        cluster_id: int | str,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | None = None,
        region: str | None = None,
        kubeconfig: str | None = None,
        cloud_provider_id: int | str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Cluster:
        """Replace a cluster's definition (PUT), with the same checks as create."""
        fields = _cluster_fields(
            name=name, cluster_type=cluster_type, description=description, region=region,
            kubeconfig=kubeconfig, cloud_provider_id=cloud_provider_id, tags=tags,
        )  # fmt: skip
        return self._data(
            req.cluster_write_request("PUT", _cluster_path(cluster_id), fields), Cluster
        )

    def patch(self, cluster_id: int | str, **fields: Any) -> Cluster:
        """Change some fields (PATCH): name, description, region, kubeconfig,
        cloud_provider_id, tags."""
        return self._data(req.cluster_patch_request(_cluster_path(cluster_id), fields), Cluster)

    def delete(self, cluster_id: int | str) -> None:
        self._none(RequestOptions(method="DELETE", url=_cluster_path(cluster_id)))

    def health_check(self, cluster_id: int | str) -> ClusterHealth:
        opts = RequestOptions(
            method="POST", url=_cluster_path(cluster_id, "/health-check"), idempotent=True
        )
        return self._data(opts, ClusterHealth)

    def kubeconfig(self, cluster_id: int | str) -> str:
        data = self._data(req.get(_cluster_path(cluster_id, "/kubeconfig")), dict)
        return str(data["kubeconfig"])


class AsyncClusters(_Async):
    def list(
        self,
        *,
        status: str | None = None,
        provider: str | None = None,
        region: str | None = None,
        search: str | None = None,
        sort: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> AsyncPaginator[Cluster]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            status=status, provider=provider, region=region, search=search,
        )  # fmt: skip
        return self._paginate("/api/clusters", Cluster, params)

    async def get(self, cluster_id: int | str) -> Cluster:
        return await self._data(req.get(_cluster_path(cluster_id)), Cluster)

    async def create(
        self,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | None = None,
        region: str | None = None,
        kubeconfig: str | None = None,
        cloud_provider_id: int | str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Cluster:
        fields = _cluster_fields(
            name=name, cluster_type=cluster_type, description=description, region=region,
            kubeconfig=kubeconfig, cloud_provider_id=cloud_provider_id, tags=tags,
        )  # fmt: skip
        return await self._data(req.cluster_write_request("POST", "/api/clusters", fields), Cluster)

    async def update(
        self,
        cluster_id: int | str,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | None = None,
        region: str | None = None,
        kubeconfig: str | None = None,
        cloud_provider_id: int | str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Cluster:
        fields = _cluster_fields(
            name=name, cluster_type=cluster_type, description=description, region=region,
            kubeconfig=kubeconfig, cloud_provider_id=cloud_provider_id, tags=tags,
        )  # fmt: skip
        opts = req.cluster_write_request("PUT", _cluster_path(cluster_id), fields)
        return await self._data(opts, Cluster)

    async def patch(self, cluster_id: int | str, **fields: Any) -> Cluster:
        return await self._data(
            req.cluster_patch_request(_cluster_path(cluster_id), fields), Cluster
        )

    async def delete(self, cluster_id: int | str) -> None:
        await self._none(RequestOptions(method="DELETE", url=_cluster_path(cluster_id)))

    async def health_check(self, cluster_id: int | str) -> ClusterHealth:
        opts = RequestOptions(
            method="POST", url=_cluster_path(cluster_id, "/health-check"), idempotent=True
        )
        return await self._data(opts, ClusterHealth)

    async def kubeconfig(self, cluster_id: int | str) -> str:
        data = await self._data(req.get(_cluster_path(cluster_id, "/kubeconfig")), dict)
        return str(data["kubeconfig"])


# ======================================================================= users and roles
def _user_path(user_id: int | str) -> str:
    return f"/api/users/{req.path_id(user_id, 'user_id')}"


def _user_fields(**fields: Any) -> dict[str, Any]:
    if fields.get("roles") is not None:
        fields["roles"] = list(fields["roles"])
    return _drop_none(**fields)


class Users(_Sync):
    def list(
        self,
        *,
        status: UserStatus | None = None,
        search: str | None = None,
        sort: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> SyncPaginator[User]:
        params = req.list_params(
            page=page,
            limit=limit,
            sort=sort,
            order=order,
            status=req.user_status(status),
            search=search,
        )
        return self._paginate("/api/users", User, params)

    def get(self, user_id: int | str) -> User:
        return self._data(req.get(_user_path(user_id)), User)

    def create(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str | None = None,
        last_name: str | None = None,
        roles: Sequence[str] | None = None,
        status: UserStatus | None = None,
    ) -> User:
        fields = _user_fields(
            username=username, email=email, password=password, first_name=first_name,
            last_name=last_name, roles=roles, status=status,
        )  # fmt: skip
        return self._data(req.user_create_request(fields), User)

    def update(
        self,
        user_id: int | str,
        *,
        username: str,
        email: str,
        first_name: str | None = None,
        last_name: str | None = None,
        roles: Sequence[str] | None = None,
        status: UserStatus | None = None,
    ) -> User:
        fields = _user_fields(
            username=username, email=email, first_name=first_name, last_name=last_name,
            roles=roles, status=status,
        )  # fmt: skip
        return self._data(req.user_update_request(_user_path(user_id), fields), User)

    def delete(self, user_id: int | str) -> None:
        self._none(RequestOptions(method="DELETE", url=_user_path(user_id)))

    def me(self) -> User:
        """The signed-in user's profile."""
        return self._data(req.get("/api/users/me/profile"), User)

    def update_me(
        self,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> User:
        fields = _drop_none(email=email, first_name=first_name, last_name=last_name)
        return self._data(req.profile_update_request(fields), User)


class AsyncUsers(_Async):
    def list(
        self,
        *,
        status: UserStatus | None = None,
        search: str | None = None,
        sort: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> AsyncPaginator[User]:
        params = req.list_params(
            page=page,
            limit=limit,
            sort=sort,
            order=order,
            status=req.user_status(status),
            search=search,
        )
        return self._paginate("/api/users", User, params)

    async def get(self, user_id: int | str) -> User:
        return await self._data(req.get(_user_path(user_id)), User)

    async def create(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str | None = None,
        last_name: str | None = None,
        roles: Sequence[str] | None = None,
        status: UserStatus | None = None,
    ) -> User:
        fields = _user_fields(
            username=username, email=email, password=password, first_name=first_name,
            last_name=last_name, roles=roles, status=status,
        )  # fmt: skip
        return await self._data(req.user_create_request(fields), User)

    async def update(
        self,
        user_id: int | str,
        *,
        username: str,
        email: str,
        first_name: str | None = None,
        last_name: str | None = None,
        roles: Sequence[str] | None = None,
        status: UserStatus | None = None,
    ) -> User:
        fields = _user_fields(
            username=username, email=email, first_name=first_name, last_name=last_name,
            roles=roles, status=status,
        )  # fmt: skip
        return await self._data(req.user_update_request(_user_path(user_id), fields), User)

    async def delete(self, user_id: int | str) -> None:
        await self._none(RequestOptions(method="DELETE", url=_user_path(user_id)))

    async def me(self) -> User:
        return await self._data(req.get("/api/users/me/profile"), User)

    async def update_me(
        self,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> User:
        fields = _drop_none(email=email, first_name=first_name, last_name=last_name)
        return await self._data(req.profile_update_request(fields), User)


class Roles(_Sync):
    def list(self, *, limit: int | None = None) -> SyncPaginator[Role]:
        return self._paginate(
            "/api/roles", Role, req.list_params(page=None, limit=limit, sort=None, order=None)
        )

    def permissions(self) -> builtins.list[str]:
        """Every permission any role grants (``cluster:read``, ``user:create``...), sorted."""
        return sorted({p for role in self.list() for p in role.permissions})


class AsyncRoles(_Async):
    def list(self, *, limit: int | None = None) -> AsyncPaginator[Role]:
        return self._paginate(
            "/api/roles", Role, req.list_params(page=None, limit=limit, sort=None, order=None)
        )

    async def permissions(self) -> builtins.list[str]:
        return sorted({p async for role in self.list() for p in role.permissions})


# ======================================================================= metrics and alerts
class Metrics(_Sync):
    def clusters(self, cluster_id: int | str | None = None) -> list[ClusterMetrics]:
        """Current metrics of every cluster, or of one."""
        params = (
            {"cluster_id": req.path_id(cluster_id, "cluster_id")}
            if cluster_id is not None
            else None
        )
        return self._data(req.get("/api/metrics/clusters", params), list[ClusterMetrics])

    def timeseries(
        self,
        metric_name: str,
        *,
        start_time: dt.datetime,
        end_time: dt.datetime,
        resolution: Resolution | None = None,
        cluster_id: int | str | None = None,
    ) -> TimeSeries:
        """A metric over time; naive datetimes are taken as UTC."""
        opts = req.timeseries_request(metric_name, start_time, end_time, resolution, cluster_id)
        return self._data(opts, TimeSeries)


class AsyncMetrics(_Async):
    async def clusters(self, cluster_id: int | str | None = None) -> list[ClusterMetrics]:
        params = (
            {"cluster_id": req.path_id(cluster_id, "cluster_id")}
            if cluster_id is not None
            else None
        )
        return await self._data(req.get("/api/metrics/clusters", params), list[ClusterMetrics])

    async def timeseries(
        self,
        metric_name: str,
        *,
        start_time: dt.datetime,
        end_time: dt.datetime,
        resolution: Resolution | None = None,
        cluster_id: int | str | None = None,
    ) -> TimeSeries:
        opts = req.timeseries_request(metric_name, start_time, end_time, resolution, cluster_id)
        return await self._data(opts, TimeSeries)


def _ack(path: str, ident: int | str, field: str) -> RequestOptions:
    return RequestOptions(
        method="POST", url=f"{path}/{req.path_id(ident, field)}/acknowledge", idempotent=True
    )


class Alerts(_Sync):
    def list(
        self,
        *,
        severity: Severity | None = None,
        status: str | None = None,
        cluster_id: int | str | None = None,
        sort: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> SyncPaginator[Alert]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            severity=req.severity(severity), status=status, cluster_id=cluster_id,
        )  # fmt: skip
        return self._paginate("/api/alerts", Alert, params)

    def acknowledge(self, alert_id: int | str) -> Alert:
        return self._data(_ack("/api/alerts", alert_id, "alert_id"), Alert)


class AsyncAlerts(_Async):
    def list(
        self,
        *,
        severity: Severity | None = None,
        status: str | None = None,
        cluster_id: int | str | None = None,
        sort: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> AsyncPaginator[Alert]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            severity=req.severity(severity), status=status, cluster_id=cluster_id,
        )  # fmt: skip
        return self._paginate("/api/alerts", Alert, params)

    async def acknowledge(self, alert_id: int | str) -> Alert:
        return await self._data(_ack("/api/alerts", alert_id, "alert_id"), Alert)


# ======================================================================= SRE agent
class SRE(_Sync):
    def list_anomalies(
        self,
        *,
        cluster_id: int | str | None = None,
        severity: Severity | None = None,
        resolved: bool | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Anomaly]:
        params = req.list_params(
            page=None, limit=limit, sort=None, order=None,
            cluster_id=cluster_id, severity=req.severity(severity), resolved=resolved,
        )  # fmt: skip
        return self._paginate("/api/sre/anomalies", Anomaly, params)

    def get_anomaly(self, anomaly_id: int | str) -> Anomaly:
        return self._data(
            req.get(f"/api/sre/anomalies/{req.path_id(anomaly_id, 'anomaly_id')}"), Anomaly
        )

    def acknowledge_anomaly(self, anomaly_id: int | str) -> Anomaly:
        return self._data(_ack("/api/sre/anomalies", anomaly_id, "anomaly_id"), Anomaly)

    def list_recommendations(
        self,
        *,
        cluster_id: int | str | None = None,
        category: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Recommendation]:
        params = req.list_params(
            page=None, limit=limit, sort=None, order=None,
            cluster_id=cluster_id, category=category, min_confidence=req.confidence(min_confidence),
        )  # fmt: skip
        return self._paginate("/api/sre/recommendations", Recommendation, params)

    def recommendation_feedback(
        self,
        recommendation_id: int | str,
        *,
        helpful: bool,
        applied: bool | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Tell the SRE agent whether a recommendation helped."""
        return self._data(req.feedback_request(recommendation_id, helpful, applied, comment), dict)

    def list_problems(
        self,
        *,
        cluster_id: int | str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Problem]:
        params = req.list_params(
            page=None, limit=limit, sort=None, order=None, cluster_id=cluster_id, status=status
        )
        return self._paginate("/api/sre/problems", Problem, params)

    def get_problem(self, problem_id: int | str) -> Problem:
        return self._data(
            req.get(f"/api/sre/problems/{req.path_id(problem_id, 'problem_id')}"), Problem
        )


class AsyncSRE(_Async):
    def list_anomalies(
        self,
        *,
        cluster_id: int | str | None = None,
        severity: Severity | None = None,
        resolved: bool | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Anomaly]:
        params = req.list_params(
            page=None, limit=limit, sort=None, order=None,
            cluster_id=cluster_id, severity=req.severity(severity), resolved=resolved,
        )  # fmt: skip
        return self._paginate("/api/sre/anomalies", Anomaly, params)

    async def get_anomaly(self, anomaly_id: int | str) -> Anomaly:
        return await self._data(
            req.get(f"/api/sre/anomalies/{req.path_id(anomaly_id, 'anomaly_id')}"), Anomaly
        )

    async def acknowledge_anomaly(self, anomaly_id: int | str) -> Anomaly:
        return await self._data(_ack("/api/sre/anomalies", anomaly_id, "anomaly_id"), Anomaly)

    def list_recommendations(
        self,
        *,
        cluster_id: int | str | None = None,
        category: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Recommendation]:
        params = req.list_params(
            page=None, limit=limit, sort=None, order=None,
            cluster_id=cluster_id, category=category, min_confidence=req.confidence(min_confidence),
        )  # fmt: skip
        return self._paginate("/api/sre/recommendations", Recommendation, params)

    async def recommendation_feedback(
        self,
        recommendation_id: int | str,
        *,
        helpful: bool,
        applied: bool | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        return await self._data(
            req.feedback_request(recommendation_id, helpful, applied, comment), dict
        )

    def list_problems(
        self,
        *,
        cluster_id: int | str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Problem]:
        params = req.list_params(
            page=None, limit=limit, sort=None, order=None, cluster_id=cluster_id, status=status
        )
        return self._paginate("/api/sre/problems", Problem, params)

    async def get_problem(self, problem_id: int | str) -> Problem:
        return await self._data(
            req.get(f"/api/sre/problems/{req.path_id(problem_id, 'problem_id')}"), Problem
        )


# ======================================================================= webhooks
def _webhook_path(webhook_id: int | str) -> str:
    return f"/api/webhooks/{req.path_id(webhook_id, 'webhook_id')}"


class Webhooks(_Sync):
    def list(self, *, limit: int | None = None) -> SyncPaginator[Webhook]:
        return self._paginate(
            "/api/webhooks", Webhook, req.list_params(page=None, limit=limit, sort=None, order=None)
        )

    def get(self, webhook_id: int | str) -> Webhook:
        return self._data(req.get(_webhook_path(webhook_id)), Webhook)

    def create(
        self,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> Webhook:
        """Subscribe ``url`` to ``events``; deliveries are signed with ``secret``
        (check them with :func:`kubenexus_sdk.webhooks.verify_signature`)."""
        opts = req.webhook_write_request(
            "POST", "/api/webhooks", url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return self._data(opts, Webhook)

    def update(
        self,
        webhook_id: int | str,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> Webhook:
        opts = req.webhook_write_request(
            "PUT", _webhook_path(webhook_id), url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return self._data(opts, Webhook)

    def delete(self, webhook_id: int | str) -> None:
        self._none(RequestOptions(method="DELETE", url=_webhook_path(webhook_id)))


class AsyncWebhooks(_Async):
    def list(self, *, limit: int | None = None) -> AsyncPaginator[Webhook]:
        return self._paginate(
            "/api/webhooks", Webhook, req.list_params(page=None, limit=limit, sort=None, order=None)
        )

    async def get(self, webhook_id: int | str) -> Webhook:
        return await self._data(req.get(_webhook_path(webhook_id)), Webhook)

    async def create(
        self,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> Webhook:
        opts = req.webhook_write_request(
            "POST", "/api/webhooks", url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return await self._data(opts, Webhook)

    async def update(
        self,
        webhook_id: int | str,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> Webhook:
        opts = req.webhook_write_request(
            "PUT", _webhook_path(webhook_id), url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return await self._data(opts, Webhook)

    async def delete(self, webhook_id: int | str) -> None:
        await self._none(RequestOptions(method="DELETE", url=_webhook_path(webhook_id)))
