"""The gateway's public probes, on every gateway client: ``/healthz``,
``/readyz`` and ``/version`` (no credentials sent, none fetched)."""

from __future__ import annotations

from typing import Any

from sdk_core import AsyncAPIClient, RequestOptions, SyncAPIClient

from ._models import Health, Readiness
from ._version import __version__

__all__ = ["AsyncProbes", "SyncProbes"]

HEALTH = RequestOptions(method="GET", url="/healthz", authenticated=False)
# A 503 is the answer "not ready", not an error; a probe answers now, so not retried.
READINESS = RequestOptions(
    method="GET", url="/readyz", authenticated=False, ok_statuses=frozenset({503})
)
VERSION = RequestOptions(method="GET", url="/version", authenticated=False)


def _version(data: dict[str, Any]) -> str:
    return str(data["version"])


class SyncProbes(SyncAPIClient):
    package_name = "gateway_sdk"
    package_version = __version__

    def health(self) -> Health:
        """``GET /healthz``: the gateway process is up."""
        return self.request_raw(HEALTH, Health).parsed  # type: ignore[no-any-return]

    def readiness(self) -> Readiness:
        """``GET /readyz``: ``ready`` and each dependency's check (a 503 is
        ``ready=False``, not an error; not retried)."""
        raw = self.with_options(max_retries=0).request_raw(READINESS, Readiness)
        return raw.parsed  # type: ignore[no-any-return]

    def version(self) -> str:
        """``GET /version``: the API version the gateway serves."""
        return _version(self.request_raw(VERSION, dict).parsed)


class AsyncProbes(AsyncAPIClient):
    package_name = "gateway_sdk"
    package_version = __version__

    async def health(self) -> Health:
        return (await self.request_raw(HEALTH, Health)).parsed  # type: ignore[no-any-return]

    async def readiness(self) -> Readiness:
        raw = await self.with_options(max_retries=0).request_raw(READINESS, Readiness)
        return raw.parsed  # type: ignore[no-any-return]

    async def version(self) -> str:
        return _version((await self.request_raw(VERSION, dict)).parsed)
