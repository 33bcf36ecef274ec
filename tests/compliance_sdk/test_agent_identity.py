"""The agent's identity on disk and the CA pinning: files 0600 from their first
byte, the CA found by its fingerprint in what a real TLS server sends, the
issued certificate checked against the pinned CA and our own key."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from compliance_sdk.agent import AgentIdentity, AgentState, PinError
from compliance_sdk.agent._identity import (
    ca_matching_fingerprint,
    check_issued,
    fingerprint,
    key_pem,
    load_pinned_ca,
    make_csr,
    make_key,
    normalize_fingerprint,
    write_private,
)
from compliance_sdk.agent._pinning import fetch_pinned_ca
from sdk_core import InputValidationError
from tests.compliance_sdk.agent_support import Issued, issue, make_ca


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_created_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        ca = make_ca()
        leaf = issue(ca, "agent")
        identity = AgentIdentity(
            leaf.key_pem, leaf.cert_pem, ca.cert_pem, AgentState("a-1", site_id="s-1")
        )
        state_dir = tmp_path / "state"
        identity.save(state_dir)
    finally:
        os.umask(old)
    assert _mode(state_dir) == 0o700
    names = sorted(p.name for p in state_dir.iterdir())
    assert names == ["agent.json", "agent.key", "agent.pem", "ca.pem"]  # no temporaries left
    assert {_mode(p) for p in state_dir.iterdir()} == {0o600}
    loaded = AgentIdentity.load(state_dir)
    assert loaded is not None
    assert loaded.key_pem == leaf.key_pem
    assert loaded.state == identity.state
    assert "PRIVATE" not in repr(loaded)
    assert "a-1" in repr(loaded)
    assert AgentIdentity.load(tmp_path / "nowhere") is None


def test_a_rewrite_replaces_atomically_and_keeps_0600(tmp_path: Path) -> None:
    target = tmp_path / "agent.key"
    target.write_bytes(b"old")
    target.chmod(0o644)  # a file someone loosened: the rewrite is a new 0600 file
    write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o600


def test_fingerprints() -> None:
    ca = make_ca()
    hexdigest = fingerprint(ca.cert)
    colons = ":".join(hexdigest[i : i + 2] for i in range(0, 64, 2)).upper()
    assert normalize_fingerprint(colons) == hexdigest
    assert normalize_fingerprint(f"sha256:{hexdigest}") == hexdigest
    with pytest.raises(InputValidationError) as info:
        normalize_fingerprint("abc")
    assert info.value.field == "ca_fingerprint"
    leaf = issue(ca, "agent")
    assert ca_matching_fingerprint([leaf.cert, ca.cert], hexdigest) == ca.cert
    with pytest.raises(PinError):  # a leaf with the pinned fingerprint is still no CA
        ca_matching_fingerprint([leaf.cert], fingerprint(leaf.cert))
    with pytest.raises(PinError):
        load_pinned_ca(make_ca().cert_pem, hexdigest)
    with pytest.raises(PinError):
        load_pinned_ca(b"not pem", hexdigest)
    assert load_pinned_ca(ca.cert_pem, hexdigest) == ca.cert_pem


def test_the_issued_certificate_is_checked() -> None:
    ca = make_ca()
    key = make_key()
    assert b"CERTIFICATE REQUEST" in make_csr(key, "host-1")
    assert b"PRIVATE KEY" in key_pem(key)
    good = issue(ca, "agent", public_key=key.public_key())
    assert check_issued(good.cert_pem, ca.cert_pem, key) == good.cert
    foreign = issue(make_ca(), "agent", public_key=key.public_key())
    with pytest.raises(PinError, match="not issued by the pinned CA"):
        check_issued(foreign.cert_pem, ca.cert_pem, key)
    other_key = issue(ca, "agent", public_key=ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(PinError, match="another key"):
        check_issued(other_key.cert_pem, ca.cert_pem, key)


@contextlib.contextmanager
def tls_server(chain: list[Issued], tmp_path: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that completes handshakes, sending ``chain``."""
    cert_file = tmp_path / "chain.pem"
    cert_file.write_bytes(b"".join(c.cert_pem for c in chain))
    key_file = tmp_path / "server.key"
    key_file.write_bytes(chain[0].key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join(5)
        listener.close()


def test_the_pinned_ca_is_read_from_the_servers_chain(tmp_path: Path) -> None:
    ca = make_ca()
    server = issue(ca, "enrollment", server=True)
    with tls_server([server, ca], tmp_path) as port:
        assert fetch_pinned_ca("127.0.0.1", port, fingerprint(ca.cert)) == ca.cert_pem
        with pytest.raises(PinError, match="pinned"):  # another CA's fingerprint
            fetch_pinned_ca("127.0.0.1", port, fingerprint(make_ca().cert))


def test_a_server_that_hides_its_ca_cannot_be_pinned(tmp_path: Path) -> None:
    ca = make_ca()
    with (
        tls_server([issue(ca, "enrollment", server=True)], tmp_path) as port,
        pytest.raises(PinError),
    ):
        fetch_pinned_ca("127.0.0.1", port, fingerprint(ca.cert))
    with pytest.raises(PinError, match="could not read"):
        fetch_pinned_ca("127.0.0.1", port, fingerprint(ca.cert), timeout=1)
