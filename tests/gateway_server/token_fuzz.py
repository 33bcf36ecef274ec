"""Crafted customer tokens for the attack tests: every part of a JWT varied
(algorithm, kid, other header fields, claims and their types, signatures,
encodings), from a seeded generator so each run sends the same tokens.

A token is built by hand, not by PyJWT, so that it can say anything: an
algorithm that does not match its key, a kid that is a list, an ``exp`` that
is a string or ``1e400``, a payload that is not an object, a segment that is
not base64."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from typing import Any

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, get_default_algorithms

__all__ = ["Keys", "TokenFuzz", "b64"]

_MISSING = object()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@attrs.define
class Keys:
    """The signing keys of a test: an RSA and two EC keys published in a JWKS
    (kids ``rsa1``, ``ec1``, ``ec384``), and an HS256 secret."""

    secret: str
    rsa_key: rsa.RSAPrivateKey = attrs.field(
        factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec_key: ec.EllipticCurvePrivateKey = attrs.field(
        factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    ec384_key: ec.EllipticCurvePrivateKey = attrs.field(
        factory=lambda: ec.generate_private_key(ec.SECP384R1())
    )

    def jwks(self, *, with_alg: bool = False) -> dict[str, Any]:
        """The public keys as a JWKS (``with_alg``: each key names its algorithm)."""
        rsa_jwk = RSAAlgorithm.to_jwk(self.rsa_key.public_key())
        ec_jwk = ECAlgorithm.to_jwk(self.ec_key.public_key())
        ec384_jwk = ECAlgorithm.to_jwk(self.ec384_key.public_key())
        keys = []
        for kid, jwk_text, alg in (
            ("rsa1", rsa_jwk, "RS256"),
            ("ec1", ec_jwk, "ES256"),
            ("ec384", ec384_jwk, "ES384"),
        ):
            jwk = json.loads(jwk_text)
            jwk |= {"kid": kid, "use": "sig"} | ({"alg": alg} if with_alg else {})
            keys.append(jwk)
        return {"keys": keys}

    def public_pem(self) -> bytes:
        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


ALGS: list[Any] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "ES256", "ES384",
    "ES512", "EdDSA", "none", "None", "", "hs256", None, 5, [], {}, _MISSING,
]  # fmt: skip
KIDS: list[Any] = [
    _MISSING, None, "rsa1", "ec1", "ec384", "unknown", "", 7, ["rsa1"], {"k": 1}, "x" * 2000,
    "../../jwks.json", "rsa1\x00", True,
]  # fmt: skip
_RIGHT = {"rsa": ("RS256", "rsa1"), "ec": ("ES256", "ec1"), "secret": ("HS256", None)}
SIGNERS = ["rsa", "ec", "ec384", "secret", "public-pem", "random", "empty", "garbage", "none"]


@attrs.define
class TokenFuzz:
    """``tokens(n)``: n crafted tokens, one ``random.Random(seed)`` each run."""

    keys: Keys
    now: float
    audience: str = "gateway"
    seed: int = 16

    def claims(self, rng: random.Random) -> Any:
        now = int(self.now)
        if rng.random() < 0.03:
            return rng.choice([[1, 2], "a string", 5, None, {}])
        out: dict[str, Any] = {}
        for name, choices in (
            ("sub", ["cust-f", "cust-f", "", 5, None, ["a"], {"a": 1}, _MISSING]),
            (
                "exp",
                [
                    now + 600,
                    now + 600,
                    now - 600,
                    str(now + 600),
                    True,
                    None,
                    _MISSING,
                    now + 600.5,
                    -1,
                    10**30,
                    "abc",
                    [now + 600],
                    float("inf"),
                    float("nan"),
                    10**400,
                ],
            ),
            (
                "aud",
                [self.audience, self.audience, "other", [self.audience], ["x"], 5, None, _MISSING],
            ),
            ("nbf", [_MISSING, _MISSING, now + 3600, "soon", now - 10, float("inf")]),
            ("iat", [_MISSING, _MISSING, now, "x", now + 3600, 10**30, -(10**400)]),
        ):
            value = rng.choice(choices)
            if value is not _MISSING:
                out[name] = value
        return out

    def header(self, rng: random.Random) -> Any:
        if rng.random() < 0.03:
            return rng.choice([[1], "header", 5, None])
        out: dict[str, Any] = {}
        alg = rng.choice(ALGS)
        if alg is not _MISSING:
            out["alg"] = alg
        kid = rng.choice(KIDS)
        if kid is not _MISSING:
            out["kid"] = kid
        if rng.random() < 0.2:
            out["typ"] = rng.choice(["JWT", "at+jwt", 5, None])
        if rng.random() < 0.1:
            extra = rng.choice(
                [
                    {"jku": "http://127.0.0.1:1/jwks.json"},
                    {"x5u": "http://127.0.0.1:1/cert"},
                    {"jwk": json.loads(RSAAlgorithm.to_jwk(self.keys.rsa_key.public_key()))},
                    {"crit": ["exp"]},
                    {"crit": "b64"},
                    {"b64": False},
                ]
            )
            out |= extra
        return out

    def sign(self, rng: random.Random, header: Any, message: bytes) -> bytes:
        algs = get_default_algorithms()
        alg = header.get("alg") if isinstance(header, dict) else None
        signer = rng.choice(SIGNERS)
        if rng.random() < 0.5:  # usually the key the header's algorithm belongs to
            signer = {"RS256": "rsa", "ES256": "ec", "ES384": "ec384", "HS256": "secret"}.get(
                str(alg), signer
            )
        if signer in ("rsa", "ec", "ec384"):
            key = {"rsa": self.keys.rsa_key, "ec": self.keys.ec_key, "ec384": self.keys.ec384_key}[
                signer
            ]
            usable = {
                "rsa": ("RS256", "RS384", "RS512", "PS256", "PS384"),
                "ec": ("ES256",),
                "ec384": ("ES384",),
            }[signer]
            name = alg if alg in usable else usable[0]
            algorithm = algs[name]
            return algorithm.sign(message, algorithm.prepare_key(key))
        if signer == "secret":
            digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(
                str(alg), hashlib.sha256
            )
            return hmac.new(self.keys.secret.encode(), message, digest).digest()
        if signer == "public-pem":  # the classic confusion: the public key as an HMAC secret
            return hmac.new(self.keys.public_pem(), message, hashlib.sha256).digest()
        if signer == "random":
            return rng.randbytes(rng.choice([1, 32, 64, 256, 512]))
        return b""

    def token(self, rng: random.Random) -> str:
        header, claims = self.header(rng), self.claims(rng)
        if rng.random() < 0.4:  # signed right, so that the claims are what is tested
            signer = rng.choice(["rsa", "ec", "secret"])
            header = header if isinstance(header, dict) else {}
            header |= {"alg": _RIGHT[signer][0]}
            header.pop("kid", None)
            if _RIGHT[signer][1] and rng.random() < 0.8:
                header["kid"] = _RIGHT[signer][1]
        head = b64(_json(header))
        body = b64(_json(claims)) if rng.random() > 0.02 else b64(b'{"exp": 1e400}')
        message = f"{head}.{body}".encode()
        signature = self.sign(rng, header, message)
        token = f"{head}.{body}.{b64(signature)}"
        mutation = rng.random()
        if mutation < 0.03:
            token = token.rsplit(".", 1)[0]  # two segments
        elif mutation < 0.06:
            token += "." + b64(b"more")
        elif mutation < 0.09:
            token = rng.choice(
                ["!!!." + body + ".sig", head + ".%%%.sig", head + "." + body + ".***"]
            )
        elif mutation < 0.11:
            token = b64(b"not json") + "." + body + "." + b64(signature)
        elif mutation < 0.12:
            token = token.replace(".", "..", 1)
        elif mutation < 0.13:
            token = "\u00e9" + token
        return token

    def tokens(self, n: int) -> list[str]:
        rng = random.Random(self.seed)
        return [self.token(rng) for _ in range(n)]

    def valid(self, signer: str = "rsa") -> str:
        """A token the gateway accepts (``rsa``, ``ec`` from the JWKS, or ``secret``)."""
        alg, kid = _RIGHT[signer]
        header = {"alg": alg, "typ": "JWT"} | ({"kid": kid} if kid else {})
        claims = {"sub": "cust-f", "exp": int(self.now) + 600, "aud": self.audience}
        message = f"{b64(_json(header))}.{b64(_json(claims))}".encode()
        if signer == "secret":
            signature = hmac.new(self.keys.secret.encode(), message, hashlib.sha256).digest()
        else:
            algorithm = get_default_algorithms()[alg]
            key = self.keys.rsa_key if signer == "rsa" else self.keys.ec_key
            signature = algorithm.sign(message, algorithm.prepare_key(key))
        return f"{message.decode()}.{b64(signature)}"
