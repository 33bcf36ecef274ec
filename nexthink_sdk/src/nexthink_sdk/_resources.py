"""The resources of the Nexthink clients, in sync/async pairs.

Each method builds its request with :mod:`._requests` (validation included,
before any I/O), sends it through the client, and finishes the result there
too: only the sending and the sleeping differ between the twins.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from sdk_core import (
    AsyncAPIResource,
    InputValidationError,
    MultiStatusResult,
    RequestOptions,
    SyncAPIResource,
)

from . import _requests as req
from ._export import DOWNLOAD_CHUNK, ExportWaiter, ProgressCallback, results_url, storage_request
from ._models import (
    CampaignRequest,
    DeviceDeletion,
    DeviceDeletionResult,
    DeviceRef,
    Enrichment,
    ExportJob,
    ExportStatus,
    NqlResult,
    NqlResultV2,
    RemoteAction,
    RemoteActionRequest,
    TriggerInfo,
    UserRef,
    Workflow,
    WorkflowEventResult,
    WorkflowExecution,
    import_pandas,
)

if TYPE_CHECKING:
    import pandas

    from ._client import AsyncNexthinkClient, NexthinkClient

Destination = str | os.PathLike[str] | IO[bytes]


def _open_destination(destination: Destination) -> tuple[IO[bytes], bool]:
    if isinstance(destination, (str, os.PathLike)):
        return Path(destination).open("wb"), True
    if not hasattr(destination, "write"):
        raise InputValidationError("destination", "must be a path or a binary file object")
    return destination, False


# ===================================================================== NQL
class NQL(SyncAPIResource):
    """``client.nql``: execute queries, run exports, fetch their files."""

    _client: NexthinkClient

    def execute(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> NqlResult:
        """Run a saved NQL query (v1): column ``headers`` and rows of ``data``."""
        opts = req.execute_request(1, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResult, self._client.request_raw(opts, NqlResult).parsed)

    def execute_v2(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> NqlResultV2:
        """Run a saved NQL query (v2): rows as objects keyed by field."""
        opts = req.execute_request(2, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResultV2, self._client.request_raw(opts, NqlResultV2).parsed)

    def execute_csv(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> str:
        """The v1 result as CSV text (``Accept: text/csv``)."""
        opts = req.execute_request(1, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, self._client.request_raw(opts, str).parsed)

    def execute_v2_csv(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> str:
        """The v2 result as CSV text (``Accept: text/csv``)."""
        opts = req.execute_request(2, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, self._client.request_raw(opts, str).parsed)

    def start_export(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        format: req.ExportFormat | None = None,
        compressed: bool | None = None,
    ) -> ExportJob:
        """Start an asynchronous export of a (large) query result."""
        opts = req.export_request(query_id, parameters, format, compressed)
        return cast(ExportJob, self._client.request_raw(opts, ExportJob).parsed)

    def get_export_status(self, export_id: str) -> ExportStatus:
        opts = req.status_request(export_id)
        return cast(ExportStatus, self._client.request_raw(opts, ExportStatus).parsed)

    def wait_for_export(
        self,
        export_id: str | ExportJob,
        *,
        timeout: float = 600.0,
        poll_interval: float = 1.0,
        max_poll_interval: float = 30.0,
        on_progress: ProgressCallback | None = None,
    ) -> ExportStatus:
        """Poll until the export is COMPLETED, with exponential backoff.

        Raises :class:`ExportFailedError` on ERROR and :class:`ExportTimeoutError`
        when ``timeout`` seconds pass first. The token is refreshed as needed
        however long the wait.
        """
        export_id = export_id.export_id if isinstance(export_id, ExportJob) else export_id
        clock = self._client._clock
        waiter = ExportWaiter(
            export_id, clock.monotonic(), timeout, poll_interval, max_poll_interval
        )
        while True:
            status = self.get_export_status(export_id)
            now = clock.monotonic()
            if on_progress is not None:
                on_progress(status, now - waiter.started)
            wait = waiter.step(status, now)
            if wait is None:
                return status
            self._client._sleep(wait)

    def iter_export(
        self, source: ExportStatus | str, *, chunk_size: int = DOWNLOAD_CHUNK
    ) -> Iterator[bytes]:
        """The export file's bytes, streamed in chunks (constant memory)."""
        url = results_url(source)
        http = self._client._download_client()
        with http.stream_request(storage_request(http.client, url)) as response:
            yield from response.iter_bytes(chunk_size)

    def download_export(
        self,
        source: ExportStatus | str,
        destination: Destination,
        *,
        chunk_size: int = DOWNLOAD_CHUNK,
    ) -> int:
        """Stream the export file to a path or a binary file; returns the bytes written."""
        out, close = _open_destination(destination)
        written = 0
        try:
            for chunk in self.iter_export(source, chunk_size=chunk_size):
                out.write(chunk)
                written += len(chunk)
        finally:
            if close:
                out.close()
        return written

    def export_to_dataframe(self, source: ExportStatus | str, **read_csv: Any) -> pandas.DataFrame:
        """A CSV export as a pandas DataFrame (needs the ``pandas`` extra).

        The file is spooled (to disk past 64 MiB) rather than held in memory twice.
        """
        pd = import_pandas()
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
            self.download_export(source, cast(IO[bytes], spool))
            spool.seek(0)
            frame: pandas.DataFrame = pd.read_csv(spool, **read_csv)
        return frame


