"""The outbox on disk: what a restarted agent sends again, a torn last line, the
file compacted once acknowledged lines dominate it, 0600 throughout."""

from __future__ import annotations

import stat
from pathlib import Path

from compliance_sdk._proto import compliance_pb2 as pb
from compliance_sdk.agent._spool import Spool


def _event(event_id: str) -> pb.DriftEvent:
    return pb.DriftEvent(event_id=event_id, check_type="firewall", actual=f"off {event_id}")


def test_the_waiting_events_come_back_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(5):
        spool.added(_event(f"e{n}"))
    spool.acked("e1")
    spool.acked("e3")
    spool.acked("e9")  # an id it never saw: harmless
    spool.close()
    again = Spool(tmp_path)
    assert [e.event_id for e in again.load()] == ["e0", "e2", "e4"]
    assert again.load()[0].actual == "off e0"  # the whole event, not only its id
    assert stat.S_IMODE((tmp_path / "outbox.log").stat().st_mode) == 0o600
    # loading rewrote the file without the acknowledged ones
    assert (tmp_path / "outbox.log").read_bytes().count(b"\n") == 3


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.added(_event("e0"))
    spool.close()
    with (tmp_path / "outbox.log").open("ab") as out:
        out.write(b"+ CgJlMRIIZmlyZ")  # the process died mid-line
    assert [e.event_id for e in Spool(tmp_path).load()] == ["e0"]


def test_compaction_once_acks_dominate(tmp_path: Path) -> None:
    spool = Spool(tmp_path, compact_after=4)
    for n in range(6):
        spool.added(_event(f"e{n}"))
    for n in range(3):
        spool.acked(f"e{n}")
    assert not spool.compact_due(3)  # 3 acked lines: fewer than compact_after
    spool.acked("e3")
    assert spool.compact_due(2)  # 4 acked lines, 2 waiting
    spool.compact([_event("e4"), _event("e5")])
    assert not spool.compact_due(2)
    assert (tmp_path / "outbox.log").read_bytes().count(b"\n") == 2
    spool.added(_event("e6"))  # appends to the compacted file
    spool.close()
    assert [e.event_id for e in Spool(tmp_path).load()] == ["e4", "e5", "e6"]
    assert stat.S_IMODE((tmp_path / "outbox.log").stat().st_mode) == 0o600


def test_nothing_spooled_is_nothing_to_send(tmp_path: Path) -> None:
    assert Spool(tmp_path / "new").load() == []
