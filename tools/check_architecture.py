"""The suite's import rules, checked over the source of every member package.

- ``sdk_core`` imports no other package of ours.
- A client package imports no other client package and not ``gateway_server``.
- ``gateway_server`` imports no client package, except its pytest plugin
  (``gateway_server.testing``), which hands users configured clients and
  imports them inside its fixtures only (and only when they are used).
- Other packages use sdk_core through its public names only (no ``sdk_core._x``).
- Inside ``gateway_server``, the rooms keep to their floors: an API subpackage
  (``device_gateway``, ``compliance``) never imports another, nor the vendor
  ``emulators`` (which import no API either, and whose vendors import no
  other vendor); the shared
  layers ``storage``, ``security`` and ``events`` import neither the HTTP edge
  nor an API (nor the emulators) nor the app that assembles them; ``edge``
  imports no API and not
  the app; the kernel modules (``_errors``, ``_json``, ``_settings``,
  ``_version``) import only each other.

Every ``import`` and ``from ... import`` (relative ones resolved) is read from the AST (also inside
functions and ``TYPE_CHECKING`` blocks), as are string literals handed to
``importlib.import_module`` / ``__import__``. Exit status 1 lists every
breach as ``file:line: package -> imported``.

Usage: ``python tools/check_architecture.py [ROOT]``
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

CORE = "sdk_core"
SERVER = "gateway_server"
CLIENTS = (
    "nexthink_sdk",
    "kubenexus_sdk",
    "exasperation_sdk",
    "gateway_sdk",
    "compliance_sdk",
)
OURS = (CORE, SERVER, *CLIENTS)


# The one room of gateway_server that may import client packages: the pytest
# plugin, which gives users one configured client per package.
CLIENT_IMPORTERS = "gateway_server.testing"


def allowed(importer: str, imported: str, module: str = "") -> bool:
    if importer == imported:
        return True
    if importer == CORE:
        return imported not in OURS
    if importer in CLIENTS:
        return imported not in (SERVER, *CLIENTS)
    if importer == SERVER:
        plugin = module == CLIENT_IMPORTERS or module.startswith(CLIENT_IMPORTERS + ".")
        return imported not in CLIENTS or plugin
    return True


API_ROOMS = ("device_gateway", "compliance", "emulators")
SHARED_LAYERS = ("storage", "security", "events")
KERNEL = ("_errors", "_json", "_settings", "_version")
APP = ("_app", "_cli", "_services", "_schema")


def room(module: str) -> str:
    """The room of a ``gateway_server`` module: its first name under the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def vendor(module: str) -> str:
    """The vendor of an emulator module (``gateway_server.emulators.nexthink._api``:
    ``nexthink``); "" for the emulators' shared modules."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "emulators" and not parts[2].startswith("_"):
        return parts[2]
    return ""


def server_allowed(importer: str, imported: str) -> bool:
    """May ``importer`` (a gateway_server module) import ``imported`` (one too)?"""
    mine, theirs = room(importer), room(imported)
    if not theirs or (mine == theirs and mine != "emulators"):
        return True
    if mine in KERNEL:
        return theirs in KERNEL
    if mine in API_ROOMS:
        if mine == theirs == "emulators":
            mine_v, theirs_v = vendor(importer), vendor(imported)
            return not mine_v or not theirs_v or mine_v == theirs_v
        return theirs not in API_ROOMS
    if mine in SHARED_LAYERS:
        return theirs not in ("edge", *API_ROOMS, *APP)
    if mine == "edge":
        return theirs not in (*API_ROOMS, *APP)
    return True


def _absolute(module: str, node: ast.ImportFrom) -> str | None:
    """The module a ``from ... import`` names, relative ones resolved against ``module``."""
    if node.level == 0:
        return node.module
    base = module.split(".")[: -node.level]
    if not base:
        return None
    return ".".join([*base, node.module] if node.module else base)


def imported_names(tree: ast.AST, module: str = "") -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            name = _absolute(module, node) if node.level else node.module
            if name:
                yield node.lineno, name
                if node.level:  # ``from . import x`` may name a module
                    yield from ((node.lineno, f"{name}.{a.name}") for a in node.names)
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in ("__import__", "import_module")
                )
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def breaches(root: Path) -> list[str]:
    found: list[str] = []
    for package in OURS:
        src = root / package / "src" / package
        if not src.is_dir():
            continue
        for path in sorted(src.rglob("*.py")):
            parts = path.relative_to(src.parent).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
            # resolve relative imports from the package a module is in
            context = f"{module}.__init__" if is_package else module
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, name in imported_names(tree, context):
                top = name.split(".")[0]
                private_core = package != CORE and name.startswith(f"{CORE}._")
                inner = package == SERVER == top and not server_allowed(module, name)
                if not allowed(package, top, module) or private_core or inner:
                    who = module if inner else package
                    found.append(f"{path.relative_to(root)}:{line}: {who} -> {name}")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    checked = [p for p in OURS if (root / p / "src" / p).is_dir()]
    problems = breaches(root)
    for line in problems:
        print(line)
    names = ", ".join(checked)
    print(f"architecture: {len(checked)} packages checked ({names}), {len(problems)} breaches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
