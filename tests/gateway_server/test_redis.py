"""The Redis backends against a real Redis of the test's own (a redis-server on
a free loopback port, which some tests stop): the broker's fan-out between
processes (two brokers, as two processes have), the limits that hold across
them, the invalidations that reach them; and a gateway while Redis goes away
and comes back: readiness, 503s, nothing acknowledged lost, no restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError

from gateway_server import create_app
from gateway_server.edge import RateLimiter, redis_limits
from gateway_server.events import RedisBroker, RedisLink
from tests.gateway_support import Clock, Gateway, _dev, running_gateway, settings
from tests.redis_support import RedisServer, prefix, redis_link

pytestmark = pytest.mark.timeout(60)


class Heard:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def deliver(self, text: str) -> None:
        self.texts.append(text)


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float = 5.0) -> None:
    """Wait for something another connection does (a delivery, a reconnect)."""
    async with asyncio.timeout(seconds):
        while True:
            result = check()
            if result if isinstance(result, bool) else await result:
                return
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def broker(url: str, key_prefix: str) -> AsyncIterator[RedisBroker]:
    link = RedisLink(url, key_prefix)
    link.start()
    one = RedisBroker(link)
    await one.start()
    try:
        await until(one.listening.is_set)
        yield one
    finally:
        await one.close()
        await link.close()


async def subscribers(b: RedisBroker, topic: str) -> int:
    """How many processes subscribe to ``topic`` (0 while Redis drops connections)."""
    try:
        ((_, count),) = await b.link.client.pubsub_numsub(b.channel(topic))
    except ConnectionError:  # redis-py's: a pooled connection of the Redis killed before
        return 0
    return int(count)


async def test_a_publication_reaches_the_subscribers_of_every_process_once(
    redis_server: RedisServer,
) -> None:
    shared = prefix()
    async with broker(redis_server.url, shared) as a, broker(redis_server.url, shared) as b:
        here, there, elsewhere = Heard(), Heard(), Heard()
        a.subscribe("watch:dev-1", here)
        b.subscribe("watch:dev-1", there)
        b.subscribe("watch:dev-2", elsewhere)
        await until(lambda: _numsub_is(a, "watch:dev-1", 2))
        await a.publish("watch:dev-1", {"type": "command_update", "n": 1})
        await until(lambda: len(there.texts) == 1)
        assert here.texts == there.texts == ['{"type":"command_update","n":1}']  # once each
        assert elsewhere.texts == []
        # the last subscriber of a process gone: that process no longer subscribes
        b.unsubscribe("watch:dev-1", there)
        await until(lambda: _numsub_is(a, "watch:dev-1", 1))
        await b.publish("watch:dev-1", {"n": 2})
        await until(lambda: len(here.texts) == 2)
        assert there.texts == ['{"type":"command_update","n":1}']
        assert a.missed == b.missed == 0


async def _numsub_is(b: RedisBroker, topic: str, count: int) -> bool:
    return await subscribers(b, topic) == count


async def test_each_process_knows_what_the_others_listen_to(redis_server: RedisServer) -> None:
    """So a topic nobody anywhere hears is skipped (and not built), as in one process."""
    shared = prefix()
    async with broker(redis_server.url, shared) as a, broker(redis_server.url, shared) as b:
        heard = Heard()
        assert not b.has_subscribers("watch:dev-1")
        a.subscribe("watch:dev-1", heard)
        await until(lambda: b.has_subscribers("watch:dev-1"))
        async with broker(redis_server.url, shared) as c:  # a process that comes later
            await until(lambda: c.has_subscribers("watch:dev-1"))
            a.unsubscribe("watch:dev-1", heard)
            await until(lambda: not b.has_subscribers("watch:dev-1"))
            await until(lambda: not c.has_subscribers("watch:dev-1"))
            c.subscribe("watch:dev-2", heard)
            await until(lambda: a.has_subscribers("watch:dev-2"))
        await until(lambda: not a.has_subscribers("watch:dev-2"))  # c stopped and said so
        assert heard.texts == []


def test_interest_is_counted_per_process_and_replaced_by_a_full_announcement() -> None:
    from gateway_server.events._interest import Interest

    me, one, two = Interest("a" * 16), Interest("b" * 16), Interest("c" * 16)
    assert me.hear(one.added("watch:x")) is False
    assert me.hear(two.added("watch:x")) is False
    assert me.hear(two.added("watch:x")) is False  # said twice, counted once
    me.hear(one.removed("watch:x"))
    assert me.listens("watch:x")  # two still does
    assert me.hear(two.everything(["watch:y"], ask=True)) is True  # it asks for ours
    assert not me.listens("watch:x")
    assert me.listens("watch:y")
    me.hear(two.leaving())
    assert not me.listens("watch:y")
    assert me.hear(me.added("watch:z")) is False  # our own: ignored
    assert not me.listens("watch:z")
    me.hear("+short")  # not one of ours: ignored
    me.hear(one.everything([]))
    assert not me.listens("")


async def test_another_deployments_prefix_hears_nothing(redis_server: RedisServer) -> None:
    async with broker(redis_server.url, prefix()) as a, broker(redis_server.url, prefix()) as b:
        heard = Heard()
        b.subscribe("watch:dev-1", heard)
        await until(lambda: _numsub_is(b, "watch:dev-1", 1))
        await a.publish("watch:dev-1", {"n": 1})
        await asyncio.sleep(0.2)  # a message that would come, would have
        assert heard.texts == []


async def test_redis_going_away_loses_live_events_not_publishers_then_resubscribes(
    redis_server: RedisServer,
) -> None:
    shared = prefix()
    async with broker(redis_server.url, shared) as a, broker(redis_server.url, shared) as b:
        here, there, resets = Heard(), Heard(), []
        a.subscribe("watch:dev-1", here)
        b.subscribe("watch:dev-1", there)
        b.after_reconnect(lambda: resets.append("b"))
        await until(lambda: _numsub_is(a, "watch:dev-1", 2))

        redis_server.stop()
        await until(lambda: not a.listening.is_set() and not b.listening.is_set())
        await a.publish("watch:dev-1", {"n": 1})  # does not raise
        assert here.texts == ['{"n":1}']  # this process's subscribers still hear it
        assert there.texts == []
        assert a.missed == 1
        with pytest.raises(Exception):  # readiness sees it
            await a.ping()

        redis_server.start()  # same port, empty: the subscriptions are made again
        await until(lambda: a.listening.is_set() and b.listening.is_set(), 10)
        assert resets == ["b"]  # b's caches drop what they hold: notices were missed
        await until(lambda: _numsub_is(a, "watch:dev-1", 2))
        await a.publish("watch:dev-1", {"n": 2})
        await until(lambda: len(there.texts) == 1)
        assert there.texts == ['{"n":2}']
        assert await a.ping()


async def test_a_limit_holds_across_processes_with_the_in_process_verdicts(
    redis_server: RedisServer,
) -> None:
    clock = Clock(6_000_030.0)  # 30 s into a minute
    local = RateLimiter(3, 60.0, clock)
    async with redis_link(redis_server.url) as one:
        two = RedisLink(redis_server.url, one.prefix)  # another process, same deployment
        two.start()
        try:
            a = redis_limits(one, clock)("device", 3, 60.0)
            b = redis_limits(two, clock)("device", 3, 60.0)
            verdicts = [await a.hit("dev-1"), await b.hit("dev-1"), await a.hit("dev-1")]
            verdicts += [await b.hit("dev-1"), await a.hit("dev-1")]
            expected = [local.hit("dev-1") for _ in range(5)]
            assert verdicts == expected  # 3 allowed, then refused, not counted further
            assert [v.allowed for v in verdicts] == [True, True, True, False, False]
            assert verdicts[3].headers(clock()) == expected[3].headers(clock())
            assert verdicts[3].headers(clock())["Retry-After"] == "30"
            assert (await b.peek("dev-1")).remaining == 0
            assert (await a.hit("dev-2")).remaining == 2  # each key its own count
            clock.advance(30)  # the next window
            assert (await b.hit("dev-1")).remaining == 2
        finally:
            await two.close()


async def test_a_limit_answers_503_while_redis_is_down(redis_server: RedisServer) -> None:
    from gateway_server._errors import Unavailable

    async with redis_link(redis_server.url) as link:
        limits = redis_limits(link, Clock())("customer", 10, 60.0)
        assert (await limits.hit("c")).allowed
        redis_server.stop()
        with pytest.raises(Unavailable):
            await limits.hit("c")
        with pytest.raises(Unavailable):
            await limits.peek("c")
        redis_server.start()
        assert (await limits.hit("c")).allowed  # a new connection, no restart


@contextlib.asynccontextmanager
async def two_gateways(
    tmp_path: Path, url: str, **overrides: object
) -> AsyncIterator[tuple[Gateway, Gateway]]:
    """Two apps on one SQLite file and one Redis: two processes, as far as
    caches, limits and the broker are concerned."""
    shared = {"redis_url": url, "redis_prefix": prefix(), **overrides}
    async with running_gateway(tmp_path, **shared) as a, running_gateway(tmp_path, **shared) as b:
        b.clock.now = a.clock.now
        yield a, b


async def test_a_token_revoked_in_one_process_is_refused_by_the_other_at_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_gateways(tmp_path, redis_server.url) as (a, b):
        device = await a.device("dev-001")
        beat = {"timestamp": "2024-06-01T10:00:00Z", "status": "online"}
        for gw in (a, b):  # each caches the token as verified
            r = await gw.call(
                "POST", "/api/v1/device/heartbeat", json_body=beat, headers=_dev(device)
            )
            assert r.status_code == 200, r.text
        broker = b.app.services.broker  # type: ignore[attr-defined]
        assert isinstance(broker, RedisBroker)
        await until(lambda: _numsub_is(broker, "tokens:revoked", 2))
        await a.api.devices.revoke_tokens("dev-001")

        async def refused() -> bool:
            r = await b.call(
                "POST", "/api/v1/device/heartbeat", json_body=beat, headers=_dev(device)
            )
            return r.status_code == 401

        await until(refused)  # the clocks stand still: no recheck (10 s) explains it
        r = await a.call("POST", "/api/v1/device/heartbeat", json_body=beat, headers=_dev(device))
        assert r.status_code == 401


async def test_the_device_limit_counts_the_requests_to_both_processes(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_gateways(tmp_path, redis_server.url, device_rate_per_minute=10) as (a, b):
        device = await a.device("dev-001")
        beat = {"timestamp": "2024-06-01T10:00:00Z", "status": "online"}
        answers = []
        for i in range(11):
            gw = (a, b)[i % 2]
            r = await gw.call(
                "POST", "/api/v1/device/heartbeat", json_body=beat, headers=_dev(device)
            )
            answers.append(r)
        assert [r.status_code for r in answers] == [200] * 10 + [429]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers[:3]] == ["9", "8", "7"]
        assert answers[-1].json()["error"]["code"] == "RATE_LIMITED"


async def test_while_redis_is_down_readiness_drops_requests_get_503_and_nothing_is_lost(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with running_gateway(tmp_path, redis_url=redis_server.url, redis_prefix=prefix()) as gw:
        r = await gw.call("GET", "/readyz")
        assert (r.status_code, r.json()["checks"]) == (200, {"database": True, "redis": True})
        device = await gw.device("dev-001")
        session = await gw.session("dev-001")
        done_before = await gw.enqueue(session, "before")
        left = await gw.enqueue(session, "during")
        claimed = {c["id"]: c["claimToken"] for c in await gw.claim(device, limit=2)}
        assert (await gw.result(device, done_before, claimed[done_before])).status_code == 200

        redis_server.stop()
        r = await gw.call("GET", "/readyz")  # the first check after it went
        assert r.status_code == 503
        body = r.json()
        assert body["checks"] == {"database": True, "redis": False}
        assert body["errors"][0].startswith("redis: ")
        refused = await gw.result(device, left, claimed[left])
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        r = await gw.call("GET", f"/api/v1/customer/sessions/{session}", headers=gw.customer())
        assert r.status_code == 503  # customers are limited in Redis too

        redis_server.start()

        async def ready() -> bool:  # once the listener has subscribed again (< 2 s)
            r = await gw.call("GET", "/readyz")
            return r.status_code == 200 and r.json()["checks"] == {"database": True, "redis": True}

        await until(ready)
        # the refused result was not half-done: it is accepted now, the other kept
        assert (await gw.result(device, left, claimed[left])).status_code == 200
        r = await gw.call("GET", f"/api/v1/customer/sessions/{session}", headers=gw.customer())
        statuses = {c["id"]: c["status"] for c in r.json()["session"]["commands"]}
        assert statuses == {done_before: "completed", left: "completed"}


async def test_a_logout_in_one_process_is_refused_by_the_other_at_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from tests.compliance_support import PASSWORD, running_platform

    shared = {"redis_url": redis_server.url, "redis_prefix": prefix()}
    async with (
        running_platform(tmp_path, **shared) as a,
        running_platform(tmp_path, **shared) as b,
    ):
        b.clock.now = a.clock.now
        await a.partner("acme")
        r = await a.call(
            "POST", "/api/auth/login", json_body={"username": "acme-viewer", "password": PASSWORD}
        )
        bearer = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await b.call("GET", "/api/auth/me", headers=bearer)).status_code == 200  # cached
        broker = b.app.services.broker
        assert isinstance(broker, RedisBroker)
        await until(lambda: _numsub_is(broker, "sessions:revoked", 2))
        assert (await a.call("POST", "/api/auth/logout", headers=bearer)).status_code == 204

        async def refused() -> bool:
            r = await b.call("GET", "/api/auth/me", headers=bearer)
            return r.status_code == 401 and r.json()["code"] == "SESSION_INVALID"

        await until(refused)


def test_the_redis_url_stays_out_of_reprs(tmp_path: Path) -> None:
    url = "redis://:hunter2-secret@127.0.0.1:6399/0"
    app = create_app(settings(tmp_path, redis_url=url))
    services = app.services
    assert "hunter2" not in repr(services.settings)
    assert "hunter2" not in repr(services.redis)
    assert services.broker_name == "redis"  # what /api/v1/customer/system/info says


async def test_a_login_answers_503_in_the_compliance_format_while_redis_is_down(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from tests.compliance_support import PASSWORD, running_platform

    async with running_platform(tmp_path, redis_url=redis_server.url, redis_prefix=prefix()) as p:
        await p.partner("acme")
        body = {"username": "acme-viewer", "password": PASSWORD}
        redis_server.stop()
        r = await p.call("POST", "/api/auth/login", json_body=body)
        assert r.status_code == 503
        assert r.json()["status"] == "error"
        assert r.json()["code"] == "SERVICE_UNAVAILABLE"
        redis_server.start()
        assert (await p.call("POST", "/api/auth/login", json_body=body)).status_code == 200
