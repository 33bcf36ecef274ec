"""``/api/sites`` (sites and their enrollment tokens) and ``/api/fleet``
(agents and what each site adds up to)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ..edge import ok
from ._errors import missing
from ._fleet import compliance, overall_rate, rmm_summary
from ._parsing import body, one_of, path_uuid, query
from ._routing import Operation
from ._rules import ADMIN, READ
from ._schemas import EnrollmentTokenBody, SiteCreateBody, SiteUpdateBody
from ._views import agent_json, iso, page_json, site_json, token_json

if TYPE_CHECKING:
    from ._api import Compliance

__all__ = ["SiteRoutes"]

TOKEN_STATUS = one_of("active", "expired", "exhausted", "revoked")
AGENT_STATUS = one_of("online", "offline", "revoked")


def created(request: Request, answer: Any, location: str) -> Response:
    response = ok(request, answer, 201)
    response.headers["Location"] = location
    return response


class SiteRoutes:
    def __init__(self, api: Compliance) -> None:
        self.api = api
        self.limit = api.services.settings.max_body_bytes
        self.now = api.services.clock
        self.interval = api.services.settings.compliance_check_interval

    def operations(self) -> list[Operation]:
        tokens = "/api/sites/{site_id}/enrollment-tokens"
        return [
            ("GET", "/api/sites", self.list_sites),
            ("POST", "/api/sites", self.create_site),
            ("GET", "/api/sites/{site_id}", self.get_site),
            ("PUT", "/api/sites/{site_id}", self.update_site),
            ("DELETE", "/api/sites/{site_id}", self.delete_site),
            ("GET", tokens, self.list_tokens),
            ("POST", tokens, self.create_token),
            ("GET", tokens + "/{token_id}", self.get_token),
            ("POST", tokens + "/{token_id}/revoke", self.revoke_token),
            ("GET", "/api/fleet", self.fleet),
            ("GET", "/api/fleet/sites/{site_id}", self.site_fleet),
            ("GET", "/api/fleet/sites/{site_id}/agents", self.agents),
            ("GET", "/api/fleet/agents/{agent_id}", self.agent),
            ("POST", "/api/fleet/agents/{agent_id}/revoke", self.revoke_agent),
        ]

    # -- sites ------------------------------------------------------------------------------
    async def list_sites(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        q = query(request, {}, page=True)
        rows, total = await self.api.sites.find(caller.partner_id, q["limit"], q["offset"])
        return ok(request, page_json([site_json(r) for r in rows], total, q["limit"], q["offset"]))

    async def create_site(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        query(request, {})
        new = await body(request, SiteCreateBody, self.limit)
        if new.partner_id is not None and new.partner_id != caller.partner_id:
            raise missing("partner")
        row = await self.api.sites.create(caller.partner_id, new.name, new.capability_tier)
        return created(request, site_json(row), f"/api/sites/{row.id}")

    async def get_site(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        return ok(request, site_json(await self.api.sites.get(caller.partner_id, site_id)))

    async def update_site(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        change = await body(request, SiteUpdateBody, self.limit)
        row = await self.api.sites.update(
            caller.partner_id, site_id, change.name, change.capability_tier
        )
        return ok(request, site_json(row))

    async def delete_site(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        await self.api.sites.delete(caller.partner_id, site_id)
        return Response(status_code=204)

    # -- enrollment tokens ------------------------------------------------------------------
    def _token(self, row: Any) -> dict[str, Any]:
        return token_json(row, self.now(), self.api.ca.fingerprint())

    async def list_tokens(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        site_id = path_uuid(request, "site_id")
        q = query(request, {"status": TOKEN_STATUS}, page=True)
        rows, total = await self.api.sites.tokens(
            caller.partner_id, site_id, q.get("status"), q["limit"], q["offset"]
        )
        items = [self._token(r) for r in rows]
        return ok(request, page_json(items, total, q["limit"], q["offset"]))

    async def create_token(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        new = await body(request, EnrollmentTokenBody, self.limit, optional=True)
        row, token = await self.api.sites.create_token(
            caller.partner_id,
            site_id,
            created_by=caller.user_id,
            description=new.description,
            ttl=new.expires_in_seconds,
            max_uses=new.max_uses,
        )
        answer = {**self._token(row), "token": token, "ca_cert_pem": self.api.ca.cert_pem()}
        return created(request, answer, f"/api/sites/{site_id}/enrollment-tokens/{row.id}")

    async def get_token(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        site_id, token_id = path_uuid(request, "site_id"), path_uuid(request, "token_id")
        query(request, {})
        return ok(
            request, self._token(await self.api.sites.token(caller.partner_id, site_id, token_id))
        )

    async def revoke_token(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id, token_id = path_uuid(request, "site_id"), path_uuid(request, "token_id")
        query(request, {})
        row = await self.api.sites.revoke_token(caller.partner_id, site_id, token_id)
        return ok(request, self._token(row))

    # -- fleet ------------------------------------------------------------------------------
    async def fleet(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        q = query(request, {}, page=True)
        rows, total = await self.api.fleet.summaries(caller.partner_id, q["limit"], q["offset"])
        items = [
            {
                "site_id": site.id,
                "site_name": site.name,
                "agents_total": counts["live"],
                "agents_online": counts["online"],
                "last_checkin": iso(counts["last_checkin"]),
                "open_incidents": counts["open"],
                "compliance_rate": overall_rate(counts),
            }
            for site, counts in rows
        ]
        return ok(request, page_json(items, total, q["limit"], q["offset"]))

    async def site_fleet(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        site, counts, reports = await self.api.fleet.overview(caller.partner_id, site_id)
        answer = {
            "site_id": site.id,
            "site_name": site.name,
            "capability_tier": site.capability_tier,
            "agents": {
                "total": counts["live"],
                "online": counts["online"],
                "offline": counts["live"] - counts["online"],
                "revoked": counts["revoked"],
            },
            "last_checkin": iso(counts["last_checkin"]),
            "open_incidents": counts["open"],
            "compliance": compliance(counts),
            "rmm": rmm_summary(reports),
        }
        return ok(request, answer)

    async def agents(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        site_id = path_uuid(request, "site_id")
        q = query(request, {"status": AGENT_STATUS}, page=True)
        rows, total = await self.api.fleet.agents(
            caller.partner_id, site_id, q.get("status"), q["limit"], q["offset"]
        )
        now = self.now()
        items = [agent_json(r, failing, now, self.interval) for r, failing in rows]
        return ok(request, page_json(items, total, q["limit"], q["offset"]))

    async def agent(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        agent_id = path_uuid(request, "agent_id")
        query(request, {})
        row, failing = await self.api.fleet.agent(caller.partner_id, agent_id)
        return ok(request, agent_json(row, failing, self.now(), self.interval))

    async def revoke_agent(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        agent_id = path_uuid(request, "agent_id")
        query(request, {})
        row, failing = await self.api.fleet.revoke(caller.partner_id, agent_id)
        return ok(request, agent_json(row, failing, self.now(), self.interval))
