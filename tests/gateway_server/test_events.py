"""The broker and the outbox each subscriber's messages wait in, without a
socket: what a publication costs, what an idle subscriber holds, and what a
slow one is told."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway_server.events import InProcessBroker, Outbox


class Peer:
    """A subscriber's far end: takes messages one at a time, when let."""

    def __init__(self) -> None:
        self.got: list[str] = []
        self.open = asyncio.Event()
        self.open.set()
        self.overflowed = 0

    async def send(self, text: str) -> None:
        await self.open.wait()
        self.got.append(text)

    def overflow(self) -> None:
        self.overflowed += 1

    def outbox(self, limit: int = 3) -> Outbox:
        return Outbox(self.send, limit, self.overflow)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class Counting:
    """A subscriber that only counts deliveries."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def deliver(self, text: str) -> None:
        self.texts.append(text)


async def test_a_publication_reaches_the_topics_subscribers_as_json_written_once() -> None:
    broker = InProcessBroker()
    here, there, elsewhere = Counting(), Counting(), Counting()
    broker.subscribe("watch:a", here)
    broker.subscribe("watch:a", there)
    broker.subscribe("watch:b", elsewhere)
    await broker.publish("watch:a", {"type": "device_status", "data": {"status": "busy"}})
    assert here.texts == there.texts == ['{"type":"device_status","data":{"status":"busy"}}']
    assert here.texts[0] is there.texts[0]  # one text for every subscriber
    assert elsewhere.texts == []


async def test_a_topic_nobody_hears_any_more_is_forgotten() -> None:
    broker = InProcessBroker()
    one = Counting()
    broker.subscribe("device:a", one)
    assert broker.has_subscribers("device:a")
    broker.unsubscribe("device:a", one)
    broker.unsubscribe("device:a", one)  # twice is harmless
    assert not broker.has_subscribers("device:a")
    await broker.publish("device:a", {"type": "command"})
    assert one.texts == []


async def test_an_idle_outbox_holds_no_task_and_no_queue() -> None:
    peer = Peer()
    outbox = peer.outbox()
    sending = [outbox.sending]
    outbox.deliver("one")
    outbox.deliver("two")
    sending.append(outbox.sending)
    await settle()
    sending.append(outbox.sending)
    assert peer.got == ["one", "two"]
    outbox.deliver("three")  # and again after a pause
    await settle()
    sending.append(outbox.sending)
    assert peer.got == ["one", "two", "three"]
    assert sending == [False, True, False, False]
    assert len(outbox) == 0


async def test_a_subscriber_one_past_the_limit_is_told_once_and_hears_nothing_more() -> None:
    peer = Peer()
    peer.open.clear()  # the far end stops taking messages
    outbox = peer.outbox(limit=3)
    outbox.deliver("in flight")
    await settle()  # taken from the queue, being sent
    for text in ("a", "b", "c"):
        outbox.deliver(text)
    assert len(outbox) == 3
    assert peer.overflowed == 0
    outbox.deliver("d")
    assert peer.overflowed == 1
    assert outbox.stopped
    assert not outbox.sending  # the stalled send is given up
    outbox.deliver("e")
    peer.open.set()
    await settle()
    assert peer.overflowed == 1
    assert peer.got == []


async def test_a_failed_send_stops_the_outbox_quietly() -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        if text == "boom":
            raise OSError("gone")
        sent.append(text)

    overflows: list[int] = []
    outbox = Outbox(send, 10, lambda: overflows.append(1))
    outbox.deliver("ok")
    outbox.deliver("boom")
    outbox.deliver("never")
    await settle()
    assert sent == ["ok"]
    assert outbox.stopped
    assert not outbox.sending
    assert overflows == []  # not too slow: gone, which the socket's loop sees


async def test_close_waits_for_the_send_under_way_to_give_up() -> None:
    peer = Peer()
    peer.open.clear()
    outbox = peer.outbox()
    outbox.deliver("stuck")
    await settle()
    await outbox.close()
    assert not outbox.sending
    peer.open.set()
    await settle()
    assert peer.got == []


@pytest.mark.parametrize("limit", [1, 1000])
async def test_messages_go_out_in_order(limit: int) -> None:
    peer = Peer()
    outbox = peer.outbox(limit)
    texts = [json.dumps({"n": i}) for i in range(limit)]
    for text in texts:
        outbox.deliver(text)
    await settle()
    for _ in range(limit):
        if len(peer.got) == limit:
            break
        await asyncio.sleep(0)
    assert peer.got == texts


async def test_subscribers_come_and_go_in_any_order() -> None:
    broker = InProcessBroker()
    a, b, c = Counting(), Counting(), Counting()
    for one in (a, b, a, c):  # twice is once
        broker.subscribe("watch:x", one)
    await broker.publish("watch:x", {"n": 1})
    broker.unsubscribe("watch:x", b)
    broker.unsubscribe("watch:x", a)
    await broker.publish("watch:x", {"n": 2})
    broker.unsubscribe("watch:x", a)  # gone already
    await broker.publish("watch:x", {"n": 3})
    assert (len(a.texts), len(b.texts), len(c.texts)) == (1, 1, 3)
    broker.unsubscribe("watch:x", c)
    assert not broker.has_subscribers("watch:x")
    broker.subscribe("watch:x", b)
    await broker.publish("watch:x", {"n": 4})
    assert b.texts[-1] == '{"n":4}'