class AsyncNQL(AsyncAPIResource):
    """``client.nql`` of the async client."""

    _client: AsyncNexthinkClient

    async def execute(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> NqlResult:
        opts = req.execute_request(1, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResult, (await self._client.request_raw(opts, NqlResult)).parsed)

    async def execute_v2(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> NqlResultV2:
        opts = req.execute_request(2, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResultV2, (await self._client.request_raw(opts, NqlResultV2)).parsed)

    async def execute_csv(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> str:
        opts = req.execute_request(1, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, (await self._client.request_raw(opts, str)).parsed)

    async def execute_v2_csv(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        utc_times: bool = False,
    ) -> str:
        opts = req.execute_request(2, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, (await self._client.request_raw(opts, str)).parsed)

    async def start_export(
        self,
        query_id: str,
        parameters: Mapping[str, req.NqlParam] | None = None,
        *,
        format: req.ExportFormat | None = None,
        compressed: bool | None = None,
    ) -> ExportJob:
        opts = req.export_request(query_id, parameters, format, compressed)
        return cast(ExportJob, (await self._client.request_raw(opts, ExportJob)).parsed)

    async def get_export_status(self, export_id: str) -> ExportStatus:
        opts = req.status_request(export_id)
        return cast(ExportStatus, (await self._client.request_raw(opts, ExportStatus)).parsed)

    async def wait_for_export(
        self,
        export_id: str | ExportJob,
        *,
        timeout: float = 600.0,
        poll_interval: float = 1.0,
        max_poll_interval: float = 30.0,
        on_progress: ProgressCallback | None = None,
    ) -> ExportStatus:
        export_id = export_id.export_id if isinstance(export_id, ExportJob) else export_id
        clock = self._client._clock
        waiter = ExportWaiter(
            export_id, clock.monotonic(), timeout, poll_interval, max_poll_interval
        )
        while True:
            status = await self.get_export_status(export_id)
            now = clock.monotonic()
            if on_progress is not None:
                on_progress(status, now - waiter.started)
            wait = waiter.step(status, now)
            if wait is None:
                return status
            await self._client._sleep(wait)

    async def iter_export(
        self, source: ExportStatus | str, *, chunk_size: int = DOWNLOAD_CHUNK
    ) -> AsyncIterator[bytes]:
        url = results_url(source)
        http = self._client._download_client()
        async with http.stream_request(storage_request(http.client, url)) as response:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk

    async def download_export(
        self,
        source: ExportStatus | str,
        destination: Destination,
        *,
        chunk_size: int = DOWNLOAD_CHUNK,
    ) -> int:
        out, close = _open_destination(destination)
        written = 0
        try:
            async for chunk in self.iter_export(source, chunk_size=chunk_size):
                out.write(chunk)
                written += len(chunk)
        finally:
            if close:
                out.close()
        return written

    async def export_to_dataframe(
        self, source: ExportStatus | str, **read_csv: Any
    ) -> pandas.DataFrame:
        pd = import_pandas()
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
            await self.download_export(source, cast(IO[bytes], spool))
            spool.seek(0)
            frame: pandas.DataFrame = pd.read_csv(spool, **read_csv)
        return frame


# ===================================================================== enrichment
class Enrichments(SyncAPIResource):
    _client: NexthinkClient

    def set_fields(
        self, enrichments: Sequence[Enrichment | Mapping[str, Any]], *, domain: str
    ) -> MultiStatusResult[Enrichment]:
        """Set custom fields on 1 to 5,000 objects. 200, 207 and 400 all answer a
        :class:`MultiStatusResult`: check ``failed`` or call ``raise_for_failures()``."""
        opts, items = req.enrichment_request(enrichments, domain)
        return req.enrichment_result(self._client.request_raw(opts, object), items)


class AsyncEnrichments(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def set_fields(
        self, enrichments: Sequence[Enrichment | Mapping[str, Any]], *, domain: str
    ) -> MultiStatusResult[Enrichment]:
        opts, items = req.enrichment_request(enrichments, domain)
        return req.enrichment_result(await self._client.request_raw(opts, object), items)


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
    ) -> MultiStatusResult[CampaignRequest]:
        """Send a campaign to 1 to 10,000 users (by SID). Users reached are
        ``succeeded`` (with their ``request_id``); the rest ``failed``, with why."""
        opts = req.campaign_request(campaign_id, user_sids, expires_in_minutes, parameters)
        return req.campaign_result(self._client.request_raw(opts, object))


class AsyncCampaigns(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def trigger(
        self,
        campaign_id: str,
        user_sids: Sequence[str],
        *,
        expires_in_minutes: int = 1_440,
        parameters: Mapping[str, str] | None = None,
    ) -> MultiStatusResult[CampaignRequest]:
        opts = req.campaign_request(campaign_id, user_sids, expires_in_minutes, parameters)
        return req.campaign_result(await self._client.request_raw(opts, object))


# ===================================================================== remote actions
_LIST_ACTIONS = RequestOptions(method="GET", url="/api/v1/act/remote-action")


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
    ) -> RemoteActionRequest:
        """Run a remote action on 1 to 10,000 devices (collector ids)."""
        opts = req.remote_action_request(
            remote_action_id, devices, expires_in_minutes, params, trigger_info
        )
        return cast(RemoteActionRequest, self._client.request_raw(opts, RemoteActionRequest).parsed)

    def list(self) -> list[RemoteAction]:
        return cast(
            "list[RemoteAction]", self._client.request_raw(_LIST_ACTIONS, list[RemoteAction]).parsed
        )

    def details(self, nql_id: str) -> RemoteAction:
        opts = req.details_request("/api/v1/act/remote-action/details", nql_id, "nql_id")
        return cast(RemoteAction, self._client.request_raw(opts, RemoteAction).parsed)


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
    ) -> RemoteActionRequest:
        opts = req.remote_action_request(
            remote_action_id, devices, expires_in_minutes, params, trigger_info
        )
        raw = await self._client.request_raw(opts, RemoteActionRequest)
        return cast(RemoteActionRequest, raw.parsed)

    async def list(self) -> list[RemoteAction]:
        raw = await self._client.request_raw(_LIST_ACTIONS, list[RemoteAction])
        return cast("list[RemoteAction]", raw.parsed)

    async def details(self, nql_id: str) -> RemoteAction:
        opts = req.details_request("/api/v1/act/remote-action/details", nql_id, "nql_id")
        return cast(RemoteAction, (await self._client.request_raw(opts, RemoteAction)).parsed)


# ===================================================================== workflows
_LIST_WORKFLOWS = RequestOptions(method="GET", url="/api/v1/workflows")


class Workflows(SyncAPIResource):
    _client: NexthinkClient

    def execute(
        self,
        workflow_id: str,
        *,
        devices: Sequence[str] | None = None,
        users: Sequence[str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> WorkflowExecution:
        """Run a workflow (v1, internal ids): devices by collector id, users by SID."""
        opts = req.workflow_v1_request(workflow_id, devices, users, params)
        return cast(WorkflowExecution, self._client.request_raw(opts, WorkflowExecution).parsed)

    def execute_v2(
        self,
        workflow_id: str,
        *,
        devices: Sequence[DeviceRef | Mapping[str, Any]] | None = None,
        users: Sequence[UserRef | Mapping[str, Any]] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> WorkflowExecution:
        """Run a workflow (v2, external ids): devices by name, uid or collector
        uid; users by SID, uid or UPN."""
        opts = req.workflow_v2_request(workflow_id, devices, users, params)
        return cast(WorkflowExecution, self._client.request_raw(opts, WorkflowExecution).parsed)

    def list(self) -> list[Workflow]:
        return cast(
            "list[Workflow]", self._client.request_raw(_LIST_WORKFLOWS, list[Workflow]).parsed
        )

    def details(self, nql_id: str) -> Workflow:
        opts = req.details_request("/api/v1/workflows/details", nql_id, "nql_id")
        return cast(Workflow, self._client.request_raw(opts, Workflow).parsed)

    def trigger_event(
        self, workflow_uuid: str, execution_uuid: str, parameters: Mapping[str, str] | None = None
    ) -> WorkflowEventResult:
        """Resume an execution waiting for an external event."""
        opts = req.workflow_event_request(workflow_uuid, execution_uuid, parameters)
        return cast(WorkflowEventResult, self._client.request_raw(opts, WorkflowEventResult).parsed)


class AsyncWorkflows(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def execute(
        self,
        workflow_id: str,
        *,
        devices: Sequence[str] | None = None,
        users: Sequence[str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> WorkflowExecution:
        opts = req.workflow_v1_request(workflow_id, devices, users, params)
        return cast(
            WorkflowExecution, (await self._client.request_raw(opts, WorkflowExecution)).parsed
        )

    async def execute_v2(
        self,
        workflow_id: str,
        *,
        devices: Sequence[DeviceRef | Mapping[str, Any]] | None = None,
        users: Sequence[UserRef | Mapping[str, Any]] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> WorkflowExecution:
        opts = req.workflow_v2_request(workflow_id, devices, users, params)
        return cast(
            WorkflowExecution, (await self._client.request_raw(opts, WorkflowExecution)).parsed
        )

    async def list(self) -> list[Workflow]:
        raw = await self._client.request_raw(_LIST_WORKFLOWS, list[Workflow])
        return cast("list[Workflow]", raw.parsed)

    async def details(self, nql_id: str) -> Workflow:
        opts = req.details_request("/api/v1/workflows/details", nql_id, "nql_id")
        return cast(Workflow, (await self._client.request_raw(opts, Workflow)).parsed)

    async def trigger_event(
        self, workflow_uuid: str, execution_uuid: str, parameters: Mapping[str, str] | None = None
    ) -> WorkflowEventResult:
        opts = req.workflow_event_request(workflow_uuid, execution_uuid, parameters)
        raw = await self._client.request_raw(opts, WorkflowEventResult)
        return cast(WorkflowEventResult, raw.parsed)


# ===================================================================== data management
class DataManagement(SyncAPIResource):
    _client: NexthinkClient

    def delete_devices(
        self, devices: Sequence[DeviceDeletion | Mapping[str, Any] | str]
    ) -> MultiStatusResult[DeviceDeletionResult]:
        """Schedule 1 to 10,000 devices (by uid) for removal. SCHEDULED devices
        are ``succeeded``; INVALID and FAILED ones ``failed``, though the answer is a 200."""
        opts, _ = req.deletion_request(devices)
        return req.deletion_result(self._client.request_raw(opts, object))


class AsyncDataManagement(AsyncAPIResource):
    _client: AsyncNexthinkClient

    async def delete_devices(
        self, devices: Sequence[DeviceDeletion | Mapping[str, Any] | str]
    ) -> MultiStatusResult[DeviceDeletionResult]:
        opts, _ = req.deletion_request(devices)
        return req.deletion_result(await self._client.request_raw(opts, object))
