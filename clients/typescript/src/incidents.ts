import { body, type Api } from "./http.js";
import { iterateList } from "./pages.js";
import type { components, operations } from "./schema.js";

export type Incident = components["schemas"]["Incident"];
export type IncidentDetail = components["schemas"]["IncidentDetail"];
export type IncidentList = components["schemas"]["IncidentList"];
export type IncidentResolve = components["schemas"]["IncidentResolve"];
export type Severity = components["schemas"]["Severity"];
export type CheckType = components["schemas"]["CheckType"];
/**
 * `site_id`, `severity`, `resolved`, `check_type`, with `limit` (1 to 200, default 50)
 * and `offset`. A `site_id` of another partner is 404 SITE_NOT_FOUND, not an empty page.
 */
export type IncidentQuery = NonNullable<operations["listIncidents"]["parameters"]["query"]>;

/** `/api/incidents`: newest first. */
export function incidentsApi(api: Api) {
  const list = async (query: IncidentQuery = {}): Promise<IncidentList> =>
    body(await api.GET("/api/incidents", { params: { query } }));
  return {
    /** One page of the incidents matching every filter given; `total` counts them all. */
    list,
    /** Every matching incident from `query.offset` on, a page of `query.limit` at a time. */
    iterate: (query: IncidentQuery = {}): AsyncGenerator<Incident, void, undefined> =>
      iterateList(list, query),
    /** The incident with its drift data, the runbook executed and how it was resolved. */
    get: async (id: string): Promise<IncidentDetail> =>
      body(
        await api.GET("/api/incidents/{incident_id}", {
          params: { path: { incident_id: id } },
        }),
      ),
    /**
     * Resolves it by hand (admins and operators); an incident already resolved is
     * 409 INCIDENT_ALREADY_RESOLVED and keeps its first resolution.
     */
    resolve: async (id: string, data: IncidentResolve = {}): Promise<IncidentDetail> =>
      body(
        await api.POST("/api/incidents/{incident_id}/resolve", {
          params: { path: { incident_id: id } },
          body: data,
        }),
      ),
  };
}

export type IncidentsApi = ReturnType<typeof incidentsApi>;
