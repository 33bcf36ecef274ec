"""Events: the broker that fans live events out to WebSocket subscribers,
behind a small interface, and its in-process backend. Imports nothing of the
HTTP edge or of any API."""

from ._broker import Broker, InProcessBroker, Subscription

__all__ = ["Broker", "InProcessBroker", "Subscription"]
