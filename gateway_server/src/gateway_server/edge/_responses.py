"""JSON answers, compact UTF-8 by pydantic-core, and a success answer that
carries the caller's rate-limit headers."""

from __future__ import annotations

from typing import Any

from starlette import responses
from starlette.requests import Request

from .._json import dumps
from ._limits import VERDICT, Verdict

__all__ = ["JSONResponse", "ok"]


class JSONResponse(responses.JSONResponse):
    """Starlette's ``JSONResponse`` with the same compact UTF-8 output, by :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def ok(request: Request, body: Any, status: int = 200) -> JSONResponse:
    """A success answer, with the caller's rate-limit headers."""
    response = JSONResponse(body, status_code=status)
    verdict: Verdict | None = request.scope.get(VERDICT)
    if verdict is not None:
        response.raw_headers.extend(verdict.raw_headers())
    return response
