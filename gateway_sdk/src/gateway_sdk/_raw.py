"""The typed raw views of every gateway call: ``client.with_raw_response``
(and each resource's) has the same methods, answering an ``APIResponse`` of
what the method returns (``APIResponse[Session]`` for ``sessions.get``), with
the status, headers, request id, rate limit and retries of the call.

A client's view is one of its resources (sdk_core's ``SyncAPIResource``):
bound to the client, cached on it, and dropped from a ``with_options`` copy,
which builds its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sdk_core import (
    AsyncAPIResource,
    SyncAPIResource,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

if TYPE_CHECKING:
    from ._customer import (
        AsyncCustomerClient,
        AsyncDevices,
        AsyncSessions,
        CustomerClient,
        Devices,
        Sessions,
    )
    from ._device import AsyncDeviceClient, DeviceClient
    from ._probes import AsyncProbes, SyncProbes

__all__ = [
    "AsyncCustomerClientWithRawResponse",
    "AsyncDeviceClientWithRawResponse",
    "AsyncDevicesWithRawResponse",
    "AsyncProbesWithRawResponse",
    "AsyncSessionsWithRawResponse",
    "CustomerClientWithRawResponse",
    "DeviceClientWithRawResponse",
    "DevicesWithRawResponse",
    "ProbesWithRawResponse",
    "SessionsWithRawResponse",
]


class ProbesWithRawResponse(SyncAPIResource):
    """The probes, each answering an ``APIResponse`` of what it returns."""

    def __init__(self, client: SyncProbes) -> None:
        super().__init__(client)
        self.health = to_raw_response_wrapper(client.health)
        self.readiness = to_raw_response_wrapper(client.readiness)
        self.version = to_raw_response_wrapper(client.version)


class AsyncProbesWithRawResponse(AsyncAPIResource):
    def __init__(self, client: AsyncProbes) -> None:
        super().__init__(client)
        self.health = async_to_raw_response_wrapper(client.health)
        self.readiness = async_to_raw_response_wrapper(client.readiness)
        self.version = async_to_raw_response_wrapper(client.version)


class DeviceClientWithRawResponse(ProbesWithRawResponse):
    """``device.with_raw_response.claim()`` is an ``APIResponse[list[ClaimedCommand]]``."""

    def __init__(self, client: DeviceClient) -> None:
        super().__init__(client)
        self.register = to_raw_response_wrapper(client.register)
        self.heartbeat = to_raw_response_wrapper(client.heartbeat)
        self.claim = to_raw_response_wrapper(client.claim)
        self.extend = to_raw_response_wrapper(client.extend)
        self.complete = to_raw_response_wrapper(client.complete)


class AsyncDeviceClientWithRawResponse(AsyncProbesWithRawResponse):
    def __init__(self, client: AsyncDeviceClient) -> None:
        super().__init__(client)
        self.register = async_to_raw_response_wrapper(client.register)
        self.heartbeat = async_to_raw_response_wrapper(client.heartbeat)
        self.claim = async_to_raw_response_wrapper(client.claim)
        self.extend = async_to_raw_response_wrapper(client.extend)
        self.complete = async_to_raw_response_wrapper(client.complete)


class DevicesWithRawResponse:
    def __init__(self, devices: Devices) -> None:
        self.list = to_raw_response_wrapper(devices.list)
        self.status = to_raw_response_wrapper(devices.status)
        self.provision = to_raw_response_wrapper(devices.provision)


class AsyncDevicesWithRawResponse:
    def __init__(self, devices: AsyncDevices) -> None:
        self.list = async_to_raw_response_wrapper(devices.list)
        self.status = async_to_raw_response_wrapper(devices.status)
        self.provision = async_to_raw_response_wrapper(devices.provision)


class SessionsWithRawResponse:
    def __init__(self, sessions: Sessions) -> None:
        self.create = to_raw_response_wrapper(sessions.create)
        self.get = to_raw_response_wrapper(sessions.get)
        self.commands = to_raw_response_wrapper(sessions.commands)
        self.enqueue = to_raw_response_wrapper(sessions.enqueue)
        self.approve = to_raw_response_wrapper(sessions.approve)
        self.reject = to_raw_response_wrapper(sessions.reject)


class AsyncSessionsWithRawResponse:
    def __init__(self, sessions: AsyncSessions) -> None:
        self.create = async_to_raw_response_wrapper(sessions.create)
        self.get = async_to_raw_response_wrapper(sessions.get)
        self.commands = async_to_raw_response_wrapper(sessions.commands)
        self.enqueue = async_to_raw_response_wrapper(sessions.enqueue)
        self.approve = async_to_raw_response_wrapper(sessions.approve)
        self.reject = async_to_raw_response_wrapper(sessions.reject)


class CustomerClientWithRawResponse(ProbesWithRawResponse):
    """``portal.with_raw_response.sessions.get(sid)`` is an ``APIResponse[Session]``."""

    def __init__(self, client: CustomerClient) -> None:
        super().__init__(client)
        self.devices = client.devices.with_raw_response
        self.sessions = client.sessions.with_raw_response
        self.system_info = to_raw_response_wrapper(client.system_info)


class AsyncCustomerClientWithRawResponse(AsyncProbesWithRawResponse):
    def __init__(self, client: AsyncCustomerClient) -> None:
        super().__init__(client)
        self.devices = client.devices.with_raw_response
        self.sessions = client.sessions.with_raw_response
        self.system_info = async_to_raw_response_wrapper(client.system_info)
