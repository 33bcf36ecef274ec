"""The base of every resource pair: one call sent, one page fetched; the
requests themselves are built by :mod:`._requests`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from sdk_core import (
    AsyncAPIResource,
    AsyncPaginator,
    RequestOptions,
    SyncAPIResource,
    SyncPaginator,
)

from . import _requests as req
from ._models import ListEnvelope

if TYPE_CHECKING:
    from ._client import AsyncComplianceClient, ComplianceClient

__all__ = ["Async", "Sync"]

M = TypeVar("M")


class Sync(SyncAPIResource):
    _client: ComplianceClient

    def _one(self, opts: RequestOptions, model: type[M]) -> M:
        return cast(M, self._client.request_raw(opts, model).parsed)

    def _none(self, opts: RequestOptions) -> None:
        self._client.request_raw(opts, None)

    def _paginate(self, path: str, model: type[M], params: dict[str, Any]) -> SyncPaginator[M]:
        def fetch(page_params: dict[str, Any]) -> Any:
            raw = self._client.request_raw(req.get(path, page_params), ListEnvelope[model])  # type: ignore[valid-type]
            return req.to_page(raw)

        return SyncPaginator(fetch, req.PAGINATION, params)


class Async(AsyncAPIResource):
    _client: AsyncComplianceClient

    async def _one(self, opts: RequestOptions, model: type[M]) -> M:
        return cast(M, (await self._client.request_raw(opts, model)).parsed)

    async def _none(self, opts: RequestOptions) -> None:
        await self._client.request_raw(opts, None)

    def _paginate(self, path: str, model: type[M], params: dict[str, Any]) -> AsyncPaginator[M]:
        async def fetch(page_params: dict[str, Any]) -> Any:
            raw = await self._client.request_raw(req.get(path, page_params), ListEnvelope[model])  # type: ignore[valid-type]
            return req.to_page(raw)

        return AsyncPaginator(fetch, req.PAGINATION, params)
