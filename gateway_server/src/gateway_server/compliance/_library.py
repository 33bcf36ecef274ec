"""The built-in runbook library (``partner_id`` null, visible to every
partner), seeded by a migration step with stable ids; and the HIPAA control
each check maps to when a drift event names none."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ._tables import runbooks

__all__ = ["BUILTIN", "CONTROLS", "seed_library"]

CONTROLS = {
    "bitlocker": "164.312(a)(2)(iv)",
    "defender": "164.308(a)(5)(ii)(B)",
    "firewall": "164.312(e)(1)",
    "patches": "164.308(a)(5)(ii)(B)",
    "screenlock": "164.312(a)(2)(iii)",
    "rmm": "164.308(a)(1)(ii)(D)",
}

_NAMESPACE = uuid.UUID("0b1c6f2e-5c1d-4a57-9a0e-6c0de11b7a11")
_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _runbook(  # noqa: PLR0917 (a table of rows, read positionally)
    key: str,
    name: str,
    check: str,
    level: str,
    disruptive: bool,
    steps: list[dict[str, object]],
    description: str,
) -> dict[str, object]:
    return {
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "partner_id": None,
        "name": name,
        "description": description,
        "level": level,
        "check_type": check,
        "hipaa_controls": json.dumps([CONTROLS[check]]),
        "is_disruptive": disruptive,
        "steps": json.dumps(steps),
        "source_candidate_id": None,
        "created_at": _EPOCH,
    }


BUILTIN = [
    _runbook(
        "enable-bitlocker",
        "Enable BitLocker on the system drive",
        "bitlocker",
        "L1",
        True,
        [{"action": "enable_bitlocker", "params": {"drive": "C:", "method": "XtsAes256"}}],
        "Encrypts the system drive; needs a restart to finish.",
    ),
    _runbook(
        "defender-realtime",
        "Turn Defender real-time protection back on",
        "defender",
        "L1",
        False,
        [
            {"action": "set_defender_realtime", "params": {"enabled": "true"}},
            {"action": "update_defender_signatures", "params": {}},
        ],
        "Enables real-time protection and updates the signatures.",
    ),
    _runbook(
        "enable-firewall",
        "Enable Windows Firewall",
        "firewall",
        "L1",
        False,
        [{"action": "enable_firewall", "params": {"profiles": "Domain,Private,Public"}}],
        "Turns the firewall on for every profile.",
    ),
    _runbook(
        "firewall-gpo",
        "Reapply the firewall group policy",
        "firewall",
        "L2",
        False,
        [{"action": "gpupdate", "params": {"target": "computer", "force": "true"}}],
        "For firewalls that a local policy keeps turning off: needs a look at the GPO.",
    ),
    _runbook(
        "install-patches",
        "Install pending security updates",
        "patches",
        "L1",
        True,
        [{"action": "install_updates", "params": {"classification": "security"}}],
        "Installs the pending security updates; may restart the machine.",
    ),
    _runbook(
        "screen-lock",
        "Set the screen lock timeout",
        "screenlock",
        "L1",
        False,
        [{"action": "set_screen_lock_timeout", "params": {"seconds": "900"}}],
        "Locks the screen after 15 minutes idle.",
    ),
    _runbook(
        "screen-lock-policy",
        "Restore the screen saver policy",
        "screenlock",
        "L2",
        False,
        [{"action": "reset_screensaver_policy", "params": {"timeout": "900", "secure": "true"}}],
        "For machines whose screen saver policy was changed by hand.",
    ),
    _runbook(
        "restart-rmm",
        "Restart the RMM agent service",
        "rmm",
        "L1",
        False,
        [{"action": "restart_service", "params": {"service": "rmm"}}],
        "Restarts the RMM agent when it stopped reporting.",
    ),
]


async def seed_library(conn: AsyncConnection) -> None:
    """Version 4: the built-in runbooks (each inserted unless already there)."""
    for runbook in BUILTIN:
        known = sa.select(runbooks.c.id).where(runbooks.c.id == runbook["id"])
        if (await conn.execute(known)).first() is None:
            await conn.execute(sa.insert(runbooks).values(**runbook))
