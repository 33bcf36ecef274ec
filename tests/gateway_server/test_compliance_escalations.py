"""L3 escalations against a local webhook receiver on 127.0.0.1: retried on
the server's clock until the webhook accepts one, recorded delivered once;
run out of attempts; not configured; and delivered by the background task."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.compliance_support import closed_port, running_platform
from tests.support import LocalServer

pytestmark = pytest.mark.timeout(60)


class Webhook:
    """A receiver that answers 503 to the first ``refusals`` deliveries."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.received: list[dict[str, Any]] = []

    async def receive(self, request: Request) -> Response:
        self.received.append(json.loads(await request.body()))
        if len(self.received) <= self.refusals:
            return Response("busy", status_code=503)
        return Response(status_code=204)


async def test_an_escalation_is_retried_until_the_webhook_accepts_it_and_recorded_once(
    tmp_path: Path,
) -> None:
    receiver = Webhook(refusals=2)
    server = LocalServer(Starlette(routes=[Route("/hook", receiver.receive, methods=["POST"])]))
    server.start()
    try:
        async with running_platform(
            tmp_path,
            escalation_webhook_url=f"{server.url}/hook",
            escalation_backoff_seconds=30,
            escalation_max_attempts=5,
        ) as platform:
            acme = await platform.partner("acme")
            site = await platform.site(acme)
            incident = await platform.drift(site, "PC-1", "firewall")
            r = await platform.call(
                "POST",
                "/api/escalation/notifications",
                json_body={
                    "site_id": site,
                    "incident_id": incident,
                    "subject": "Firewall",
                    "message": "Again",
                    "priority": "critical",
                },
                as_user=acme.users["operator"],
            )
            assert r.status_code == 201
            notification = r.json()
            assert r.headers["Location"] == f"/api/escalation/notifications/{notification['id']}"
            # Each step: time moves on the server's clock, then a delivery round
            # (the background task may have run it first; rounds never overlap).
            store = platform.api.escalations
            for advance, sent in ((0, 1), (29, 1), (1, 2), (59, 2), (1, 3), (3600, 3)):
                platform.clock.advance(advance)
                await store.deliver_due()
                assert len(receiver.received) == sent, (advance, sent)
            path = f"/api/escalation/notifications/{notification['id']}"
            delivery = (await platform.call("GET", path, as_user=acme.users["viewer"])).json()[
                "delivery"
            ]
            assert delivery["status"] == "delivered"
            assert delivery["attempts"] == 3
            assert [a["status_code"] for a in delivery["log"]] == [503, 503, 204]
            assert [a["error"] for a in delivery["log"]] == ["HTTP 503", "HTTP 503", None]
            assert delivery["next_attempt_at"] is None
            assert [p["attempt"] for p in receiver.received] == [1, 2, 3]
            assert {p["id"] for p in receiver.received} == {notification["id"]}
            payload = receiver.received[-1]
            assert payload["event"] == "escalation.created"
            assert payload["incident"]["id"] == incident
            assert payload["site"] == {
                "id": site,
                "name": "Riverside Clinic",
                "partner_id": acme.id,
            }
            r = await platform.call(
                "GET",
                "/api/escalation/notifications",
                params={"delivery_status": "delivered"},
                as_user=acme.users["viewer"],
            )
            assert r.json()["total"] == 1
    finally:
        server.stop()


async def test_escalations_run_out_of_attempts_or_are_not_configured(tmp_path: Path) -> None:
    async with running_platform(
        tmp_path,
        escalation_webhook_url=f"http://127.0.0.1:{closed_port()}/nothing-listens",
        escalation_backoff_seconds=1,
        escalation_max_attempts=2,
    ) as platform:
        acme = await platform.partner("acme")
        site = await platform.site(acme)
        body = {"site_id": site, "subject": "s", "message": "m"}
        r = await platform.call(
            "POST", "/api/escalation/notifications", json_body=body, as_user=acme.users["admin"]
        )
        await platform.api.escalations.deliver_due()
        platform.clock.advance(1)
        await platform.api.escalations.deliver_due()
        got = await platform.call(
            "GET", f"/api/escalation/notifications/{r.json()['id']}", as_user=acme.users["admin"]
        )
        delivery = got.json()["delivery"]
        assert delivery["status"] == "failed"
        assert delivery["attempts"] == 2
        assert all(a["status_code"] is None and a["error"] for a in delivery["log"])
    async with running_platform(tmp_path / "other") as platform:
        acme = await platform.partner("acme")
        site = await platform.site(acme)
        body = {"site_id": site, "subject": "s", "message": "m"}
        r = await platform.call(
            "POST", "/api/escalation/notifications", json_body=body, as_user=acme.users["admin"]
        )
        assert r.json()["delivery"]["status"] == "not_configured"
        assert await platform.api.escalations.deliver_due() == 0


async def test_the_background_task_delivers_on_its_own(tmp_path: Path) -> None:
    receiver = Webhook(refusals=0)
    server = LocalServer(Starlette(routes=[Route("/hook", receiver.receive, methods=["POST"])]))
    server.start()
    try:
        async with running_platform(
            tmp_path, escalation_webhook_url=f"{server.url}/hook"
        ) as platform:
            acme = await platform.partner("acme")
            site = await platform.site(acme)
            body = {"site_id": site, "subject": "s", "message": "m"}
            r = await platform.call(
                "POST", "/api/escalation/notifications", json_body=body, as_user=acme.users["admin"]
            )
            path = f"/api/escalation/notifications/{r.json()['id']}"
            for _ in range(200):  # woken by the new notification; bounded
                if (await platform.call("GET", path, as_user=acme.users["admin"])).json()[
                    "delivery"
                ]["status"] == "delivered":
                    break
                await asyncio.sleep(0.02)
            assert len(receiver.received) == 1
    finally:
        server.stop()
