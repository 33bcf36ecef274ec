"""Finding the appliance: the DNS SRV lookup (dnspython), sync and async twins.

The order of the candidates is :func:`._rules.choose_endpoints`'s decision;
these only ask DNS. A missing domain, NXDOMAIN, no answer or a timeout is "no
SRV record" (an empty list), so discovery falls through to
``OSIRIS_APPLIANCE_ADDR`` and the config file as the spec orders.
"""

from __future__ import annotations

import logging

import dns.asyncresolver
import dns.exception
import dns.rdtypes.IN.SRV
import dns.resolver

from ._rules import SrvTarget

__all__ = ["SRV_SERVICE", "asrv_targets", "srv_name", "srv_targets"]

SRV_SERVICE = "_osiris-grpc._tcp"
_LOOKUP_ERRORS = (dns.exception.DNSException,)
_log = logging.getLogger("compliance_sdk.agent")


def srv_name(domain: str) -> str:
    return f"{SRV_SERVICE}.{domain.strip().rstrip('.')}."


def _configure(
    resolver: dns.resolver.Resolver | dns.asyncresolver.Resolver,
    nameservers: list[str] | None,
    port: int | None,
    timeout: float,
) -> None:
    if nameservers:
        resolver.nameservers = list(nameservers)
    if port:
        resolver.port = port
    resolver.lifetime = timeout


def _targets(answer: dns.resolver.Answer) -> list[SrvTarget]:
    out = []
    for rdata in answer:
        assert isinstance(rdata, dns.rdtypes.IN.SRV.SRV)
        out.append(SrvTarget(rdata.priority, rdata.weight, rdata.port, rdata.target.to_text()))
    return out


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
    resolver = dns.resolver.Resolver(configure=not nameservers)
    _configure(resolver, nameservers, port, timeout)
    try:
        return _targets(resolver.resolve(srv_name(domain), "SRV"))
    except _LOOKUP_ERRORS as exc:
        _log.info("no SRV record %s: %s", srv_name(domain), type(exc).__name__)
        return []


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
    resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    _configure(resolver, nameservers, port, timeout)
    try:
        return _targets(await resolver.resolve(srv_name(domain), "SRV"))
    except _LOOKUP_ERRORS as exc:
        _log.info("no SRV record %s: %s", srv_name(domain), type(exc).__name__)
        return []
