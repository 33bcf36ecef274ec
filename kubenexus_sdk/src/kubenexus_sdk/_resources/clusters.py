"""``client.clusters``: list, get, create, replace, patch, delete, health check, kubeconfig."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    InputValidationError,
    MutationOverrides,
    NotGiven,
    RequestOptions,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import Cluster, ClusterHealth, ClusterType, Order
from ._base import AsyncResource, SyncResource


def _path(cluster_id: int | str, suffix: str = "") -> str:
    return f"/api/clusters/{req.path_id(cluster_id, 'cluster_id')}{suffix}"


def _health_check(cluster_id: int | str) -> RequestOptions:
    # Read-only despite the POST: safe to send again.
    return RequestOptions(method="POST", url=_path(cluster_id, "/health-check"), idempotent=True)


def _patch(
    cluster_id: int | str, fields: dict[str, Any], options: dict[str, Any]
) -> RequestOptions:
    if "cluster_type" in options:
        raise InputValidationError(
            "cluster_type", "cannot be changed by a patch; create a new cluster"
        )
    unknown = sorted(set(options) - set(MutationOverrides.__annotations__))
    if unknown:
        raise InputValidationError(unknown[0], "is not a field a patch can change")
    return req.cluster_patch_request(_path(cluster_id), fields)


class Clusters(SyncResource):
    def list(
        self,
        *,
        status: str | NotGiven = NOT_GIVEN,
        provider: str | NotGiven = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        search: str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Cluster]:
        """The first page of clusters (``limit`` per page), fetched now; iterate it
        for the clusters of every page, or ``.iter_pages()`` for pages."""
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            status=status, provider=provider, region=region, search=search,
        )  # fmt: skip
        return self._list("/api/clusters", Cluster, params, options)

    def get(self, cluster_id: int | str, **options: Unpack[RequestOverrides]) -> Cluster:
        return self._data(req.get(_path(cluster_id)), Cluster, options)

    def create(
        self,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | NotGiven | None = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        kubeconfig: str | NotGiven = NOT_GIVEN,
        cloud_provider_id: int | str | NotGiven = NOT_GIVEN,
        tags: Mapping[str, str] | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> Cluster:
        """Add a cluster: ``on_premise`` needs ``kubeconfig``; ``eks``, ``gke`` and
        ``aks`` need ``cloud_provider_id`` (checked before sending)."""
        fields = {
            "name": name, "cluster_type": cluster_type, "description": description,
            "region": region, "kubeconfig": kubeconfig, "cloud_provider_id": cloud_provider_id,
            "tags": tags,
        }  # fmt: skip
        opts = req.cluster_write_request("POST", "/api/clusters", fields)
        return self._data(opts, Cluster, options)

    def update(
        self,
        cluster_id: int | str,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | NotGiven | None = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        kubeconfig: str | NotGiven = NOT_GIVEN,
        cloud_provider_id: int | str | NotGiven = NOT_GIVEN,
        tags: Mapping[str, str] | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Cluster:
        """Replace a cluster's definition (PUT), with the same checks as create."""
        fields = {
            "name": name, "cluster_type": cluster_type, "description": description,
            "region": region, "kubeconfig": kubeconfig, "cloud_provider_id": cloud_provider_id,
            "tags": tags,
        }  # fmt: skip
        opts = req.cluster_write_request("PUT", _path(cluster_id), fields)
        return self._data(opts, Cluster, options)

    def patch(
        self,
        cluster_id: int | str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        kubeconfig: str | NotGiven = NOT_GIVEN,
        cloud_provider_id: int | str | NotGiven = NOT_GIVEN,
        tags: Mapping[str, str] | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> Cluster:
        """Change only the fields given (PATCH); ``description=None`` clears it."""
        fields = {
            "name": name, "description": description, "region": region,
            "kubeconfig": kubeconfig, "cloud_provider_id": cloud_provider_id, "tags": tags,
        }  # fmt: skip
        opts = _patch(cluster_id, fields, dict(options))
        return self._data(opts, Cluster, options)

    def delete(self, cluster_id: int | str, **options: Unpack[RequestOverrides]) -> None:
        self._none(RequestOptions(method="DELETE", url=_path(cluster_id)), options)

    def health_check(
        self, cluster_id: int | str, **options: Unpack[RequestOverrides]
    ) -> ClusterHealth:
        return self._data(_health_check(cluster_id), ClusterHealth, options)

    def kubeconfig(self, cluster_id: int | str, **options: Unpack[RequestOverrides]) -> str:
        data = self._data(req.get(_path(cluster_id, "/kubeconfig")), dict, options)
        return str(data["kubeconfig"])

    @functools.cached_property
    def with_raw_response(self) -> ClustersWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return ClustersWithRawResponse(self)


class AsyncClusters(AsyncResource):
    def list(
        self,
        *,
        status: str | NotGiven = NOT_GIVEN,
        provider: str | NotGiven = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        search: str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Cluster]:
        """``await`` it for the first page, or ``async for`` over every cluster."""
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            status=status, provider=provider, region=region, search=search,
        )  # fmt: skip
        return self._list("/api/clusters", Cluster, params, options)

    async def get(self, cluster_id: int | str, **options: Unpack[RequestOverrides]) -> Cluster:
        return await self._data(req.get(_path(cluster_id)), Cluster, options)

    async def create(
        self,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | NotGiven | None = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        kubeconfig: str | NotGiven = NOT_GIVEN,
        cloud_provider_id: int | str | NotGiven = NOT_GIVEN,
        tags: Mapping[str, str] | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> Cluster:
        fields = {
            "name": name, "cluster_type": cluster_type, "description": description,
            "region": region, "kubeconfig": kubeconfig, "cloud_provider_id": cloud_provider_id,
            "tags": tags,
        }  # fmt: skip
        opts = req.cluster_write_request("POST", "/api/clusters", fields)
        return await self._data(opts, Cluster, options)

    async def update(
        self,
        cluster_id: int | str,
        *,
        name: str,
        cluster_type: ClusterType,
        description: str | NotGiven | None = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        kubeconfig: str | NotGiven = NOT_GIVEN,
        cloud_provider_id: int | str | NotGiven = NOT_GIVEN,
        tags: Mapping[str, str] | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Cluster:
        fields = {
            "name": name, "cluster_type": cluster_type, "description": description,
            "region": region, "kubeconfig": kubeconfig, "cloud_provider_id": cloud_provider_id,
            "tags": tags,
        }  # fmt: skip
        opts = req.cluster_write_request("PUT", _path(cluster_id), fields)
        return await self._data(opts, Cluster, options)

    async def patch(
        self,
        cluster_id: int | str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        region: str | NotGiven = NOT_GIVEN,
        kubeconfig: str | NotGiven = NOT_GIVEN,
        cloud_provider_id: int | str | NotGiven = NOT_GIVEN,
        tags: Mapping[str, str] | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> Cluster:
        fields = {
            "name": name, "description": description, "region": region,
            "kubeconfig": kubeconfig, "cloud_provider_id": cloud_provider_id, "tags": tags,
        }  # fmt: skip
        opts = _patch(cluster_id, fields, dict(options))
        return await self._data(opts, Cluster, options)

    async def delete(self, cluster_id: int | str, **options: Unpack[RequestOverrides]) -> None:
        await self._none(RequestOptions(method="DELETE", url=_path(cluster_id)), options)

    async def health_check(
        self, cluster_id: int | str, **options: Unpack[RequestOverrides]
    ) -> ClusterHealth:
        return await self._data(_health_check(cluster_id), ClusterHealth, options)

    async def kubeconfig(self, cluster_id: int | str, **options: Unpack[RequestOverrides]) -> str:
        data = await self._data(req.get(_path(cluster_id, "/kubeconfig")), dict, options)
        return str(data["kubeconfig"])

    @functools.cached_property
    def with_raw_response(self) -> AsyncClustersWithRawResponse:
        return AsyncClustersWithRawResponse(self)


class ClustersWithRawResponse:
    def __init__(self, clusters: Clusters) -> None:
        self.list = to_raw_response_wrapper(clusters.list)
        self.get = to_raw_response_wrapper(clusters.get)
        self.create = to_raw_response_wrapper(clusters.create)
        self.update = to_raw_response_wrapper(clusters.update)
        self.patch = to_raw_response_wrapper(clusters.patch)
        self.delete = to_raw_response_wrapper(clusters.delete)
        self.health_check = to_raw_response_wrapper(clusters.health_check)
        self.kubeconfig = to_raw_response_wrapper(clusters.kubeconfig)


class AsyncClustersWithRawResponse:
    def __init__(self, clusters: AsyncClusters) -> None:
        self.list = async_to_raw_response_wrapper(clusters.list)
        self.get = async_to_raw_response_wrapper(clusters.get)
        self.create = async_to_raw_response_wrapper(clusters.create)
        self.update = async_to_raw_response_wrapper(clusters.update)
        self.patch = async_to_raw_response_wrapper(clusters.patch)
        self.delete = async_to_raw_response_wrapper(clusters.delete)
        self.health_check = async_to_raw_response_wrapper(clusters.health_check)
        self.kubeconfig = async_to_raw_response_wrapper(clusters.kubeconfig)
