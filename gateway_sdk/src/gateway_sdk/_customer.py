"""``CustomerClient`` and ``AsyncCustomerClient``: a customer's side of the gateway.

Every method that makes one call takes the per-call options (``timeout=``,
``extra_headers=``, ``extra_query=``, ``extra_body=``) and has a twin under
``with_raw_response``; ``devices.list()`` answers its first page, fetched at
the call (sdk_core's ``SyncPage`` / ``AsyncPageRequest``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Unpack, cast

from sdk_core import (
    AsyncAPIResource,
    AsyncClientOptions,
    AsyncPageRequest,
    RequestOverrides,
    Secret,
    StaticAuth,
    SyncAPIResource,
    SyncClientOptions,
    SyncPage,
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
from ._raw import (
    AsyncCustomerClientWithRawResponse,
    AsyncDevicesWithRawResponse,
    AsyncSessionsWithRawResponse,
    CustomerClientWithRawResponse,
    DevicesWithRawResponse,
    SessionsWithRawResponse,
)
from ._requests import (
    COMMAND_PAGES,
    DEVICE_PAGES,
    SYSTEM_INFO,
    StatusFilter,
    commands_to_page,
    create_session_request,
    decide_request,
    device_status_request,
    devices_request,
    enqueue_request,
    per_call,
    provision_request,
    provisioned,
    session_commands_request,
    session_request,
    to_page,
    valid_device_id,
)
from ._ws import AsyncCustomerSubscription, CustomerSubscription

__all__ = ["AsyncCustomerClient", "CustomerClient"]


# ======================================================================= sync
class Devices(SyncAPIResource):
    _client: CustomerClient

    def list(
        self,
        *,
        status: StatusFilter = "all",
        page_size: int = 50,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Device]:
        """The first page of the customer's devices, fetched now; iterate it for
        the devices of every page, or ``.iter_pages()`` for pages."""
        return self._client.request_page(
            devices_request(status, page_size), dict,
            to_page=to_page, strategy=DEVICE_PAGES, overrides=per_call(options),
        )  # fmt: skip

    def status(self, device_id: str, **options: Unpack[RequestOverrides]) -> DeviceStatus:
        data = self._client._call(device_status_request(device_id), dict, options)
        return DeviceStatus.model_validate(data["device"])

    def provision(
        self,
        device_id: str,
        *,
        name: str | None = None,
        location: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> ProvisionedDevice:
        """Pre-provision a device; its one-time activation code is valid 24 hours."""
        return provisioned(
            self._client._call(provision_request(device_id, name, location), dict, options)
        )

    @functools.cached_property
    def with_raw_response(self) -> DevicesWithRawResponse:
        return DevicesWithRawResponse(self)


class Sessions(SyncAPIResource):
    _client: CustomerClient

    def create(
        self,
        device_id: str,
        type: SessionType = "diagnostic",
        *,
        description: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> Session:
        opts = create_session_request(device_id, type, description)
        return Session.model_validate(self._client._call(opts, dict, options)["session"])

    def get(self, session_id: str, **options: Unpack[RequestOverrides]) -> Session:
        """The session, with the first page of its commands (``commands()`` pages them all)."""
        data = self._client._call(session_request(session_id), dict, options)
        return Session.model_validate(data["session"])

    def commands(
        self, session_id: str, *, page_size: int = 50, **options: Unpack[RequestOverrides]
    ) -> SyncPage[SessionCommand]:
        """The first page of the session's commands, oldest first, fetched now;
        iterate it for the commands of every page, or ``.iter_pages()`` for pages."""
        return self._client.request_page(
            session_commands_request(session_id, page_size), dict,
            to_page=commands_to_page, strategy=COMMAND_PAGES, overrides=per_call(options),
        )  # fmt: skip

    def enqueue(
        self,
        session_id: str,
        type: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        priority: int = 0,
        **options: Unpack[RequestOverrides],
    ) -> SessionCommand:
        """Queue a command for the session's device (a remediation one waits for approval)."""
        opts = enqueue_request(session_id, type, parameters, priority)
        return SessionCommand.model_validate(self._client._call(opts, dict, options)["command"])

    def approve(
        self,
        session_id: str,
        command_id: str,
        *,
        reason: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> str:
        opts = decide_request(session_id, command_id, True, reason)
        return cast(str, self._client._call(opts, dict, options)["command"]["status"])

    def reject(
        self,
        session_id: str,
        command_id: str,
        *,
        reason: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> str:
        opts = decide_request(session_id, command_id, False, reason)
        return cast(str, self._client._call(opts, dict, options)["command"]["status"])

    @functools.cached_property
    def with_raw_response(self) -> SessionsWithRawResponse:
        return SessionsWithRawResponse(self)


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

    def system_info(self, **options: Unpack[RequestOverrides]) -> SystemInfo:
        return self._call(SYSTEM_INFO, SystemInfo, options)

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

    @functools.cached_property
    def with_raw_response(self) -> CustomerClientWithRawResponse:
        """The same calls, answering an ``APIResponse`` of what they return:
        ``client.with_raw_response.devices.status("edge-001")``."""
        return CustomerClientWithRawResponse(self)


# ======================================================================= async
class AsyncDevices(AsyncAPIResource):
    _client: AsyncCustomerClient

    def list(
        self,
        *,
        status: StatusFilter = "all",
        page_size: int = 50,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Device]:
        """``await`` it for the first page, or ``async for`` over every device."""
        return self._client.request_page(
            devices_request(status, page_size), dict,
            to_page=to_page, strategy=DEVICE_PAGES, overrides=per_call(options),
        )  # fmt: skip

    async def status(self, device_id: str, **options: Unpack[RequestOverrides]) -> DeviceStatus:
        data = await self._client._call(device_status_request(device_id), dict, options)
        return DeviceStatus.model_validate(data["device"])

    async def provision(
        self,
        device_id: str,
        *,
        name: str | None = None,
        location: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> ProvisionedDevice:
        opts = provision_request(device_id, name, location)
        return provisioned(await self._client._call(opts, dict, options))

    @functools.cached_property
    def with_raw_response(self) -> AsyncDevicesWithRawResponse:
        return AsyncDevicesWithRawResponse(self)


class AsyncSessions(AsyncAPIResource):
    _client: AsyncCustomerClient

    async def create(
        self,
        device_id: str,
        type: SessionType = "diagnostic",
        *,
        description: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> Session:
        opts = create_session_request(device_id, type, description)
        return Session.model_validate((await self._client._call(opts, dict, options))["session"])

    async def get(self, session_id: str, **options: Unpack[RequestOverrides]) -> Session:
        data = await self._client._call(session_request(session_id), dict, options)
        return Session.model_validate(data["session"])

    def commands(
        self, session_id: str, *, page_size: int = 50, **options: Unpack[RequestOverrides]
    ) -> AsyncPageRequest[SessionCommand]:
        """``await`` it for the first page, or ``async for`` over every command."""
        return self._client.request_page(
            session_commands_request(session_id, page_size), dict,
            to_page=commands_to_page, strategy=COMMAND_PAGES, overrides=per_call(options),
        )  # fmt: skip

    async def enqueue(
        self,
        session_id: str,
        type: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        priority: int = 0,
        **options: Unpack[RequestOverrides],
    ) -> SessionCommand:
        opts = enqueue_request(session_id, type, parameters, priority)
        data = await self._client._call(opts, dict, options)
        return SessionCommand.model_validate(data["command"])

    async def approve(
        self,
        session_id: str,
        command_id: str,
        *,
        reason: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> str:
        opts = decide_request(session_id, command_id, True, reason)
        return cast(str, (await self._client._call(opts, dict, options))["command"]["status"])

    async def reject(
        self,
        session_id: str,
        command_id: str,
        *,
        reason: str | None = None,
        **options: Unpack[RequestOverrides],
    ) -> str:
        opts = decide_request(session_id, command_id, False, reason)
        return cast(str, (await self._client._call(opts, dict, options))["command"]["status"])

    @functools.cached_property
    def with_raw_response(self) -> AsyncSessionsWithRawResponse:
        return AsyncSessionsWithRawResponse(self)


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

    async def system_info(self, **options: Unpack[RequestOverrides]) -> SystemInfo:
        return await self._call(SYSTEM_INFO, SystemInfo, options)

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

    @functools.cached_property
    def with_raw_response(self) -> AsyncCustomerClientWithRawResponse:
        return AsyncCustomerClientWithRawResponse(self)
