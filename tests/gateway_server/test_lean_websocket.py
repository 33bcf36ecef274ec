"""The lean WebSocket protocol's two small parts (the served sockets go
through it in every socket test): the inbox keeps uvicorn's queue order and
loses nothing to a cancelled reader; the write gate holds senders while the
transport's buffer is full and lets them all go when it drains."""

from __future__ import annotations

import asyncio

import pytest

from gateway_server.edge._websocket import _Gate, _Inbox

pytestmark = pytest.mark.one_backend("the protocol's in-memory parts: no database")


async def test_the_inbox_hands_messages_in_order_and_keeps_no_list_when_empty() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    assert inbox.qsize() == 0
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)  # the reader waits
    inbox.put_nowait({"n": 1})
    inbox.put_nowait({"n": 2})
    assert await reader == {"n": 1}
    assert inbox.qsize() == 1
    assert not inbox.empty()
    assert await inbox.get() == {"n": 2}
    assert inbox.empty()
    assert inbox._items is None
    assert inbox._waiters is None
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()


async def test_a_reader_cancelled_after_its_wakeup_leaves_the_message_to_the_next() -> None:
    inbox = _Inbox()
    first = asyncio.create_task(inbox.get())
    second = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("message")  # wakes the first...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) == "message"
    assert inbox._waiters is None


async def test_a_message_put_while_a_cancelled_reader_is_still_listed_wakes_the_next() -> None:
    inbox = _Inbox()
    first = asyncio.create_task(inbox.get())
    second = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    first.cancel()  # its future is cancelled now; its task has not run its handler yet
    inbox.put_nowait("message")  # skips it for the next reader
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) == "message"


async def test_a_cancelled_waiting_reader_leaves_nothing_behind() -> None:
    inbox = _Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert inbox._waiters is None
    inbox.put_nowait("later")
    assert await inbox.get() == "later"


async def test_the_gate_holds_senders_while_shut_and_frees_them_all_when_open() -> None:
    gate = _Gate()
    assert gate.is_set()
    assert await gate.wait()
    gate.clear()
    senders = [asyncio.create_task(gate.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(sender.done() for sender in senders)
    gate.set()
    assert await asyncio.gather(*senders) == [True, True, True]
    assert gate._shut is None


async def test_a_sender_cancelled_at_the_shut_gate_is_forgotten() -> None:
    gate = _Gate()
    gate.clear()
    sender = asyncio.create_task(gate.wait())
    await asyncio.sleep(0)
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sender
    assert gate._shut is not None
    assert not gate._shut._waiters
    gate.set()
