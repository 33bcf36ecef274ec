"""The small types every resource method shares: ``NOT_GIVEN`` and the per-call options.

``NOT_GIVEN`` marks an argument the caller left out, so that ``None`` can mean
*send null* where an API allows it. :class:`RequestOverrides` is what every
resource method takes as ``**options`` (``timeout``, ``extra_headers``,
``extra_query``, ``extra_body``); :class:`MutationOverrides` adds
``idempotency_key`` for the calls that are not idempotent. Both are used with
``Unpack`` so IDEs and mypy show and check them in every signature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import attrs
import httpx

from ._clock import AsyncSleep, Clock, Sleep
from ._exceptions import InputValidationError
from ._retry import RetryPolicy

__all__ = [
    "NOT_GIVEN",
    "AsyncClientOptions",
    "ClientOptions",
    "SyncClientOptions",
    "CallOptions",
    "MutationOverrides",
    "NotGiven",
    "RequestOptions",
    "RequestOverrides",
    "apply_overrides",
    "no_idempotency_key",
    "strip_not_given",
]


class NotGiven:
    """Marks an option the caller left out (``None`` can be a real value)."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


class CallOptions(TypedDict, total=False):
    """What :meth:`SyncAPIClient.request` takes besides the method, URL and
    ``cast_to`` (the fields of :class:`RequestOptions` of the same names)."""

    params: Mapping[str, Any] | None
    json: Any
    content: Any
    data: Mapping[str, Any] | None
    files: Any
    headers: Mapping[str, str] | None
    timeout: httpx.Timeout | float | NotGiven | None
    idempotent: bool | None
    idempotency_key: str | None
    stream: bool
    authenticated: bool


@attrs.frozen(kw_only=True)
class RequestOptions:
    """Everything about one call, before it becomes an ``httpx.Request``."""

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: Any = None
    data: Mapping[str, Any] | None = None
    files: Any = None
    headers: Mapping[str, str] | None = None
    timeout: httpx.Timeout | float | NotGiven | None = NOT_GIVEN
    idempotent: bool | None = None
    """``True`` for a read-only POST; ``None`` follows the method."""
    idempotency_key: str | None = None
    stream: bool = False
    authenticated: bool = True
    ok_statuses: frozenset[int] = frozenset()
    """Error statuses whose body the call parses itself (a 207/400 batch result)."""


class RequestOverrides(TypedDict, total=False):
    """Per-call options of every resource method (``client.clusters.get(7, timeout=5)``)."""

    timeout: httpx.Timeout | float | None
    """This call's timeout per attempt, instead of the client's."""
    extra_headers: Mapping[str, str]
    """Headers added to (or replacing) the ones the method sends."""
    extra_query: Mapping[str, Any]
    """Query parameters added to the method's; a list pages keeps them on every page."""
    extra_body: Mapping[str, Any]
    """JSON fields merged into the method's body (for fields this SDK does not know yet)."""


class MutationOverrides(RequestOverrides, total=False):
    """:class:`RequestOverrides` of a call that is not idempotent (a POST, a PATCH)."""

    idempotency_key: str
    """Sent as ``Idempotency-Key`` (the same on every attempt); the call is then
    retried like a GET."""


_KNOWN = frozenset(MutationOverrides.__annotations__) | frozenset(RequestOverrides.__annotations__)


def no_idempotency_key(options: Mapping[str, Any], why: str) -> Mapping[str, Any]:
    """``options`` of a call to an API that does not deduplicate by
    ``Idempotency-Key``, refusing a key by name before anything is sent (``why``
    says so): with a key, a POST would be retried as if it were safe to send twice.
    Its methods take :class:`RequestOverrides`, so mypy refuses the key too."""
    if "idempotency_key" in options:
        raise InputValidationError("idempotency_key", why)
    return options


def strip_not_given(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` without the ones left at ``NOT_GIVEN`` (``None`` stays: it means null)."""
    return {k: v for k, v in fields.items() if not isinstance(v, NotGiven)}


def apply_overrides(opts: RequestOptions, overrides: Mapping[str, Any] | None) -> RequestOptions:
    """``opts`` with the per-call options applied; I/O-free.

    No overrides gives ``opts`` itself, so a plain call pays nothing.
    """
    if not overrides:
        return opts
    if not _KNOWN.issuperset(overrides):
        unknown = sorted(set(overrides) - _KNOWN)
        raise InputValidationError(
            unknown[0], "is not an argument of this call", value=overrides[unknown[0]]
        )
    current = opts
    changes: dict[str, Any] = {}
    if "timeout" in overrides:
        changes["timeout"] = overrides["timeout"]
    extra_headers = overrides.get("extra_headers")
    if extra_headers:
        changes["headers"] = {**(current.headers or {}), **extra_headers}
    extra_query = overrides.get("extra_query")
    if extra_query:
        changes["params"] = {**(current.params or {}), **extra_query}
    extra_body = overrides.get("extra_body")
    if extra_body:
        body = current.json
        if body is None:
            changes["json"] = dict(extra_body)
        elif isinstance(body, Mapping):
            changes["json"] = {**body, **extra_body}
        else:
            raise InputValidationError(
                "extra_body", "needs a call whose body is a JSON object", value=extra_body
            )
    key = overrides.get("idempotency_key")
    if key is not None:
        if not isinstance(key, str) or not key.strip():
            raise InputValidationError("idempotency_key", "must be a non-empty string", value=key)
        changes["idempotency_key"] = key
    return attrs.evolve(current, **changes) if changes else opts


class ClientOptions(TypedDict, total=False):
    """The options every client of the suite takes, to pass through as ``**options``."""

    timeout: httpx.Timeout | float | None
    max_retries: int
    deadline: float | None
    max_retry_wait: float
    retry_policy: RetryPolicy | None
    default_headers: Mapping[str, str] | None
    clock: Clock | None
    rand: Callable[[], float] | None


class SyncClientOptions(ClientOptions, total=False):
    http_client: httpx.Client | None
    sleep: Sleep | None


class AsyncClientOptions(ClientOptions, total=False):
    http_client: httpx.AsyncClient | None
    sleep: AsyncSleep | None
