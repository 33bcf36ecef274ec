"""Nexthink's batch endpoints over the emulated tenant: enrichment,
campaigns, remote actions, workflows and device deletions, with their
documented limits, and per-item outcomes (207) for unknown targets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..._errors import Forbidden, InvalidInput, NotFound
from ...edge import Body, JSONResponse, read_json

if TYPE_CHECKING:
    from ._api import State

__all__ = ["Batches"]

NqlId = Annotated[str, Field(pattern=r"^#[a-z0-9_]{2,255}$")]
Uuid = Annotated[
    str,
    Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
Sid = Annotated[str, Field(pattern=r"^S(-\d+){2,10}$")]
Scalar = str | int | float | bool

# Which row an enrichment's identification names: (table, field).
IDENTIFIERS = {
    "device/device/name": ("devices", "device.name"),
    "device/device/uid": ("devices", "device.uid"),
    "user/user/sid": ("users", "user.sid"),
    "user/user/upn": ("users", "user.upn"),
}


class _NameValue(Body):
    name: Annotated[str, Field(min_length=1)]
    value: Scalar


class _Enrichment(Body):
    identification: Annotated[list[_NameValue], Field(min_length=1, max_length=1)]
    fields: Annotated[list[_NameValue], Field(min_length=1)]


class _Enrich(Body):
    domain: Annotated[str, Field(min_length=1)]
    enrichments: Annotated[list[_Enrichment], Field(min_length=1, max_length=5000)]


class _Campaign(Body):
    campaignNqlId: NqlId
    userSid: Annotated[list[Sid], Field(min_length=1, max_length=10_000)]
    expiresInMinutes: Annotated[int, Field(ge=1, le=525_600)]
    parameters: Annotated[dict[str, str], Field(max_length=30)] | None = None


class _TriggerInfo(Body):
    externalSource: str | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None
    externalReference: str | None = None


class _RemoteAction(Body):
    remoteActionId: NqlId
    params: dict[str, str] | None = None
    devices: Annotated[list[Uuid], Field(min_length=1, max_length=10_000)]
    expiresInMinutes: Annotated[int, Field(ge=60, le=10_080)]
    triggerInfo: _TriggerInfo | None = None


class _WorkflowV1(Body):
    workflowId: NqlId
    devices: Annotated[list[Uuid], Field(max_length=10_000)] | None = None
    users: Annotated[list[Sid], Field(max_length=10_000)] | None = None
    params: dict[str, str] | None = None


class _DeviceRef(Body):
    name: Annotated[str, Field(min_length=1)] | None = None
    uid: Uuid | None = None
    collectorUid: Uuid | None = None


class _UserRef(Body):
    sid: Sid | None = None
    uid: Uuid | None = None
    upn: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")] | None = None


class _WorkflowV2(Body):
    workflowId: NqlId
    devices: Annotated[list[_DeviceRef], Field(max_length=10_000)] | None = None
    users: Annotated[list[_UserRef], Field(max_length=10_000)] | None = None
    params: dict[str, str] | None = None


class _Event(Body):
    parameters: dict[str, str] | None = None


class _DeviceToDelete(Body):
    uid: Uuid
    name: str | None = None


class _Deletions(Body):
    devices: Annotated[list[_DeviceToDelete], Field(min_length=1, max_length=10_000)]


def _ok(request: Request, body: Any, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status, headers=request.scope.get("nexthink.limits"))


class Batches:
    def __init__(self, state: State, seed: Mapping[str, Any]) -> None:
        self.state = state
        self.campaigns: dict[str, dict[str, Any]] = {c["id"]: c for c in seed.get("campaigns", ())}
        self.remote_actions: dict[str, dict[str, Any]] = {
            a["id"]: a for a in seed.get("remote_actions", ())
        }
        self.workflows: dict[str, dict[str, Any]] = {w["id"]: w for w in seed.get("workflows", ())}
        self.executions: dict[str, str] = {}  # execution uuid -> workflow uuid
        self.actions_requested: list[dict[str, Any]] = []

    def routes(self, authorized: Callable[[Request], str]) -> list[BaseRoute]:
        self.authorized = authorized
        return [
            Route("/api/v1/enrichment/data/fields", self.enrich, methods=["POST"]),
            Route("/api/v1/euf/campaign/trigger", self.campaign, methods=["POST"]),
            Route("/api/v1/act/execute", self.remote_action, methods=["POST"]),
            *self.catalog("/api/v1/act/remote-action", self.remote_actions, "remote action"),
            Route("/api/v1/workflows/execute", self.workflow_v1, methods=["POST"]),
            Route("/api/v2/workflows/execute", self.workflow_v2, methods=["POST"]),
            *self.catalog("/api/v1/workflows", self.workflows, "workflow"),
            Route(
                "/api/v1/workflows/workflows/{workflow}/execution/{execution}/trigger",
                self.workflow_event,
                methods=["POST"],
            ),
            Route(
                "/api/v1/data-management/device/deletions", self.delete_devices, methods=["POST"]
            ),
        ]

    async def _body(self, request: Request, model: type[Any]) -> Any:
        self.authorized(request)
        return await read_json(request, model, self.state.context.max_body_bytes)

    def _row(self, table: str, field: str, value: Any) -> dict[str, Any] | None:
        return self.state.tables.find(table, field, value)

    # -- enrichment ----------------------------------------------------------------------
    async def enrich(self, request: Request) -> Response:
        body: _Enrich = await self._body(request, _Enrich)
        failed = []
        for item in body.enrichments:
            ident = item.identification[0]
            problem, row = self._target(ident)
            bad = [f.name for f in item.fields if "/#" not in f.name]
            if problem is None and bad:
                problem = (f"Field {bad[0]} is not a custom field", "INVALID_FIELD")
            if problem is not None or row is None:
                message, code = problem or ("not found", "NOT_FOUND")
                failed.append(
                    {
                        "identification": [ident.model_dump()],
                        "errors": [{"message": message, "code": code}],
                    }
                )
                continue
            for field in item.fields:  # "device/device/#asset_tag" -> "device.#asset_tag"
                entity, _, custom = field.name.partition("/#")
                row[f"{entity.rsplit('/', 1)[-1]}.#{custom}"] = field.value
        if not failed:
            return _ok(request, {"status": "success"})
        if len(failed) == len(body.enrichments):
            return _ok(request, {"status": "error", "errors": failed}, 400)
        return _ok(request, {"status": "partial_success", "errors": failed}, 207)

    def _target(self, ident: Any) -> tuple[tuple[str, str] | None, dict[str, Any] | None]:
        where = IDENTIFIERS.get(ident.name)
        if where is None:
            return (f"Unknown identification field {ident.name}", "INVALID_IDENTIFICATION"), None
        row = self._row(*where, ident.value)
        if row is None:
            return (f"Object {ident.value} not found", "NOT_FOUND"), None
        return None, row

    # -- campaigns -----------------------------------------------------------------------
    async def campaign(self, request: Request) -> Response:
        body: _Campaign = await self._body(request, _Campaign)
        if body.campaignNqlId not in self.campaigns:
            raise NotFound(f"no campaign {body.campaignNqlId}", code="NOT_FOUND")
        answers = []
        for sid in body.userSid:
            if self._row("users", "user.sid", sid) is None:
                answers.append({"userSid": sid, "message": "User not found"})
            else:
                answers.append({"userSid": sid, "requestId": str(uuid.uuid4())})
        status = 207 if any("message" in a for a in answers) else 200
        return _ok(request, {"requests": answers}, status)

    # -- remote actions ------------------------------------------------------------------
    async def remote_action(self, request: Request) -> Response:
        body: _RemoteAction = await self._body(request, _RemoteAction)
        action = self.remote_actions.get(body.remoteActionId)
        if action is None:
            raise NotFound(f"no remote action {body.remoteActionId}", code="NOT_FOUND")
        if not action.get("targeting", {}).get("apiEnabled", False):
            raise Forbidden("Remote action is not enabled for API", code="FORBIDDEN")
        known = [d for d in body.devices if self._row("devices", "device.collector.uid", d)]
        if not known:
            raise InvalidInput("none of the devices is known", code="INVALID_DEVICES")
        request_id = str(uuid.uuid4())
        self.actions_requested.append(
            {"requestId": request_id, "remoteActionId": action["id"], "devices": known}
        )
        return _ok(request, {"requestId": request_id, "expiresInMinutes": body.expiresInMinutes})

    # -- workflows -----------------------------------------------------------------------
    def _workflow(self, workflow_id: str) -> dict[str, Any]:
        workflow = self.workflows.get(workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow {workflow_id}", code="NOT_FOUND")
        if workflow.get("status") != "ACTIVE":
            raise Forbidden(f"workflow {workflow_id} is not active", code="FORBIDDEN")
        if not workflow.get("triggerMethods", {}).get("apiEnabled", False):
            raise Forbidden(f"workflow {workflow_id} cannot be triggered by API", code="FORBIDDEN")
        return workflow

    def _start(
        self, request: Request, workflow: dict[str, Any], targets: int, asked: int
    ) -> Response:
        if asked == 0:
            raise InvalidInput("give at least one device or user", code="MISSING_TARGETS")
        if targets == 0:
            raise InvalidInput("none of the devices or users is known", code="INVALID_TARGETS")
        executions = [str(uuid.uuid4()) for _ in range(targets)]
        for execution in executions:
            self.executions[execution] = workflow["uuid"]
        return _ok(request, {"requestUuid": str(uuid.uuid4()), "executionsUuids": executions})

    async def workflow_v1(self, request: Request) -> Response:
        body: _WorkflowV1 = await self._body(request, _WorkflowV1)
        workflow = self._workflow(body.workflowId)
        devices, users = body.devices or [], body.users or []
        found = sum(self._row("devices", "device.collector.uid", d) is not None for d in devices)
        found += sum(self._row("users", "user.sid", u) is not None for u in users)
        return self._start(request, workflow, found, len(devices) + len(users))

    async def workflow_v2(self, request: Request) -> Response:
        body: _WorkflowV2 = await self._body(request, _WorkflowV2)
        workflow = self._workflow(body.workflowId)
        devices, users = body.devices or [], body.users or []
        found = sum(self._device(d) for d in devices) + sum(self._user(u) for u in users)
        return self._start(request, workflow, found, len(devices) + len(users))

    def _device(self, ref: _DeviceRef) -> bool:
        pairs = [
            ("device.name", ref.name),
            ("device.uid", ref.uid),
            ("device.collector.uid", ref.collectorUid),
        ]
        return any(v is not None and self._row("devices", f, v) for f, v in pairs)

    def _user(self, ref: _UserRef) -> bool:
        pairs = [("user.sid", ref.sid), ("user.uid", ref.uid), ("user.upn", ref.upn)]
        return any(v is not None and self._row("users", f, v) for f, v in pairs)

    def catalog(self, path: str, items: Mapping[str, dict[str, Any]], kind: str) -> list[Route]:
        """``GET <path>`` lists ``items``; ``GET <path>/details?nql-id=`` shows one."""

        async def listing(request: Request) -> Response:
            self.authorized(request)
            return _ok(request, list(items.values()))

        async def details(request: Request) -> Response:
            self.authorized(request)
            item = items.get(request.query_params.get("nql-id", ""))
            if item is None:
                raise NotFound(f"no such {kind}", code="NOT_FOUND")
            return _ok(request, item)

        return [Route(path, listing), Route(f"{path}/details", details)]

    async def workflow_event(self, request: Request) -> Response:
        await self._body(request, _Event)
        workflow, execution = request.path_params["workflow"], request.path_params["execution"]
        if self.executions.get(execution) != workflow:
            raise NotFound("no such execution of this workflow", code="NOT_FOUND")
        return _ok(request, {"requestUuid": str(uuid.uuid4())})

    # -- data management -----------------------------------------------------------------
    async def delete_devices(self, request: Request) -> Response:
        body: _Deletions = await self._body(request, _Deletions)
        devices = self.state.tables.tables.setdefault("devices", [])
        outcome = []
        for item in body.devices:
            row = self._row("devices", "device.uid", item.uid)
            if row is None:
                outcome.append({"uid": item.uid, "name": item.name or "", "status": "INVALID"})
                continue
            devices.remove(row)  # gone from every query from now on
            outcome.append(
                {
                    "uid": item.uid,
                    "name": item.name or row.get("device.name", ""),
                    "status": "SCHEDULED",
                }
            )
        scheduled = sum(o["status"] == "SCHEDULED" for o in outcome)
        return _ok(request, {"status": "ACCEPTED", "scheduledCount": scheduled, "devices": outcome})
