"""Secrets that never show: not in ``repr()``, not in ``str()``, not in logs."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

import httpx

__all__ = ["REDACTED", "Secret", "redact_headers", "redact_url"]

REDACTED = "[REDACTED]"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-device-token",
        "x-auth-token",
        "x-hub-signature",
        "x-signature",
    }
)
_SECRET_WORDS = re.compile(
    r"token|secret|password|passwd|key|signature|sig$|credential|code|auth|session",
    re.IGNORECASE,
)


class Secret:
    """A string kept out of sight: ``repr`` and ``str`` show a mask.

    Use :meth:`reveal` where the value must really be sent.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        self._value = value.reveal() if isinstance(value, Secret) else value

    def reveal(self) -> str:
        return self._value

    def equals(self, other: str) -> bool:
        """Constant-time comparison with a plain string."""
        return hmac.compare_digest(self._value.encode(), other.encode())

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or bool(
        _SECRET_WORDS.search(lowered) and "rate" not in lowered
    )


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of ``headers`` with every credential-bearing value masked."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (REDACTED if is_secret_header(k) else v) for k, v in items}


def _secret_param(name: str) -> bool:
    return bool(_SECRET_WORDS.search(name)) or name.lower().startswith("x-amz-")


def redact_url(url: httpx.URL | str) -> str:
    """The URL with user info and secret-looking query values masked as a
    readable ``[REDACTED]`` (not its URL-escaped form)."""
    parsed = httpx.URL(url)
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if not parsed.query:
        return str(parsed)
    query = parsed.query.decode("ascii")
    pairs = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if eq and _secret_param(unquote(name)) else pair)
    return str(parsed.copy_with(query=None)) + "?" + "&".join(pairs)
