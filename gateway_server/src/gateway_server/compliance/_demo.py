"""What ``gateway-server demo`` seeds for the compliance platform: a partner
with an admin and a viewer, two sites with agents checking in, drift that
opened incidents (some healed by runbooks, one recurring fix that became a
learning candidate), through the same service the agent channel calls."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ..security import new_secret
from ._library import BUILTIN

if TYPE_CHECKING:
    from ._api import Compliance

__all__ = ["seed_demo"]

_HOSTS = {
    "Riverside Family Clinic": ("self_heal", ["FRONTDESK-01", "EXAM-02", "BILLING-03"]),
    "Lakeside Dental": ("monitor_only", ["RECEPTION-01", "XRAY-02"]),
}


def _builtin(name: str) -> str:
    return str(next(r["id"] for r in BUILTIN if r["name"] == name))


async def seed_demo(api: Compliance) -> dict[str, Any]:
    """Seed, and answer the credentials and ids to print."""
    password = new_secret(12)
    partner_id = await api.users.partner("Demo Partner")
    await api.users.create_user("demo-admin", password, "admin", partner_id)
    await api.users.create_user("demo-viewer", password, "viewer", partner_id)
    sites: dict[str, str] = {}
    for name, (tier, hosts) in _HOSTS.items():
        site = await api.sites.create(partner_id, name, tier)
        sites[name] = site.id
        for host in hosts:
            agent = await api.fleet.register(
                site.id, host, os_version="Windows 11 Pro 23H2", agent_version="0.3.0"
            )
            await api.fleet.heartbeat(agent, 4, 1, None)
            for check in ("bitlocker", "defender", "patches", "screenlock"):
                await api.service.drift(site.id, host, check, True, agent_id=agent)
            failing = host.endswith("01")
            await api.service.drift(
                site.id,
                host,
                "firewall",
                not failing,
                agent_id=agent,
                expected="enabled",
                actual="disabled (Public profile)" if failing else "enabled",
                metadata={"profile": "Public"},
            )
    clinic = sites["Riverside Family Clinic"]
    # Healed by the built-in L1 runbook: resolved by the agent.
    await _heal(api, clinic, "EXAM-02", "screenlock", _builtin("Set the screen lock timeout"))
    # The same fix by hand-picked L2 steps, three times: a learning candidate.
    for _ in range(3):
        await _heal(
            api, clinic, "BILLING-03", "screenlock", _builtin("Restore the screen saver policy")
        )
    await api.service.drift(
        clinic, "BILLING-03", "patches", False, expected="0 pending", actual="3 pending"
    )
    return {
        "username": "demo-admin",
        "password": password,
        "viewer": "demo-viewer",
        "partnerId": partner_id,
        "sites": sites,
    }


async def _heal(api: Compliance, site_id: str, host: str, check: str, runbook_id: str) -> None:
    outcome = await api.service.drift(
        site_id, host, check, False, expected="locks after 900 s", actual="never locks"
    )
    assert outcome.incident_id is not None
    command = str(uuid.uuid4())
    await api.service.start_execution(outcome.incident_id, runbook_id, command)
    await api.service.healing(site_id, host, check, True, command_id=command)
