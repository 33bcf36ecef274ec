"""A partner's compliance dashboard, against the reference server.

    gateway-server demo --credentials-file creds.json &
    python examples/compliance_dashboard.py creds.json

Logs in as the demo partner's admin, prints each site's fleet line and
compliance per check, pages through the open incidents (the first page fetched
at the call, a per-call timeout kept on every page), shows one in detail with
its raw response,
promotes the learning candidate the demo's repeated fixes made, escalates the
critical incident, and shows that the viewer may read but not resolve.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from compliance_sdk import ComplianceClient, PermissionDeniedError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("credentials")
    args = parser.parse_args()
    creds = json.loads(Path(args.credentials).read_text())
    base, demo = creds["baseUrl"], creds["compliance"]
    with ComplianceClient(base, username=demo["username"], password=demo["password"]) as admin:
        me = admin.me()
        print(f"logged in as {me.user.username} ({me.user.role})")
        for line in admin.fleet.list():
            rate = "n/a" if line.compliance_rate is None else f"{line.compliance_rate:.0%}"
            print(
                f"site {line.site_name}: {line.agents_online}/{line.agents_total} agents online, "
                f"{line.open_incidents} open incidents, compliance {rate}"
            )
        clinic = demo["sites"]["Riverside Family Clinic"]
        for check in admin.fleet.site(clinic).compliance:
            if check.reporting:
                print(f"  {check.check_type}: {check.passing}/{check.reporting} passing")
        # The first page is fetched here (a refused filter fails here); iterating
        # it walks every page, two incidents at a time, with the same filter.
        open_incidents = admin.incidents.list(resolved=False, limit=2, timeout=10)
        more = open_incidents.has_next_page()
        print(f"open incidents: {open_incidents.total}, more pages: {more}")
        for incident in open_incidents:
            print(f"  {incident.severity:8s} {incident.hostname} {incident.check_type}")
        healed = admin.incidents.list(resolved=True, check_type="screenlock").items[0]
        raw = admin.incidents.with_raw_response.get(healed.id)  # APIResponse[IncidentDetail]
        detail = raw.parse()
        assert detail.runbook_execution is not None
        print(
            f"incident {detail.hostname} {detail.check_type}: resolved by {detail.resolved_by}, "
            f"execution {detail.runbook_execution.status} (HTTP {raw.status_code}, "
            f"request id {'present' if raw.request_id else 'missing'})"
        )
        for candidate in admin.learning.list(status="pending"):
            runbook = admin.learning.promote(candidate.id, name="Restore screen lock policy")
            print(
                f"promoted '{candidate.issue_signature}' ({candidate.success_count} successes) "
                f"to {runbook.level} runbook '{runbook.name}'"
            )
        critical = next(iter(admin.incidents.list(severity="high", resolved=False)))
        escalation = admin.escalations.create(
            site_id=critical.site_id,
            incident_id=critical.id,
            subject=f"{critical.check_type} failing on {critical.hostname}",
            message="The firewall keeps turning off; please check the GPO.",
        )
        print(f"escalated: delivery {escalation.delivery.status}")
    with ComplianceClient(base, username=demo["viewer"], password=demo["password"]) as viewer:
        target = next(iter(viewer.incidents.list(resolved=False)))
        try:
            viewer.incidents.resolve(target.id)
        except PermissionDeniedError as exc:
            print(f"viewer may not resolve: {exc.code}")


if __name__ == "__main__":
    main()
