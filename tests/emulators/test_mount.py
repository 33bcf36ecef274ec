"""Emulators are mounted only when asked for, by name, and a vendor whose
seed section is missing starts empty rather than failing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from gateway_server import Settings, create_app
from gateway_server._cli import main
from gateway_server.emulators import EMULATORS, credentials, environment


def test_without_emulate_there_are_no_emulators(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, grpc_enabled=False))
    with TestClient(app) as http:
        answer = http.post("/emulators/_control/faults", json={"route": "/x", "kind": "drop"})
        assert answer.status_code == 404
        assert http.get("/emulators/exasperation/v1/health").status_code == 404


def test_emulate_names_them_or_all(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, emulate="exasperation, NEXTHINK").emulators == (
        "nexthink",
        "exasperation",
    )
    assert Settings(data_dir=tmp_path, emulate="all").emulators == EMULATORS
    with pytest.raises(ValidationError, match="unknown emulator salesforce"):
        Settings(data_dir=tmp_path, emulate="nexthink,salesforce")


def test_a_bad_emulator_name_stops_the_server_naming_the_flag(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"--emulate: .*unknown emulator nope"):
        main(["serve", "--data-dir", str(tmp_path), "--emulate", "nope"])


def test_a_missing_seed_section_is_an_empty_vendor(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"exasperation": {"keys": [{"key": "k", "features": []}]}}))
    settings = Settings(
        data_dir=tmp_path, emulate="all", emulator_data=str(seed), grpc_enabled=False
    )
    with TestClient(create_app(settings)) as http:
        listed = http.get("/emulators/kubenexus/api/clusters")
        assert listed.status_code == 401  # no users: nobody can sign in, nothing breaks
        assert listed.json()["status"] == "error"
        found = http.post("/emulators/exasperation/v1/search", json={"query": "anything"},
                          headers={"Authorization": "Bearer k"})  # fmt: skip
        assert found.status_code == 200
        assert found.json()["sources"] == []


def test_the_clients_variables_follow_the_seed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, emulate="exasperation,kubenexus")
    assert set(credentials(settings, "http://h")) == {"kubenexus", "exasperation"}
    assert environment(settings, "http://h") == {
        "KUBENEXUS_BASE_URL": "http://h/emulators/kubenexus",
        "KUBENEXUS_USERNAME": "admin",
        "KUBENEXUS_PASSWORD": "kubenexus-admin",
        "EXASPERATION_BASE_URL": "http://h/emulators/exasperation/v1",
        "EXASPERATION_API_KEY": "exa-demo-key",
    }
