"""grpc channels for the agent: server-TLS to the enrollment listener (the pinned
CA its only root), mutual TLS to the agent listener."""

from __future__ import annotations

import grpc
import grpc.aio

from .._proto import compliance_pb2_grpc as pb_grpc
from ._identity import AgentIdentity

__all__ = ["enrollment_channel", "mtls_channel"]

# grpc's own reconnect backoff (1 s doubling to 120 s) would stack on the agent's;
# the agent recreates the channel itself after a failure, with its own backoff.
_BASE_OPTIONS: list[tuple[str, int | str]] = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


def _options(server_name: str | None) -> list[tuple[str, int | str]]:
    options = list(_BASE_OPTIONS)
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    return options


def enrollment_channel(target: str, ca_pem: bytes, server_name: str | None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    return grpc.aio.secure_channel(target, credentials, options=_options(server_name))


def mtls_channel(target: str, identity: AgentIdentity, server_name: str | None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=identity.ca_pem,
        private_key=identity.key_pem,
        certificate_chain=identity.cert_pem,
    )
    return grpc.aio.secure_channel(target, credentials, options=_options(server_name))


def stub(channel: grpc.aio.Channel) -> pb_grpc.ComplianceAgentAsyncStub:
    return pb_grpc.ComplianceAgentStub(channel)
