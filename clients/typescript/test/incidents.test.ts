import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, test } from "vitest";

import type { CheckType, ComplianceClient, Incident, Severity } from "../src/index.js";
import { apiError, demo, loginAs } from "./support.js";

// Only this file changes incidents (the last tests resolve one), and its tests run
// in order, so the totals below hold while they are compared.
let admin: ComplianceClient;
let viewer: ComplianceClient;
let everything: Incident[];

const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];
const CHECKS: CheckType[] = ["bitlocker", "defender", "firewall", "patches", "screenlock", "rmm"];

beforeAll(async () => {
  admin = await loginAs("admin");
  viewer = await loginAs("viewer");
  const page = await viewer.incidents.list({ limit: 200 });
  expect(page.total).toBe(page.items.length);
  everything = page.items;
});

describe("filters and totals", () => {
  test("the demo's incidents, newest first, open and resolved", () => {
    expect(everything.length).toBeGreaterThanOrEqual(4);
    const created = everything.map((i) => Date.parse(i.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(everything.some((i) => i.resolved)).toBe(true);
    expect(everything.some((i) => !i.resolved)).toBe(true);
  });

  test("resolved splits the total", async () => {
    const open = await viewer.incidents.list({ resolved: false });
    const resolved = await viewer.incidents.list({ resolved: true });
    expect(open.total).toBe(everything.filter((i) => !i.resolved).length);
    expect(resolved.total).toBe(everything.filter((i) => i.resolved).length);
    expect(open.items.every((i) => !i.resolved && i.resolved_at === null)).toBe(true);
    expect(resolved.items.every((i) => i.resolved && i.resolved_at !== null)).toBe(true);
  });

  test("each filter, and all of them together, count what matches", async () => {
    const matches = (i: Incident, q: Partial<Incident>) =>
      Object.entries(q).every(([k, v]) => i[k as keyof Incident] === v);
    const queries: Partial<Pick<Incident, "site_id" | "severity" | "check_type" | "resolved">>[] = [
      ...Object.values(demo.sites).map((site_id) => ({ site_id })),
      ...SEVERITIES.map((severity) => ({ severity })),
      ...CHECKS.map((check_type) => ({ check_type })),
    ];
    const sample = everything[0]!;
    queries.push({
      site_id: sample.site_id,
      severity: sample.severity,
      check_type: sample.check_type,
      resolved: sample.resolved,
    });
    for (const query of queries) {
      const page = await viewer.incidents.list({ ...query, limit: 200 });
      const expected = everything.filter((i) => matches(i, query));
      expect(page.total, JSON.stringify(query)).toBe(expected.length);
      expect(page.items.map((i) => i.id)).toEqual(expected.map((i) => i.id));
    }
    const bySite = await Promise.all(
      Object.values(demo.sites).map((site_id) => viewer.incidents.list({ site_id })),
    );
    expect(bySite.reduce((n, page) => n + page.total, 0)).toBe(everything.length);
  });

  test("pages: limit and offset, total on every page, iterate over them all", async () => {
    const second = await viewer.incidents.list({ limit: 2, offset: 2 });
    expect(second).toMatchObject({ limit: 2, offset: 2, total: everything.length });
    expect(second.items.map((i) => i.id)).toEqual(everything.slice(2, 4).map((i) => i.id));

    const seen: string[] = [];
    for await (const incident of viewer.incidents.iterate({ limit: 2 })) {
      seen.push(incident.id);
    }
    expect(seen).toEqual(everything.map((i) => i.id));
    const open: string[] = [];
    for await (const incident of viewer.incidents.iterate({
      resolved: false,
      limit: 1,
      offset: 1,
    })) {
      open.push(incident.id);
    }
    expect(open).toEqual(
      everything
        .filter((i) => !i.resolved)
        .slice(1)
        .map((i) => i.id),
    );
  });

  test("an unknown site_id is 404 SITE_NOT_FOUND, not an empty page; a bad filter is 422", async () => {
    const unknown = await apiError(viewer.incidents.list({ site_id: randomUUID() }));
    expect([unknown.status, unknown.code]).toEqual([404, "SITE_NOT_FOUND"]);
    const invalid = await apiError(viewer.incidents.list({ limit: 0, offset: -1 }));
    expect([invalid.status, invalid.code]).toEqual([422, "VALIDATION_ERROR"]);
    expect(invalid.fieldErrors.map((f) => f.loc).sort()).toEqual([
      ["query", "limit"],
      ["query", "offset"],
    ]);
  });
});

describe("one incident", () => {
  test("get answers its drift data and how it was resolved", async () => {
    const healed = everything.find((i) => i.resolved)!;
    const detail = await viewer.incidents.get(healed.id);
    expect(detail).toMatchObject(healed);
    expect(detail.drift.occurrences).toBeGreaterThanOrEqual(1);
    expect(detail.resolved_by).not.toBeNull();
    const open = await viewer.incidents.get(everything.find((i) => !i.resolved)!.id);
    expect([open.resolved_by, open.resolution_note]).toEqual([null, null]);
  });

  test("an unknown incident is 404 INCIDENT_NOT_FOUND", async () => {
    const error = await apiError(viewer.incidents.get(randomUUID()));
    expect([error.status, error.code]).toEqual([404, "INCIDENT_NOT_FOUND"]);
  });

  test("a viewer may not resolve: 403 INSUFFICIENT_ROLE, the incident stays open", async () => {
    const target = everything.find((i) => !i.resolved)!;
    const error = await apiError(viewer.incidents.resolve(target.id, { note: "viewer" }));
    expect([error.status, error.code]).toEqual([403, "INSUFFICIENT_ROLE"]);
    expect((await viewer.incidents.get(target.id)).resolved).toBe(false);
  });

  test("resolve by hand, once: the second is 409 INCIDENT_ALREADY_RESOLVED", async () => {
    const target = everything.find((i) => !i.resolved)!;
    const openBefore = (await viewer.incidents.list({ resolved: false })).total;
    const resolved = await admin.incidents.resolve(target.id, { note: "patched by hand" });
    expect(resolved).toMatchObject({
      id: target.id,
      resolved: true,
      resolved_by: "user",
      resolution_note: "patched by hand",
    });
    expect((await viewer.incidents.list({ resolved: false })).total).toBe(openBefore - 1);

    const again = await apiError(admin.incidents.resolve(target.id));
    expect([again.status, again.code]).toEqual([409, "INCIDENT_ALREADY_RESOLVED"]);
    expect((await viewer.incidents.get(target.id)).resolution_note).toBe("patched by hand");
  });
});

describe("the rest of the contract, through the generic client", () => {
  test("typed paths and queries; ApiError there too", async () => {
    const { data: runbooks } = await viewer.api.GET("/api/runbooks", {
      params: { query: { check_type: "firewall" } },
    });
    expect(runbooks?.total).toBeGreaterThan(0);
    expect(runbooks?.items.every((r) => r.check_type === "firewall")).toBe(true);

    const { data: fleet } = await viewer.api.GET("/api/fleet/sites/{site_id}", {
      params: { path: { site_id: Object.values(demo.sites)[0]! } },
    });
    expect(fleet?.compliance.map((c) => c.check_type)).toEqual(CHECKS);

    const error = await apiError(
      viewer.api.GET("/api/runbooks/{runbook_id}", {
        params: { path: { runbook_id: randomUUID() } },
      }),
    );
    expect([error.status, error.code]).toEqual([404, "RUNBOOK_NOT_FOUND"]);
  });
});
