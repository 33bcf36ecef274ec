"""The import rules hold on our tree, and the checker does catch a breach."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "check_architecture", ROOT / "tools" / "check_architecture.py"
)
assert _spec is not None
assert _spec.loader is not None
arch = importlib.util.module_from_spec(_spec)
sys.modules["check_architecture"] = arch
_spec.loader.exec_module(arch)


def _write(root: Path, package: str, source: str) -> None:
    src = root / package / "src" / package
    src.mkdir(parents=True, exist_ok=True)
    (src / "mod.py").write_text(source)


def test_our_tree_keeps_the_rules() -> None:
    assert arch.breaches(ROOT) == []


def test_breaches_are_found(tmp_path: Path) -> None:
    _write(tmp_path, "sdk_core", "import nexthink_sdk\n")
    _write(tmp_path, "nexthink_sdk", "import sdk_core\nfrom gateway_server.app import x\n")
    _write(
        tmp_path,
        "gateway_sdk",
        "def f():\n    import importlib\n    importlib.import_module('kubenexus_sdk')\n",
    )
    _write(tmp_path, "gateway_server", "from sdk_core import Secret\n")
    _write(tmp_path, "kubenexus_sdk", "from sdk_core._auth import TokenFlow\n")
    assert sorted(arch.breaches(tmp_path)) == [
        "gateway_sdk/src/gateway_sdk/mod.py:3: gateway_sdk -> kubenexus_sdk",
        "kubenexus_sdk/src/kubenexus_sdk/mod.py:1: kubenexus_sdk -> sdk_core._auth",
        "nexthink_sdk/src/nexthink_sdk/mod.py:2: nexthink_sdk -> gateway_server.app",
        "sdk_core/src/sdk_core/mod.py:1: sdk_core -> nexthink_sdk",
    ]
    assert arch.main(["check", str(tmp_path)]) == 1
