"""``/api/integrations`` (OAuth connectors, the provider callback, AWS role
assumption) and ``/api/escalation`` (L3 notifications and their delivery)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .._errors import Unprocessable
from ..edge import ok
from ._parsing import body, one_of, path_uuid, query, text, unprocessable, uuid
from ._providers import CALLBACK_PATH, endpoints
from ._routing import Operation
from ._rules import ADMIN, OPERATE, READ
from ._schemas import AwsRoleBody, EscalationBody, OAuthStartBody
from ._site_routes import created
from ._views import connector_json, escalation_json, iso, page_json

if TYPE_CHECKING:
    from ._api import Compliance

__all__ = ["IntegrationRoutes"]

CALLBACK = {
    "state": text(1, 512),
    "code": text(1, 4096),
    "error": text(1, 256),
    "error_description": text(0, 2048),
}
ESCALATION_FILTERS = {
    "site_id": uuid,
    "delivery_status": one_of("pending", "delivered", "failed", "not_configured"),
}


def _absent(*loc: str) -> Unprocessable:
    return unprocessable([{"loc": list(loc), "msg": "Field required", "type": "missing"}])


class IntegrationRoutes:
    def __init__(self, api: Compliance) -> None:
        self.api = api
        self.settings = api.services.settings
        self.limit = self.settings.max_body_bytes

    def operations(self) -> list[Operation]:
        site = "/api/integrations/sites/{site_id}"
        connector = "/api/integrations/connectors/{connector_id}"
        notification = "/api/escalation/notifications/{notification_id}"
        return [
            ("GET", site, self.list_connectors),
            ("POST", site, self.start_oauth),
            ("POST", site + "/aws", self.create_aws),
            ("PUT", site + "/aws", self.set_aws_role),
            ("GET", CALLBACK_PATH, self.callback),
            ("GET", connector, self.get_connector),
            ("DELETE", connector, self.delete_connector),
            ("GET", "/api/escalation/notifications", self.list_escalations),
            ("POST", "/api/escalation/notifications", self.create_escalation),
            ("GET", notification, self.get_escalation),
        ]

    def _connector(self, row: Any) -> dict[str, Any]:
        return connector_json(row, self.settings.aws_principal_arn)

    # -- connectors -------------------------------------------------------------------------
    async def list_connectors(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        site_id = path_uuid(request, "site_id")
        q = query(request, {}, page=True)
        rows, total = await self.api.integrations.find(
            caller.partner_id, site_id, q["limit"], q["offset"]
        )
        items = [self._connector(r) for r in rows]
        return ok(request, page_json(items, total, q["limit"], q["offset"]))

    async def start_oauth(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        start = await body(request, OAuthStartBody, self.limit)
        if endpoints(self.settings, start.provider, start.account).client_id is None:
            raise unprocessable(
                [
                    {
                        "loc": ["body", "provider"],
                        "msg": f"{start.provider} is not configured on this server",
                        "type": "provider_not_configured",
                    }
                ]
            )
        url, state, expires = await self.api.integrations.start(
            caller.partner_id, site_id, caller.user_id, start.provider, start.account
        )
        answer = {
            "provider": start.provider,
            "auth_url": url,
            "state": state,
            "expires_at": iso(expires),
        }
        return ok(request, answer, 201)

    async def callback(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        q = query(request, CALLBACK)
        if "state" not in q:
            raise _absent("query", "state")
        if "code" not in q and "error" not in q:
            raise _absent("query", "code")
        row = await self.api.integrations.callback(
            caller.partner_id, caller.user_id, q["state"], q.get("code"), q.get("error")
        )
        return ok(request, self._connector(row))

    async def create_aws(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        row = await self.api.integrations.create_aws(caller.partner_id, site_id)
        return created(request, self._connector(row), f"/api/integrations/connectors/{row.id}")

    async def set_aws_role(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        site_id = path_uuid(request, "site_id")
        query(request, {})
        role = await body(request, AwsRoleBody, self.limit)
        row = await self.api.integrations.set_aws_role(caller.partner_id, site_id, role.role_arn)
        return ok(request, self._connector(row))

    async def get_connector(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        connector_id = path_uuid(request, "connector_id")
        query(request, {})
        return ok(
            request,
            self._connector(await self.api.integrations.get(caller.partner_id, connector_id)),
        )

    async def delete_connector(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, ADMIN)
        connector_id = path_uuid(request, "connector_id")
        query(request, {})
        await self.api.integrations.delete(caller.partner_id, connector_id)
        return Response(status_code=204)

    # -- escalation -------------------------------------------------------------------------
    async def list_escalations(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        q = query(request, ESCALATION_FILTERS, page=True)
        limit, offset = q.pop("limit"), q.pop("offset")
        rows, total = await self.api.escalations.find(caller.partner_id, q, limit, offset)
        return ok(request, page_json([escalation_json(r) for r in rows], total, limit, offset))

    async def create_escalation(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, OPERATE)
        query(request, {})
        new = await body(request, EscalationBody, self.limit)
        row = await self.api.escalations.create(
            caller.partner_id,
            new.site_id,
            incident_id=new.incident_id,
            priority=new.priority,
            subject=new.subject,
            message=new.message,
            created_by=caller.user_id,
        )
        return created(request, escalation_json(row), f"/api/escalation/notifications/{row.id}")

    async def get_escalation(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        notification_id = path_uuid(request, "notification_id")
        query(request, {})
        return ok(
            request,
            escalation_json(await self.api.escalations.get(caller.partner_id, notification_id)),
        )
