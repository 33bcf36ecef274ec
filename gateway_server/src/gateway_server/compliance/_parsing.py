"""Reading a compliance request: the JSON body, query parameters and path ids,
every failing field listed at once (422 ``VALIDATION_ERROR`` with ``{loc, msg,
type}`` per field, ``loc`` starting at body, query or path), and the media type.

The body's bytes come from the edge (``read_body``: the size limit, 413).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pydantic
from starlette.requests import Request

from .._errors import Unprocessable, UnsupportedMediaType
from ..edge import header, json_nul_path, read_body
from ._schemas import UUID

__all__ = [
    "Param",
    "body",
    "flag",
    "integer",
    "one_of",
    "path_uuid",
    "query",
    "text",
    "unprocessable",
    "uuid",
]

M = TypeVar("M", bound=pydantic.BaseModel)
Field = dict[str, Any]
_UUID = re.compile(UUID)
_INTEGER = re.compile(r"-?[0-9]{1,12}")


def unprocessable(fields: Sequence[Field]) -> Unprocessable:
    names = ", ".join(".".join(str(p) for p in f["loc"]) for f in fields)
    count = f"{len(fields)} invalid field" + ("s" if len(fields) > 1 else "")
    error = Unprocessable(f"{count}: {names}")
    error.fields = list(fields)
    return error


def _field(loc: Sequence[Any], msg: str, kind: str) -> Field:
    return {"loc": list(loc), "msg": msg, "type": kind}


def _is_json(request: Request) -> bool:
    media = (header(request, b"content-type") or "application/json").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def body(request: Request, model: type[M], limit: int, *, optional: bool = False) -> M:
    """The body as ``model``: at most ``limit`` bytes (413), JSON (415 for another
    media type), exactly the documented fields (422 listing every one that fails)."""
    raw = await read_body(request, limit)
    if not raw.strip() and optional:
        return model()
    if raw and not _is_json(request):
        raise UnsupportedMediaType("The body must be application/json")
    if not raw:
        raise unprocessable([_field(["body"], "Field required", "missing")])
    if (path := json_nul_path(raw)) is not None:  # PostgreSQL cannot store it: refused everywhere
        raise unprocessable([_field(["body", *path], "Strings must not contain NUL", "string_nul")])
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        fields = []
        for error in exc.errors(include_url=False):
            loc = error.get("loc", ())
            message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
            name, sep, rest = message.partition(": ")
            if not loc and sep and name.isidentifier():  # a model-level rule naming its field
                loc, message = (name,), rest
            fields.append(_field(["body", *loc], message, str(error.get("type", "value_error"))))
        raise unprocessable(fields) from None


# -- query parameters: each a parser from text to value that names what it wants ---------
Param = Callable[[str], Any]


class _Bad(ValueError):
    def __init__(self, msg: str, kind: str) -> None:
        super().__init__(msg)
        self.kind = kind


def integer(low: int, high: int) -> Param:
    def parse(raw: str) -> int:
        if not _INTEGER.fullmatch(raw):
            raise _Bad("Input should be a valid integer", "int_parsing")
        value = int(raw)
        if value < low:
            raise _Bad(f"Input should be greater than or equal to {low}", "greater_than_equal")
        if value > high:
            raise _Bad(f"Input should be less than or equal to {high}", "less_than_equal")
        return value

    return parse


def one_of(*choices: str) -> Param:
    def parse(raw: str) -> str:
        if raw not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise _Bad(f"Input should be one of {listed}", "enum")
        return raw

    return parse


def flag(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise _Bad("Input should be a valid boolean, 'true' or 'false'", "bool_parsing")
    return raw == "true"


def uuid(raw: str) -> str:
    if not _UUID.fullmatch(raw):
        raise _Bad("Input should be a valid UUID", "uuid_parsing")
    return raw.lower()


def text(low: int, high: int) -> Param:
    def parse(raw: str) -> str:
        if not low <= len(raw) <= high:
            raise _Bad(f"String should have {low} to {high} characters", "string_length")
        return raw

    return parse


PAGE = {"limit": integer(1, 200), "offset": integer(0, 1_000_000_000)}
DEFAULTS = {"limit": 50, "offset": 0}


def query(request: Request, params: dict[str, Param], *, page: bool = False) -> dict[str, Any]:
    """The query's values by ``params`` (and ``limit``/``offset`` for a page),
    absent ones left out (a page's get their defaults); unknown names refused."""
    specs = {**params, **PAGE} if page else params
    values: dict[str, Any] = dict(DEFAULTS) if page else {}
    fields = []
    for name, raw in request.query_params.multi_items():
        parse = specs.get(name)
        if parse is None:
            fields.append(_field(["query", name], "Unknown query parameter", "extra_forbidden"))
            continue
        try:
            values[name] = parse(raw)
        except _Bad as exc:
            fields.append(_field(["query", name], str(exc), exc.kind))
    if fields:
        raise unprocessable(fields)
    return values


def path_uuid(request: Request, name: str) -> str:
    """A UUID path parameter, lower-cased; anything else is 422 (not 404)."""
    raw = str(request.path_params[name])
    if not _UUID.fullmatch(raw):
        raise unprocessable(
            [_field(["path", name], "Input should be a valid UUID", "uuid_parsing")]
        )
    return raw.lower()
