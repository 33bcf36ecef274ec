"""``CustomerClient`` and ``AsyncCustomerClient``: a customer's side of the gateway."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Unpack, cast

from sdk_core import (
    AsyncAPIResource,
    AsyncClientOptions,
    AsyncPaginator,
    OffsetPagination,
    Page,
    Secret,
    StaticAuth,
    SyncAPIResource,
    SyncClientOptions,
    SyncPaginator,
)

from ._config import customer_token, gateway_url
from ._models import (
    Device,
    DeviceStatus,
    ProvisionedDevice,
    Session,
    SessionCommand,
    SessionType,
    SystemInfo,
)
from ._probes import AsyncProbes, SyncProbes
from ._requests import (
    StatusFilter,
    create_session_request,
    decide_request,
    device_status_request,
    enqueue_request,
    list_params,
    provision_request,
    provisioned,
    session_request,
    to_page,
    valid_device_id,
)
from ._ws import AsyncCustomerSubscription, CustomerSubscription

__all__ = ["AsyncCustomerClient", "CustomerClient"]


# ======================================================================= sync
class Devices(SyncAPIResource):
    _client: CustomerClient

    def list(self, *, status: StatusFilter = "all", page_size: int = 50) -> SyncPaginator[Device]:
        """Every device of the customer, fetched page by page as you iterate."""
        params = list_params(status, page_size)

        def fetch(p: dict[str, Any]) -> Page[Device]:
            return to_page(
                self._client.request("GET", "/api/v1/customer/devices", params=p, cast_to=dict)
            )

        return SyncPaginator(fetch, OffsetPagination(), params)

    def status(self, device_id: str) -> DeviceStatus:
        data = self._client.request_raw(device_status_request(device_id), dict).parsed
        return DeviceStatus.model_validate(data["device"])

    def provision(
        self, device_id: str, *, name: str | None = None, location: str | None = None
    ) -> ProvisionedDevice:
        """Pre-provision a device; its one-time activation code is valid 24 hours."""
        return provisioned(
            self._client.request_raw(provision_request(device_id, name, location), dict).parsed
        )


class Sessions(SyncAPIResource):
    _client: CustomerClient

    def create(
        self, device_id: str, type: SessionType = "diagnostic", *, description: str | None = None
    ) -> Session:
        data = self._client.request_raw(
            create_session_request(device_id, type, description), dict
        ).parsed
        return Session.model_validate(data["session"])

    def get(self, session_id: str) -> Session:
        data = self._client.request_raw(session_request(session_id), dict).parsed
        return Session.model_validate(data["session"])

    def enqueue(
        self,
        session_id: str,
        type: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        priority: int = 0,
    ) -> SessionCommand:
        """Queue a command for the session's device (a remediation one waits for approval)."""
        data = self._client.request_raw(
            enqueue_request(session_id, type, parameters, priority), dict
        ).parsed
        return SessionCommand.model_validate(data["command"])

    def approve(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = self._client.request_raw(
            decide_request(session_id, command_id, True, reason), dict
        ).parsed
        return cast(str, data["command"]["status"])

    def reject(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = self._client.request_raw(
            decide_request(session_id, command_id, False, reason), dict
        ).parsed
        return cast(str, data["command"]["status"])


class CustomerClient(SyncProbes):
    """A customer of the gateway (sync), authenticated by a bearer JWT.

    ``base_url`` and ``token`` default to ``GATEWAY_BASE_URL`` and
    ``GATEWAY_TOKEN``; the token is kept as a :class:`Secret`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | Secret | None = None,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        url = gateway_url(base_url)
        self._token = customer_token(token)
        super().__init__(base_url=url, auth=StaticAuth(self._token), **options)

    @functools.cached_property
    def devices(self) -> Devices:
        return Devices(self)

    @functools.cached_property
    def sessions(self) -> Sessions:
        return Sessions(self)

    def system_info(self) -> SystemInfo:
        return self.request("GET", "/api/v1/customer/system/info", cast_to=SystemInfo)

    def subscribe(
        self,
        device_ids: Iterable[str] = (),
        *,
        reconnect: bool = False,
        max_outage: float | None = None,
    ) -> CustomerSubscription:
        """A live feed of ``device_status`` and ``command_update`` events for the
        given devices; with ``reconnect``, one that outlives a dropped connection
        (see :class:`CustomerSubscription`)."""
        ids = [valid_device_id(d, "device_ids") for d in device_ids]
        return CustomerSubscription(
            str(self.base_url), self._token.reveal(), ids, reconnect=reconnect,
            max_outage=max_outage, clock=self.clock, sleep=self.sleep,
        )  # fmt: skip


# ======================================================================= async
class AsyncDevices(AsyncAPIResource):
    _client: AsyncCustomerClient

    def list(self, *, status: StatusFilter = "all", page_size: int = 50) -> AsyncPaginator[Device]:
        params = list_params(status, page_size)

        async def fetch(p: dict[str, Any]) -> Page[Device]:
            return to_page(
                await self._client.request(
                    "GET", "/api/v1/customer/devices", params=p, cast_to=dict
                )
            )

        return AsyncPaginator(fetch, OffsetPagination(), params)

    async def status(self, device_id: str) -> DeviceStatus:
        data = (await self._client.request_raw(device_status_request(device_id), dict)).parsed
        return DeviceStatus.model_validate(data["device"])

    async def provision(
        self, device_id: str, *, name: str | None = None, location: str | None = None
    ) -> ProvisionedDevice:
        return provisioned(
            (
                await self._client.request_raw(provision_request(device_id, name, location), dict)
            ).parsed
        )


class AsyncSessions(AsyncAPIResource):
    _client: AsyncCustomerClient

    async def create(
        self, device_id: str, type: SessionType = "diagnostic", *, description: str | None = None
    ) -> Session:
        data = (
            await self._client.request_raw(
                create_session_request(device_id, type, description), dict
            )
        ).parsed
        return Session.model_validate(data["session"])

    async def get(self, session_id: str) -> Session:
        data = (await self._client.request_raw(session_request(session_id), dict)).parsed
        return Session.model_validate(data["session"])

    async def enqueue(
        self,
        session_id: str,
        type: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        priority: int = 0,
    ) -> SessionCommand:
        data = (
            await self._client.request_raw(
                enqueue_request(session_id, type, parameters, priority), dict
            )
        ).parsed
        return SessionCommand.model_validate(data["command"])

    async def approve(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = (
            await self._client.request_raw(
                decide_request(session_id, command_id, True, reason), dict
            )
        ).parsed
        return cast(str, data["command"]["status"])

    async def reject(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = (
            await self._client.request_raw(
                decide_request(session_id, command_id, False, reason), dict
            )
        ).parsed
        return cast(str, data["command"]["status"])


class AsyncCustomerClient(AsyncProbes):
    """A customer of the gateway (async): the same methods, awaited."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | Secret | None = None,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        url = gateway_url(base_url)
        self._token = customer_token(token)
        super().__init__(base_url=url, auth=StaticAuth(self._token), **options)

    @functools.cached_property
    def devices(self) -> AsyncDevices:
        return AsyncDevices(self)

    @functools.cached_property
    def sessions(self) -> AsyncSessions:
        return AsyncSessions(self)

    async def system_info(self) -> SystemInfo:
        return await self.request("GET", "/api/v1/customer/system/info", cast_to=SystemInfo)

    def subscribe(
        self,
        device_ids: Iterable[str] = (),
        *,
        reconnect: bool = False,
        max_outage: float | None = None,
    ) -> AsyncCustomerSubscription:
        ids = [valid_device_id(d, "device_ids") for d in device_ids]
        return AsyncCustomerSubscription(
            str(self.base_url), self._token.reveal(), ids, reconnect=reconnect,
            max_outage=max_outage, clock=self.clock, sleep=self.sleep,
        )  # fmt: skip
