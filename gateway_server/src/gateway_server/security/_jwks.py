"""Signing keys of a JWKS document: read from a file once, or fetched from a
URL off the event loop and cached.

A JWKS URL is someone else's server: it may be slow, down, or answer
garbage, and forged tokens arrive whatever it does. So a fetch is an
``httpx.AsyncClient`` request with a timeout (a request waiting for keys
waits at most that, every other request runs meanwhile); one fetch at a
time, shared by every token waiting for it; keys served from the cache,
and still served when they are due for a refresh that fails; a failed fetch
tried again only after a back-off (1 s, doubling to 5 minutes), however
many tokens ask; a kid the cache does not know (a rotated key) fetched
again at most every 30 s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK

__all__ = ["ASYMMETRIC", "FileKeys", "RemoteKeys", "pick_key", "signing_keys"]

log = logging.getLogger("gateway_server.jwks")

# The algorithms a published key may carry. HMAC keys ("oct") are never
# taken from a JWKS: the only HMAC key is the configured HS256 secret.
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def signing_keys(document: Any) -> dict[str, PyJWK]:
    """The signing keys of a JWKS document by kid, each with its algorithm
    fixed: the key's own ``alg``, else the one its type and curve imply (an
    RSA key RS256, a P-256 key ES256). A token is then verified with its
    key's algorithm only, never the one its header names. Keys that are not
    for signatures, HMAC keys and keys that do not parse are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("a JWKS is an object with a list of keys")
    keys: dict[str, PyJWK] = {}
    for i, data in enumerate(document["keys"]):
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            key = PyJWK(data)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if key.algorithm_name in ASYMMETRIC:
            kid = data.get("kid")
            keys[kid if isinstance(kid, str) else f"#{i}"] = key
    return keys


def pick_key(keys: dict[str, PyJWK], kid: str | None, alg: str) -> PyJWK | None:
    """The key a token's header points to: by kid; without one, the only key
    of the algorithm the header names (the key's algorithm still decides)."""
    if kid is not None:
        return keys.get(kid)
    same = [key for key in keys.values() if key.algorithm_name == alg]
    return same[0] if len(same) == 1 else None


class FileKeys:
    """The keys of a JWKS file, read once (a bad file stops the server at start)."""

    def __init__(self, path: str) -> None:
        self.keys = signing_keys(json.loads(Path(path).read_text()))

    async def find(self, kid: str | None, alg: str) -> PyJWK | None:
        return pick_key(self.keys, kid, alg)


class RemoteKeys:
    """The keys of a JWKS URL, fetched off the event loop and cached (see the module)."""

    def __init__(
        self,
        url: str,
        clock: Callable[[], float],
        *,
        timeout: float = 5.0,
        max_age: float = 300.0,
        unknown_kid_interval: float = 30.0,
        first_backoff: float = 1.0,
        max_backoff: float = 300.0,
        max_bytes: int = 1_048_576,
    ) -> None:
        self.url = url
        self.clock = clock
        self.timeout = timeout
        self.max_age = max_age
        self.unknown_kid_interval = unknown_kid_interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.max_bytes = max_bytes
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = -math.inf
        self._next_fetch = -math.inf
        self._failures = 0
        self._fetch: asyncio.Task[None] | None = None

    async def find(self, kid: str | None, alg: str) -> PyJWK | None:
        """The key for a token's header; waits (at most the timeout) only when
        the cache has none for it and a fetch may be made now."""
        now = self.clock()
        if self._keys is not None:
            key = pick_key(self._keys, kid, alg)
            if now - self._fetched_at >= self.max_age:
                self._start(now)  # due for a refresh: served from the cache meanwhile
            if key is not None:
                return key
        fetch = self._start(now)
        if fetch is None:
            return None
        await asyncio.shield(fetch)  # one token giving up does not cancel the others' fetch
        return pick_key(self._keys or {}, kid, alg)

    def _start(self, now: float) -> asyncio.Task[None] | None:
        """The fetch in flight, or a new one if one may be made now."""
        if self._fetch is not None and not self._fetch.done():
            return self._fetch
        if now < self._next_fetch:
            return None
        self._fetch = asyncio.create_task(self._refresh())
        return self._fetch

    async def _refresh(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                keys = signing_keys(json.loads(await self._download()))
            if not keys:
                raise ValueError("no usable signing key in the document")
        except Exception as exc:  # any failure of someone else's server is a failed fetch
            self._failures += 1
            wait = min(self.max_backoff, self.first_backoff * 2 ** (self._failures - 1))
            self._next_fetch = self.clock() + wait
            log.warning(
                "fetching the JWKS %s failed (%s: %s); %d cached keys kept, next try in %.0f s",
                self.url,
                type(exc).__name__,
                str(exc)[:200],
                len(self._keys or {}),
                wait,
            )
            return
        now = self.clock()
        self._keys, self._fetched_at, self._failures = keys, now, 0
        self._next_fetch = now + self.unknown_kid_interval

    async def _download(self) -> bytes:
        async with (
            httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client,
            client.stream("GET", self.url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise ValueError(f"the document is over {self.max_bytes} bytes")
            return bytes(body)
