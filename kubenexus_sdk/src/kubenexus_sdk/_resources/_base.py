"""What every KubeNexus resource shares: the envelope unwrapped, lists as pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sdk_core import (
    AsyncAPIResource,
    AsyncPageRequest,
    RequestOptions,
    SyncAPIResource,
    SyncPage,
)

from .. import _requests as req
from .._models import Envelope, ListEnvelope

if TYPE_CHECKING:
    from .._client import AsyncKubeNexusClient, KubeNexusClient

M = TypeVar("M")


class SyncResource(SyncAPIResource):
    _client: KubeNexusClient

    def _data(self, opts: RequestOptions, model: type[M], options: Mapping[str, Any]) -> M:
        envelope = self._client.request_raw(opts, Envelope[model], options)  # type: ignore[valid-type]
        return cast(M, envelope.parsed.data)

    def _none(self, opts: RequestOptions, options: Mapping[str, Any]) -> None:
        self._client.request_raw(opts, None, options)

    def _list(
        self, path: str, model: type[M], params: dict[str, Any], options: Mapping[str, Any]
    ) -> SyncPage[M]:
        return self._client.request_page(
            req.get(path, params),
            ListEnvelope[model],  # type: ignore[valid-type]
            to_page=req.to_page,
            strategy=req.PAGINATION,
            overrides=options,
        )


class AsyncResource(AsyncAPIResource):
    _client: AsyncKubeNexusClient

    async def _data(self, opts: RequestOptions, model: type[M], options: Mapping[str, Any]) -> M:
        envelope = await self._client.request_raw(opts, Envelope[model], options)  # type: ignore[valid-type]
        return cast(M, envelope.parsed.data)

    async def _none(self, opts: RequestOptions, options: Mapping[str, Any]) -> None:
        await self._client.request_raw(opts, None, options)

    def _list(
        self, path: str, model: type[M], params: dict[str, Any], options: Mapping[str, Any]
    ) -> AsyncPageRequest[M]:
        return self._client.request_page(
            req.get(path, params),
            ListEnvelope[model],  # type: ignore[valid-type]
            to_page=req.to_page,
            strategy=req.PAGINATION,
            overrides=options,
        )
