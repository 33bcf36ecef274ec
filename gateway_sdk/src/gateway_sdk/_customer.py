"""``CustomerClient`` and ``AsyncCustomerClient``: a customer's side of the gateway."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Unpack, cast

from sdk_core import (
    AsyncAPIClient,
    AsyncAPIResource,
    AsyncClientOptions,
    AsyncPaginator,
    InputValidationError,
    OffsetPagination,
    Page,
    RequestOptions,
    StaticAuth,
    SyncAPIClient,
    SyncAPIResource,
    SyncClientOptions,
    SyncPaginator,
)

from ._models import (
    Device,
    DeviceStatus,
    ProvisionedDevice,
    Session,
    SessionCommand,
    SessionType,
    SystemInfo,
)
from ._version import __version__
from ._ws import AsyncCustomerSubscription, CustomerSubscription

__all__ = ["AsyncCustomerClient", "CustomerClient"]

DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
PLAIN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
StatusFilter = Literal["online", "offline", "all"]


def _device_id(value: str, field: str = "device_id") -> str:
    if not isinstance(value, str) or not DEVICE_ID.match(value):
        raise InputValidationError(
            field, "must be 3 to 64 of letters, digits, '.', '_' or '-'", value=value
        )
    return value


def _plain_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not PLAIN_ID.match(value):
        raise InputValidationError(field, "must be an id", value=value)
    return value


def _list_params(status: StatusFilter, page_size: int) -> dict[str, Any]:
    if status not in ("online", "offline", "all"):
        raise InputValidationError("status", "must be online, offline or all", value=status)
    if not 1 <= page_size <= 200:
        raise InputValidationError("page_size", "must be from 1 to 200", value=page_size)
    return {"status": status, "limit": page_size}


def _to_page(data: dict[str, Any]) -> Page[Device]:
    return Page(
        [Device.model_validate(d) for d in data["devices"]], total=data.get("total"), raw=data
    )


def _provision(device_id: str, name: str | None, location: str | None) -> RequestOptions:
    body: dict[str, Any] = {"deviceId": _device_id(device_id)}
    if name is not None:
        body["name"] = name
    if location is not None:
        body["location"] = location
    return RequestOptions(method="POST", url="/api/v1/customer/devices/provision", json=body)


def _provisioned(data: dict[str, Any]) -> ProvisionedDevice:
    return ProvisionedDevice.model_validate(
        {**data["device"], "instructions": data.get("instructions")}
    )


def _create_session(
    device_id: str, session_type: SessionType, description: str | None
) -> RequestOptions:
    if session_type not in ("diagnostic", "remediation"):
        raise InputValidationError("type", "must be diagnostic or remediation", value=session_type)
    body: dict[str, Any] = {"deviceId": _device_id(device_id), "type": session_type}
    if description is not None:
        body["description"] = description
    return RequestOptions(method="POST", url="/api/v1/customer/sessions", json=body)


def _enqueue(
    session_id: str, command_type: str, parameters: Mapping[str, Any] | None, priority: int
) -> RequestOptions:
    if not isinstance(command_type, str) or not re.fullmatch(
        r"[A-Za-z0-9_.:-]{1,100}", command_type
    ):
        raise InputValidationError(
            "type", "must be 1 to 100 of letters, digits, '_', '.', ':' or '-'", value=command_type
        )
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
        raise InputValidationError("priority", "must be an integer from 0 to 100", value=priority)
    body: dict[str, Any] = {"type": command_type, "priority": priority}
    if parameters is not None:
        body["parameters"] = dict(parameters)
    sid = _plain_id(session_id, "session_id")
    return RequestOptions(method="POST", url=f"/api/v1/customer/sessions/{sid}/commands", json=body)


def _decide(session_id: str, command_id: str, approved: bool, reason: str | None) -> RequestOptions:
    body: dict[str, Any] = {"commandId": _plain_id(command_id, "command_id"), "approved": approved}
    if reason is not None:
        body["reason"] = reason
    sid = _plain_id(session_id, "session_id")
    return RequestOptions(method="POST", url=f"/api/v1/customer/sessions/{sid}/approve", json=body)


# ======================================================================= sync
class Devices(SyncAPIResource):
    _client: CustomerClient

    def list(self, *, status: StatusFilter = "all", page_size: int = 50) -> SyncPaginator[Device]:
        """Every device of the customer, fetched page by page as you iterate."""
        params = _list_params(status, page_size)

        def fetch(p: dict[str, Any]) -> Page[Device]:
            return _to_page(
                self._client.request("GET", "/api/v1/customer/devices", params=p, cast_to=dict)
            )

        return SyncPaginator(fetch, OffsetPagination(), params)

    def status(self, device_id: str) -> DeviceStatus:
        data: dict[str, Any] = self._client.request(
            "GET", f"/api/v1/customer/devices/{_device_id(device_id)}/status", cast_to=dict
        )
        return DeviceStatus.model_validate(data["device"])

    def provision(
        self, device_id: str, *, name: str | None = None, location: str | None = None
    ) -> ProvisionedDevice:
        """Pre-provision a device; its one-time activation code is valid 24 hours."""
        return _provisioned(
            self._client.request_raw(_provision(device_id, name, location), dict).parsed
        )


class Sessions(SyncAPIResource):
    _client: CustomerClient

    def create(
        self, device_id: str, type: SessionType = "diagnostic", *, description: str | None = None
    ) -> Session:
        data = self._client.request_raw(_create_session(device_id, type, description), dict).parsed
        return Session.model_validate(data["session"])

    def get(self, session_id: str) -> Session:
        data: dict[str, Any] = self._client.request(
            "GET", f"/api/v1/customer/sessions/{_plain_id(session_id, 'session_id')}", cast_to=dict
        )
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
            _enqueue(session_id, type, parameters, priority), dict
        ).parsed
        return SessionCommand.model_validate(data["command"])

    def approve(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = self._client.request_raw(_decide(session_id, command_id, True, reason), dict).parsed
        return cast(str, data["command"]["status"])

    def reject(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = self._client.request_raw(_decide(session_id, command_id, False, reason), dict).parsed
        return cast(str, data["command"]["status"])


class CustomerClient(SyncAPIClient):
    """A customer of the gateway (sync), authenticated by a bearer JWT."""

    package_name = "gateway_sdk"
    package_version = __version__

    def __init__(self, base_url: str, token: str, **options: Unpack[SyncClientOptions]) -> None:
        if not token:
            raise InputValidationError("token", "a customer JWT is required")
        self._token = token
        super().__init__(base_url=base_url, auth=StaticAuth(token), **options)

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
        ids = [_device_id(d, "device_ids") for d in device_ids]
        return CustomerSubscription(
            str(self.base_url), self._token, ids, reconnect=reconnect, max_outage=max_outage
        )


# ======================================================================= async
class AsyncDevices(AsyncAPIResource):
    _client: AsyncCustomerClient

    def list(self, *, status: StatusFilter = "all", page_size: int = 50) -> AsyncPaginator[Device]:
        params = _list_params(status, page_size)

        async def fetch(p: dict[str, Any]) -> Page[Device]:
            return _to_page(
                await self._client.request(
                    "GET", "/api/v1/customer/devices", params=p, cast_to=dict
                )
            )

        return AsyncPaginator(fetch, OffsetPagination(), params)

    async def status(self, device_id: str) -> DeviceStatus:
        data: dict[str, Any] = await self._client.request(
            "GET", f"/api/v1/customer/devices/{_device_id(device_id)}/status", cast_to=dict
        )
        return DeviceStatus.model_validate(data["device"])

    async def provision(
        self, device_id: str, *, name: str | None = None, location: str | None = None
    ) -> ProvisionedDevice:
        return _provisioned(
            (await self._client.request_raw(_provision(device_id, name, location), dict)).parsed
        )


class AsyncSessions(AsyncAPIResource):
    _client: AsyncCustomerClient

    async def create(
        self, device_id: str, type: SessionType = "diagnostic", *, description: str | None = None
    ) -> Session:
        data = (
            await self._client.request_raw(_create_session(device_id, type, description), dict)
        ).parsed
        return Session.model_validate(data["session"])

    async def get(self, session_id: str) -> Session:
        data: dict[str, Any] = await self._client.request(
            "GET", f"/api/v1/customer/sessions/{_plain_id(session_id, 'session_id')}", cast_to=dict
        )
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
            await self._client.request_raw(_enqueue(session_id, type, parameters, priority), dict)
        ).parsed
        return SessionCommand.model_validate(data["command"])

    async def approve(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = (
            await self._client.request_raw(_decide(session_id, command_id, True, reason), dict)
        ).parsed
        return cast(str, data["command"]["status"])

    async def reject(self, session_id: str, command_id: str, *, reason: str | None = None) -> str:
        data = (
            await self._client.request_raw(_decide(session_id, command_id, False, reason), dict)
        ).parsed
        return cast(str, data["command"]["status"])


class AsyncCustomerClient(AsyncAPIClient):
    """A customer of the gateway (async)."""

    package_name = "gateway_sdk"
    package_version = __version__

    def __init__(self, base_url: str, token: str, **options: Unpack[AsyncClientOptions]) -> None:
        if not token:
            raise InputValidationError("token", "a customer JWT is required")
        self._token = token
        super().__init__(base_url=base_url, auth=StaticAuth(token), **options)

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
        ids = [_device_id(d, "device_ids") for d in device_ids]
        return AsyncCustomerSubscription(
            str(self.base_url), self._token, ids, reconnect=reconnect, max_outage=max_outage
        )
