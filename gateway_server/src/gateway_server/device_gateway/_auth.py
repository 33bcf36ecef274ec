"""Who is calling, and how often: device session tokens, customer JWTs, and
the limits on each caller and on authentication attempts."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import HTTPConnection, Request

from .._errors import DomainError, Unauthenticated
from .._settings import Settings
from ..edge import FailureBudget, Limits, LimitsFactory, check_rate, header, limited
from ..security import CustomerVerifier
from ._devices import DeviceStore
from ._errors import InvalidDeviceToken

__all__ = ["Guard", "customer_verifier"]


def customer_verifier(
    settings: Settings, clock: Callable[[], float] = time.time
) -> CustomerVerifier:
    """The verifier of customer JWTs the settings describe."""
    return CustomerVerifier(
        secret=settings.jwt_secret,
        jwks=settings.jwt_jwks,
        audience=settings.jwt_audience,
        customer_claim=settings.jwt_customer_claim,
        clock=clock,
        jwks_timeout=settings.jwt_jwks_timeout,
    )


class Guard:
    """Who is calling, and the limits on each caller.

    Authentication attempts (a device secret, an activation code) are
    checked first: a correct one always passes, whatever failed before it.
    Failures are counted, per device id and client address (and per
    address across device ids, 30 times as many); past that budget a
    failure answers 429 instead of 401. Someone failing in a device's name
    from elsewhere so never locks the device out; guessing is bounded by the
    secrets' entropy (256 bits, activation codes 80), not by the limit.
    docs/gateway.md ("Security") argues the choice.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float],
        devices: DeviceStore,
        verifier: CustomerVerifier,
        limits: LimitsFactory,
    ) -> None:
        self.devices = devices
        self.verifier = verifier
        self.now = clock
        self.device_limiter = limits("device", settings.device_rate_per_minute, 60.0)
        self.customer_limiter = limits("customer", settings.customer_rate_per_minute, 60.0)
        self.failures = FailureBudget(
            settings.auth_attempts_per_minute, clock, limits=limits, name="device-auth"
        )

    async def device(self, request: Request) -> tuple[str, str]:
        """(device id, customer id) of the request's ``X-Device-Token``, rate-limited."""
        token = header(request, b"x-device-token")
        if not token:
            raise Unauthenticated("X-Device-Token is required")
        found = await self.devices.device_for_token(token)
        if found is None:
            raise InvalidDeviceToken("invalid or expired device token")
        await check_rate(request, self.device_limiter, found[0], self.now)
        return found

    async def customer(self, request: Request) -> str:
        """The customer of the request's bearer JWT, rate-limited."""
        scheme, _, token = (header(request, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization: Bearer <jwt> is required")
        customer = await self.verifier.customer_id(token.strip())
        await check_rate(request, self.customer_limiter, customer, self.now)
        return customer

    async def charge(self, limiter: Limits, key: str) -> None:
        """Count a socket message of ``key`` (a device, a customer) against its
        rate, as its requests are; over the limit, :class:`RateLimited`."""
        verdict = await limiter.hit(key)
        if not verdict.allowed:
            raise limited(verdict, self.now())

    async def failed(
        self, caller: HTTPConnection, device_id: str, error: DomainError
    ) -> DomainError:
        """Count a failed attempt to prove ``device_id`` from the caller's
        address; the error to answer it with: ``error``, or 429 once this
        device id from this address, or this address, failed too often."""
        address = caller.client.host if caller.client else "?"
        return await self.failures.fail(device_id, address) or error
