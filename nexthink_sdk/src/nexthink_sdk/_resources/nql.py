"""``client.nql``: execute saved queries, run exports, fetch and stream their files.

Each method builds its request with :mod:`.._requests` (validation included,
before any I/O), sends it through the client, and finishes the result there
too: only the sending and the sleeping differ between the twins.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Unpack, cast

from sdk_core import (
    NOT_GIVEN,
    AsyncAPIResource,
    AsyncStreamedAPIResponse,
    ClientClosedError,
    InputValidationError,
    MutationOverrides,
    NotGiven,
    RequestOverrides,
    StreamedAPIResponse,
    SyncAPIResource,
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)

from .. import _requests as req
from .._export import DOWNLOAD_CHUNK, ExportWaiter, ProgressCallback, results_url, storage_request
from .._models import ExportJob, ExportStatus, NqlResult, NqlResultV2, import_pandas

if TYPE_CHECKING:
    import pandas

    from .._client import AsyncNexthinkClient, NexthinkClient

Destination = str | os.PathLike[str] | IO[bytes]
Params = Mapping[str, req.NqlParam] | None


def _open_destination(destination: Destination) -> tuple[IO[bytes], bool]:
    if isinstance(destination, (str, os.PathLike)):
        return Path(destination).open("wb"), True
    if not hasattr(destination, "write"):
        raise InputValidationError("destination", "must be a path or a binary file object")
    return destination, False


def _compression(spool: IO[bytes]) -> str | None:
    """What an export file is packed with (``compressed=True`` exports), by its first bytes."""
    head = spool.read(4)
    spool.seek(0)
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"PK\x03\x04":
        return "zip"
    return None


def _read_csv(spool: IO[bytes], read_csv: dict[str, Any]) -> pandas.DataFrame:
    spool.seek(0)
    read_csv.setdefault("compression", _compression(spool))
    frame: pandas.DataFrame = import_pandas().read_csv(spool, **read_csv)
    return frame


def _check_open(client: NexthinkClient | AsyncNexthinkClient) -> None:
    if client.is_closed:
        raise ClientClosedError(
            f"{type(client).__name__} is closed: the export file was not fetched"
        )


def _given(value: Any) -> Any:
    return None if isinstance(value, NotGiven) else value


class NQL(SyncAPIResource):
    """``client.nql``: execute queries, run exports, fetch their files."""

    _client: NexthinkClient

    def execute(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> NqlResult:
        """Run a saved NQL query (v1): column ``headers`` and rows of ``data``."""
        opts = req.execute_request(1, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResult, self._client.request_raw(opts, NqlResult, options).parsed)

    def execute_v2(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> NqlResultV2:
        """Run a saved NQL query (v2): rows as objects keyed by field."""
        opts = req.execute_request(2, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResultV2, self._client.request_raw(opts, NqlResultV2, options).parsed)

    def execute_csv(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> str:
        """The v1 result as CSV text (``Accept: text/csv``)."""
        opts = req.execute_request(1, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, self._client.request_raw(opts, str, options).parsed)

    def execute_v2_csv(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> str:
        """The v2 result as CSV text (``Accept: text/csv``)."""
        opts = req.execute_request(2, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, self._client.request_raw(opts, str, options).parsed)

    def start_export(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        format: req.ExportFormat | NotGiven = NOT_GIVEN,
        compressed: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> ExportJob:
        """Start an asynchronous export of a (large) query result; ``compressed=True``
        asks for a packed file (where the tenant supports it)."""
        opts = req.export_request(query_id, parameters, _given(format), _given(compressed))
        return cast(ExportJob, self._client.request_raw(opts, ExportJob, options).parsed)

    def get_export_status(
        self, export_id: str, **options: Unpack[RequestOverrides]
    ) -> ExportStatus:
        opts = req.status_request(export_id)
        return cast(ExportStatus, self._client.request_raw(opts, ExportStatus, options).parsed)

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
        when ``timeout`` seconds pass first (``timeout`` bounds the whole wait,
        not one poll). The token is refreshed as needed however long the wait.
        """
        export_id = export_id.export_id if isinstance(export_id, ExportJob) else export_id
        clock = self._client.clock
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
            self._client.sleep(wait)

    def iter_export(
        self, source: ExportStatus | str, *, chunk_size: int = DOWNLOAD_CHUNK
    ) -> Iterator[bytes]:
        """The export file's bytes, streamed in chunks (constant memory)."""
        with self._export_file(source) as response:
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
        """A CSV export as a pandas DataFrame (needs the ``pandas`` extra); a
        compressed export is unpacked.

        The file is spooled (to disk past 64 MiB) rather than held in memory twice.
        """
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
            self.download_export(source, cast(IO[bytes], spool))
            return _read_csv(cast(IO[bytes], spool), read_csv)

    @contextlib.contextmanager
    def _export_file(self, source: ExportStatus | str) -> Iterator[StreamedAPIResponse[bytes]]:
        url = results_url(source)
        _check_open(self._client)
        storage = self._client._download_client()
        with storage.stream_request(storage_request(storage.client, url)) as response:
            yield StreamedAPIResponse(
                response, lambda r: r.content, received_at=self._client.clock.time()
            )

    @functools.cached_property
    def with_raw_response(self) -> NQLWithRawResponse:
        return NQLWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> NQLWithStreamingResponse:
        """The same calls, answering a context manager over the unread response:
        ``with client.nql.with_streaming_response.export_file(done) as response:``"""
        return NQLWithStreamingResponse(self)


