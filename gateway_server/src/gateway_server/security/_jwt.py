"""Customer bearer JWTs: HS256 with a shared secret and/or RS256/ES256 keys
from a JWKS file or URL."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import attrs
import jwt
from jwt import PyJWK, PyJWKClient

from .._errors import Unauthenticated

__all__ = ["CustomerVerifier", "InvalidCustomerToken"]

# The algorithms a published key may carry. HMAC keys ("oct") are never
# taken from a JWKS: the only HMAC key is the configured HS256 secret.
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def signing_keys(document: Any) -> dict[str, PyJWK]:
    """The signing keys of a JWKS document by kid, each with its algorithm
    fixed: the key's own ``alg``, else the one its type and curve imply (an
    RSA key RS256, a P-256 key ES256). A token is then verified with its
    key's algorithm only, never the one its header names. Keys that are not
    for signatures, HMAC keys and keys that do not parse are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("a JWKS is an object with a list of keys")
    keys: dict[str, PyJWK] = {}
    for i, data in enumerate(document["keys"]):
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            key = PyJWK(data)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if key.algorithm_name in ASYMMETRIC:
            kid = data.get("kid")
            keys[kid if isinstance(kid, str) else f"#{i}"] = key
    return keys


def pick_key(keys: dict[str, PyJWK], kid: str | None, alg: str) -> PyJWK | None:
    """The key a token's header points to: by kid; without one, the only key
    of the algorithm the header names (the key's algorithm still decides)."""
    if kid is not None:
        return keys.get(kid)
    same = [key for key in keys.values() if key.algorithm_name == alg]
    return same[0] if len(same) == 1 else None


class InvalidCustomerToken(Unauthenticated):
    """The bearer token proves nothing; the message says why."""

    code = "INVALID_TOKEN"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid customer token: {reason}")


@attrs.define
class CustomerVerifier:
    """Verifies customer bearer JWTs: HS256 with a shared secret and/or
    RS256/ES256 keys from a JWKS file or URL. ``exp`` is required and checked,
    the audience too when configured; ``alg: none`` is never accepted. The
    algorithm is the key's: a header naming HS256 gets the shared secret,
    any other gets the JWKS key of its kid, verified with that key's algorithm."""

    secret: str | None = attrs.field(default=None, repr=False)
    jwks: str | None = None
    audience: str | None = None
    customer_claim: str = "sub"
    leeway: float = 5.0
    _jwks_client: PyJWKClient | None = attrs.field(default=None, init=False)
    _file_keys: dict[str, PyJWK] | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        if not self.secret and not self.jwks:
            raise ValueError("a JWT secret or a JWKS is required to verify customers")
        if self.secret and len(self.secret.encode()) < 32:
            raise ValueError("the HS256 secret must be at least 32 bytes (RFC 7518 section 3.2)")
        if self.jwks:
            if self.jwks.startswith(("https://", "http://")):
                self._jwks_client = PyJWKClient(self.jwks, cache_keys=True)
            else:
                self._file_keys = signing_keys(json.loads(Path(self.jwks).read_text()))

    def _key_for(self, token: str, header: dict[str, Any]) -> tuple[Any, str]:
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or not (kid is None or isinstance(kid, str)):
            raise InvalidCustomerToken("the header's alg and kid must be strings")
        if alg == "HS256" and self.secret:
            return self.secret, "HS256"
        key = None
        if self._jwks_client is not None and kid is not None:
            key = self._jwks_client.get_signing_key(kid)
        elif self._file_keys is not None:
            key = pick_key(self._file_keys, kid, alg)
        if key is None or key.algorithm_name not in ASYMMETRIC:
            raise InvalidCustomerToken(f"no key for algorithm {alg[:20]!r} and this kid")
        return key.key, key.algorithm_name

    def customer_id(self, token: str) -> str:
        """The customer the token names, or :class:`InvalidCustomerToken`."""
        try:
            header = jwt.get_unverified_header(token)
            key, algorithm = self._key_for(token, header)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except InvalidCustomerToken:
            raise
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise InvalidCustomerToken(str(exc)) from None
        customer = claims.get(self.customer_claim)
        if not isinstance(customer, str) or not customer:
            raise InvalidCustomerToken(f"claim {self.customer_claim!r} is missing")
        return customer

    def mint(self, customer_id: str, *, ttl: int = 3600) -> str:
        """An HS256 token for ``customer_id`` (local integration tests, the demo)."""
        if not self.secret:
            raise ValueError("minting needs the HS256 secret")
        now = int(time.time())
        claims: dict[str, Any] = {self.customer_claim: customer_id, "iat": now, "exp": now + ttl}
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self.secret, algorithm="HS256")
