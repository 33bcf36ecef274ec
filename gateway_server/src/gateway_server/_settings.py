"""Server settings: arguments, then ``GATEWAY_*`` environment variables, then defaults
that work on a laptop (a SQLite file under ./gateway-data, a generated HS256 secret)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import attrs

__all__ = ["Settings"]


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"GATEWAY_{name}", default)


@attrs.frozen(kw_only=True)
class Settings:
    data_dir: Path = attrs.field(converter=Path, default=Path("gateway-data"))
    database_url: str | None = None
    """SQLAlchemy async URL; default: sqlite+aiosqlite:///<data_dir>/gateway.db"""
    redis_url: str | None = None
    jwt_secret: str | None = attrs.field(default=None, repr=False)
    jwt_jwks: str | None = None
    """A JWKS file path or https URL (RS256/ES256), instead of or beside the HS256 secret."""
    jwt_audience: str | None = "gateway"
    jwt_customer_claim: str = "sub"
    environment: str = "development"
    device_token_ttl: int = 3600
    session_ttl: int = 3600
    activation_ttl: int = 24 * 3600
    heartbeat_interval_ms: int = 30_000
    default_visibility_ms: int = 300_000
    max_claims: int = 5
    device_rate_per_minute: int = 100
    customer_rate_per_minute: int = 1000
    auth_attempts_per_minute: int = 10
    ws_messages_per_second: int = 10
    max_body_bytes: int = 1_048_576
    drain_seconds: float = 30.0
    sqlite_synchronous: str = "NORMAL"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.db').resolve()}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for name, env in (
            ("data_dir", "DATA_DIR"),
            ("database_url", "DATABASE_URL"),
            ("redis_url", "REDIS_URL"),
            ("jwt_secret", "JWT_SECRET"),
            ("jwt_jwks", "JWT_JWKS"),
            ("jwt_audience", "JWT_AUDIENCE"),
            ("jwt_customer_claim", "JWT_CUSTOMER_CLAIM"),
            ("environment", "ENVIRONMENT"),
        ):
            value = _env(env)
            if value is not None:
                values[name] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_generated_secret(self) -> Settings:
        """A copy with an HS256 secret kept in the data directory (made once)."""
        if self.jwt_secret or self.jwt_jwks:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return attrs.evolve(self, jwt_secret=path.read_text().strip())
