"""Each member package installs on its own, imports, and pulls nothing of the server.

For every member present, a fresh virtual environment gets ``pip install ./<member>``;
then the package must import and, for sdk_core and the clients, none of the
server's dependencies may have come along.

Usage: ``python tools/check_install.py [member ...]``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = (
    "sdk_core",
    "nexthink_sdk",
    "kubenexus_sdk",
    "exasperation_sdk",
    "gateway_sdk",
    "compliance_sdk",
    "gateway_server",
)
# Beyond "it imports": what each installed copy must be able to do on its own.
PROBES = {
    # the generated stubs check the installed grpcio and protobuf against the
    # versions that generated them: the declared floors must satisfy that
    "compliance_sdk": (
        "from compliance_sdk._proto import compliance_pb2, compliance_pb2_grpc; "
        "assert compliance_pb2_grpc.ComplianceAgentStub; "
        # the agent: its dependencies (dnspython, cryptography) and its console script
        "from compliance_sdk.agent import AsyncComplianceAgent, ComplianceAgent; "
        "import dns.asyncresolver; "
        "from importlib.metadata import entry_points; "
        "assert [e for e in entry_points(group='console_scripts') if e.name == 'compliance-agent']"
    ),
    # the contract it serves and the emulators' seed data ship inside the wheel
    "gateway_server": (
        "from gateway_server.edge import load_contract; "
        "from gateway_server.emulators import load_seed; "
        "assert load_contract('gateway.openapi.yaml')['openapi']; "
        "assert load_seed(None)['nexthink']['queries']"
    ),
}
SERVER_ONLY = {
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "aiosqlite",
    "gateway-server",
    "gateway_server",
}


def check(member: str) -> list[str]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"install-{member}-") as tmp:
        venv.create(tmp, with_pip=True)
        python = str(Path(tmp) / "bin" / "python")
        done = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                str(ROOT / member),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return [f"{member}: pip install failed:\n{done.stderr[-2000:]}"]
        probe = subprocess.run(
            [python, "-c", f"import {member}; {PROBES.get(member, 'pass')}"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp,
        )
        if probe.returncode != 0:
            problems.append(f"{member}: does not import:\n{probe.stderr[-2000:]}")
        listed = subprocess.run(
            [python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        names = {line.split("==")[0].lower() for line in listed.splitlines() if "==" in line}
        if member != "gateway_server":
            pulled = sorted(names & SERVER_ONLY)
            if pulled:
                problems.append(f"{member}: pulled server packages {pulled}")
        print(f"{member}: installed alone with {len(names)} distributions")
    return problems


def main(argv: list[str]) -> int:
    members = argv[1:] or [m for m in MEMBERS if (ROOT / m / "pyproject.toml").is_file()]
    problems = [p for m in members for p in check(m)]
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
