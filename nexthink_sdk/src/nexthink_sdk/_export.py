"""Waiting for an export and fetching its file, I/O-free where it can be.

The file lives at a pre-signed object-storage URL outside Nexthink. It is
fetched with a plain HTTP client: no Authorization header, no Nexthink token
and none of the SDK's default headers ever go there.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

import attrs
import httpx

from sdk_core import APIConnectionError, InputValidationError, make_status_error

from ._errors import ExportFailedError, ExportTimeoutError
from ._models import ExportStatus

ProgressCallback = Callable[[ExportStatus, float], None]
"""Called after each poll with the status and the seconds waited so far."""

DOWNLOAD_CHUNK = 1 << 16


@attrs.define
class ExportWaiter:
    """Polling with exponential backoff and a deadline."""

    export_id: str
    started: float
    timeout: float
    interval: float
    max_interval: float

    def step(self, status: ExportStatus, now: float) -> float | None:
        """``None`` when COMPLETED; else the seconds to wait before the next poll.
        Raises on ERROR or when the deadline has passed."""
        if status.status == "COMPLETED":
            return None
        if status.status == "ERROR":
            raise ExportFailedError(self.export_id, status)
        left = self.timeout - (now - self.started)
        if left <= 0:
            raise ExportTimeoutError(self.export_id, self.timeout, status)
        wait = min(self.interval, left)
        self.interval = min(self.interval * 2, self.max_interval)
        return wait


def results_url(source: ExportStatus | str) -> str:
    if isinstance(source, ExportStatus):
        if source.status != "COMPLETED" or not source.results_file_url:
            raise InputValidationError(
                "source", f"the export is {source.status}, not COMPLETED with a results file"
            )
        return source.results_file_url
    if not isinstance(source, str) or not source.startswith(("https://", "http://")):
        raise InputValidationError("source", "must be a COMPLETED ExportStatus or an http(s) URL")
    return source


def storage_request(client: httpx.Client | httpx.AsyncClient, url: str) -> httpx.Request:
    """A bare GET for the storage URL, stripped of any credential header."""
    request = client.build_request("GET", url)
    for name in ("Authorization", "Proxy-Authorization", "Cookie"):
        request.headers.pop(name, None)
    return request


class Storage:
    """The plain client that fetches export files (sync)."""

    def __init__(self, client: httpx.Client, now: Callable[[], float]) -> None:
        self.client = client
        self._now = now

    @contextlib.contextmanager
    def stream_request(self, request: httpx.Request) -> Iterator[httpx.Response]:
        try:
            response = self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise APIConnectionError(f"export download failed: {exc}", request=request) from exc
        try:
            if response.is_error:
                response.read()
                raise make_status_error(response, now=self._now())
            yield response
        finally:
            response.close()


class AsyncStorage:
    """The plain client that fetches export files (async)."""

    def __init__(self, client: httpx.AsyncClient, now: Callable[[], float]) -> None:
        self.client = client
        self._now = now

    @contextlib.asynccontextmanager
    async def stream_request(self, request: httpx.Request) -> AsyncIterator[httpx.Response]:
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise APIConnectionError(f"export download failed: {exc}", request=request) from exc
        try:
            if response.is_error:
                await response.aread()
                raise make_status_error(response, now=self._now())
            yield response
        finally:
            await response.aclose()
