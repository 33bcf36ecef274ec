"""Vendor emulators: stateful stand-ins for Nexthink, KubeNexus and
EXASPERATION, mounted by ``gateway-server serve --emulate ...`` under
``/emulators/<name>``, seeded from a data file the user can replace, on the
server's clock, with fault injection at ``/emulators/_control/faults``.

Each vendor is a room of its own (``exasperation/``, ``nexthink/``,
``kubenexus/``); ``_common.py`` holds what they share (errors answered in the
vendor's format, the seed, the clock), ``_faults.py`` the fault injection and
``_mount.py`` the assembly. No vendor imports another, nor an API of the server.
"""

from ._common import EMULATORS, Context, VendorApp, VendorError, load_seed
from ._faults import Fault, Faults
from ._mount import PREFIX, Emulators, Vendor, credentials, environment

__all__ = [
    "EMULATORS",
    "PREFIX",
    "Context",
    "Emulators",
    "Fault",
    "Faults",
    "Vendor",
    "VendorApp",
    "VendorError",
    "credentials",
    "environment",
    "load_seed",
]
