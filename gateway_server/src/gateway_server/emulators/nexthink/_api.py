"""The Nexthink emulator: OAuth client credentials (900 s tokens that expire
on the server's clock), NQL execute v1/v2 in JSON and CSV, exports that move
SUBMITTED -> IN_PROGRESS -> COMPLETED over ``--nexthink-export-seconds`` and
whose files are served by a separate storage path that refuses any request
carrying ``Authorization``, and the batch endpoints (``_batches.py``); past
``--nexthink-rate-per-minute`` a 429 with ``Retry-After``."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import itertools
import json
import math
import secrets
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import attrs
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..._errors import DomainError, InvalidInput, NotFound, Unauthenticated
from ...edge import Body, JSONResponse, RateLimiter, read_json
from ...security import hash_secret, new_secret, same_hash
from .._common import Context, VendorApp, VendorError, refuse_over_limit, vendor_app
from ._batches import Batches
from ._nql import Scalar, Tables, csv_text

__all__ = ["credentials", "NexthinkEmulator"]

NqlId = Annotated[str, Field(pattern=r"^#[a-z0-9_]{2,255}$")]
STORAGE = "nexthink-storage"
MAX_EXECUTE_ROWS = 1000
URL_LIFETIME = 600  # seconds a results file URL stays valid


class _Execute(Body):
    queryId: NqlId
    parameters: dict[str, Scalar] | None = None


class _Export(Body):
    queryId: NqlId
    parameters: dict[str, Scalar] | None = None
    format: Literal["csv", "json"] = "csv"
    compressed: bool = False


@attrs.define
class _ExportJob:
    id: str
    client_id: str
    created: float
    headers: list[str]
    rows: list[list[Any]]
    format: str
    compressed: bool
    error: str | None


@attrs.define
class State:
    """What the emulated tenant holds; the batch endpoints share it."""

    context: Context
    tables: Tables
    export_seconds: float
    tokens: dict[str, tuple[str, float]] = attrs.field(factory=dict)
    exports: dict[str, _ExportJob] = attrs.field(factory=dict)
    ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))


class NexthinkEmulator:
    name = "nexthink"

    def __init__(self, context: Context, *, export_seconds: float, rate_per_minute: int) -> None:
        seed = context.seed
        self.clock = context.clock
        self.state = State(
            context, Tables(seed.get("tables") or {}, seed.get("queries") or {}), export_seconds
        )
        self.clients = {
            c["client_id"]: hash_secret(c["client_secret"]) for c in seed.get("clients", ())
        }
        self.token_ttl = int(seed.get("token_ttl", 900))
        self.limiter = RateLimiter(rate_per_minute, 60, self.clock)
        self.signing_key = secrets.token_bytes(32)
        self.utc_offset = dt.timedelta(minutes=int(seed.get("utc_offset_minutes", 60)))
        self.batches = Batches(self.state, seed)

    def apps(self) -> dict[str, VendorApp]:
        routes: list[BaseRoute] = [
            Route("/oauth2/default/v1/token", self.token, methods=["POST"]),
            Route("/api/v1/nql/execute", self.execute_v1, methods=["POST"]),
            Route("/api/v2/nql/execute", self.execute_v2, methods=["POST"]),
            Route("/api/v1/nql/export", self.export, methods=["POST"]),
            Route("/api/v1/nql/status/{export_id}", self.status),
            *self.batches.routes(self.authorized),
        ]
        storage = [Route("/exports/{name}", self.storage_file)]
        return {self.name: vendor_app(routes, render), STORAGE: vendor_app(storage, render_storage)}

    async def stop(self) -> None:
        """Nothing to let go of."""

    # -- OAuth -------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                client_id = secret = None
        if not client_id or not secret or not same_hash(self.clients.get(client_id), secret):
            raise Unauthenticated("client authentication failed", code="invalid_client")
        if form.get("grant_type") != "client_credentials":
            raise InvalidInput(
                "grant_type must be client_credentials", code="unsupported_grant_type"
            )
        token = new_secret()
        self.state.tokens[hash_secret(token)] = (client_id, self.clock() + self.token_ttl)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": form.get("scope", "service:integration"),
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def authorized(self, request: Request) -> str:
        """The client id behind the bearer token, counted against the rate."""
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Unauthenticated("missing bearer token", code="UNAUTHORIZED")
        held = self.state.tokens.get(hash_secret(auth[7:]))
        if held is None:
            raise Unauthenticated("invalid token", code="UNAUTHORIZED")
        client_id, expires = held
        if self.clock() >= expires:
            raise Unauthenticated("token expired", code="UNAUTHORIZED")
        verdict = self.limiter.hit(client_id)
        limits = {
            "X-Rate-Limit": str(verdict.limit),
            "X-Rate-Limit-Remaining": str(verdict.remaining),
            "X-Rate-Limit-Reset": str(math.ceil(verdict.reset_at)),
        }
        request.scope["nexthink.limits"] = limits
        refuse_over_limit(verdict, self.clock(), "TOO_MANY_REQUESTS")
        return client_id

    # -- NQL -----------------------------------------------------------------------------
    async def execute_v1(self, request: Request) -> Response:
        return await self._execute(request, "v1")

    async def execute_v2(self, request: Request) -> Response:
        return await self._execute(request, "v2")

    async def _execute(self, request: Request, version: str) -> Response:
        self.authorized(request)
        media = _negotiate(request.headers.get("accept"))
        body = await read_json(request, _Execute, self.state.context.max_body_bytes)
        query, executed, rows = self.state.tables.run(body.queryId, body.parameters or {})
        if len(rows) > MAX_EXECUTE_ROWS:
            raise InvalidInput(
                f"{len(rows)} rows: execute answers at most {MAX_EXECUTE_ROWS}; use an export",
                code="RESULT_TOO_LARGE",
            )
        headers = list(query.fields)
        if media == "text/csv":
            return _ok(request, csv_text(headers, rows), media="text/csv")
        meta = {
            "queryId": query.id,
            "executedQuery": executed,
            "rows": len(rows),
            "executionDateTime": self._time(request),
        }
        if version == "v1":
            return _ok(request, {**meta, "headers": headers, "data": rows})
        data = [dict(zip(headers, row, strict=True)) for row in rows]
        return _ok(request, {**meta, "data": data})

    def _time(self, request: Request) -> str:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(microsecond=0)
        if request.headers.get("x-utc-times", "").lower() == "true":
            return now.strftime("%Y-%m-%dT%H:%M:%SZ")
        return (now + self.utc_offset).strftime("%Y-%m-%dT%H:%M:%S")

    # -- exports -------------------------------------------------------------------------
    async def export(self, request: Request) -> Response:
        client_id = self.authorized(request)
        body = await read_json(request, _Export, self.state.context.max_body_bytes)
        query, _, rows = self.state.tables.run(body.queryId, body.parameters or {})
        export_id = f"{next(self.state.ids):08d}-{secrets.token_hex(6)}"
        self.state.exports[export_id] = _ExportJob(
            export_id,
            client_id,
            self.clock(),
            list(query.fields),
            rows,
            body.format,
            body.compressed,
            query.export_error,
        )
        return _ok(request, {"exportId": export_id})

    async def status(self, request: Request) -> Response:
        client_id = self.authorized(request)
        export = self.state.exports.get(request.path_params["export_id"])
        if export is None or export.client_id != client_id:
            raise NotFound("no such export", code="NOT_FOUND")
        elapsed = self.clock() - export.created
        total = self.state.export_seconds
        if elapsed < total / 3:
            return _ok(request, {"status": "SUBMITTED"})
        if elapsed < total:
            return _ok(request, {"status": "IN_PROGRESS"})
        if export.error:
            return _ok(request, {"status": "ERROR", "errorDescription": export.error})
        return _ok(
            request, {"status": "COMPLETED", "resultsFileUrl": self._file_url(request, export)}
        )

    def _file_url(self, request: Request, export: _ExportJob) -> str:
        name = f"{export.id}.{export.format}{'.gz' if export.compressed else ''}"
        expires = int(self.clock()) + URL_LIFETIME
        origin = f"{request.url.scheme}://{request.url.netloc}"
        prefix = request.scope.get("root_path", "").rsplit("/", 1)[0]
        signature = self._sign(name, expires)
        return f"{origin}{prefix}/{STORAGE}/exports/{name}?expires={expires}&token={signature}"

    def _sign(self, name: str, expires: int) -> str:
        return hmac.new(self.signing_key, f"{name}\n{expires}".encode(), hashlib.sha256).hexdigest()

    async def storage_file(self, request: Request) -> Response:
        """The object store: a pre-signed URL and nothing else; a request that
        carries credentials is refused (as S3 refuses a second auth mechanism)."""
        if "authorization" in request.headers:
            raise VendorError(400, "InvalidArgument", "Only one auth mechanism allowed")
        name = request.path_params["name"]
        try:
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            raise VendorError(403, "AccessDenied", "Request is not signed") from None
        signature = request.query_params.get("token", "")
        if not hmac.compare_digest(signature, self._sign(name, expires)):
            raise VendorError(403, "SignatureDoesNotMatch", "The signature does not match")
        if self.clock() > expires:
            raise VendorError(403, "AccessDenied", "Request has expired")
        export = self.state.exports.get(name.split(".", 1)[0])
        if export is None:
            raise VendorError(404, "NoSuchKey", "The specified key does not exist")
        if export.format == "json":
            rows = [dict(zip(export.headers, r, strict=True)) for r in export.rows]
            content, media = json.dumps(rows).encode(), "application/json"
        else:
            content, media = csv_text(export.headers, export.rows).encode(), "text/csv"
        if export.compressed:
            content, media = gzip.compress(content, mtime=0), "application/gzip"
        return Response(content, media_type=media)


def credentials(seed: Mapping[str, Any], root: str) -> dict[str, str]:
    """What the client needs to call this emulator at ``root``: its first client."""
    first = seed["clients"][0]
    return {
        "base_url": root,
        "token_url": f"{root}/oauth2/default/v1/token",
        "client_id": first["client_id"],
        "client_secret": first["client_secret"],
    }


def _negotiate(accept: str | None) -> str:
    """The answer's media type for an ``Accept`` header: JSON by default, CSV
    on request, 406 for anything else."""
    if not accept:
        return "application/json"
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/json", "*/*", "application/*"):
            return "application/json"
        if media in ("text/csv", "text/*"):
            return "text/csv"
    raise VendorError(
        406, "NOT_ACCEPTABLE", f"cannot answer {accept}: use application/json or text/csv"
    )


def _ok(request: Request, body: Any, *, media: str | None = None, status: int = 200) -> Response:
    headers = request.scope.get("nexthink.limits")
    if media is not None:
        return Response(body, status_code=status, media_type=media, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def render(request: Request, status: int, error: DomainError) -> Response:
    """Nexthink's error body: ``{code, message}`` (OAuth's ``error`` too on the token endpoint)."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if request.url.path.endswith("/oauth2/default/v1/token"):
        body |= {"error": error.code, "error_description": error.message}
    headers = {**(request.scope.get("nexthink.limits") or {}), **(error.headers or {})}
    return JSONResponse(body, status_code=status, headers=headers)


def render_storage(request: Request, status: int, error: DomainError) -> Response:
    """The object store answers in XML, as S3 does."""
    xml = f"<Error><Code>{error.code}</Code><Message>{error.message}</Message></Error>"
    return Response(xml, status_code=status, media_type="application/xml")
