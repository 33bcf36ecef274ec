"""tools/gen_proto.py: the committed stubs are what the .proto generates today, and a
change to the .proto that is not regenerated is caught, file by file."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "tools" / "gen_proto.py")
assert _spec is not None
assert _spec.loader is not None
gen = importlib.util.module_from_spec(_spec)
sys.modules["gen_proto"] = gen
_spec.loader.exec_module(gen)


def test_the_committed_stubs_match_the_proto() -> None:
    assert gen.drift(gen.generate()) == []


def test_an_edited_proto_is_reported_as_drift(tmp_path: Path) -> None:
    edited = tmp_path / "compliance.proto"
    text = gen.PROTO.read_text()
    edited.write_text(text.replace("message RMMAck {", "message RMMAck {\n  string note = 2;"))
    stale = gen.drift(gen.generate(edited))
    # in every target (the client's, the server's): the messages and their types
    # change; the service and its stub do not
    assert stale == [
        target / name
        for target in gen.TARGETS
        for name in ("compliance_pb2.py", "compliance_pb2.pyi")
    ]
    assert len(gen.TARGETS) == 2


def test_write_fills_a_target_and_then_finds_nothing_to_do(tmp_path: Path) -> None:
    files = gen.generate()
    assert sorted(files) == sorted(gen.GENERATED)
    written = gen.write(files, (tmp_path,))
    assert sorted(p.name for p in written) == sorted(gen.GENERATED)
    assert gen.drift(files, (tmp_path,)) == []
    assert gen.write(files, (tmp_path,)) == []
    (tmp_path / "compliance_pb2_grpc.py").unlink()
    assert gen.drift(files, (tmp_path,)) == [tmp_path / "compliance_pb2_grpc.py"]


def test_the_generated_grpc_module_imports_its_messages_relatively() -> None:
    """So any package can hold a copy (the server will hold its own)."""
    files = gen.generate()
    for name in ("compliance_pb2_grpc.py", "compliance_pb2_grpc.pyi"):
        text = files[name].decode()
        assert "from . import compliance_pb2 as " in text
        assert "\nimport compliance_pb2" not in text


def test_check_exits_nonzero_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen.main(["--check"]) == 0
    copy = tmp_path / "_proto"
    shutil.copytree(gen.TARGETS[0], copy)
    (copy / "compliance_pb2.pyi").write_text("# stale\n")
    monkeypatch.setattr(gen, "TARGETS", (copy,))
    assert gen.main(["--check"]) == 1
    assert f"stale: {copy / 'compliance_pb2.pyi'}" in capsys.readouterr().out
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
