"""The suite's import rules, checked over the source of every member package.

- ``sdk_core`` imports no other package of ours.
- A client package imports no other client package and not ``gateway_server``.
- ``gateway_server`` imports no client package.
- Other packages use sdk_core through its public names only (no ``sdk_core._x``).

Every ``import`` and ``from ... import`` is read from the AST (also inside
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


def allowed(importer: str, imported: str) -> bool:
    if importer == imported:
        return True
    if importer == CORE:
        return imported not in OURS
    if importer in CLIENTS:
        return imported not in (SERVER, *CLIENTS)
    if importer == SERVER:
        return imported not in CLIENTS
    return True


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
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
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, name in imported_names(tree):
                top = name.split(".")[0]
                private_core = package != CORE and name.startswith(f"{CORE}._")
                if not allowed(package, top) or private_core:
                    found.append(f"{path.relative_to(root)}:{line}: {package} -> {name}")
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
