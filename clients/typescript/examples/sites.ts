import { ApiError, createComplianceClient } from "@ops-suite/compliance-client";

// `gateway-server demo` prints the demo partner's users and their password
const baseUrl = process.env.COMPLIANCE_BASE_URL ?? "http://127.0.0.1:8080";
const username = process.env.COMPLIANCE_USERNAME ?? "demo-admin";
const password = process.env.COMPLIANCE_PASSWORD ?? "";

// Node has no cookie jar: keep the token login answers and send it as a bearer
const session = await createComplianceClient({ baseUrl }).auth.login({ username, password });
const client = createComplianceClient({ baseUrl, token: session.token });
console.log(`logged in as ${session.user.username} (${session.user.role})`);

// the document's sitesApi: list, get, create, update, delete
const sites = await client.sites.list();
console.log(`${sites.total} sites: ${sites.items.map((site) => site.name).join(", ")}`);
const site = await client.sites.create({ name: "Harbor Pediatrics" });
await client.sites.update(site.id, {
  name: "Harbor Pediatrics East",
  capability_tier: "self_heal",
});
console.log(`renamed: ${(await client.sites.get(site.id)).name}`);
await client.sites.delete(site.id);

// incidents: filters, the total of every match, every page
const open = await client.incidents.list({ resolved: false, severity: "high" });
console.log(`open high-severity incidents: ${open.total}`);
for await (const incident of client.incidents.iterate({ resolved: false, limit: 2 })) {
  console.log(`  ${incident.severity} ${incident.hostname} ${incident.check_type}`);
}

// every answer that is not 2xx throws an ApiError with the server's code
try {
  await client.sites.get(site.id);
} catch (error) {
  if (!(error instanceof ApiError)) throw error;
  console.log(`after delete: ${error.status} ${error.code}`); // 404 SITE_NOT_FOUND
}
await client.auth.logout();
