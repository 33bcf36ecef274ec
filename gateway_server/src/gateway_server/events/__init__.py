"""Events: the broker that fans live events out to WebSocket subscribers,
behind a small interface, its in-process and Redis backends, the outbox each
subscriber's messages wait in, and the cache invalidations sent through it.
Imports nothing of the HTTP edge or of any API."""

from ._broker import Broker, InProcessBroker, Subscriber
from ._invalidations import Invalidations
from ._outbox import Outbox
from ._redis import REDIS_TIMEOUT, RedisBroker, RedisLink

__all__ = [
    "REDIS_TIMEOUT",
    "Broker",
    "InProcessBroker",
    "Invalidations",
    "Outbox",
    "RedisBroker",
    "RedisLink",
    "Subscriber",
]
