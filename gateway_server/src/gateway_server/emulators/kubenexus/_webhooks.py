"""Webhook deliveries: each event POSTed to the active webhooks subscribed to
it, the raw body signed with HMAC-SHA256 under the webhook's secret
(``X-KubeNexus-Signature: sha256=<hex>``), each delivery recorded.

The emulator is a local test kit: it delivers to loopback addresses only
(127.0.0.0/8, ::1, localhost) and records any other URL as not delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._store import Record, Store, iso

__all__ = ["Deliveries", "signature"]

log = logging.getLogger("gateway_server.emulators")


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Deliveries:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self.tasks: set[asyncio.Task[None]] = set()
        self.client: httpx.AsyncClient | None = None

    def emit(self, event: str, data: Record) -> None:
        """Deliver ``event`` to every webhook that wants it, in the background."""
        for hook in self.store.webhooks.rows.values():
            if hook.get("active", True) and event in hook["events"]:
                task = asyncio.get_running_loop().create_task(self._deliver(hook, event, data))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _deliver(self, hook: Record, event: str, data: Record) -> None:
        body = json.dumps(
            {
                "event": event,
                "id": f"evt_{secrets.token_hex(8)}",
                "timestamp": iso(self.clock()),
                "data": data,
            }
        ).encode()
        record: dict[str, Any] = {"event": event, "at": iso(self.clock())}
        if not loopback(hook["url"]):
            record |= {
                "delivered": False,
                "error": "not delivered: the emulator posts to loopback only",
            }
        else:
            self.client = self.client or httpx.AsyncClient(timeout=10)
            headers = {
                "Content-Type": "application/json",
                "X-KubeNexus-Event": event,
                "X-KubeNexus-Signature": signature(body, self.store.secrets[hook["id"]]),
            }
            try:
                answer = await self.client.post(hook["url"], content=body, headers=headers)
                record |= {"delivered": answer.is_success, "status_code": answer.status_code}
            except httpx.HTTPError as exc:
                record |= {"delivered": False, "error": f"{type(exc).__name__}: {exc}"}
        hook.setdefault("deliveries", []).append(record)
        del hook["deliveries"][:-20]  # the last twenty

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self.client is not None:
            await self.client.aclose()
