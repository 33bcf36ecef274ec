"""What every compliance resource shares: one call sent with the caller's
per-call options, and lists as pages fetched at the call; the requests
themselves are built by :mod:`.._requests`."""

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
from .._models import ListEnvelope

if TYPE_CHECKING:
    from .._client import AsyncComplianceClient, ComplianceClient

__all__ = ["AsyncResource", "SyncResource"]

M = TypeVar("M")


class SyncResource(SyncAPIResource):
    _client: ComplianceClient

    def _one(self, opts: RequestOptions, model: type[M], options: Mapping[str, Any]) -> M:
        return cast(M, self._client.request_raw(opts, model, req.per_call(options)).parsed)

    def _none(self, opts: RequestOptions, options: Mapping[str, Any]) -> None:
        self._client.request_raw(opts, None, req.per_call(options))

    def _list(
        self, path: str, model: type[M], params: dict[str, Any], options: Mapping[str, Any]
    ) -> SyncPage[M]:
        return self._client.request_page(
            req.get(path, params),
            ListEnvelope[model],  # type: ignore[valid-type]
            to_page=req.to_page,
            strategy=req.PAGINATION,
            overrides=req.per_call(options),
        )


class AsyncResource(AsyncAPIResource):
    _client: AsyncComplianceClient

    async def _one(self, opts: RequestOptions, model: type[M], options: Mapping[str, Any]) -> M:
        raw = await self._client.request_raw(opts, model, req.per_call(options))
        return cast(M, raw.parsed)

    async def _none(self, opts: RequestOptions, options: Mapping[str, Any]) -> None:
        await self._client.request_raw(opts, None, req.per_call(options))

    def _list(
        self, path: str, model: type[M], params: dict[str, Any], options: Mapping[str, Any]
    ) -> AsyncPageRequest[M]:
        return self._client.request_page(
            req.get(path, params),
            ListEnvelope[model],  # type: ignore[valid-type]
            to_page=req.to_page,
            strategy=req.PAGINATION,
            overrides=req.per_call(options),
        )
