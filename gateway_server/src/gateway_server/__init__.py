"""gateway_server: the reference server for the device gateway API.

The layout shows the architecture: ``_app.py`` (the thin factory),
``_services.py`` (what every API shares), ``_settings.py``; the shared layers
``edge/`` (HTTP), ``storage/``, ``security/``, ``events/``; and one
subpackage per API, ``device_gateway/`` (the next API goes beside it).
"""

from ._app import GatewayApp, create_app
from ._cli import GatewayServer, main
from ._services import Services
from ._settings import Settings
from ._version import __version__
from .events import Broker, InProcessBroker
from .security import CustomerVerifier

__all__ = [
    "Broker",
    "CustomerVerifier",
    "GatewayApp",
    "GatewayServer",
    "InProcessBroker",
    "Services",
    "Settings",
    "__version__",
    "create_app",
    "main",
]
