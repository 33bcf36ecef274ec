"""A stand-in for Nexthink Infinity at the HTTP edge (respx), driven by the test's fake clock.

Token endpoint with 900 s tokens, bearer checks, rate-limit headers on every
answer, NQL execute (JSON and CSV), exports that progress poll by poll, an
object-storage host for export files, and batch endpoints that fail the items
the test marks as bad. It records what it saw.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import uuid
from collections import deque
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.support import FakeClock

API_HOST = "acme.api.eu.nexthink.cloud"
LOGIN_HOST = "acme-login.eu.nexthink.cloud"
STORAGE_HOST = "exports.storage.example.test"
CLIENT_ID = "client-id"
CLIENT_SECRET = "client-secret-value"

HEADERS = ["device.name", "device.os", "crashes"]
ROWS = [["LAPTOP-1", "Windows 11", 3], ["LAPTOP-2", "macOS 14", 0], ["LAPTOP-3", "Windows 10", 7]]

WORKFLOW = {
    "id": "#password_reset",
    "uuid": "6f1b6f9c-8f4b-4f7e-9a51-1c8d6b7c2a10",
    "name": "Password reset",
    "description": "Resets a password",
    "status": "ACTIVE",
    "lastUpdateTime": "2024-05-01T10:00:00Z",
    "triggerMethods": {"apiEnabled": True, "manualEnabled": True},
    "versions": [{"version": 3, "status": "ACTIVE"}],
}
REMOTE_ACTION = {
    "id": "#restart_service",
    "uuid": "0b6c5a0e-9d5f-4bb2-8d7e-0f6a2b1c3d4e",
    "name": "Restart service",
    "purpose": ["REMEDIATION"],
    "targeting": {"apiEnabled": True, "manualEnabled": True},
    "scriptInfo": {"runAs": "LOCAL_SYSTEM", "timeoutSeconds": 120},
}


def err(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message})


class FakeNexthink:
    def __init__(self, clock: FakeClock, *, export_polls: int = 3) -> None:
        self.clock = clock
        self.tokens: dict[str, float] = {}  # token -> expires at (monotonic)
        self.token_requests: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []
        self.storage_requests: list[httpx.Request] = []
        self.forced: deque[httpx.Response] = deque()
        self.export_polls = export_polls
        self.exports: dict[str, dict[str, Any]] = {}
        self.storage_files: dict[str, Any] = {}
        self.token_forced: deque[httpx.Response | Exception] = deque()
        self._ids = itertools.count(1)

    # -- token endpoint --------------------------------------------------------------
    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        if self.token_forced:
            fault = self.token_forced.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = parse_qs(request.content.decode())
        if request.headers.get("authorization") != f"Basic {expected}":
            return httpx.Response(401, json={"code": "invalid_client", "message": "bad client"})
        if form.get("grant_type") != ["client_credentials"] or form.get("scope") != [
            "service:integration"
        ]:
            return httpx.Response(400, json={"code": "invalid_request", "message": "bad form"})
        token = f"tok-{next(self._ids)}"
        self.tokens[token] = self.clock.monotonic() + 900
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 900,
                "scope": "service:integration",
            },
        )

    # -- object storage --------------------------------------------------------------
    def storage(self, request: httpx.Request) -> httpx.Response:
        self.storage_requests.append(request)
        body = self.storage_files.get(request.url.path)
        if body is None:
            return httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>")
        return httpx.Response(200, content=body, headers={"Content-Type": "text/csv"})

    # -- the API ------------------------------------------------------------------------
    def api(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self._answer(request)
        now = self.clock.time()
        response.headers.setdefault("X-Rate-Limit", "100")
        response.headers.setdefault("X-Rate-Limit-Remaining", "99")
        response.headers.setdefault("X-Rate-Limit-Reset", str(int(now) + 60))
        return response

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.forced:
            return self.forced.popleft()
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        expires = self.tokens.get(token)
        if not auth.startswith("Bearer ") or expires is None or self.clock.monotonic() >= expires:
            return err(401, "UNAUTHORIZED", "invalid or expired token")
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        if path in ("/api/v1/nql/execute", "/api/v2/nql/execute"):
            return self._execute(request, body, path)
        if path == "/api/v1/nql/export":
            export_id = f"exp-{next(self._ids)}"
            self.exports[export_id] = {
                "polls": 0,
                "query": body["queryId"],
                "compressed": body.get("compressed", False),
            }
            return httpx.Response(200, json={"exportId": export_id})
        if path.startswith("/api/v1/nql/status/"):
            return self._status(path.rsplit("/", 1)[1])
        if path == "/api/v1/enrichment/data/fields":
            return self._enrich(body)
        if path == "/api/v1/euf/campaign/trigger":
            return self._campaign(body)
        if path == "/api/v1/act/execute":
            if body["remoteActionId"] == "#disabled_action":
                return err(403, "FORBIDDEN", "Remote action is not enabled for API")
            return httpx.Response(
                200,
                json={"requestId": str(uuid.uuid4()), "expiresInMinutes": body["expiresInMinutes"]},
            )
        if path == "/api/v1/act/remote-action":
            return httpx.Response(200, json=[REMOTE_ACTION])
        if path == "/api/v1/act/remote-action/details":
            if request.url.params["nql-id"] != REMOTE_ACTION["id"]:
                return err(404, "NOT_FOUND", "no such remote action")
            return httpx.Response(200, json=REMOTE_ACTION)
        if path in ("/api/v1/workflows/execute", "/api/v2/workflows/execute"):
            count = len(body.get("devices", [])) + len(body.get("users", []))
            return httpx.Response(
                200,
                json={
                    "requestUuid": str(uuid.uuid4()),
                    "executionsUuids": [str(uuid.uuid4()) for _ in range(count)],
                },
            )
        if path == "/api/v1/workflows":
            return httpx.Response(200, json=[WORKFLOW])
        if path == "/api/v1/workflows/details":
            return httpx.Response(200, json=WORKFLOW)
        if path.startswith("/api/v1/workflows/workflows/"):
            return httpx.Response(200, json={"requestUuid": str(uuid.uuid4())})
        if path == "/api/v1/data-management/device/deletions":
            devices = [
                {
                    "uid": d["uid"],
                    "name": d.get("name", ""),
                    "status": "INVALID" if d["uid"].startswith("00000000") else "SCHEDULED",
                }
                for d in body["devices"]
            ]
            scheduled = sum(d["status"] == "SCHEDULED" for d in devices)
            return httpx.Response(
                200, json={"status": "ACCEPTED", "scheduledCount": scheduled, "devices": devices}
            )
        return err(404, "NOT_FOUND", path)

    def _execute(self, request: httpx.Request, body: dict[str, Any], path: str) -> httpx.Response:
        accept = request.headers.get("accept", "application/json")
        meta = {
            "queryId": body["queryId"],
            "executedQuery": "devices | list name, os, crashes",
            "rows": len(ROWS),
            "executionDateTime": "2024-06-01T10:00:00",
        }
        if accept == "text/csv":
            lines = [",".join(HEADERS)] + [",".join(str(v) for v in r) for r in ROWS]
            return httpx.Response(
                200, text="\n".join(lines) + "\n", headers={"Content-Type": "text/csv"}
            )
        if accept != "application/json":
            return err(406, "NOT_ACCEPTABLE", f"cannot answer {accept}")
        if path.startswith("/api/v1"):
            return httpx.Response(200, json={**meta, "headers": HEADERS, "data": ROWS})
        return httpx.Response(
            200, json={**meta, "data": [dict(zip(HEADERS, r, strict=True)) for r in ROWS]}
        )

    def _status(self, export_id: str) -> httpx.Response:
        export = self.exports.get(export_id)
        if export is None:
            return err(404, "NOT_FOUND", "no such export")
        export["polls"] += 1
        if export["query"] == "#failing_export":
            return httpx.Response(
                200, json={"status": "ERROR", "errorDescription": "Query timed out"}
            )
        if export["polls"] < self.export_polls:
            state = "SUBMITTED" if export["polls"] == 1 else "IN_PROGRESS"
            return httpx.Response(200, json={"status": state})
        content = b"device.name,crashes\nLAPTOP-1,3\nLAPTOP-2,0\n"
        path = f"/exports/{export_id}.csv"
        if export["compressed"]:  # a packed file, as tenants that accept `compressed` serve
            path += ".gz"
            content = gzip.compress(content)
        self.storage_files.setdefault(path, content)
        url = f"https://{STORAGE_HOST}{path}?X-Amz-Signature=abc123&X-Amz-Expires=600"
        return httpx.Response(200, json={"status": "COMPLETED", "resultsFileUrl": url})

    def _enrich(self, body: dict[str, Any]) -> httpx.Response:
        errors = []
        for item in body["enrichments"]:
            ident = item["identification"][0]
            if str(ident["value"]).startswith("BAD"):
                errors.append(
                    {
                        "identification": item["identification"],
                        "errors": [
                            {"message": f"Object {ident['value']} not found", "code": "NOT_FOUND"}
                        ],
                    }
                )
        if not errors:
            return httpx.Response(200, json={"status": "success"})
        if len(errors) == len(body["enrichments"]):
            return httpx.Response(400, json={"status": "error", "errors": errors})
        return httpx.Response(207, json={"status": "partial_success", "errors": errors})

    def _campaign(self, body: dict[str, Any]) -> httpx.Response:
        requests = []
        for sid in body["userSid"]:
            if sid.endswith("-500"):
                requests.append({"userSid": sid, "message": "User has no active device"})
            else:
                requests.append({"userSid": sid, "requestId": str(uuid.uuid4())})
        status = 207 if any("message" in r for r in requests) else 200
        return httpx.Response(status, json={"requests": requests})
