"""The base of every gateway client: the one way its calls are sent (with the
caller's per-call options, as :func:`._requests.per_call` lets them through),
and the gateway's public probes, ``/healthz``, ``/readyz`` and ``/version``
(no credentials sent, none fetched)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, Unpack, cast

from sdk_core import (
    AsyncAPIClient,
    RequestOptions,
    RequestOverrides,
    SyncAPIClient,
)

from ._models import Health, Readiness
from ._requests import per_call
from ._version import __version__

__all__ = ["AsyncProbes", "SyncProbes"]

T = TypeVar("T")

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

    def _call(self, opts: RequestOptions, cast_to: type[T], options: Mapping[str, Any]) -> T:
        """Send ``opts`` with the caller's per-call options; the body as ``cast_to``."""
        return cast(T, self.request_raw(opts, cast_to, per_call(options)).parsed)

    def health(self, **options: Unpack[RequestOverrides]) -> Health:
        """``GET /healthz``: the gateway process is up."""
        return self._call(HEALTH, Health, options)

    def readiness(self, **options: Unpack[RequestOverrides]) -> Readiness:
        """``GET /readyz``: ``ready`` and each dependency's check (a 503 is
        ``ready=False``, not an error; not retried)."""
        return self.with_options(max_retries=0)._call(READINESS, Readiness, options)

    def version(self, **options: Unpack[RequestOverrides]) -> str:
        """``GET /version``: the API version the gateway serves."""
        return _version(self._call(VERSION, dict, options))


class AsyncProbes(AsyncAPIClient):
    package_name = "gateway_sdk"
    package_version = __version__

    async def _call(self, opts: RequestOptions, cast_to: type[T], options: Mapping[str, Any]) -> T:
        return cast(T, (await self.request_raw(opts, cast_to, per_call(options))).parsed)

    async def health(self, **options: Unpack[RequestOverrides]) -> Health:
        return await self._call(HEALTH, Health, options)

    async def readiness(self, **options: Unpack[RequestOverrides]) -> Readiness:
        return await self.with_options(max_retries=0)._call(READINESS, Readiness, options)

    async def version(self, **options: Unpack[RequestOverrides]) -> str:
        return _version(await self._call(VERSION, dict, options))
