"""Events: the broker that fans live events out to WebSocket subscribers,
behind a small interface, its in-process backend, and the outbox each
subscriber's messages wait in. Imports nothing of the HTTP edge or of any API."""

from ._broker import Broker, InProcessBroker, Subscriber
from ._outbox import Outbox

__all__ = ["Broker", "InProcessBroker", "Outbox", "Subscriber"]