class AsyncNQL(AsyncAPIResource):
    """``client.nql`` of the async client."""

    _client: AsyncNexthinkClient

    async def execute(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> NqlResult:
        opts = req.execute_request(1, query_id, parameters, csv=False, utc_times=utc_times)
        return cast(NqlResult, (await self._client.request_raw(opts, NqlResult, options)).parsed)

    async def execute_v2(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> NqlResultV2:
        opts = req.execute_request(2, query_id, parameters, csv=False, utc_times=utc_times)
        raw = await self._client.request_raw(opts, NqlResultV2, options)
        return cast(NqlResultV2, raw.parsed)

    async def execute_csv(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> str:
        opts = req.execute_request(1, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, (await self._client.request_raw(opts, str, options)).parsed)

    async def execute_v2_csv(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        utc_times: bool = False,
        **options: Unpack[RequestOverrides],
    ) -> str:
        opts = req.execute_request(2, query_id, parameters, csv=True, utc_times=utc_times)
        return cast(str, (await self._client.request_raw(opts, str, options)).parsed)

    async def start_export(
        self,
        query_id: str,
        parameters: Params = None,
        *,
        format: req.ExportFormat | NotGiven = NOT_GIVEN,
        compressed: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> ExportJob:
        opts = req.export_request(query_id, parameters, _given(format), _given(compressed))
        return cast(ExportJob, (await self._client.request_raw(opts, ExportJob, options)).parsed)

    async def get_export_status(
        self, export_id: str, **options: Unpack[RequestOverrides]
    ) -> ExportStatus:
        opts = req.status_request(export_id)
        raw = await self._client.request_raw(opts, ExportStatus, options)
        return cast(ExportStatus, raw.parsed)

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
        clock = self._client.clock
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
            await self._client.sleep(wait)

    async def iter_export(
        self, source: ExportStatus | str, *, chunk_size: int = DOWNLOAD_CHUNK
    ) -> AsyncIterator[bytes]:
        async with self._export_file(source) as response:
            async for chunk in response.iter_bytes(chunk_size):
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
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
            await self.download_export(source, cast(IO[bytes], spool))
            return _read_csv(cast(IO[bytes], spool), read_csv)

    @contextlib.asynccontextmanager
    async def _export_file(
        self, source: ExportStatus | str
    ) -> AsyncIterator[AsyncStreamedAPIResponse[bytes]]:
        url = results_url(source)
        _check_open(self._client)
        storage = self._client._download_client()
        async with storage.stream_request(storage_request(storage.client, url)) as response:
            yield AsyncStreamedAPIResponse(
                response, lambda r: r.content, received_at=self._client.clock.time()
            )

    @functools.cached_property
    def with_raw_response(self) -> AsyncNQLWithRawResponse:
        return AsyncNQLWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> AsyncNQLWithStreamingResponse:
        return AsyncNQLWithStreamingResponse(self)


class NQLWithRawResponse:
    def __init__(self, nql: NQL) -> None:
        self.execute = to_raw_response_wrapper(nql.execute)
        self.execute_v2 = to_raw_response_wrapper(nql.execute_v2)
        self.execute_csv = to_raw_response_wrapper(nql.execute_csv)
        self.execute_v2_csv = to_raw_response_wrapper(nql.execute_v2_csv)
        self.start_export = to_raw_response_wrapper(nql.start_export)
        self.get_export_status = to_raw_response_wrapper(nql.get_export_status)


class AsyncNQLWithRawResponse:
    def __init__(self, nql: AsyncNQL) -> None:
        self.execute = async_to_raw_response_wrapper(nql.execute)
        self.execute_v2 = async_to_raw_response_wrapper(nql.execute_v2)
        self.execute_csv = async_to_raw_response_wrapper(nql.execute_csv)
        self.execute_v2_csv = async_to_raw_response_wrapper(nql.execute_v2_csv)
        self.start_export = async_to_raw_response_wrapper(nql.start_export)
        self.get_export_status = async_to_raw_response_wrapper(nql.get_export_status)


class NQLWithStreamingResponse:
    """Large bodies read as they arrive: the export file first, and the CSV results."""

    def __init__(self, nql: NQL) -> None:
        self.export_file = nql._export_file
        """``with ...export_file(done) as response:`` the export file, unread:
        ``response.iter_bytes()``, ``response.headers``; closed on leaving."""
        self.execute_csv = to_streamed_response_wrapper(nql.execute_csv)
        self.execute_v2_csv = to_streamed_response_wrapper(nql.execute_v2_csv)
        self.execute = to_streamed_response_wrapper(nql.execute)
        self.execute_v2 = to_streamed_response_wrapper(nql.execute_v2)


class AsyncNQLWithStreamingResponse:
    def __init__(self, nql: AsyncNQL) -> None:
        self.export_file = nql._export_file
        self.execute_csv = async_to_streamed_response_wrapper(nql.execute_csv)
        self.execute_v2_csv = async_to_streamed_response_wrapper(nql.execute_v2_csv)
        self.execute = async_to_streamed_response_wrapper(nql.execute)
        self.execute_v2 = async_to_streamed_response_wrapper(nql.execute_v2)
