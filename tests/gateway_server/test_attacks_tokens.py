"""Attacks with customer tokens: crafted and forged JWTs, a JWKS endpoint that
is slow or failing, a token that expires while its socket is open.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

import asyncio
import collections
import json
import time
from pathlib import Path

import jwt
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway_server import create_app
from tests.gateway_server.jwks_server import jwks_server
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


# -- finding 2: the JWKS endpoint is someone else's server ----------------------------------
SECRET = "test-secret-" + "x" * 32


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_f2_a_slow_jwks_blocks_nobody_but_the_tokens_waiting_for_it(tmp_path: Path) -> None:
    """Finding 2: while the JWKS endpoint holds its answer, forged tokens wait
    for it (one fetch for all of them) and /healthz answers meanwhile."""
    keys, forger = Keys(SECRET), Keys(SECRET)
    with jwks_server(keys.jwks(), mode="hold") as jwks:
        async with running_gateway(tmp_path, jwt_jwks=jwks.url) as gw:
            forged = TokenFuzz(forger, now=time.time()).valid("rsa")
            waiting = [
                asyncio.create_task(
                    gw.http.get("/api/v1/customer/devices", headers=_bearer(forged))
                )
                for _ in range(4)
            ]
            assert await asyncio.to_thread(jwks.arrived.wait, 10)
            async with asyncio.timeout(10):
                health = await gw.http.get("/healthz")
            assert health.status_code == 200
            assert not any(task.done() for task in waiting)  # still waiting for the keys
            jwks.released.set()
            answers = await asyncio.gather(*waiting)
            assert [r.status_code for r in answers] == [401] * 4
            valid = TokenFuzz(keys, now=time.time()).valid("rsa")
            assert (
                await gw.call("GET", "/api/v1/customer/devices", headers=_bearer(valid))
            ).status_code == 200
    assert jwks.requests == 1


async def test_f2_a_jwks_that_never_answers_times_out(tmp_path: Path) -> None:
    keys = Keys(SECRET)
    with jwks_server(keys.jwks(), mode="hold") as jwks:
        async with running_gateway(tmp_path, jwt_jwks=jwks.url, jwt_jwks_timeout=0.2) as gw:
            token = TokenFuzz(keys, now=time.time()).valid("rsa")
            r = await gw.call("GET", "/api/v1/customer/devices", headers=_bearer(token))
            assert r.status_code == 401
            assert "no key" in r.json()["error"]["message"]


async def test_f2_a_failing_jwks_is_fetched_with_backoff_not_per_token(tmp_path: Path) -> None:
    """Finding 2: PyJWT retried a failing JWKS on every token (and froze the
    server each time); failed fetches now back off: 1 s, 2 s, 4 s ..."""
    keys, forger = Keys(SECRET), Keys(SECRET)
    forged = TokenFuzz(forger, now=time.time()).valid("rsa")
    with jwks_server(keys.jwks(), mode="fail") as jwks:
        async with running_gateway(tmp_path, jwt_jwks=jwks.url) as gw:
            fetches = []
            for step in (0, 0, 0, 0, 1.5, 0, 1.0, 1.0, 0):
                gw.clock.advance(step)
                r = await gw.call("GET", "/api/v1/customer/devices", headers=_bearer(forged))
                assert r.status_code == 401
                fetches.append(jwks.requests)
    assert fetches == [1, 1, 1, 1, 2, 2, 2, 3, 3]


async def test_f2_cached_keys_are_served_while_a_refresh_fails(tmp_path: Path) -> None:
    keys = Keys(SECRET)
    with jwks_server(keys.jwks()) as jwks:
        async with running_gateway(tmp_path, jwt_jwks=jwks.url) as gw:
            token = TokenFuzz(keys, now=time.time()).valid("ec")
            ok = await gw.call("GET", "/api/v1/customer/devices", headers=_bearer(token))
            assert ok.status_code == 200
            jwks.mode = "fail"
            jwks.arrived.clear()
            gw.clock.advance(301)  # the keys are due for a refresh, which fails
            for _ in range(3):
                r = await gw.call("GET", "/api/v1/customer/devices", headers=_bearer(token))
                assert r.status_code == 200
            assert await asyncio.to_thread(jwks.arrived.wait, 5)
            await asyncio.sleep(0.1)  # time for any other fetch to arrive too
            assert jwks.requests == 2  # one refresh tried, then backing off


# -- finding 12: claims of the wrong type -----------------------------------------------------
@pytest.mark.parametrize(
    ("exp", "status"),
    [("in-an-hour", 401), ("true", 401), ("as-float", 200), ("as-int", 200), ("past", 401)],
)
async def test_f12_exp_must_be_a_number_on_the_servers_clock(
    gw: Gateway, exp: str, status: int
) -> None:
    """Finding 12: ``"exp": "1750003600"`` was taken as a number. The claims
    are checked against the server's clock (the one the tests move)."""
    now = gw.clock()
    value = {
        "in-an-hour": str(int(now) + 3600),
        "true": True,
        "as-float": now + 3600.5,
        "as-int": int(now) + 3600,
        "past": int(now) - 60,
    }[exp]
    secret = str(gw.api.services.settings.jwt_secret)
    token = jwt.encode({"sub": "cust-a", "exp": value, "aud": "gateway"}, secret, algorithm="HS256")
    r = await gw.call("GET", "/api/v1/customer/devices", headers=_bearer(token))
    assert r.status_code == status, r.text
