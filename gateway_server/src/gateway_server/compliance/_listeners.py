"""The agent channel's two grpc.aio listeners, started and stopped with the
app: the enrollment listener (server TLS only; Register with a token) and
the agent listener (mutual TLS: a client certificate from our CA on every
call). Both present the server certificate the agent CA issues for the
listeners' names, followed by the CA's own (so an agent given only the CA's
fingerprint can find and pin it); it is checked at each TLS handshake and issued again when
``server_certificate_due`` says so (under 30 days left), without a restart.

grpc sets SO_REUSEPORT on Linux, so the processes of ``serve --workers N``
each bind the same two ports and the kernel spreads connections over them."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from typing import cast

import attrs
import grpc

from .._settings import Settings
from ..edge import FailureBudget
from ._ca import AgentCA, ServerCertificate
from ._channel import Channel
from ._grpc import AgentServicer, ChannelConfig, EnrollmentServicer, Registrar
from ._proto import compliance_pb2_grpc as rpc
from ._rules import server_certificate_due

__all__ = ["Listeners", "server_names"]

log = logging.getLogger("gateway_server.compliance.agents")

WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 (to recognise them, not to bind)


def _host_of(address: str) -> str:
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return host.strip("[]")


def server_names(settings: Settings) -> list[str]:
    """The names the listeners' certificate carries: localhost, 127.0.0.1, the
    configured host (unless a wildcard) and the advertised agent address's host."""
    names = {"localhost", "127.0.0.1"}
    if settings.host not in WILDCARDS:
        names.add(settings.host)
    if settings.grpc_agent_address:
        names.add(_host_of(settings.grpc_agent_address))
    return sorted(names)


def _bind(host: str, port: int) -> str:
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


@attrs.define
class _Certificates:
    """The server certificate in use, renewed from a TLS handshake when due
    (grpc calls the fetcher on its own threads, hence the lock)."""

    ca: AgentCA
    names: list[str]
    now: Callable[[], float]
    current: ServerCertificate | None = None
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def load(self) -> ServerCertificate:
        with self.lock:
            self.current = self.ca.server_certificate(self.names)
            return self.current

    def configuration(
        self, cert: ServerCertificate, *, clients: bool
    ) -> grpc.ServerCertificateConfiguration:
        """The certificate followed by the CA's (the chain: an agent that was
        given only the CA's fingerprint finds the CA in the handshake)."""
        ca_pem = self.ca.cert_pem().encode()
        return grpc.ssl_server_certificate_configuration(
            [(cert.key_pem, cert.cert_pem + ca_pem)], root_certificates=ca_pem if clients else None
        )

    def credentials(self, *, clients: bool) -> grpc.ServerCredentials:
        cert = self.current or self.load()
        served = [cert]

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            current = self.current or cert
            due = server_certificate_due(
                current.not_after, current.names, frozenset(self.names), self.now()
            )
            if due:
                try:
                    self.load()
                except Exception:
                    log.exception("renewing the agent channel's server certificate failed")
            latest = self.current
            if latest is None or latest is served[0]:
                return None
            served[0] = latest
            return self.configuration(latest, clients=clients)

        # grpc documents None as "keep the current one"; its stubs omit it
        fetcher = cast(Callable[[], grpc.ServerCertificateConfiguration], fetch)
        return grpc.dynamic_ssl_server_credentials(
            self.configuration(cert, clients=clients),
            fetcher,
            require_client_authentication=clients,
        )


class Listeners:
    def __init__(
        self, settings: Settings, channel: Channel, ca: AgentCA, failures: FailureBudget
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.ca = ca
        self.failures = failures
        """Refused enrollments, per client address."""
        self.ports: dict[str, int] = {}
        self._servers: list[grpc.aio.Server] = []
        self.certificates = _Certificates(ca, server_names(settings), channel.now)
        self._address = ""

    def agent_address(self) -> str:
        """Where an enrolled agent reconnects (RegisterResponse.agent_address)."""
        return self._address

    def _advertised(self) -> str:
        if self.settings.grpc_agent_address:
            return self.settings.grpc_agent_address
        host = self.settings.host
        if host in WILDCARDS:
            host = socket.getfqdn()  # once, at start: it may ask the DNS
        return _bind(host, self.ports["agent"])

    async def start(self) -> dict[str, int]:
        """Both listeners bound and serving; the bound ports by name."""
        registrar = Registrar(
            self.channel,
            self.ca,
            ChannelConfig(self.settings.compliance_check_interval, self.agent_address),
        )
        options = [
            ("grpc.max_receive_message_length", self.settings.max_body_bytes),
            ("grpc.so_reuseport", 1),
        ]
        plan = (
            (
                "enrollment",
                self.settings.grpc_enrollment_port,
                EnrollmentServicer(registrar, self.failures),
                False,
            ),
            (
                "agent",
                self.settings.grpc_agent_port,
                AgentServicer(registrar, self.channel.now),
                True,
            ),
        )
        try:
            for name, port, servicer, clients in plan:
                server = grpc.aio.server(options=options)
                rpc.add_ComplianceAgentServicer_to_server(servicer, server)
                credentials = self.certificates.credentials(clients=clients)
                bound = server.add_secure_port(_bind(self.settings.host, port), credentials)
                if bound == 0:
                    raise OSError(f"the {name} gRPC listener could not bind port {port}")
                await server.start()
                self._servers.append(server)
                self.ports[name] = bound
            self._address = self._advertised()
        except BaseException:
            await self.stop(0)
            raise
        log.info(
            "agent channel: enrollment (TLS) on port %d, agent (mTLS) on port %d",
            self.ports["enrollment"],
            self.ports["agent"],
        )
        return dict(self.ports)

    async def stop(self, grace: float | None) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            await server.stop(grace)
        self.ports.clear()
