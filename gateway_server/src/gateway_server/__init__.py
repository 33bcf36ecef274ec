"""gateway_server: the reference server for the device gateway API."""

from ._app import create_app
from ._broker import Broker, InProcessBroker
from ._cli import GatewayServer, main
from ._security import CustomerVerifier
from ._settings import Settings
from ._version import __version__

__all__ = [
    "Broker",
    "CustomerVerifier",
    "GatewayServer",
    "InProcessBroker",
    "Settings",
    "__version__",
    "create_app",
    "main",
]
