"""``client.escalations``: L3 notifications, delivered to the configured webhook."""

from __future__ import annotations

import functools
from typing import Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    NotGiven,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import DeliveryStatus, EscalationNotification, Priority
from ._base import AsyncResource, SyncResource

__all__ = [
    "AsyncEscalations",
    "AsyncEscalationsWithRawResponse",
    "Escalations",
    "EscalationsWithRawResponse",
]

NOTIFICATIONS = "/api/escalation/notifications"


class Escalations(SyncResource):
    def list(
        self,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        delivery_status: DeliveryStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[EscalationNotification]:
        """The first page of the escalations, fetched now."""
        filters = req.escalation_filters(site_id, delivery_status)
        params = req.list_params(limit, offset, **filters)
        return self._list(NOTIFICATIONS, EscalationNotification, params, options)

    def create(
        self,
        *,
        site_id: str,
        subject: str,
        message: str,
        incident_id: str | NotGiven | None = NOT_GIVEN,
        priority: Priority | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> EscalationNotification:
        """Notify L3; delivery to the webhook goes on in the background (``.delivery``)."""
        body = req.escalation_body(site_id, subject, message, incident_id, priority)
        return self._one(req.post(NOTIFICATIONS, body), EscalationNotification, options)

    def get(
        self, notification_id: str, **options: Unpack[RequestOverrides]
    ) -> EscalationNotification:
        opts = req.get(req.path(NOTIFICATIONS, notification_id, "notification_id"))
        return self._one(opts, EscalationNotification, options)

    @functools.cached_property
    def with_raw_response(self) -> EscalationsWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return EscalationsWithRawResponse(self)


class AsyncEscalations(AsyncResource):
    def list(
        self,
        *,
        site_id: str | NotGiven | None = NOT_GIVEN,
        delivery_status: DeliveryStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[EscalationNotification]:
        filters = req.escalation_filters(site_id, delivery_status)
        params = req.list_params(limit, offset, **filters)
        return self._list(NOTIFICATIONS, EscalationNotification, params, options)

    async def create(
        self,
        *,
        site_id: str,
        subject: str,
        message: str,
        incident_id: str | NotGiven | None = NOT_GIVEN,
        priority: Priority | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> EscalationNotification:
        body = req.escalation_body(site_id, subject, message, incident_id, priority)
        return await self._one(req.post(NOTIFICATIONS, body), EscalationNotification, options)

    async def get(
        self, notification_id: str, **options: Unpack[RequestOverrides]
    ) -> EscalationNotification:
        opts = req.get(req.path(NOTIFICATIONS, notification_id, "notification_id"))
        return await self._one(opts, EscalationNotification, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncEscalationsWithRawResponse:
        return AsyncEscalationsWithRawResponse(self)


class EscalationsWithRawResponse:
    def __init__(self, escalations: Escalations) -> None:
        self.list = to_raw_response_wrapper(escalations.list)
        self.create = to_raw_response_wrapper(escalations.create)
        self.get = to_raw_response_wrapper(escalations.get)


class AsyncEscalationsWithRawResponse:
    def __init__(self, escalations: AsyncEscalations) -> None:
        self.list = async_to_raw_response_wrapper(escalations.list)
        self.create = async_to_raw_response_wrapper(escalations.create)
        self.get = async_to_raw_response_wrapper(escalations.get)
