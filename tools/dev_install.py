"""Install every member package editable, with its third-party dependencies and the dev tools.

pip refuses to install ``-e ./sdk_core`` beside a member that depends on
``sdk-core @ file://.../sdk_core`` (an editable and a URL requirement for the
same project conflict), and installing them one by one silently replaces the
editable sdk_core with a copy. So: the members' third-party dependencies (read
from their pyproject.toml files) and requirements-dev.txt in one resolve, then
the members themselves, editable, with --no-deps. The members' optional extras
(PostgreSQL's and Redis's drivers, pandas) are installed too: the tests use them.

Usage: ``python tools/dev_install.py`` (run with the interpreter of the target venv)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [ROOT / m for m in root["tool"]["uv"]["workspace"]["members"]]


def main() -> int:
    projects = {m: tomllib.loads((m / "pyproject.toml").read_text())["project"] for m in members()}
    ours = {_name(p["name"]) for p in projects.values()}
    third_party = sorted(
        {
            dep
            for p in projects.values()
            for dep in [
                *p.get("dependencies", []),
                *(d for extra in p.get("optional-dependencies", {}).values() for d in extra),
            ]
            if _name(dep) not in ours
        }
    )
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *third_party, "-r", str(ROOT / "requirements-dev.txt")], check=True)
    editable = [arg for m in projects for arg in ("-e", str(m))]
    subprocess.run([*pip, "--no-deps", *editable], check=True)
    names = ", ".join(p["name"] for p in projects.values())
    print(f"installed editable: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
