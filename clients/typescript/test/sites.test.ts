import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, test } from "vitest";

import { createComplianceClient, type ComplianceClient } from "../src/index.js";
import { apiError, demo, loginAs, recordingFetch, uniqueName } from "./support.js";

let admin: ComplianceClient;
let viewer: ComplianceClient;

beforeAll(async () => {
  admin = await loginAs("admin");
  viewer = await loginAs("viewer");
});

describe("sites, as the document's sitesApi", () => {
  test("list answers a page of the partner's sites, by name", async () => {
    const page = await viewer.sites.list();
    expect(page).toMatchObject({ limit: 50, offset: 0 });
    expect(page.total).toBe(page.items.length);
    const names = page.items.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(Object.keys(demo.sites)));
    expect(names).toEqual(
      [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    expect(new Set(page.items.map((s) => s.partner_id))).toEqual(new Set([demo.partnerId]));

    const second = await viewer.sites.list({ limit: 1, offset: 1 });
    expect(second).toMatchObject({ limit: 1, offset: 1, total: page.total });
    expect(second.items.map((s) => s.id)).toEqual([page.items[1]?.id]);
  });

  test("iterate walks every page", async () => {
    const all = await viewer.sites.list({ limit: 200 });
    const seen = [];
    for await (const site of viewer.sites.iterate({ limit: 1 })) {
      seen.push(site.id);
    }
    expect(seen).toEqual(all.items.map((s) => s.id));
  });

  test("create, get, update, delete", async () => {
    const name = uniqueName("Harbor Pediatrics");
    const created = await admin.sites.create({ name });
    expect(created).toMatchObject({
      name,
      partner_id: demo.partnerId,
      capability_tier: "monitor_only",
    });
    expect(await viewer.sites.get(created.id)).toEqual(created);

    const renamed = await admin.sites.update(created.id, {
      name: `${name} East`,
      capability_tier: "self_heal",
    });
    expect(renamed).toMatchObject({
      id: created.id,
      name: `${name} East`,
      capability_tier: "self_heal",
    });
    expect(Date.parse(renamed.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    const kept = await admin.sites.update(created.id, { name: `${name} East` });
    expect(kept.capability_tier).toBe("self_heal");
    const listed = await viewer.sites.list({ limit: 200 });
    expect(listed.items).toContainEqual(kept);

    await expect(admin.sites.delete(created.id)).resolves.toBeUndefined();
    const gone = await apiError(viewer.sites.get(created.id));
    expect([gone.status, gone.code]).toEqual([404, "SITE_NOT_FOUND"]);
    expect((await apiError(admin.sites.delete(created.id))).code).toBe("SITE_NOT_FOUND");
  });

  test("a partner_id other than the caller's is 404 PARTNER_NOT_FOUND", async () => {
    const error = await apiError(
      admin.sites.create({ name: uniqueName("Elsewhere"), partner_id: randomUUID() }),
    );
    expect([error.status, error.code]).toEqual([404, "PARTNER_NOT_FOUND"]);
  });

  test("a name the partner already has, in any case, is 409 SITE_NAME_CONFLICT", async () => {
    const [name] = Object.keys(demo.sites);
    const error = await apiError(admin.sites.create({ name: name!.toUpperCase() }));
    expect([error.status, error.code]).toEqual([409, "SITE_NAME_CONFLICT"]);
  });
});

describe("refusals", () => {
  test("an unknown site is 404 SITE_NOT_FOUND", async () => {
    const error = await apiError(viewer.sites.get(randomUUID()));
    expect([error.status, error.code]).toEqual([404, "SITE_NOT_FOUND"]);
    expect(error.detail).toBeTruthy();
  });

  test("a body the contract refuses is 422 VALIDATION_ERROR, naming every field", async () => {
    const error = await apiError(admin.sites.create({ name: "x".repeat(256) }));
    expect([error.status, error.code]).toEqual([422, "VALIDATION_ERROR"]);
    expect(error.fieldErrors.map((f) => f.loc)).toEqual([["body", "name"]]);
    expect(error.detail).toContain("body.name");

    const query = await apiError(viewer.sites.list({ limit: 500 }));
    expect(query.fieldErrors.map((f) => f.loc)).toEqual([["query", "limit"]]);
    const path = await apiError(viewer.sites.get("not-a-uuid"));
    expect([path.status, path.fieldErrors.map((f) => f.loc)]).toEqual([422, [["path", "site_id"]]]);
  });

  test("an id that would leave its path segment is refused before any request", async () => {
    const recorder = recordingFetch();
    const client = createComplianceClient({ baseUrl: demo.baseUrl, fetch: recorder.fetch });
    for (const id of ["", ".", ".."]) {
      await expect(client.sites.delete(id)).rejects.toThrow(
        new TypeError(`site_id: a non-empty id is required, got ${JSON.stringify(id)}`),
      );
    }
    expect(recorder.requests).toEqual([]);
    // any other character is percent-encoded into the one segment
    await apiError(client.sites.get("../auth/me"));
    expect(recorder.requests.map((r) => r.url)).toEqual([
      `${demo.baseUrl}/api/sites/..%2Fauth%2Fme`,
    ]);
  });

  test("a viewer may read but not write: 403 INSUFFICIENT_ROLE", async () => {
    const [siteId] = Object.values(demo.sites);
    const before = await viewer.sites.get(siteId!);
    for (const write of [
      () => viewer.sites.create({ name: uniqueName("Viewer's site") }),
      () => viewer.sites.update(siteId!, { name: "Renamed by a viewer" }),
      () => viewer.sites.delete(siteId!),
      // whatever the target: a viewer learns nothing about ids
      () => viewer.sites.delete(randomUUID()),
    ]) {
      const error = await apiError(write());
      expect([error.status, error.code]).toEqual([403, "INSUFFICIENT_ROLE"]);
    }
    expect(await viewer.sites.get(siteId!)).toEqual(before);
  });
});
