"""Customer bearer JWTs: HS256 with a shared secret and/or RS256/ES256 keys
from a JWKS file or URL (``_jwks.py``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import attrs
import jwt

from .._errors import Unauthenticated
from ._jwks import ASYMMETRIC, FileKeys, RemoteKeys

__all__ = ["CustomerToken", "CustomerVerifier", "InvalidCustomerToken"]


def _is_number(value: Any) -> bool:
    """A JSON number a float holds (``1e400`` and ``10**400`` are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@attrs.frozen
class CustomerToken:
    """What a verified customer token says: who, and until when the server
    takes it (epoch seconds: its ``exp`` plus the verifier's leeway)."""

    customer: str
    expires_at: float


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
    clock: Callable[[], float] = time.time
    jwks_timeout: float = 5.0
    _keys: FileKeys | RemoteKeys | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        if not self.secret and not self.jwks:
            raise ValueError("a JWT secret or a JWKS is required to verify customers")
        if self.secret and len(self.secret.encode()) < 32:
            raise ValueError("the HS256 secret must be at least 32 bytes (RFC 7518 section 3.2)")
        if self.jwks:
            if self.jwks.startswith(("https://", "http://")):
                self._keys = RemoteKeys(self.jwks, self.clock, timeout=self.jwks_timeout)
            else:
                self._keys = FileKeys(self.jwks)

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or not (kid is None or isinstance(kid, str)):
            raise InvalidCustomerToken("the header's alg and kid must be strings")
        if alg == "HS256" and self.secret:
            return self.secret, "HS256"
        key = None if self._keys is None else await self._keys.find(kid, alg)
        if key is None or key.algorithm_name not in ASYMMETRIC:
            raise InvalidCustomerToken(f"no key for algorithm {alg[:20]!r} and this kid")
        return key.key, key.algorithm_name

    async def verify(self, token: str) -> CustomerToken:
        """The customer the token names and when the token expires, or
        :class:`InvalidCustomerToken`."""
        try:
            header = jwt.get_unverified_header(token)
            key, algorithm = await self._key_for(header)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                options={
                    "verify_aud": self.audience is not None,
                    # times are checked below, on the server's clock, as numbers
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except InvalidCustomerToken:
            raise
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise InvalidCustomerToken(str(exc)) from None
        expires = self._check_times(claims)
        customer = claims.get(self.customer_claim)
        if not isinstance(customer, str) or not customer:
            raise InvalidCustomerToken(f"claim {self.customer_claim!r} is missing")
        return CustomerToken(customer, expires + self.leeway)

    async def customer_id(self, token: str) -> str:
        """The customer the token names, or :class:`InvalidCustomerToken`."""
        return (await self.verify(token)).customer

    def _check_times(self, claims: dict[str, Any]) -> float:
        """``exp`` (required), ``nbf`` and ``iat``: JSON numbers (a numeric
        string is not one), on the server's clock with the leeway; ``exp``."""
        for name in ("exp", "nbf", "iat"):
            value = claims.get(name)
            if name in claims and not _is_number(value):
                raise InvalidCustomerToken(f"claim {name!r} must be a number")
        if "exp" not in claims:
            raise InvalidCustomerToken("claim 'exp' is required")
        now = self.clock()
        expires = float(claims["exp"])
        if expires <= now - self.leeway:
            raise InvalidCustomerToken("the token has expired")
        if "nbf" in claims and float(claims["nbf"]) > now + self.leeway:
            raise InvalidCustomerToken("the token is not valid yet")
        return expires

    def mint(self, customer_id: str, *, ttl: int = 3600) -> str:
        """An HS256 token for ``customer_id`` (local integration tests, the demo)."""
        if not self.secret:
            raise ValueError("minting needs the HS256 secret")
        now = int(self.clock())
        claims: dict[str, Any] = {self.customer_claim: customer_id, "iat": now, "exp": now + ttl}
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self.secret, algorithm="HS256")
