"""Attacks with customer tokens: crafted and forged JWTs, a JWKS endpoint that
is slow or failing, a token that expires while its socket is open.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway_server import create_app
from tests.gateway_server.token_fuzz import Keys, TokenFuzz, b64
from tests.gateway_support import Gateway, running_gateway, settings

FUZZ_TOKENS = 5000


async def _statuses(gw: Gateway, tokens: list[str]) -> collections.Counter[int]:
    seen: collections.Counter[int] = collections.Counter()
    for token in tokens:
        r = await gw.http.get(
            "/api/v1/customer/system/info",
            headers={b"Authorization": b"Bearer " + token.encode()},
        )
        seen[r.status_code] += 1
        if r.status_code == 500:
            raise AssertionError(f"500 for {token[:200]!r}")
    return seen


def _jwks_file(tmp_path: Path, keys: Keys, *, with_alg: bool = False) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks(with_alg=with_alg)))
    return str(path)


async def test_f4_crafted_tokens_against_hs256_are_401_never_500(tmp_path: Path) -> None:
    """Finding 4: algorithms, kids, headers, claims, encodings: every bad token a 401."""
    async with running_gateway(tmp_path, customer_rate_per_minute=10**9) as gw:
        fuzz = TokenFuzz(Keys(str(gw.api.services.settings.jwt_secret)), now=time.time())
        seen = await _statuses(gw, [fuzz.valid("secret"), *fuzz.tokens(FUZZ_TOKENS)])
    assert set(seen) == {200, 401}, seen


@pytest.mark.parametrize("with_alg", [False, True], ids=["keys-without-alg", "keys-with-alg"])
async def test_f4_crafted_tokens_against_a_jwks_are_401_never_500(
    tmp_path: Path, with_alg: bool
) -> None:
    """Finding 4: with RSA and EC keys published (and the HS256 secret beside
    them), a token whose header names another algorithm than its key's, or a
    kid of another type, is a 401; the algorithm comes from the key."""
    keys = Keys("test-secret-" + "x" * 32)
    jwks = _jwks_file(tmp_path, keys, with_alg=with_alg)
    async with running_gateway(tmp_path, jwt_jwks=jwks, customer_rate_per_minute=10**9) as gw:
        fuzz = TokenFuzz(keys, now=time.time())
        valid = [fuzz.valid("rsa"), fuzz.valid("ec"), fuzz.valid("secret")]
        seen = await _statuses(gw, valid)
        assert seen == {200: 3}
        n = 1000 if with_alg else FUZZ_TOKENS
        seen = await _statuses(gw, fuzz.tokens(n))
    assert set(seen) <= {200, 401}, seen
    assert seen[401] > n * 0.9


def test_f4_an_es256_header_on_the_rsa_key_is_refused_on_the_socket_too(tmp_path: Path) -> None:
    """Finding 4, the token that was a 500: ES256 in the header, the RSA key's
    kid (or none). The socket handshake refuses it as any bad token (1008)."""
    keys = Keys("test-secret-" + "x" * 32)
    app = create_app(settings(tmp_path, jwt_jwks=_jwks_file(tmp_path, keys)))
    fuzz = TokenFuzz(keys, now=time.time())
    forged = []
    for kid in ("rsa1", None):
        header = {"alg": "ES256"} | ({"kid": kid} if kid else {})
        valid = fuzz.valid("rsa").split(".")
        forged.append(".".join([b64(json.dumps(header).encode()), valid[1], valid[2]]))
    crafted = fuzz.tokens(300)
    with TestClient(app, raise_server_exceptions=True) as client:
        for token in forged:
            r = client.get("/api/v1/customer/devices", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, r.text
        codes = {_handshake(client, token) for token in [*forged, *crafted]}
    assert codes <= {1000, 1008}, codes


def _handshake(client: TestClient, token: str) -> int:
    """How a customer socket with ``token`` ends: 1000 (accepted, closed by
    us) or the server's close code."""
    try:
        with client.websocket_connect(f"/ws/customer?token={token}") as ws:
            ws.close()
            return 1000
    except WebSocketDisconnect as exc:
        return exc.code
