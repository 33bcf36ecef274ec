"""``client.webhooks``: subscriptions to platform events."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    MutationOverrides,
    NotGiven,
    RequestOptions,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import Order, Webhook, WebhookEvent
from ._base import AsyncResource, SyncResource


def _path(webhook_id: int | str) -> str:
    return f"/api/webhooks/{req.path_id(webhook_id, 'webhook_id')}"


class Webhooks(SyncResource):
    def list(
        self,
        *,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Webhook]:
        params = req.list_params(page=page, limit=limit, sort=sort, order=order)
        return self._list("/api/webhooks", Webhook, params, options)

    def get(self, webhook_id: int | str, **options: Unpack[RequestOverrides]) -> Webhook:
        return self._data(req.get(_path(webhook_id)), Webhook, options)

    def create(
        self,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | NotGiven = NOT_GIVEN,
        active: bool | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> Webhook:
        """Subscribe ``url`` to ``events``; deliveries are signed with ``secret``
        (check them with :func:`kubenexus_sdk.webhooks.verify_signature`)."""
        opts = req.webhook_write_request(
            "POST", "/api/webhooks", url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return self._data(opts, Webhook, options)

    def update(
        self,
        webhook_id: int | str,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | NotGiven = NOT_GIVEN,
        active: bool | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Webhook:
        opts = req.webhook_write_request(
            "PUT", _path(webhook_id), url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return self._data(opts, Webhook, options)

    def delete(self, webhook_id: int | str, **options: Unpack[RequestOverrides]) -> None:
        self._none(RequestOptions(method="DELETE", url=_path(webhook_id)), options)

    @functools.cached_property
    def with_raw_response(self) -> WebhooksWithRawResponse:
        return WebhooksWithRawResponse(self)


class AsyncWebhooks(AsyncResource):
    def list(
        self,
        *,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Webhook]:
        params = req.list_params(page=page, limit=limit, sort=sort, order=order)
        return self._list("/api/webhooks", Webhook, params, options)

    async def get(self, webhook_id: int | str, **options: Unpack[RequestOverrides]) -> Webhook:
        return await self._data(req.get(_path(webhook_id)), Webhook, options)

    async def create(
        self,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | NotGiven = NOT_GIVEN,
        active: bool | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> Webhook:
        opts = req.webhook_write_request(
            "POST", "/api/webhooks", url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return await self._data(opts, Webhook, options)

    async def update(
        self,
        webhook_id: int | str,
        *,
        url: str,
        events: Sequence[WebhookEvent],
        secret: str | NotGiven = NOT_GIVEN,
        active: bool | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Webhook:
        opts = req.webhook_write_request(
            "PUT", _path(webhook_id), url=url, events=events, secret=secret, active=active,
            description=description,
        )  # fmt: skip
        return await self._data(opts, Webhook, options)

    async def delete(self, webhook_id: int | str, **options: Unpack[RequestOverrides]) -> None:
        await self._none(RequestOptions(method="DELETE", url=_path(webhook_id)), options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncWebhooksWithRawResponse:
        return AsyncWebhooksWithRawResponse(self)


class WebhooksWithRawResponse:
    def __init__(self, webhooks: Webhooks) -> None:
        self.list = to_raw_response_wrapper(webhooks.list)
        self.get = to_raw_response_wrapper(webhooks.get)
        self.create = to_raw_response_wrapper(webhooks.create)
        self.update = to_raw_response_wrapper(webhooks.update)
        self.delete = to_raw_response_wrapper(webhooks.delete)


class AsyncWebhooksWithRawResponse:
    def __init__(self, webhooks: AsyncWebhooks) -> None:
        self.list = async_to_raw_response_wrapper(webhooks.list)
        self.get = async_to_raw_response_wrapper(webhooks.get)
        self.create = async_to_raw_response_wrapper(webhooks.create)
        self.update = async_to_raw_response_wrapper(webhooks.update)
        self.delete = async_to_raw_response_wrapper(webhooks.delete)
