"""What every API of the server shares, typed: settings, the clock, the
database, the event broker, the rate limits that hold across processes, the
Redis link when there is one (``--redis-url``), and facts about this process."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from ._settings import Settings
from .edge import LimitsFactory, in_process, redis_limits
from .events import Broker, InProcessBroker, RedisBroker, RedisLink
from .storage import Database, private_directory

__all__ = ["Services"]


@attrs.define
class Services:
    settings: Settings
    clock: Callable[[], float]
    """Wall-clock seconds (``time.time``; tests move a fake one by hand)."""
    database: Database
    broker: Broker
    limits: LimitsFactory
    """The limits each caller has across every process (per device, customer, failures)."""
    redis: RedisLink | None = None
    build: str = "dev"
    started: float = attrs.field(factory=time.monotonic)
    grpc_ports: dict[str, int] = attrs.field(factory=dict)
    """The agent channel's bound gRPC ports by listener (``enrollment``, ``agent``)
    while the app runs with ``grpc_enabled``; empty otherwise."""

    @property
    def broker_name(self) -> str:
        if isinstance(self.broker, InProcessBroker):
            return "in-process"
        if isinstance(self.broker, RedisBroker):
            return "redis"
        return type(self.broker).__name__

    async def start_shared(self) -> None:
        """Connect to what other processes share (Redis), when configured."""
        if self.redis is not None:
            self.redis.start()
        await self.broker.start()

    async def close_shared(self) -> None:
        await self.broker.close()
        if self.redis is not None:
            await self.redis.close()

    def prepare_storage(self) -> None:
        """Before the database is opened: on SQLite, the data directory (the
        database and the generated JWT secret) private to this user (0700),
        the database file too (0600)."""
        if self.database.backend == "sqlite":
            private_directory(self.settings.data_dir)
        self.database.make_private()

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], float] | None = None,
        broker: Broker | None = None,
        build: str = "dev",
    ) -> Services:
        """Services for ``settings``; nothing is opened until the app starts."""
        clock = clock or time.time
        redis = None
        limits = in_process(clock)
        if settings.redis_url is not None:
            redis = RedisLink(settings.redis_url, settings.redis_prefix)
            broker = broker or RedisBroker(redis)
            limits = redis_limits(redis, clock)
        return cls(
            settings=settings,
            clock=clock,
            database=Database(
                settings.effective_database_url, sqlite_synchronous=settings.sqlite_synchronous
            ),
            broker=broker or InProcessBroker(),
            limits=limits,
            redis=redis,
            build=build,
        )
