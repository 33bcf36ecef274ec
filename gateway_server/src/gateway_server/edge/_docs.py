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
<link rel="stylesheet" href="{base}/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{base}/docs/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "{base}/openapi.json", dom_id: "#swagger-ui"}});</script>
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


def docs_routes(contract: dict[str, Any], title: str, base: str = "") -> list[BaseRoute]:
    """``{base}/openapi.json`` and its Swagger UI page ``{base}/docs`` (one per API)."""
    page = _PAGE.format(title=title, base=base)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(contract)

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    routes: list[BaseRoute] = [
        Route(f"{base}/openapi.json", openapi_json),
        Route(f"{base}/docs", docs),
    ]
    try:
        from swagger_ui_bundle import swagger_ui_path  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        return routes
    static = StaticFiles(directory=swagger_ui_path)
    routes.append(Mount(f"{base}/docs/static", app=static, name=f"swagger{base.replace('/', '-')}"))
    return routes
