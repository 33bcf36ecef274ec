"""``compliance-agent``: enroll this machine, then run the agent.

    compliance-agent enroll --ca-fingerprint HEX [--ca-file ca.pem] [--enrollment-address host:port]
    compliance-agent run [--plugin package.module:function]
    compliance-agent status

Settings come from flags over the environment over the TOML config file
(``--config`` / ``COMPLIANCE_AGENT_CONFIG``; see ``_config``). The enrollment
token is a secret, so it is never a flag (the process list shows those): it is
read from ``COMPLIANCE_ENROLLMENT_TOKEN`` or, without it, from standard input.

``--plugin module:function`` names what runs the checks and heals: the function
is called with the :class:`AsyncComplianceAgent` before it starts; it registers
a heal handler (``agent.on_heal``) and may return a coroutine, run beside the
agent (for example a loop that calls ``agent.report_drift`` every interval).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from sdk_core import InputValidationError

from ._async_agent import AsyncComplianceAgent
from ._config import AgentConfig
from ._errors import AgentError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML config file (COMPLIANCE_AGENT_CONFIG)")
    common.add_argument(
        "--state-dir", help="key, certificates, agent id (COMPLIANCE_AGENT_STATE_DIR)"
    )
    common.add_argument("--address", help="agent listener host:port; skips discovery")
    common.add_argument("--domain", help="DNS domain of the SRV record (USERDNSDOMAIN)")
    common.add_argument("--enrollment-address", help="enrollment listener host:port")
    common.add_argument("--heartbeat-interval", type=float, help="seconds between heartbeats")
    common.add_argument("--hostname", help="this machine's name as reported")
    common.add_argument("--tls-server-name", help="name the server's certificate must carry")
    common.add_argument(
        "--dns-server", action="append", help="resolver host[:port] for the SRV lookup"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    parser = argparse.ArgumentParser(prog="compliance-agent", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    enroll = commands.add_parser("enroll", parents=[common], help="enroll this machine")
    enroll.add_argument(
        "--ca-fingerprint", required=True, help="SHA-256 of the CA (with the token)"
    )
    enroll.add_argument(
        "--ca-file", help="the CA's PEM (the token's ca_cert_pem), checked against it"
    )
    run = commands.add_parser("run", parents=[common], help="run the agent until stopped")
    run.add_argument("--plugin", help="module:function given the agent before it starts")
    commands.add_parser("status", parents=[common], help="print the enrolled identity")
    return parser


def _config(args: argparse.Namespace) -> AgentConfig:
    servers = args.dns_server or []
    hosts, port = [], None
    for server in servers:
        host, _, port_text = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        hosts.append(host)
        port = int(port_text) if port_text else port
    return AgentConfig.load(
        args.config,
        state_dir=args.state_dir,
        address=args.address,
        domain=args.domain,
        enrollment_addr=args.enrollment_address,
        heartbeat_interval=args.heartbeat_interval,
        hostname=args.hostname,
        tls_server_name=args.tls_server_name,
        dns_nameservers=tuple(hosts) or None,
        dns_port=port,
    )


def _token() -> str:
    token = os.environ.get("COMPLIANCE_ENROLLMENT_TOKEN") or sys.stdin.readline()
    token = token.strip()
    if not token:
        raise InputValidationError(
            "enrollment_token", "set COMPLIANCE_ENROLLMENT_TOKEN or pipe it on standard input"
        )
    return token


async def _run(agent: AsyncComplianceAgent, plugin: str | None) -> None:
    extra = None
    if plugin:
        module_name, _, attr = plugin.partition(":")
        if not attr:
            raise InputValidationError("plugin", "is module:function")
        started = getattr(importlib.import_module(module_name), attr)(agent)
        if inspect.isawaitable(started):
            extra = asyncio.ensure_future(started)
    try:
        await agent.run()
    finally:
        if extra is not None:
            extra.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        agent = AsyncComplianceAgent(_config(args))
        if args.command == "enroll":
            ca_pem = Path(args.ca_file).read_bytes() if args.ca_file else None
            identity = asyncio.run(agent.enroll(_token(), args.ca_fingerprint, ca_pem=ca_pem))
            print(f"enrolled: agent {identity.state.agent_id}, site {identity.state.site_id}")
        elif args.command == "status":
            state = agent.identity.state
            print(
                json.dumps(
                    {"state_dir": str(agent.config.state_dir), **attrs.asdict(state)}, indent=2
                )
            )
        else:
            asyncio.run(_run(agent, args.plugin))
    except KeyboardInterrupt:
        return 130
    except (AgentError, InputValidationError, OSError) as exc:
        print(f"compliance-agent: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
