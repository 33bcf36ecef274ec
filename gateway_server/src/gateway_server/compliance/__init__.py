"""The compliance platform's REST API (contracts/compliance.openapi.yaml).

Where things happen:

- ``_rules.py``: the rules as I/O-free decisions (roles, incidents from
  drift and healing, agent and token states, rates, learning, delivery
  backoff), with the table of each rule and its function;
- ``_tables.py``: the tables and the migration step; ``_library.py``: the
  built-in runbooks; ``_sql.py``: the page-and-total and the scoping check
  every store shares;
- stores, one per aggregate, that only run transactions: ``_users.py``
  (partners, users, sessions), ``_sites.py`` (sites, enrollment tokens),
  ``_fleet.py`` (agents), ``_incidents.py`` (incidents, and
  ``IncidentService``: what the agents' reports do, the entry point of the
  agent channel), ``_runbooks.py`` (runbooks, executions, learning),
  ``_integrations.py`` (connectors, OAuth; ``_providers.py`` the
  providers' endpoints), ``_escalations.py`` (notifications and delivery);
- ``_auth.py``: who is calling (sessions, roles) and login limits;
  ``_ca.py``: the agent CA (agent and server certificates);
- the agent channel (gRPC, issue 19): ``_messages.py`` each message checked
  (I/O-free), ``_channel.py`` its transactions, ``_grpc.py`` the servicers,
  ``_listeners.py`` the two listeners and their certificate; ``_proto/`` the
  generated stubs (``tools/gen_proto.py``); ``_admin.py`` the CLI's tokens;
- ``_views.py``: rows to wire JSON; ``_schemas.py``: request bodies;
  ``_parsing.py``: bodies, queries and path ids, every failing field listed;
  ``_errors.py``: the codes and the error format;
- routes per router: ``_auth_routes.py``, ``_site_routes.py`` (sites,
  fleet), ``_incident_routes.py`` (incidents, runbooks, learning),
  ``_integration_routes.py`` (integrations, escalation);
- ``_api.py``: all of it assembled over the server's shared services.
"""

from ._admin import enrollment_token
from ._api import CONTRACT, Compliance
from ._demo import seed_demo
from ._incidents import DriftOutcome, IncidentService
from ._library import seed_library
from ._rules import Role
from ._tables import create_channel_tables, create_tables

__all__ = [
    "CONTRACT",
    "Compliance",
    "DriftOutcome",
    "IncidentService",
    "Role",
    "create_channel_tables",
    "create_tables",
    "enrollment_token",
    "seed_demo",
    "seed_library",
]
