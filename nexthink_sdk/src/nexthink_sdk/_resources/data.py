"""``client.enrichment`` and ``client.data_management``: batches with per-item results."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from sdk_core import (
    AsyncAPIResource,
    MultiStatusResult,
    MutationOverrides,
    SyncAPIResource,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import DeviceDeletion, DeviceDeletionResult, Enrichment

if TYPE_CHECKING:
    from .._client import AsyncNexthinkClient, NexthinkClient

Enrichments_ = Sequence[Enrichment | Mapping[str, Any]]
Deletions = Sequence[DeviceDeletion | Mapping[str, Any] | str]


class Enrichments(SyncAPIResource):
    _client: NexthinkClient

    def set_fields(
        self, enrichments: Enrichments_, *, domain: str, **options: Unpack[MutationOverrides]
    ) -> MultiStatusResult[Enrichment]:
        """Set custom fields on 1 to 5,000 objects. 200, 207 and 400 all answer a
        :class:`MultiStatusResult`: check ``failed`` or call ``raise_for_failures()``."""
        opts, items = req.enrichment_request(enrichments, domain)
        return req.enrichment_result(self._client.request_raw(opts, object, options), items)

    @functools.cached_property
    def with_raw_response(self) -> EnrichmentsWithRawResponse:
        return EnrichmentsWithRawResponse(self)


class AsyncEnrichments(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def set_fields(
        self, enrichments: Enrichments_, *, domain: str, **options: Unpack[MutationOverrides]
    ) -> MultiStatusResult[Enrichment]:
        opts, items = req.enrichment_request(enrichments, domain)
        return req.enrichment_result(await self._client.request_raw(opts, object, options), items)

    @functools.cached_property
    def with_raw_response(self) -> AsyncEnrichmentsWithRawResponse:
        return AsyncEnrichmentsWithRawResponse(self)


class DataManagement(SyncAPIResource):
    _client: NexthinkClient

    def delete_devices(
        self, devices: Deletions, **options: Unpack[MutationOverrides]
    ) -> MultiStatusResult[DeviceDeletionResult]:
        """Schedule 1 to 10,000 devices (by uid) for removal. SCHEDULED devices
        are ``succeeded``; INVALID and FAILED ones ``failed``, though the answer is a 200."""
        opts, _ = req.deletion_request(devices)
        return req.deletion_result(self._client.request_raw(opts, object, options))

    @functools.cached_property
    def with_raw_response(self) -> DataManagementWithRawResponse:
        return DataManagementWithRawResponse(self)


class AsyncDataManagement(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def delete_devices(
        self, devices: Deletions, **options: Unpack[MutationOverrides]
    ) -> MultiStatusResult[DeviceDeletionResult]:
        opts, _ = req.deletion_request(devices)
        return req.deletion_result(await self._client.request_raw(opts, object, options))

    @functools.cached_property
    def with_raw_response(self) -> AsyncDataManagementWithRawResponse:
        return AsyncDataManagementWithRawResponse(self)


class EnrichmentsWithRawResponse:
    def __init__(self, enrichment: Enrichments) -> None:
        self.set_fields = to_raw_response_wrapper(enrichment.set_fields)


class AsyncEnrichmentsWithRawResponse:
    def __init__(self, enrichment: AsyncEnrichments) -> None:
        self.set_fields = async_to_raw_response_wrapper(enrichment.set_fields)


class DataManagementWithRawResponse:
    def __init__(self, data: DataManagement) -> None:
        self.delete_devices = to_raw_response_wrapper(data.delete_devices)


class AsyncDataManagementWithRawResponse:
    def __init__(self, data: AsyncDataManagement) -> None:
        self.delete_devices = async_to_raw_response_wrapper(data.delete_devices)
