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


def _server(root: Path, module: str, source: str) -> None:
    path = root / "gateway_server" / "src" / "gateway_server" / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_the_servers_rooms_keep_to_their_floors(tmp_path: Path) -> None:
    _server(tmp_path, "storage/_database.py", "from ..edge import ok\nfrom .._json import dumps\n")
    _server(tmp_path, "security/__init__.py", "from ..device_gateway import _sql\n")
    _server(tmp_path, "edge/_errors.py", "from gateway_server.compliance import x\n")
    _server(
        tmp_path,
        "device_gateway/_queue.py",
        "from ..compliance import _sites\nfrom ..storage import Database\n",
    )
    _server(
        tmp_path,
        "device_gateway/_api.py",
        "from .._services import Services\nfrom . import _queue\n",
    )
    _server(tmp_path, "_settings.py", "from .storage import Database\n")
    assert sorted(arch.breaches(tmp_path)) == [
        "gateway_server/src/gateway_server/_settings.py:1: gateway_server._settings -> gateway_server.storage",
        "gateway_server/src/gateway_server/_settings.py:1: gateway_server._settings -> gateway_server.storage.Database",
        "gateway_server/src/gateway_server/device_gateway/_queue.py:1: gateway_server.device_gateway._queue -> gateway_server.compliance",
        "gateway_server/src/gateway_server/device_gateway/_queue.py:1: gateway_server.device_gateway._queue -> gateway_server.compliance._sites",
        "gateway_server/src/gateway_server/edge/_errors.py:1: gateway_server.edge._errors -> gateway_server.compliance",
        "gateway_server/src/gateway_server/security/__init__.py:1: gateway_server.security -> gateway_server.device_gateway",
        "gateway_server/src/gateway_server/security/__init__.py:1: gateway_server.security -> gateway_server.device_gateway._sql",
        "gateway_server/src/gateway_server/storage/_database.py:1: gateway_server.storage._database -> gateway_server.edge",
        "gateway_server/src/gateway_server/storage/_database.py:1: gateway_server.storage._database -> gateway_server.edge.ok",
    ]


def test_only_the_pytest_plugin_may_import_clients(tmp_path: Path) -> None:
    """gateway_server.testing hands users configured clients; nothing else of
    the server may import a client package."""
    _server(
        tmp_path, "testing/__init__.py", "def f():\n    from nexthink_sdk import NexthinkClient\n"
    )
    _server(tmp_path, "testing/_server.py", "def g():\n    import gateway_sdk\n")
    _server(tmp_path, "testing_helpers.py", "import kubenexus_sdk\n")
    _server(tmp_path, "emulators/_mount.py", "import exasperation_sdk\n")
    _server(tmp_path, "_cli.py", "from gateway_sdk import DeviceClient\n")
    assert sorted(arch.breaches(tmp_path)) == [
        "gateway_server/src/gateway_server/_cli.py:1: gateway_server -> gateway_sdk",
        "gateway_server/src/gateway_server/emulators/_mount.py:1: gateway_server -> exasperation_sdk",
        "gateway_server/src/gateway_server/testing_helpers.py:1: gateway_server -> kubenexus_sdk",
    ]


def test_emulators_keep_to_their_room_and_vendors_to_their_own(tmp_path: Path) -> None:
    _server(
        tmp_path,
        "emulators/nexthink/_api.py",
        "from ..kubenexus import _store\nfrom .._common import Context\nfrom ._nql import Tables\n",
    )
    _server(tmp_path, "emulators/_mount.py", "from .nexthink import NexthinkEmulator\n")
    _server(
        tmp_path,
        "emulators/_common.py",
        "from ..device_gateway import _sql\nfrom ..edge import ok\n",
    )
    _server(tmp_path, "device_gateway/_api.py", "from ..emulators import Emulators\n")
    _server(tmp_path, "edge/_errors.py", "from gateway_server.emulators import VendorError\n")
    assert sorted(arch.breaches(tmp_path)) == [
        "gateway_server/src/gateway_server/device_gateway/_api.py:1: gateway_server.device_gateway._api -> gateway_server.emulators",
        "gateway_server/src/gateway_server/device_gateway/_api.py:1: gateway_server.device_gateway._api -> gateway_server.emulators.Emulators",
        "gateway_server/src/gateway_server/edge/_errors.py:1: gateway_server.edge._errors -> gateway_server.emulators",
        "gateway_server/src/gateway_server/emulators/_common.py:1: gateway_server.emulators._common -> gateway_server.device_gateway",
        "gateway_server/src/gateway_server/emulators/_common.py:1: gateway_server.emulators._common -> gateway_server.device_gateway._sql",
        "gateway_server/src/gateway_server/emulators/nexthink/_api.py:1: gateway_server.emulators.nexthink._api -> gateway_server.emulators.kubenexus",
        "gateway_server/src/gateway_server/emulators/nexthink/_api.py:1: gateway_server.emulators.nexthink._api -> gateway_server.emulators.kubenexus._store",
    ]
