"""Finding the appliance: the DNS SRV lookup (dnspython), sync and async twins.

The order of the candidates is :func:`._rules.choose_endpoints`'s decision;
these only ask DNS. A missing domain, NXDOMAIN, no answer or a timeout is "no
SRV record" (an empty list), so discovery falls through to
``OSIRIS_APPLIANCE_ADDR`` and the config file as the spec orders.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import dns.asyncresolver
import dns.exception
import dns.rdtypes.IN.SRV
import dns.resolver

from ._rules import SrvTarget

__all__ = ["SRV_SERVICE", "asrv_targets", "srv_name", "srv_targets"]

SRV_SERVICE = "_osiris-grpc._tcp"
_LOOKUP_ERRORS = (dns.exception.DNSException,)
_log = logging.getLogger("compliance_sdk.agent")
R = TypeVar("R", dns.resolver.Resolver, dns.asyncresolver.Resolver)


def srv_name(domain: str) -> str:
    return f"{SRV_SERVICE}.{domain.strip().rstrip('.')}."


def _resolver(kind: type[R], nameservers: list[str] | None, port: int | None, timeout: float) -> R:
    """A resolver of ``kind`` (sync or async): the system's, or the given servers."""
    resolver = kind(configure=not nameservers)
    if nameservers:
        resolver.nameservers = list(nameservers)
    if port:
        resolver.port = port
    resolver.lifetime = timeout
    return resolver


def _targets(answer: dns.resolver.Answer) -> list[SrvTarget]:
    out = []
    for rdata in answer:
        assert isinstance(rdata, dns.rdtypes.IN.SRV.SRV)
        out.append(SrvTarget(rdata.priority, rdata.weight, rdata.port, rdata.target.to_text()))
    return out


def _none(domain: str, exc: Exception) -> list[SrvTarget]:
    _log.info("no SRV record %s: %s", srv_name(domain), type(exc).__name__)
    return []


def srv_targets(
    domain: str | None,
    *,
    nameservers: list[str] | None = None,
    port: int | None = None,
    timeout: float = 3.0,
) -> list[SrvTarget]:
    """The SRV records of ``_osiris-grpc._tcp.<domain>``; [] when there are none."""
    if not domain:
        return []
    resolver = _resolver(dns.resolver.Resolver, nameservers, port, timeout)
    try:
        return _targets(resolver.resolve(srv_name(domain), "SRV"))
    except _LOOKUP_ERRORS as exc:
        return _none(domain, exc)


async def asrv_targets(
    domain: str | None,
    *,
    nameservers: list[str] | None = None,
    port: int | None = None,
    timeout: float = 3.0,
) -> list[SrvTarget]:
    """:func:`srv_targets`, awaited."""
    if not domain:
        return []
    resolver = _resolver(dns.asyncresolver.Resolver, nameservers, port, timeout)
    try:
        return _targets(await resolver.resolve(srv_name(domain), "SRV"))
    except _LOOKUP_ERRORS as exc:
        return _none(domain, exc)
