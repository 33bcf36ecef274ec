"""Drift events per second over one ReportDrift stream, against a bare grpc.aio echo.

One server process (a subprocess, 127.0.0.1) runs the whole server
(``create_app`` with ``grpc_enabled``, SQLite, its lifespan as ``serve`` runs
it) and, in the same event loop, a bare grpc.aio server that answers each
DriftEvent on a bidirectional stream with a DriftAck echoing its id (no
check, no database), behind the same mutual TLS. The server is seeded with a
partner, a ``self_heal`` site and an enrollment token; this process enrolls
an agent (CSR, real certificate) and then, in the same run, sends:

- bare: ``--events`` events over one stream to the echo, acks read as they come;
- drift: the same over one ``ReportDrift`` stream: each event checked, applied
  once per event id (its check's state; one in ten fails a check and updates
  its incident), acked.

Rounds of bare, drift, bare; each ratio is taken against the bare stream
around it, and the median printed. Target: drift >= 0.5x. On demand only (not
in CI); bounded by ``--events`` and ``--rounds``.

    python benchmarks/bench_agent_drift.py [--events 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import CertificateSigningRequestBuilder, Name, NameAttribute
from cryptography.x509.oid import NameOID

from gateway_server.compliance._proto import compliance_pb2 as pb
from gateway_server.compliance._proto import compliance_pb2_grpc as rpc

ECHO = "/bench.Echo/Drift"

SERVER = """
import asyncio
import json
import sys

import grpc
from gateway_server import Settings, create_app
from gateway_server.compliance._proto import compliance_pb2 as pb

settings = Settings(
    data_dir=sys.argv[1], jwt_secret="bench-secret-" + "z" * 32, log_level="warning",
    grpc_enabled=True, grpc_agent_port=0, grpc_enrollment_port=0,
)
app = create_app(settings)


async def echo(requests, context):
    async for event in requests:
        yield pb.DriftAck(event_id=event.event_id, received=True)


async def main():
    async with app.router.lifespan_context(app):
        api = app.compliance
        partner = await api.users.partner("bench")
        site = await api.sites.create(partner, "Bench Clinic", "self_heal")
        _, token = await api.sites.create_token(
            partner, site.id, created_by=None, description=None, ttl=3600, max_uses=None
        )
        bare = grpc.aio.server()
        handler = grpc.stream_stream_rpc_method_handler(
            echo,
            request_deserializer=pb.DriftEvent.FromString,
            response_serializer=pb.DriftAck.SerializeToString,
        )
        bare.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("bench.Echo", {"Drift": handler})]
        )
        # the same mutual TLS as the agent listener
        listeners = api.listeners
        port = bare.add_secure_port(
            "127.0.0.1:0", listeners.certificates.credentials(clients=True)
        )
        await bare.start()
        print(json.dumps({
            "token": token, "ca": api.ca.cert_pem(), "echo": port, **app.services.grpc_ports,
        }), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await bare.stop(0)

asyncio.run(main())
"""

CHECKS = ("firewall", "defender", "bitlocker", "patches", "screenlock", "rmm")


def _events(agent_id: str, count: int) -> list[pb.DriftEvent]:
    return [
        pb.DriftEvent(
            agent_id=agent_id,
            hostname="BENCH-01",
            check_type=CHECKS[n % len(CHECKS)],
            passed=n % 10 != 0,
            expected="on",
            actual="on" if n % 10 else "off",
            event_id=str(uuid.uuid4()),
        )
        for n in range(count)
    ]


async def _stream(call: Callable[[Any], Any], events: list[pb.DriftEvent]) -> float:
    """Events a second over one stream: all sent as fast as the stream takes them."""

    async def source() -> AsyncIterator[pb.DriftEvent]:
        for event in events:
            yield event

    started = time.perf_counter()
    acked = 0
    async for ack in call(source()):
        assert ack.received, ack.error
        acked += 1
    assert acked == len(events)
    return acked / (time.perf_counter() - started)


async def run(info: dict[str, Any], count: int, rounds: int) -> float:
    ca = info["ca"].encode()
    tls = grpc.ssl_channel_credentials(ca)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        CertificateSigningRequestBuilder()
        .subject_name(Name([NameAttribute(NameOID.COMMON_NAME, "bench")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    async with grpc.aio.secure_channel(f"127.0.0.1:{info['enrollment']}", tls) as channel:
        enrolled = await rpc.ComplianceAgentStub(channel).Register(
            pb.RegisterRequest(hostname="BENCH-01", enrollment_token=info["token"], csr_pem=csr)
        )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    mtls = grpc.ssl_channel_credentials(ca, key_pem, enrolled.agent_cert_pem)
    async with (
        grpc.aio.secure_channel(f"127.0.0.1:{info['agent']}", mtls) as agent_channel,
        grpc.aio.secure_channel(f"127.0.0.1:{info['echo']}", mtls) as echo_channel,
    ):
        drift = rpc.ComplianceAgentStub(agent_channel).ReportDrift
        bare = echo_channel.stream_stream(
            ECHO,
            request_serializer=pb.DriftEvent.SerializeToString,
            response_deserializer=pb.DriftAck.FromString,
        )
        agent_id = enrolled.agent_id
        await _stream(bare, _events(agent_id, 200))  # warm both up
        await _stream(drift, _events(agent_id, 200))
        ratios = []
        for n in range(rounds):
            before = await _stream(bare, _events(agent_id, count))
            applied = await _stream(drift, _events(agent_id, count))
            after = await _stream(bare, _events(agent_id, count))
            base = (before + after) / 2
            ratios.append(applied / base)
            print(
                f"  round {n + 1}: bare {base:7.0f} events/s, drift {applied:7.0f} events/s, "
                f"{applied / base:.2f}x"
            )
    ratio = statistics.median(ratios)
    print(
        f"drift events over one stream: {ratio:.2f}x a bare grpc.aio echo "
        f"(target >= 0.5x; rounds {min(ratios):.2f} to {max(ratios):.2f}; {count} events each)"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with platform_server() as info:
        asyncio.run(run(info, args.events, args.rounds))
    return 0


@contextlib.contextmanager
def platform_server() -> Iterator[dict[str, Any]]:
    """The platform (:data:`SERVER`) in a process of its own, on a fresh data
    directory, until the block ends: what it printed (ports, token, CA)."""
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, data],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            yield json.loads(server.stdout.readline())
        finally:
            if server.stdin is not None:
                server.stdin.close()  # its cue to stop
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
