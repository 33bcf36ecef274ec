"""Storage: engines (SQLite by default, PostgreSQL by URL), the versioned
migration runner, the SQLite fast path, and :class:`Database`, through which
every store runs its transactions. Imports nothing of the HTTP edge or of
any API; each API owns its tables and named statements."""

from ._database import Database, private_directory
from ._engine import connect, connect_sync
from ._migrate import Migration, SchemaTooNewError, current_version, migrate
from ._sqlite import Plan, hot

__all__ = [
    "Database",
    "Migration",
    "Plan",
    "SchemaTooNewError",
    "connect",
    "connect_sync",
    "current_version",
    "hot",
    "migrate",
    "private_directory",
]
