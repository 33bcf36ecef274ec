"""The typed raw view of a whole client: ``client.with_raw_response`` has
each resource's raw view (``client.with_raw_response.incidents.get(id)`` is an
``APIResponse[IncidentDetail]``) and the session's ``me()`` and ``login()``.

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
    from ._client import AsyncComplianceClient, ComplianceClient

__all__ = ["AsyncComplianceClientWithRawResponse", "ComplianceClientWithRawResponse"]


class ComplianceClientWithRawResponse(SyncAPIResource):
    def __init__(self, client: ComplianceClient) -> None:
        super().__init__(client)
        self.me = to_raw_response_wrapper(client.me)
        self.login = to_raw_response_wrapper(client.login)
        self.sites = client.sites.with_raw_response
        self.fleet = client.fleet.with_raw_response
        self.incidents = client.incidents.with_raw_response
        self.runbooks = client.runbooks.with_raw_response
        self.learning = client.learning.with_raw_response
        self.integrations = client.integrations.with_raw_response
        self.escalations = client.escalations.with_raw_response


class AsyncComplianceClientWithRawResponse(AsyncAPIResource):
    def __init__(self, client: AsyncComplianceClient) -> None:
        super().__init__(client)
        self.me = async_to_raw_response_wrapper(client.me)
        self.login = async_to_raw_response_wrapper(client.login)
        self.sites = client.sites.with_raw_response
        self.fleet = client.fleet.with_raw_response
        self.incidents = client.incidents.with_raw_response
        self.runbooks = client.runbooks.with_raw_response
        self.learning = client.learning.with_raw_response
        self.integrations = client.integrations.with_raw_response
        self.escalations = client.escalations.with_raw_response
