"""The API's own description: ``/openapi.json`` (the contract the server is
tested against, shipped in the wheel) and a Swagger UI page at ``/docs``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ._responses import JSONResponse

__all__ = ["docs_routes", "load_contract"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui"}});</script>
</body></html>"""


def load_contract(filename: str) -> dict[str, Any]:
    """``contracts/<filename>``: from the installed package, else from the repository."""
    try:
        text = resources.files("gateway_server").joinpath(filename).read_text()
    except (FileNotFoundError, OSError):
        repo = Path(__file__).resolve().parents[4] / "contracts" / filename
        text = repo.read_text()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def docs_routes(contract: dict[str, Any], title: str) -> list[BaseRoute]:
    page = _PAGE.format(title=title)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(contract)

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    routes: list[BaseRoute] = [Route("/openapi.json", openapi_json), Route("/docs", docs)]
    try:
        from swagger_ui_bundle import swagger_ui_path  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        return routes
    routes.append(Mount("/docs/static", app=StaticFiles(directory=swagger_ui_path), name="swagger"))
    return routes
