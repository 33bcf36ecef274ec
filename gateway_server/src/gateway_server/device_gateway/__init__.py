"""The device gateway API (contracts/gateway.openapi.yaml).

Where things happen:

- ``_rules.py``: the queue's rules as I/O-free decisions, with the table of
  each rule, its function and the named statement that enforces it;
- ``_sql.py``: every SQL statement, by name; ``_tables.py``: the tables and
  the gateway's migration steps;
- stores, one per aggregate, that only run transactions: ``_devices.py``
  (devices and tokens), ``_sessions.py`` (sessions and commands),
  ``_queue.py`` (the queue), ``_telemetry.py`` (buffered heartbeats);
- ``_views.py``: rows to wire JSON; ``_schemas.py``: request bodies;
- routes per audience: ``_device_routes.py``, ``_customer_routes.py``,
  ``_ops_routes.py``; the sockets: ``_sockets.py``; live events: ``_events.py``;
- ``_api.py``: all of it assembled over the server's shared services.
"""

from ._api import DeviceGateway
from ._auth import customer_verifier
from ._rules import CommandState, DeviceState
from ._tables import create_tables, index_claim_order, index_run_outs

__all__ = [
    "CommandState",
    "DeviceGateway",
    "DeviceState",
    "create_tables",
    "customer_verifier",
    "index_claim_order",
    "index_run_outs",
]
