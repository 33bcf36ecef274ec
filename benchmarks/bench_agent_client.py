"""Drift events per second through ``compliance_sdk.agent``, against the bare
stream and a bare grpc.aio echo, in the same run.

The server side is ``bench_agent_drift.py``'s (one subprocess: the whole server
with its gRPC listeners, and a bare grpc.aio echo behind the same mutual TLS).
This process enrolls an ``AsyncComplianceAgent`` (its own key, a CSR, the CA
pinned) and then, per round, sends ``--events`` events three ways:

- echo: one bidirectional stream to the bare echo (no check, no database);
- stream: one ``ReportDrift`` stream with the generated stub, all events
  written as fast as the stream takes them (what bench_agent_drift measures);
- agent: ``report_drift`` for each event, then ``wait_acked``: the agent's
  outbox, its writer and reader tasks, its acks, over its own ``ReportDrift``
  stream.

Printed: agent / echo (the issue's measure, through the real client; target
>= 0.5x) and agent / stream (what the agent itself costs), the medians of
``--rounds`` rounds. On demand only (not in CI); bounded by its arguments.

    python benchmarks/bench_agent_client.py [--events 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from bench_agent_drift import ECHO, _events, _stream, platform_server
from cryptography import x509

from compliance_sdk.agent import AgentConfig, AsyncComplianceAgent
from compliance_sdk.agent._identity import fingerprint
from gateway_server.compliance._proto import compliance_pb2 as pb
from gateway_server.compliance._proto import compliance_pb2_grpc as rpc

CHECKS = ("firewall", "defender", "bitlocker", "patches", "screenlock", "rmm")


async def _agent_rate(agent: AsyncComplianceAgent, count: int) -> float:
    """Events a second through the agent: every report queued, then all acked."""
    started = time.perf_counter()
    for n in range(count):
        await agent.report_drift(
            CHECKS[n % len(CHECKS)],
            n % 10 != 0,
            expected="on",
            actual="on" if n % 10 else "off",
        )
    await agent.wait_acked(120)
    return count / (time.perf_counter() - started)


async def run(info: dict[str, Any], state: Path, count: int, rounds: int) -> None:
    config = AgentConfig(
        state_dir=state,
        hostname="BENCH-01",
        enrollment_addr=f"127.0.0.1:{info['enrollment']}",
        heartbeat_interval=3600,
    )
    agent = AsyncComplianceAgent(config, environ={})
    identity = await agent.enroll(info["token"], _fingerprint(info["ca"]), ca_pem=info["ca"])
    runner = asyncio.create_task(agent.run())
    mtls = grpc.ssl_channel_credentials(identity.ca_pem, identity.key_pem, identity.cert_pem)
    try:
        async with (
            grpc.aio.secure_channel(f"127.0.0.1:{info['agent']}", mtls) as agent_channel,
            grpc.aio.secure_channel(f"127.0.0.1:{info['echo']}", mtls) as echo_channel,
        ):
            stream = rpc.ComplianceAgentStub(agent_channel).ReportDrift
            echo = echo_channel.stream_stream(
                ECHO,
                request_serializer=pb.DriftEvent.SerializeToString,
                response_deserializer=pb.DriftAck.FromString,
            )
            agent_id = identity.state.agent_id
            await _stream(echo, _events(agent_id, 200))  # warm every path up
            await _stream(stream, _events(agent_id, 200))
            await _agent_rate(agent, 200)
            vs_echo, vs_stream = [], []
            for n in range(rounds):
                bare = await _stream(echo, _events(agent_id, count))
                raw = await _stream(stream, _events(agent_id, count))
                through = await _agent_rate(agent, count)
                vs_echo.append(through / bare)
                vs_stream.append(through / raw)
                print(
                    f"  round {n + 1}: echo {bare:7.0f}/s, stream {raw:7.0f}/s, "
                    f"agent {through:7.0f}/s: {through / bare:.2f}x echo, "
                    f"{through / raw:.2f}x stream"
                )
    finally:
        agent.stop()
        await runner
    print(
        f"drift events through the agent: {statistics.median(vs_echo):.2f}x a bare grpc.aio "
        f"echo (target >= 0.5x), {statistics.median(vs_stream):.2f}x the bare ReportDrift "
        f"stream (rounds {min(vs_stream):.2f} to {max(vs_stream):.2f}; {count} events each)"
    )


def _fingerprint(ca_pem: str) -> str:
    """What the token's answer carries beside the CA: its SHA-256 fingerprint."""
    return fingerprint(x509.load_pem_x509_certificate(ca_pem.encode()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with platform_server() as info, tempfile.TemporaryDirectory() as state:
        asyncio.run(run(info, Path(state), args.events, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
