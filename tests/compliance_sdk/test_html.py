"""What a notebook shows of an incident and of a page of incidents: answers of
our own server, in-process, one of them carrying markup in its drift."""

from __future__ import annotations

import functools

from tests.compliance_sdk.clients import client
from tests.compliance_sdk.conftest import InProcess
from tests.html_support import read_html

EVIL = "<script>alert(1)</script>"


def test_an_incident_reads_as_its_fields_and_escapes_what_the_agent_sent(
    server: InProcess,
) -> None:
    service = server.app.compliance.service
    server.clock.advance(1)  # after the seeded incident, so listed first
    drift = server.run(
        functools.partial(
            service.drift, server.seeded.site_id, "PC-9", "bitlocker", False,
            expected="encrypted", actual=EVIL,
        )
    )  # fmt: skip
    assert drift.incident_id is not None
    with client(server, "viewer") as viewer:
        detail = viewer.incidents.get(drift.incident_id)
        markup = detail._repr_html_()
        page = viewer.incidents.list(limit=1)  # the first page, as the call answers it
    assert "<script>" not in markup
    table = read_html(markup).tables[0]
    assert table.caption == f"{detail.severity} bitlocker incident on PC-9 (open)"
    fields = dict(table.rows)
    assert fields["id"] == drift.incident_id
    assert fields["resolved"] == "False"
    assert fields["drift.expected"] == "encrypted"
    assert fields["drift.actual"] == EVIL
    assert fields["runbook_execution"] == ""

    listed = read_html(page._repr_html_()).tables[0]
    assert listed.caption == "SyncPage: page 1 of 2, 1 on this page, 2 in all, has more"
    assert listed.headers[:4] == ["id", "site_id", "hostname", "check_type"]
    assert listed.rows[0][2] == "PC-9"  # newest first
