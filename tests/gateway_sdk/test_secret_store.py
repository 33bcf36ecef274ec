"""The device secret: kept where the caller says, durably, and never lost."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    AsyncCustomerClient,
    AsyncDeviceClient,
    ConflictError,
    DeviceClient,
    FileSecretStore,
    SecretNotSavedError,
)
from tests.gateway_sdk.clients import customer, registered
from tests.gateway_sdk.conftest import BASE, in_process
from tests.gateway_support import customer_token


def test_register_keeps_the_secret_where_told(
    app: Starlette, http: TestClient, tmp_path: Path
) -> None:
    device = registered(app, http, "dev-001", tmp_path)
    path = tmp_path / "dev-001.secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text()) >= 43
    secret = path.read_text()
    assert secret not in repr(device.secret_store)
    assert secret not in repr(device.auth)
    # a new process of the device finds it there
    again = DeviceClient(BASE, "dev-001", secret_store=FileSecretStore(path), http_client=http)
    assert again.heartbeat().success


def test_the_secret_is_on_disk_before_it_replaces_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dev-001.secret"
    events: list[str] = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(fd: int) -> None:
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    def recorded_replace(src: str, dst: Path) -> None:
        events.append("replace")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    FileSecretStore(path).save("s3cret")
    assert events == ["fsync file", "replace", "fsync dir"]
    assert path.read_text() == "s3cret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_failed_save_keeps_the_old_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSecretStore(tmp_path / "dev-001.secret")
    store.save("old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.save("new")
    assert store.load() == "old"
    assert list(tmp_path.iterdir()) == [store.path]


class BrokenStore:
    """A secret store whose disk is full."""

    def load(self) -> str | None:
        return None

    def save(self, secret: str) -> None:
        raise OSError(28, "No space left on device")


def test_a_secret_the_store_cannot_keep_is_handed_to_the_caller(
    app: Starlette, http: TestClient
) -> None:
    code = customer(app, http).devices.provision("dev-001").activation_code
    device = DeviceClient(BASE, "dev-001", secret_store=BrokenStore(), http_client=http)
    with pytest.raises(SecretNotSavedError) as caught:
        device.register(code)
    error = caught.value
    assert isinstance(error.__cause__, OSError)
    assert error.device_id == "dev-001"
    secret = error.secret.reveal()
    assert secret not in repr(error)
    assert secret not in str(error)
    # the code is spent; the secret on the error is the only way in, and it works
    with pytest.raises(ConflictError):
        DeviceClient(BASE, "dev-001", http_client=http).register(code)
    assert DeviceClient(BASE, "dev-001", secret, http_client=http).heartbeat().success


async def test_async_register_hands_over_a_secret_the_store_cannot_keep(app: Starlette) -> None:
    async with app.router.lifespan_context(app), in_process(app) as http:
        cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
        code = (await cust.devices.provision("dev-001")).activation_code
        device = AsyncDeviceClient(BASE, "dev-001", secret_store=BrokenStore(), http_client=http)
        with pytest.raises(SecretNotSavedError) as caught:
            await device.register(code)
        secret = caught.value.secret.reveal()
        assert (
            await AsyncDeviceClient(BASE, "dev-001", secret, http_client=http).heartbeat()
        ).success
