"""``client.campaigns``, ``client.remote_actions`` and ``client.workflows``."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack, cast

from sdk_core import (
    AsyncAPIResource,
    MultiStatusResult,
    MutationOverrides,
    RequestOptions,
    RequestOverrides,
    SyncAPIResource,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import (
    CampaignRequest,
    DeviceRef,
    RemoteAction,
    RemoteActionRequest,
    TriggerInfo,
    UserRef,
    Workflow,
    WorkflowEventResult,
    WorkflowExecution,
)

if TYPE_CHECKING:
    from .._client import AsyncNexthinkClient, NexthinkClient

DeviceRefs = Sequence[DeviceRef | Mapping[str, Any]] | None
UserRefs = Sequence[UserRef | Mapping[str, Any]] | None

_LIST_ACTIONS = RequestOptions(method="GET", url="/api/v1/act/remote-action")
_LIST_WORKFLOWS = RequestOptions(method="GET", url="/api/v1/workflows")


def _action_details(nql_id: str) -> RequestOptions:
    return req.details_request("/api/v1/act/remote-action/details", nql_id, "nql_id")


def _workflow_details(nql_id: str) -> RequestOptions:
    return req.details_request("/api/v1/workflows/details", nql_id, "nql_id")


# ===================================================================== campaigns
class Campaigns(SyncAPIResource):
    _client: NexthinkClient

    def trigger(
        self,
        campaign_id: str,
        user_sids: Sequence[str],
        *,
        expires_in_minutes: int = 1_440,
        parameters: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> MultiStatusResult[CampaignRequest]:
        """Send a campaign to 1 to 10,000 users (by SID). Users reached are
        ``succeeded`` (with their ``request_id``); the rest ``failed``, with why."""
        opts = req.campaign_request(campaign_id, user_sids, expires_in_minutes, parameters)
        return req.campaign_result(self._client.request_raw(opts, object, options))

    @functools.cached_property
    def with_raw_response(self) -> CampaignsWithRawResponse:
        return CampaignsWithRawResponse(self)


class AsyncCampaigns(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def trigger(
        self,
        campaign_id: str,
        user_sids: Sequence[str],
        *,
        expires_in_minutes: int = 1_440,
        parameters: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> MultiStatusResult[CampaignRequest]:
        opts = req.campaign_request(campaign_id, user_sids, expires_in_minutes, parameters)
        return req.campaign_result(await self._client.request_raw(opts, object, options))

    @functools.cached_property
    def with_raw_response(self) -> AsyncCampaignsWithRawResponse:
        return AsyncCampaignsWithRawResponse(self)


# ===================================================================== remote actions
class RemoteActions(SyncAPIResource):
    _client: NexthinkClient

    def execute(
        self,
        remote_action_id: str,
        devices: Sequence[str],
        *,
        expires_in_minutes: int = 60,
        params: Mapping[str, str] | None = None,
        trigger_info: TriggerInfo | Mapping[str, Any] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> RemoteActionRequest:
        """Run a remote action on 1 to 10,000 devices (collector ids)."""
        opts = req.remote_action_request(
            remote_action_id, devices, expires_in_minutes, params, trigger_info
        )
        raw = self._client.request_raw(opts, RemoteActionRequest, options)
        return cast(RemoteActionRequest, raw.parsed)

    def list(self, **options: Unpack[RequestOverrides]) -> builtins.list[RemoteAction]:
        raw = self._client.request_raw(_LIST_ACTIONS, builtins.list[RemoteAction], options)
        return cast("list[RemoteAction]", raw.parsed)

    def details(self, nql_id: str, **options: Unpack[RequestOverrides]) -> RemoteAction:
        raw = self._client.request_raw(_action_details(nql_id), RemoteAction, options)
        return cast(RemoteAction, raw.parsed)

    @functools.cached_property
    def with_raw_response(self) -> RemoteActionsWithRawResponse:
        return RemoteActionsWithRawResponse(self)


class AsyncRemoteActions(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def execute(
        self,
        remote_action_id: str,
        devices: Sequence[str],
        *,
        expires_in_minutes: int = 60,
        params: Mapping[str, str] | None = None,
        trigger_info: TriggerInfo | Mapping[str, Any] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> RemoteActionRequest:
        opts = req.remote_action_request(
            remote_action_id, devices, expires_in_minutes, params, trigger_info
        )
        raw = await self._client.request_raw(opts, RemoteActionRequest, options)
        return cast(RemoteActionRequest, raw.parsed)

    async def list(self, **options: Unpack[RequestOverrides]) -> builtins.list[RemoteAction]:
        raw = await self._client.request_raw(_LIST_ACTIONS, builtins.list[RemoteAction], options)
        return cast("list[RemoteAction]", raw.parsed)

    async def details(self, nql_id: str, **options: Unpack[RequestOverrides]) -> RemoteAction:
        raw = await self._client.request_raw(_action_details(nql_id), RemoteAction, options)
        return cast(RemoteAction, raw.parsed)

    @functools.cached_property
    def with_raw_response(self) -> AsyncRemoteActionsWithRawResponse:
        return AsyncRemoteActionsWithRawResponse(self)


# ===================================================================== workflows
class Workflows(SyncAPIResource):
    _client: NexthinkClient

    def execute(
        self,
        workflow_id: str,
        *,
        devices: Sequence[str] | None = None,
        users: Sequence[str] | None = None,
        params: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> WorkflowExecution:
        """Run a workflow (v1, internal ids): devices by collector id, users by SID."""
        opts = req.workflow_v1_request(workflow_id, devices, users, params)
        raw = self._client.request_raw(opts, WorkflowExecution, options)
        return cast(WorkflowExecution, raw.parsed)

    def execute_v2(
        self,
        workflow_id: str,
        *,
        devices: DeviceRefs = None,
        users: UserRefs = None,
        params: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> WorkflowExecution:
        """Run a workflow (v2, external ids): devices by name, uid or collector
        uid; users by SID, uid or UPN."""
        opts = req.workflow_v2_request(workflow_id, devices, users, params)
        raw = self._client.request_raw(opts, WorkflowExecution, options)
        return cast(WorkflowExecution, raw.parsed)

    def list(self, **options: Unpack[RequestOverrides]) -> builtins.list[Workflow]:
        raw = self._client.request_raw(_LIST_WORKFLOWS, builtins.list[Workflow], options)
        return cast("list[Workflow]", raw.parsed)

    def details(self, nql_id: str, **options: Unpack[RequestOverrides]) -> Workflow:
        raw = self._client.request_raw(_workflow_details(nql_id), Workflow, options)
        return cast(Workflow, raw.parsed)

    def trigger_event(
        self,
        workflow_uuid: str,
        execution_uuid: str,
        parameters: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> WorkflowEventResult:
        """Resume an execution waiting for an external event."""
        opts = req.workflow_event_request(workflow_uuid, execution_uuid, parameters)
        raw = self._client.request_raw(opts, WorkflowEventResult, options)
        return cast(WorkflowEventResult, raw.parsed)

    @functools.cached_property
    def with_raw_response(self) -> WorkflowsWithRawResponse:
        return WorkflowsWithRawResponse(self)


class AsyncWorkflows(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def execute(
        self,
        workflow_id: str,
        *,
        devices: Sequence[str] | None = None,
        users: Sequence[str] | None = None,
        params: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> WorkflowExecution:
        opts = req.workflow_v1_request(workflow_id, devices, users, params)
        raw = await self._client.request_raw(opts, WorkflowExecution, options)
        return cast(WorkflowExecution, raw.parsed)

    async def execute_v2(
        self,
        workflow_id: str,
        *,
        devices: DeviceRefs = None,
        users: UserRefs = None,
        params: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> WorkflowExecution:
        opts = req.workflow_v2_request(workflow_id, devices, users, params)
        raw = await self._client.request_raw(opts, WorkflowExecution, options)
        return cast(WorkflowExecution, raw.parsed)

    async def list(self, **options: Unpack[RequestOverrides]) -> builtins.list[Workflow]:
        raw = await self._client.request_raw(_LIST_WORKFLOWS, builtins.list[Workflow], options)
        return cast("list[Workflow]", raw.parsed)

    async def details(self, nql_id: str, **options: Unpack[RequestOverrides]) -> Workflow:
        raw = await self._client.request_raw(_workflow_details(nql_id), Workflow, options)
        return cast(Workflow, raw.parsed)

    async def trigger_event(
        self,
        workflow_uuid: str,
        execution_uuid: str,
        parameters: Mapping[str, str] | None = None,
        **options: Unpack[MutationOverrides],
    ) -> WorkflowEventResult:
        opts = req.workflow_event_request(workflow_uuid, execution_uuid, parameters)
        raw = await self._client.request_raw(opts, WorkflowEventResult, options)
        return cast(WorkflowEventResult, raw.parsed)

    @functools.cached_property
    def with_raw_response(self) -> AsyncWorkflowsWithRawResponse:
        return AsyncWorkflowsWithRawResponse(self)


class CampaignsWithRawResponse:
    def __init__(self, campaigns: Campaigns) -> None:
        self.trigger = to_raw_response_wrapper(campaigns.trigger)


class AsyncCampaignsWithRawResponse:
    def __init__(self, campaigns: AsyncCampaigns) -> None:
        self.trigger = async_to_raw_response_wrapper(campaigns.trigger)


class RemoteActionsWithRawResponse:
    def __init__(self, actions: RemoteActions) -> None:
        self.execute = to_raw_response_wrapper(actions.execute)
        self.list = to_raw_response_wrapper(actions.list)
        self.details = to_raw_response_wrapper(actions.details)


class AsyncRemoteActionsWithRawResponse:
    def __init__(self, actions: AsyncRemoteActions) -> None:
        self.execute = async_to_raw_response_wrapper(actions.execute)
        self.list = async_to_raw_response_wrapper(actions.list)
        self.details = async_to_raw_response_wrapper(actions.details)


class WorkflowsWithRawResponse:
    def __init__(self, workflows: Workflows) -> None:
        self.execute = to_raw_response_wrapper(workflows.execute)
        self.execute_v2 = to_raw_response_wrapper(workflows.execute_v2)
        self.list = to_raw_response_wrapper(workflows.list)
        self.details = to_raw_response_wrapper(workflows.details)
        self.trigger_event = to_raw_response_wrapper(workflows.trigger_event)


class AsyncWorkflowsWithRawResponse:
    def __init__(self, workflows: AsyncWorkflows) -> None:
        self.execute = async_to_raw_response_wrapper(workflows.execute)
        self.execute_v2 = async_to_raw_response_wrapper(workflows.execute_v2)
        self.list = async_to_raw_response_wrapper(workflows.list)
        self.details = async_to_raw_response_wrapper(workflows.details)
        self.trigger_event = async_to_raw_response_wrapper(workflows.trigger_event)
