"""The emulators, assembled: the vendors the settings name, each under
``/emulators/<name>`` behind fault injection, and the control routes."""

from __future__ import annotations

import contextlib
import importlib
from typing import Protocol

from starlette.routing import BaseRoute, Mount

from .._services import Services
from .._settings import Settings
from ._common import Context, VendorApp, load_seed
from ._faults import FaultInjection, Faults, control_app

__all__ = ["PREFIX", "Emulators", "credentials", "environment"]

PREFIX = "/emulators"


class Vendor(Protocol):
    name: str

    def apps(self) -> dict[str, VendorApp]:
        """Each app by the name it is mounted under (``/emulators/<name>``)."""
        ...

    async def stop(self) -> None:
        """Let go of what it holds (webhook deliveries in flight)."""
        ...


def _build(name: str, context: Context, services: Services) -> Vendor:
    # Imported here so that a server without emulators never loads them.
    if name == "exasperation":
        from .exasperation import ExasperationEmulator  # noqa: PLC0415

        return ExasperationEmulator(context)
    if name == "nexthink":
        from .nexthink import NexthinkEmulator  # noqa: PLC0415

        settings = services.settings
        return NexthinkEmulator(
            context,
            export_seconds=settings.nexthink_export_seconds,
            rate_per_minute=settings.nexthink_rate_per_minute,
        )
    if name == "kubenexus":
        from .kubenexus import KubeNexusEmulator  # noqa: PLC0415

        return KubeNexusEmulator(context)
    raise ValueError(f"no emulator {name!r}")


def credentials(settings: Settings, server_url: str) -> dict[str, dict[str, str]]:
    """Each mounted emulator's client arguments (base URL and credentials), by
    emulator, for a server at ``server_url``: what the demo prints and what the
    pytest plugin configures its clients with."""
    if not settings.emulators:
        return {}
    seed = load_seed(settings.emulator_data)
    found = {}
    for name in settings.emulators:
        module = importlib.import_module(f"{__package__}.{name}")
        found[name] = module.credentials(seed.get(name) or {}, f"{server_url}{PREFIX}/{name}")
    return found


def environment(settings: Settings, server_url: str) -> dict[str, str]:
    """The same as environment variables the clients read (``NEXTHINK_BASE_URL``...)."""
    return {
        f"{name.upper()}_{key.upper()}": value
        for name, values in credentials(settings, server_url).items()
        for key, value in values.items()
    }


class Emulators:
    """The vendor emulators the settings name (``--emulate``), on the server's clock."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.faults = Faults()
        self.vendors: dict[str, Vendor] = {}
        if not settings.emulators:
            return
        seed = load_seed(settings.emulator_data)
        for name in settings.emulators:
            context = Context(services.clock, dict(seed.get(name) or {}), settings.max_body_bytes)
            self.vendors[name] = _build(name, context, services)

    def __getitem__(self, name: str) -> Vendor:
        return self.vendors[name]

    def routes(self) -> list[BaseRoute]:
        if not self.vendors:
            return []
        routes: list[BaseRoute] = [
            Mount(f"{PREFIX}/_control", app=control_app(self.faults, 1_048_576))
        ]
        for vendor in self.vendors.values():
            for mount, served in vendor.apps().items():
                guarded = FaultInjection(served.app, self.faults, served.render)
                routes.append(Mount(f"{PREFIX}/{mount}", app=guarded))
        return routes

    async def stop(self) -> None:
        for vendor in self.vendors.values():
            with contextlib.suppress(Exception):
                await vendor.stop()
