"""``compliance-agent`` without a server: its errors name what is wrong, ``status``
shows the identity and never the key, the token is never a flag."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from compliance_sdk.agent import AgentIdentity, AgentState
from compliance_sdk.agent._cli import main
from tests.compliance_sdk.agent_support import issue, make_ca


def test_status_shows_the_identity_and_not_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert "enroll first" in capsys.readouterr().err
    ca = make_ca()
    leaf = issue(ca, "agent")
    AgentIdentity(leaf.key_pem, leaf.cert_pem, ca.cert_pem, AgentState("a-1", "s-1")).save(tmp_path)
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["agent_id"] == "a-1"
    assert shown["site_id"] == "s-1"
    assert "PRIVATE KEY" not in out


def test_enroll_reads_the_token_from_stdin_never_a_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMPLIANCE_ENROLLMENT_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = ["enroll", "--state-dir", str(tmp_path), "--ca-fingerprint", "ab" * 32]
    assert main([*args, "--enrollment-address", "127.0.0.1:9"]) == 1
    assert "enrollment_token" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--token", "cet_x"])  # no such flag
    monkeypatch.setattr("sys.stdin", io.StringIO("cet_secret\n"))
    assert main(args) == 1  # no enrollment address anywhere
    err = capsys.readouterr().err
    assert "enrollment address" in err
    assert "cet_secret" not in err


def test_bad_settings_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--state-dir", str(tmp_path), "--heartbeat-interval", "-1"]) == 1
    assert "heartbeat_interval" in capsys.readouterr().err
    config = tmp_path / "agent.toml"
    config.write_text('colour = "blue"\n')
    assert main(["run", "--config", str(config)]) == 1
    assert "colour" in capsys.readouterr().err
    assert main(["run", "--state-dir", str(tmp_path)]) == 1  # not enrolled
    assert "enroll first" in capsys.readouterr().err
