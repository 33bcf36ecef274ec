"""A ``compliance-agent run --plugin`` for the CLI's test: it registers a heal
handler, reports one failing firewall check, waits until the heal is reported,
prints the counts and stops the agent (so the process exits 0)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from compliance_sdk.agent import AsyncComplianceAgent, HealCommand, HealOutcome


def start(agent: AsyncComplianceAgent) -> Coroutine[Any, Any, None]:
    def heal(command: HealCommand) -> HealOutcome:
        return HealOutcome(True, artifacts={"by": "plugin"})

    agent.on_heal(heal)

    async def checks() -> None:
        await agent.report_drift("firewall", False, expected="on", actual="off")
        await agent.wait_idle(30)
        print(f"plugin: {agent.drift_count} drift, {agent.healing_count} healing", flush=True)
        agent.stop()

    return checks()
