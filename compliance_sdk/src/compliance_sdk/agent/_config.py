"""The agent's configuration: flags (keyword arguments) over the environment over
a TOML file over defaults.

The spec names no file format, so the file is TOML (read by the standard
library). Its keys are the field names below; ``appliance_addr`` in the file is
the last discovery fallback, after DNS SRV and ``OSIRIS_APPLIANCE_ADDR``.

- ``config_file``: ``--config``, ``COMPLIANCE_AGENT_CONFIG``, else
  ``/etc/compliance-agent/agent.toml`` when it exists;
- ``state_dir``: ``--state-dir``, ``COMPLIANCE_AGENT_STATE_DIR``, else ``~/.compliance-agent``;
- ``address``: ``--address`` only (an explicit address skips discovery);
- ``domain`` (for the SRV lookup): ``--domain``, ``USERDNSDOMAIN`` (as the Go agent
  on Windows), else none and no SRV lookup;
- ``appliance_addr``: the file only (``OSIRIS_APPLIANCE_ADDR`` is read by discovery);
- ``enrollment_addr``: ``--enrollment-address``, ``COMPLIANCE_AGENT_ENROLLMENT_ADDR``;
  a host without a port means port 50052;
- ``heartbeat_interval``: ``--heartbeat-interval``,
  ``COMPLIANCE_AGENT_HEARTBEAT_INTERVAL``, else 60 s;
- ``hostname`` (``socket.gethostname()``), ``tls_server_name`` (the address's host),
  ``dns_nameservers`` and ``dns_port`` (``--dns-server host[:port]``; the system's
  resolver): flags and the file.
"""

from __future__ import annotations

import os
import platform
import socket
import tomllib
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from sdk_core import InputValidationError

from .._version import __version__

__all__ = ["DEFAULT_CONFIG_FILE", "AgentConfig"]

DEFAULT_CONFIG_FILE = Path("/etc/compliance-agent/agent.toml")
DEFAULT_ENROLLMENT_PORT = 50052


def _mac_address() -> str:
    node = uuid.getnode()
    return ":".join(f"{(node >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


_ENV = {
    "state_dir": "COMPLIANCE_AGENT_STATE_DIR",
    "domain": "USERDNSDOMAIN",
    "enrollment_addr": "COMPLIANCE_AGENT_ENROLLMENT_ADDR",
    "heartbeat_interval": "COMPLIANCE_AGENT_HEARTBEAT_INTERVAL",
}


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise InputValidationError(attribute.name, "must be greater than 0")


@attrs.frozen
class AgentConfig:
    state_dir: Path = attrs.field(factory=lambda: Path.home() / ".compliance-agent", converter=Path)
    address: str | None = None
    domain: str | None = None
    appliance_addr: str | None = None
    enrollment_addr: str | None = None
    heartbeat_interval: float = attrs.field(default=60.0, converter=float, validator=_positive)
    hostname: str = attrs.field(factory=socket.gethostname)
    os_version: str = attrs.field(factory=platform.platform)
    agent_version: str = __version__
    mac_address: str = attrs.field(factory=_mac_address)
    installed_software: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    tls_server_name: str | None = None
    dns_nameservers: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    dns_port: int | None = None
    max_pending: int = 10_000
    config_file: Path | None = None

    @classmethod
    def load(
        cls,
        config_file: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> AgentConfig:
        """Keyword arguments (flags; None means not given) over ``env`` (default
        ``os.environ``) over the TOML file over the defaults."""
        environ = os.environ if env is None else env
        path = config_file or environ.get("COMPLIANCE_AGENT_CONFIG")
        values: dict[str, Any] = {}
        if path or DEFAULT_CONFIG_FILE.exists():
            file = Path(path) if path else DEFAULT_CONFIG_FILE
            values.update(_read_file(file))
            values["config_file"] = file
        for field, var in _ENV.items():
            if environ.get(var):
                values[field] = environ[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputValidationError(unknown[0], "is not a setting of the agent")
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InputValidationError):
                raise
            raise InputValidationError("config", str(exc)) from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputValidationError("config_file", f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputValidationError("config_file", f"{path}: {exc}") from None
    if "config_file" in data:
        raise InputValidationError("config_file", "cannot be set inside the file")
    return data
