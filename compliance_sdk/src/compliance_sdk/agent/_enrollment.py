"""Enrollment and renewal: a fresh ECDSA P-256 key, a CSR, ``Register``, and the
answer checked against the pinned CA before anything is saved.

Enrollment goes to the enrollment listener (server TLS only; the pinned CA is
the channel's only root, see ``_pinning``) with the site's enrollment token.
Renewal goes to the agent listener over mutual TLS with the current
certificate, without a token: the server reads the agent id from the peer
certificate. Either way the new key is made here and never leaves the agent.
"""

from __future__ import annotations

import asyncio
import logging

import grpc
import grpc.aio
from cryptography import x509

from .._proto import compliance_pb2 as pb
from ._channel import enrollment_channel, mtls_channel, stub
from ._config import DEFAULT_ENROLLMENT_PORT, AgentConfig
from ._errors import EnrollmentError
from ._identity import (
    AgentIdentity,
    AgentState,
    check_issued,
    fingerprint,
    key_pem,
    load_pinned_ca,
    make_csr,
    make_key,
    normalize_fingerprint,
)
from ._pinning import fetch_pinned_ca
from ._rules import DEFAULT_AGENT_PORT, Endpoint, parse_address, retry_after

__all__ = ["enroll", "renew"]

_log = logging.getLogger("compliance_sdk.agent")
_TIMEOUT = 30.0


def _request(config: AgentConfig, csr: bytes, token: str = "") -> pb.RegisterRequest:
    return pb.RegisterRequest(
        hostname=config.hostname,
        os_version=config.os_version,
        agent_version=config.agent_version,
        installed_software=list(config.installed_software),
        mac_address=config.mac_address,
        enrollment_token=token,
        csr_pem=csr,
    )


def _identity(
    response: pb.RegisterResponse,
    ca_pem: bytes,
    pin: str,
    key_bytes: bytes,
    fallback_address: str,
) -> AgentIdentity:
    """The answer's certificate, checked: its CA is the pinned one, the certificate
    is signed by it and certifies our key."""
    if not response.agent_id:
        raise EnrollmentError("the server answered no agent_id")
    if response.ca_cert_pem:
        load_pinned_ca(response.ca_cert_pem, pin)  # PinError when another CA
    state = AgentState(
        agent_id=response.agent_id,
        site_id=response.site_id,
        agent_address=response.agent_address or fallback_address,
        check_interval_seconds=response.check_interval_seconds,
        enabled_checks=list(response.enabled_checks),
        capability_tier=pb.CapabilityTier.Name(response.capability_tier),
        check_config=dict(response.check_config),
        certificate_expires_at=response.certificate_expires_at,
    )
    return AgentIdentity(key_bytes, response.agent_cert_pem, ca_pem, state)


async def enroll(
    config: AgentConfig,
    token: str,
    ca_fingerprint: str,
    *,
    ca_pem: bytes | None = None,
    address: str | None = None,
) -> AgentIdentity:
    """Enroll with ``token`` at the enrollment listener; save and return the identity."""
    pin = normalize_fingerprint(ca_fingerprint)
    where = address or config.enrollment_addr or config.address or config.appliance_addr
    if not where:
        raise EnrollmentError(
            "enrollment address: give --enrollment-address (or enrollment_addr in the config file)"
        )
    endpoint = Endpoint(
        *parse_address(where, field="enrollment_addr", default_port=DEFAULT_ENROLLMENT_PORT),
        source="enrollment",
    )
    if ca_pem is not None:
        ca = load_pinned_ca(ca_pem, pin)
    else:
        ca = await asyncio.to_thread(fetch_pinned_ca, endpoint.host, endpoint.port, pin)
    key = make_key()
    request = _request(config, make_csr(key, config.hostname), token)
    async with enrollment_channel(endpoint.target, ca, config.tls_server_name) as channel:
        try:
            response = await stub(channel).Register(request, timeout=_TIMEOUT)
        except grpc.aio.AioRpcError as exc:
            raise EnrollmentError(
                f"enrollment refused: {exc.code().name}: {exc.details()}",
                exc.code(),
                retry_after(exc.trailing_metadata()),
            ) from None
    fallback = Endpoint(endpoint.host, DEFAULT_AGENT_PORT, "enrollment").target
    identity = _identity(response, ca, pin, key_pem(key), fallback)
    check_issued(identity.cert_pem, ca, key)
    identity.save(config.state_dir)
    _log.info("enrolled as agent %s of site %s", identity.state.agent_id, identity.state.site_id)
    return identity


async def renew(config: AgentConfig, identity: AgentIdentity, target: str) -> AgentIdentity:
    """A new key and certificate from the agent listener (mutual TLS with the current
    one); saved over the old files only once checked."""
    pin = fingerprint(x509.load_pem_x509_certificate(identity.ca_pem))
    key = make_key()
    request = _request(config, make_csr(key, config.hostname))
    async with mtls_channel(target, identity, config.tls_server_name) as channel:
        response = await stub(channel).Register(request, timeout=_TIMEOUT)
    if response.agent_id and response.agent_id != identity.state.agent_id:
        raise EnrollmentError("renewal answered another agent id")
    if not response.agent_id:
        response.agent_id = identity.state.agent_id
    if not response.site_id:
        response.site_id = identity.state.site_id
    renewed = _identity(response, identity.ca_pem, pin, key_pem(key), identity.state.agent_address)
    if not response.agent_address:
        renewed.state.agent_address = identity.state.agent_address
    check_issued(renewed.cert_pem, identity.ca_pem, key)
    renewed.save(config.state_dir)
    _log.info("renewed the certificate of agent %s", renewed.state.agent_id)
    return renewed
