"""Generate the Python stubs of contracts/compliance.proto, or check the committed ones.

    python tools/gen_proto.py           # (re)write the stubs of every target
    python tools/gen_proto.py --check   # exit 1, naming each file, if any stub differs

Run with the interpreter of the dev venv: it needs grpcio-tools and mypy-protobuf at
the versions pinned in requirements-dev.txt (their output is what is committed, so a
check with other versions reports drift).

Every target gets the same four files: ``compliance_pb2.py`` (messages),
``compliance_pb2_grpc.py`` (the ComplianceAgent stub and servicer) and their typed
``.pyi`` stubs from mypy-protobuf, which mypy reads instead of the untyped ``.py``.

The .proto is compiled under the file name ``compliance.proto`` for every target, and
the one import between the generated files is made relative. So each target is the
same generated code, whichever package holds it: a process that imports two targets
(the server's and the client's, in the tests) registers one identical file in
protobuf's default descriptor pool, where two different file names defining the
same messages would collide ("duplicate symbol").
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "contracts" / "compliance.proto"
# Each directory that holds a generated copy: the client's, and the server's own (it
# serves the agent channel and may not import compliance_sdk).
TARGETS = (
    ROOT / "compliance_sdk" / "src" / "compliance_sdk" / "_proto",
    ROOT / "gateway_server" / "src" / "gateway_server" / "compliance" / "_proto",
)
GENERATED = (
    "compliance_pb2.py",
    "compliance_pb2.pyi",
    "compliance_pb2_grpc.py",
    "compliance_pb2_grpc.pyi",
)
# protoc writes `import compliance_pb2 as x` (a top-level module); in a package it
# must be relative.
_ABSOLUTE_IMPORT = re.compile(r"^import compliance_pb2 as ", re.MULTILINE)


def _plugin(name: str) -> str:
    """A protoc plugin installed beside this interpreter (mypy-protobuf's scripts)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise SystemExit(f"{name} not found beside {sys.executable}: install requirements-dev.txt")
    return str(path)


def generate(proto: Path = PROTO) -> dict[str, bytes]:
    """Compile ``proto`` (a file named compliance.proto); the generated files by name."""
    from grpc_tools import protoc  # noqa: PLC0415 (a dev tool; imported only when generating)

    well_known = resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory(prefix="gen-proto-") as out:
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"--proto_path={proto.parent}",
                f"--proto_path={well_known}",
                f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
                f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                f"--mypy_out={out}",
                f"--mypy_grpc_out={out}",
                str(proto),
            ]
        )
        if status != 0:
            raise SystemExit(f"protoc failed on {proto} (status {status})")
        files: dict[str, bytes] = {}
        for name in GENERATED:
            text = (Path(out) / name).read_text(encoding="utf-8")
            files[name] = _ABSOLUTE_IMPORT.sub("from . import compliance_pb2 as ", text).encode()
    return files


def drift(files: dict[str, bytes], targets: tuple[Path, ...] = TARGETS) -> list[Path]:
    """The committed files that are missing or differ from ``files``."""
    return [
        target / name
        for target in targets
        for name, content in files.items()
        if not (target / name).is_file() or (target / name).read_bytes() != content
    ]


def write(files: dict[str, bytes], targets: tuple[Path, ...] = TARGETS) -> list[Path]:
    written: list[Path] = []
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            path = target / name
            if not path.is_file() or path.read_bytes() != content:
                path.write_bytes(content)
                written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a stub is stale"
    )
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        stale = drift(files, TARGETS)
        for path in stale:
            print(f"stale: {path}")
        if stale:
            print("the stubs differ from contracts/compliance.proto: run python tools/gen_proto.py")
            return 1
        print(f"stubs match {PROTO.relative_to(ROOT)} in {len(TARGETS)} target(s)")
        return 0
    for path in write(files, TARGETS):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
