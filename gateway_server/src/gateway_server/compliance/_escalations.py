"""L3 escalations: recorded at once, then delivered to the configured webhook
in the background, retried with doubling backoff on the server's clock until
a 2xx accepts one or the attempts run out; every attempt is logged on the
record. Delivery is at least once: receivers deduplicate on ``id``."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import sqlalchemy as sa

from .._settings import Settings
from ..storage import Database
from . import _tables as t
from ._errors import missing
from ._rules import next_attempt
from ._sql import owned_site, page
from ._views import incident_json, iso

__all__ = ["EscalationStore"]

_e, _i = t.escalations.c, t.incidents.c


class EscalationStore:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], float],
        http: Callable[[], httpx.AsyncClient],
    ) -> None:
        self.database = database
        self.settings = settings
        self.now = clock
        self.http = http
        self.wake: asyncio.Event | None = None
        """Set by a new notification; the delivery loop makes it in its own event loop."""
        self.lock: asyncio.Lock | None = None
        """One delivery round at a time in this process (a notification is never
        sent twice at once); made with the event loop, as ``wake`` is."""

    async def find(
        self, partner_id: str, filters: Mapping[str, Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        query = sa.select(t.escalations).where(_e.partner_id == partner_id)
        if "site_id" in filters:
            query = query.where(_e.site_id == filters["site_id"])
        if "delivery_status" in filters:
            query = query.where(_e.delivery_status == filters["delivery_status"])
        async with self.database.read() as conn:
            if "site_id" in filters:
                await owned_site(conn, partner_id, filters["site_id"])
            return await page(conn, query, (_e.created_at.desc(), _e.id.desc()), limit, offset)

    async def _notification(self, conn: Any, partner_id: str, notification_id: str) -> Any:
        query = sa.select(t.escalations).where(
            _e.id == notification_id, _e.partner_id == partner_id
        )
        row = (await conn.execute(query)).first()
        if row is None:
            raise missing("notification")
        return row

    async def get(self, partner_id: str, notification_id: str) -> Any:
        async with self.database.read() as conn:
            return await self._notification(conn, partner_id, notification_id)

    async def create(
        self,
        partner_id: str,
        site_id: str,
        *,
        incident_id: str | None,
        priority: str,
        subject: str,
        message: str,
        created_by: str | None,
    ) -> Any:
        now, notification_id = self.now(), str(uuid.uuid4())
        configured = self.settings.escalation_webhook_url is not None
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            if incident_id is not None:
                query = sa.select(_i.id).where(_i.id == incident_id, _i.site_id == site_id)
                if (await conn.execute(query)).first() is None:
                    raise missing("incident")
            await conn.execute(
                sa.insert(t.escalations).values(
                    id=notification_id,
                    site_id=site_id,
                    partner_id=partner_id,
                    incident_id=incident_id,
                    priority=priority,
                    subject=subject,
                    message=message,
                    created_by=created_by,
                    created_at=now,
                    delivery_status="pending" if configured else "not_configured",
                    attempts=0,
                    next_attempt_at=now if configured else None,
                    log="[]",
                )
            )
            row = await self._notification(conn, partner_id, notification_id)
        if self.wake is not None:
            self.wake.set()
        return row

    # -- delivery ---------------------------------------------------------------------------
    async def _payload(self, row: Any) -> dict[str, Any]:
        async with self.database.read() as conn:
            site = (
                await conn.execute(sa.select(t.sites).where(t.sites.c.id == row.site_id))
            ).first()
            incident = None
            if row.incident_id is not None:
                query = sa.select(t.incidents).where(_i.id == row.incident_id)
                incident = (await conn.execute(query)).first()
        return {
            "event": "escalation.created",
            "id": row.id,
            "site": {
                "id": row.site_id,
                "name": site.name if site is not None else "",
                "partner_id": row.partner_id,
            },
            "incident": None if incident is None else incident_json(incident),
            "priority": row.priority,
            "subject": row.subject,
            "message": row.message,
            "created_at": iso(row.created_at),
            "attempt": row.attempts + 1,
        }

    async def _attempt(self, row: Any) -> None:
        url = self.settings.escalation_webhook_url
        assert url is not None
        payload = await self._payload(row)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            answer = await self.http().post(
                url, json=payload, timeout=self.settings.escalation_timeout
            )
            status = answer.status_code
            if not answer.is_success:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        now = self.now()
        attempts = row.attempts + 1
        entry = {
            "attempt": attempts,
            "attempted_at": iso(now),
            "status_code": status,
            "error": error,
            "duration_ms": int((time.perf_counter() - started) * 1000),
        }
        log = [*json.loads(row.log), entry]
        if error is None:
            values: dict[str, Any] = {"delivery_status": "delivered", "delivered_at": now}
            values["next_attempt_at"] = None
        else:
            retry = next_attempt(
                attempts,
                now,
                self.settings.escalation_backoff_seconds,
                self.settings.escalation_max_attempts,
            )
            values = {"next_attempt_at": retry}
            if retry is None:
                values["delivery_status"] = "failed"
        async with self.database.write() as conn:
            await conn.execute(
                sa.update(t.escalations)
                .where(_e.id == row.id, _e.attempts == row.attempts)
                .values(attempts=attempts, log=json.dumps(log), **values)
            )

    async def deliver_due(self) -> int:
        """Attempt every notification whose next attempt is due; how many were attempted."""
        if self.settings.escalation_webhook_url is None:
            return 0
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            return await self._deliver_due()

    async def _deliver_due(self) -> int:
        query = (
            sa.select(t.escalations)
            .where(_e.delivery_status == "pending", _e.next_attempt_at <= self.now())
            .order_by(_e.next_attempt_at)
            .limit(50)
        )
        async with self.database.read() as conn:
            due = (await conn.execute(query)).all()
        for row in due:
            await self._attempt(row)
        return len(due)

    async def next_due(self) -> float | None:
        query = sa.select(sa.func.min(_e.next_attempt_at)).where(_e.delivery_status == "pending")
        async with self.database.read() as conn:
            value = (await conn.execute(query)).scalar()
        return None if value is None else float(value)
