"""Reading a request: headers, the JSON body into a model, query and path values.

Every refusal is a domain error the edge answers in the documented format:
400 ``INVALID_JSON`` / ``VALIDATION_ERROR`` naming the field, 413 over the
body limit, 404 for a path value that cannot name anything.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import pydantic
from starlette.requests import Request

from .._errors import ClientGone, InvalidInput, NotFound, TimedOut, TooLarge

__all__ = [
    "BODY_TIMED_OUT",
    "header",
    "json_nul_path",
    "known_query",
    "nul_path",
    "path_id",
    "query_int",
    "read_body",
    "read_json",
    "validation_error",
]

M = TypeVar("M", bound=pydantic.BaseModel)
BODY_TIMED_OUT = "gateway.body_timed_out"  # scope key: the protocol answered 408 (_protocol.py)
_INTEGER = re.compile(r"-?[0-9]{1,12}")  # ASCII digits: "\u0665" is no 5 here
_PATH_ID = r"^[A-Za-z0-9._:-]{1,64}$"


def header(request: Request, name: bytes) -> str | None:
    """One request header (``name`` lower-case), read straight from the scope."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def invalid_json(message: str) -> InvalidInput:
    return InvalidInput(message, code="INVALID_JSON")


def validation_error(exc: pydantic.ValidationError) -> InvalidInput:
    """The first problem pydantic found, naming the field (``metrics.cpu: ...``)."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return InvalidInput(f"{field}: {message}", {"field": field})


def nul_path(value: Any) -> tuple[str | int, ...] | None:
    """Where in a parsed JSON value (its keys too) a string holds a NUL
    character (``()`` for the value itself), or None. PostgreSQL's text cannot
    store NUL, so every API refuses it at the door, on every backend alike."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return path
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return (*path, key)
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(item))
    return None


def json_nul_path(raw: bytes) -> tuple[str | int, ...] | None:
    """:func:`nul_path` of a JSON text; None at once when it has no escaped NUL."""
    if b"\\u0000" not in raw:
        return None
    try:
        return nul_path(json.loads(raw))
    except ValueError:
        return None  # not JSON: the model's parse says so


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes (413 beyond, before reading more).
    A client that leaves first is :class:`ClientGone` (answered to nobody,
    logged as 499); one whose body took too long, and was answered 408 by the
    server's protocol (``_protocol.py``), is :class:`TimedOut` (logged as 408)."""
    length = header(request, b"content-length")
    if length is not None and length.isascii() and length.isdigit() and int(length) > limit:
        raise TooLarge(f"body over {limit} bytes")
    # The ASGI messages read directly: Request.stream() is an async generator,
    # whose set-up and the loop's bookkeeping for it cost more than the read.
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            if request.scope.get(BODY_TIMED_OUT):
                raise TimedOut("the body took too long")
            raise ClientGone("the client went away before its body was read")
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json(request: Request, model: type[M], limit: int, *, optional: bool = False) -> M:
    """The body as ``model``: at most ``limit`` bytes, JSON, exactly the documented fields."""
    raw = await read_body(request, limit)
    # No body at all is an absent body; whitespace alone is a body that is not JSON.
    if not raw:
        if not optional:
            raise invalid_json("a JSON body is required")
        raw = b"{}"
    try:
        return model.model_validate_json(raw)  # one parse: pydantic reads the JSON itself
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise invalid_json("the body is not valid JSON") from None
        if first["type"] in ("model_type", "model_attributes_type") and not first["loc"]:
            raise invalid_json("the body must be a JSON object") from None
        raise validation_error(exc) from None


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise InvalidInput(f"{name}: must be an integer", {"field": name})
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(f"{name}: must be from {low} to {high}", {"field": name})
    return value


def known_query(request: Request, *allowed: str) -> None:
    """Refuse query parameters the operation does not define (a typo such as
    ``?limt=5`` must not silently fall back to the default)."""
    if not request.scope.get("query_string"):
        return
    for name in request.query_params:
        if name not in allowed:
            raise InvalidInput(f"unknown query parameter {name!r}", {"field": name})


def path_id(request: Request, pattern: str = _PATH_ID) -> str:
    """The ``{id}`` of the path; a value that cannot name anything is a 404."""
    value = str(request.path_params["id"])
    if not re.fullmatch(pattern, value):
        raise NotFound("no such resource")
    return value
