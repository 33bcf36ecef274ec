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

ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class InvalidCustomerToken(Unauthenticated):
    """The bearer token proves nothing; the message says why."""

    code = "INVALID_TOKEN"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid customer token: {reason}")


@attrs.define
class CustomerVerifier:
    """Verifies customer bearer JWTs: HS256 with a shared secret and/or
    RS256/ES256 keys from a JWKS file or URL. ``exp`` is required and checked,
    the audience too when configured; ``alg: none`` is never accepted."""

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
                data = json.loads(Path(self.jwks).read_text())
                self._file_keys = {
                    k.get("kid", str(i)): PyJWK(k) for i, k in enumerate(data["keys"])
                }

    def _key_for(self, token: str, header: dict[str, Any]) -> tuple[Any, list[str]]:
        alg = header.get("alg")
        if alg == "HS256" and self.secret:
            return self.secret, ["HS256"]
        if alg in ASYMMETRIC:
            if self._jwks_client is not None:
                return self._jwks_client.get_signing_key_from_jwt(token).key, [alg]
            if self._file_keys is not None:
                kid = header.get("kid")
                key = (
                    self._file_keys.get(kid) if kid else next(iter(self._file_keys.values()), None)
                )
                if key is not None:
                    return key.key, [alg]
        raise InvalidCustomerToken(f"algorithm {alg!r} is not accepted")

    def customer_id(self, token: str) -> str:
        """The customer the token names, or :class:`InvalidCustomerToken`."""
        try:
            header = jwt.get_unverified_header(token)
            key, algorithms = self._key_for(token, header)
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
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
